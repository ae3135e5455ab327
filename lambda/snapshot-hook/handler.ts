/**
 * ECS PRE_SCALE_UP lifecycle hook → pre-deploy RDS snapshot. Thin adapter: validate env and event, build the
 * RDS client, call the core, return its answer. Invoked synchronously by ECS; a thrown error rolls the
 * deployment back, so every expected failure is answered as FAILED with a reason instead.
 */
import { DescribeServiceDeploymentsCommand, DescribeServiceRevisionsCommand, ECSClient } from '@aws-sdk/client-ecs';
import { RDSClient } from '@aws-sdk/client-rds';
import { type LifecycleHookResponse, lifecycleHookEventSchema } from '../shared/lifecycle-hook';
import { powertoolsLog } from '../shared/log';
import { rdsSnapshotPort } from '../shared/rds-snapshot-port';
import { AWS_MAX_ATTEMPTS, SDK_REQUEST_HANDLER } from '../shared/sdk-options';
import type { SnapshotPort } from '../shared/snapshots';
import { type DeploymentPort, type HookLog, handleSnapshotHook, type SnapshotHookConfig } from './core';
import { loadSnapshotHookConfig } from './env';

export interface SnapshotHookDeps {
  readonly env?: Record<string, string | undefined>;
  readonly rds?: RDSClient;
  readonly ecs?: ECSClient;
  readonly port?: SnapshotPort;
  readonly now?: () => Date;
  readonly log?: HookLog;
}

export function createHandler(deps: SnapshotHookDeps = {}) {
  let config: SnapshotHookConfig | undefined;
  let port: SnapshotPort | undefined;
  let deployments: DeploymentPort | undefined;
  const log: HookLog = deps.log ?? powertoolsLog('softfactory-snapshot-hook');
  return async (event: unknown): Promise<LifecycleHookResponse> => {
    config ??= loadSnapshotHookConfig(deps.env ?? process.env);
    port ??= deps.port ?? rdsSnapshotPort(deps.rds ?? snapshotHookRdsClient(), config.dbInstanceId);
    deployments ??= ecsDeploymentPort(
      deps.ecs ?? new ECSClient({ maxAttempts: AWS_MAX_ATTEMPTS, requestHandler: SDK_REQUEST_HANDLER }),
    );
    const parsed = lifecycleHookEventSchema.safeParse(event);
    if (!parsed.success) {
      const reason = `not an ECS lifecycle hook event: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
      log.warn('invalid hook event', { reason });
      return { hookStatus: 'FAILED', hookDetails: { reason } };
    }
    return handleSnapshotHook(parsed.data, config, port, (deps.now ?? (() => new Date()))(), log, deployments);
  };
}

/** DescribeServiceDeployments → the revisions, DescribeServiceRevisions → their task definitions. */
export function ecsDeploymentPort(ecs: ECSClient): DeploymentPort {
  return {
    async taskDefinitions(serviceDeploymentArn) {
      const out = await ecs.send(
        new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [serviceDeploymentArn] }),
      );
      const d = out.serviceDeployments?.[0];
      const target = d?.targetServiceRevision?.arn;
      const sources = (d?.sourceServiceRevisions ?? []).flatMap((r) => (r.arn ? [r.arn] : []));
      if (!target) return undefined;
      const revisions = await ecs.send(
        new DescribeServiceRevisionsCommand({ serviceRevisionArns: [target, ...sources] }),
      );
      const td = new Map((revisions.serviceRevisions ?? []).map((r) => [r.serviceRevisionArn, r.taskDefinition]));
      const sourceTds = sources.map((arn) => td.get(arn));
      if (!td.get(target) || sourceTds.some((t) => !t)) return undefined;
      return { target: td.get(target), sources: sourceTds as string[] };
    },
  };
}

/** The hook's RDS client: bounded retries and socket timeouts far inside the function's 60 s (see clients.ts). */
export function snapshotHookRdsClient(extra: Record<string, unknown> = {}): RDSClient {
  return new RDSClient({ maxAttempts: AWS_MAX_ATTEMPTS, requestHandler: SDK_REQUEST_HANDLER, ...extra });
}

export const handler = createHandler();
