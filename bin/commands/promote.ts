/**
 * `sfdeploy promote` (and, through the same core, `sfdeploy abort`): acts on a release paused at its approval hook
 * (config `approvalBeforeProduction`). The paused hook is found as the ECS guide says — DescribeServiceDeployments'
 * `lifecycleHookDetails`, the entry with targetType PAUSE in status AWAITING_ACTION — and answered with
 * ContinueServiceDeployment (serviceDeploymentArn, hookId, action CONTINUE | ROLLBACK; the response carries the
 * serviceDeploymentArn) ("Continuing service deployments",
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/continue-service-deployment.html; API:
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContinueServiceDeployment.html). "The pause hook must
 * be in AWAITING_ACTION status" and "the deployment must be in the IN_PROGRESS state": with nothing like that, the
 * command refuses (exit 1) instead of calling.
 *
 * IAM is the operator's: ecs:ListServiceDeployments, ecs:DescribeServiceDeployments, ecs:ContinueServiceDeployment.
 */
import type {
  ContinueServiceDeploymentCommandOutput,
  DeploymentLifecycleHookDetail,
  ECSClient,
  ServiceDeployment,
  ServiceDeploymentBrief,
} from '@aws-sdk/client-ecs';
import type { Command } from 'commander';
import { clusterName, webServiceName } from '../../shared/names';
import { STAGES, type Stage } from '../../shared/stages';
import { type AwsCliOptions, addAwsOptions, awsClientConfig, explainAwsError } from '../cli/aws';
import { colours, EXIT_CHECK_FAILED, EXIT_OK, renderTable, runAction, UsageError } from '../cli/support';

export type PauseAction = 'CONTINUE' | 'ROLLBACK';

/** The release waiting at a PAUSE hook, and the other hooks of its deployment (the smoke gate runs beside it). */
export interface PausedRelease {
  readonly serviceDeploymentArn: string;
  readonly hookId: string;
  readonly lifecycleStage?: string | undefined;
  readonly expiresAt?: string | undefined;
  readonly timeoutAction?: string | undefined;
  readonly targetServiceRevisionArn?: string | undefined;
  readonly otherHooks: readonly { targetType: string; targetArn?: string | undefined; status: string }[];
}

/** Nothing is paused, or more than one release is: a refusal (exit 1), said in one line. */
export class NothingToAct extends Error {
  override readonly name = 'NothingToAct';
}

/**
 * Every IN_PROGRESS deployment of the service (ListServiceDeployments' status filter; it pages with nextToken and
 * promises no order, https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html),
 * described 20 at a time (DescribeServiceDeployments' limit), and of those the ones with a PAUSE hook AWAITING_ACTION.
 */
export async function findPausedReleases(ecs: ECSClient, cluster: string, service: string): Promise<PausedRelease[]> {
  const { DescribeServiceDeploymentsCommand, ListServiceDeploymentsCommand } = await import('@aws-sdk/client-ecs');
  const briefs: ServiceDeploymentBrief[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(
      new ListServiceDeploymentsCommand({
        cluster,
        service,
        status: ['IN_PROGRESS'],
        maxResults: 100,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    briefs.push(...(page.serviceDeployments ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const arns = briefs.flatMap((b) => (b.serviceDeploymentArn ? [b.serviceDeploymentArn] : []));
  const deployments: ServiceDeployment[] = [];
  for (let i = 0; i < arns.length; i += 20) {
    const described = await ecs.send(
      new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: arns.slice(i, i + 20) }),
    );
    deployments.push(...(described.serviceDeployments ?? []));
  }
  return deployments.flatMap((d) => pausedIn(d));
}

/** The AWAITING_ACTION PAUSE hooks of one described deployment (an IN_PROGRESS one only). */
export function pausedIn(deployment: ServiceDeployment): PausedRelease[] {
  if (deployment.status !== 'IN_PROGRESS' || !deployment.serviceDeploymentArn) return [];
  const hooks: DeploymentLifecycleHookDetail[] = deployment.lifecycleHookDetails ?? [];
  const isPaused = (h: DeploymentLifecycleHookDetail) => h.targetType === 'PAUSE' && h.status === 'AWAITING_ACTION';
  return hooks.filter(isPaused).flatMap((h) =>
    h.hookId
      ? [
          {
            serviceDeploymentArn: deployment.serviceDeploymentArn as string,
            hookId: h.hookId,
            lifecycleStage: deployment.lifecycleStage,
            expiresAt: h.expiresAt?.toISOString(),
            timeoutAction: h.timeoutAction,
            targetServiceRevisionArn: deployment.targetServiceRevision?.arn,
            otherHooks: hooks
              .filter((o) => o !== h)
              .map((o) => ({
                targetType: o.targetType ?? 'AWS_LAMBDA',
                targetArn: o.targetArn,
                status: o.status ?? 'UNKNOWN',
              })),
          },
        ]
      : [],
  );
}

export interface ActResult {
  readonly action: PauseAction;
  readonly release: PausedRelease;
  readonly serviceDeploymentArn: string;
}

/**
 * Finds the one paused release and answers it with `action`. Refuses (NothingToAct) when none is paused, or when more
 * than one is and `deploymentArn` does not pick one.
 */
export async function actOnPausedRelease(
  ecs: ECSClient,
  target: { cluster: string; service: string; stage: string; deploymentArn?: string | undefined },
  action: PauseAction,
): Promise<ActResult> {
  const all = await findPausedReleases(ecs, target.cluster, target.service);
  const candidates = target.deploymentArn ? all.filter((p) => p.serviceDeploymentArn === target.deploymentArn) : all;
  const verb = action === 'CONTINUE' ? 'promote' : 'abort';
  if (candidates.length === 0) {
    throw new NothingToAct(
      target.deploymentArn
        ? `deployment ${target.deploymentArn} is not paused for approval: nothing to ${verb} (sfdeploy release-status --stage ${target.stage} shows where it is)`
        : `no release of ${target.cluster}/${target.service} is paused for approval: nothing to ${verb} (a pause needs approvalBeforeProduction: true; sfdeploy release-status --stage ${target.stage} shows the latest deployment)`,
    );
  }
  if (candidates.length > 1) {
    throw new NothingToAct(
      `${candidates.length} releases are paused (${candidates.map((c) => c.serviceDeploymentArn).join(', ')}): pick one with --deployment <arn>`,
    );
  }
  const release = candidates[0] as PausedRelease;
  const { ContinueServiceDeploymentCommand } = await import('@aws-sdk/client-ecs');
  let out: ContinueServiceDeploymentCommandOutput;
  try {
    out = await ecs.send(
      new ContinueServiceDeploymentCommand({
        serviceDeploymentArn: release.serviceDeploymentArn,
        hookId: release.hookId,
        action,
      }),
    );
  } catch (error) {
    // Between our read and the call the pause may have timed out or been answered by someone else: ECS then refuses
    // the hook id (ClientException / InvalidParameterException). Said in one line, exit 1: nothing was changed.
    const e = error as Error & { name?: string };
    if (
      explainAwsError(error) === undefined &&
      ['ClientException', 'InvalidParameterException', 'ServiceDeploymentNotFoundException'].includes(e.name ?? '')
    ) {
      throw new NothingToAct(
        `ECS refused to ${verb} ${release.serviceDeploymentArn} (${e.name}: ${e.message}); the pause may have timed out or been answered already`,
      );
    }
    throw error;
  }
  return { action, release, serviceDeploymentArn: out.serviceDeploymentArn ?? release.serviceDeploymentArn };
}

interface Options {
  stage?: string;
  reason?: string;
  deployment?: string;
  cluster?: string;
  service?: string;
  json?: boolean;
  profile?: string;
  region?: string;
}

export type MakeEcsClient = (aws: AwsCliOptions) => ECSClient | Promise<ECSClient>;

/** The command body shared by promote and abort: exit 0 when ECS took the answer, 1 when there was nothing to act on. */
export async function runPauseCommand(
  options: Options,
  action: PauseAction,
  makeClient: MakeEcsClient,
): Promise<number> {
  const stage = options.stage as Stage;
  if (!(STAGES as readonly string[]).includes(stage)) {
    throw new UsageError(`--stage must be one of ${STAGES.join(', ')}, got "${options.stage}"`);
  }
  if (options.reason !== undefined && options.reason.trim() === '') {
    throw new UsageError('--reason must say why (or leave it out)');
  }
  const cluster = options.cluster ?? clusterName(stage);
  const service = options.service ?? webServiceName(stage);
  const ecs = await makeClient(options);
  let result: ActResult;
  try {
    result = await actOnPausedRelease(ecs, { cluster, service, stage, deploymentArn: options.deployment }, action);
  } catch (error) {
    if (!(error instanceof NothingToAct)) throw error;
    process.stderr.write(`sfdeploy: ${error.message}\n`);
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ ok: false, stage, action, error: { name: error.name, message: error.message, exitCode: EXIT_CHECK_FAILED } })}\n`,
      );
    }
    return EXIT_CHECK_FAILED;
  }
  const { release } = result;
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({
        ok: true,
        stage,
        cluster,
        service,
        action,
        serviceDeploymentArn: result.serviceDeploymentArn,
        hookId: release.hookId,
        lifecycleStage: release.lifecycleStage ?? null,
        targetServiceRevisionArn: release.targetServiceRevisionArn ?? null,
        otherHooks: release.otherHooks,
        ...(options.reason ? { reason: options.reason } : {}),
      })}\n`,
    );
    return EXIT_OK;
  }
  const c = colours(process.stdout);
  const rows: string[][] = [
    ['service', `${cluster}/${service}`],
    ['deployment', result.serviceDeploymentArn],
    ['paused at', release.lifecycleStage ?? '-'],
    ['answer', action === 'CONTINUE' ? c.green('CONTINUE') : c.yellow('ROLLBACK')],
  ];
  for (const h of release.otherHooks)
    rows.push([`hook ${h.targetType}`, `${h.status}${h.targetArn ? `  ${h.targetArn.split(':').pop()}` : ''}`]);
  if (options.reason) rows.push(['reason', options.reason]);
  const next =
    action === 'CONTINUE'
      ? 'ECS moves production traffic once every hook of this stage has completed (a running smoke check still gates it).'
      : 'ECS rolls the release back to the previous revision; production traffic never moved.';
  process.stdout.write(
    `${renderTable(['field', 'value'], rows)}\n${next}\nFollow it: sfdeploy release-status --stage ${stage} --wait\n`,
  );
  return EXIT_OK;
}

/** The options promote and abort share, and their help's common part. */
export function pauseCommand(program: Command, name: string, description: string): Command {
  const command = program
    .command(name)
    .description(description)
    .requiredOption('--stage <stage>', `stage: ${STAGES.join(', ')}`)
    .option('--deployment <arn>', 'the paused service deployment, when more than one is paused')
    .option('--cluster <name>', 'cluster name (default softfactory-<stage>)')
    .option('--service <name>', 'service name (default softfactory-<stage>-web)')
    .option('--json', 'print one JSON document');
  return addAwsOptions(command);
}

export async function defaultEcsClient(aws: AwsCliOptions): Promise<ECSClient> {
  const { ECSClient } = await import('@aws-sdk/client-ecs');
  return new ECSClient(awsClientConfig(aws));
}

export function register(program: Command, makeClient: MakeEcsClient = defaultEcsClient): void {
  pauseCommand(
    program,
    'promote',
    'Let a release paused for approval move production traffic (ContinueServiceDeployment CONTINUE)',
  )
    .addHelpText(
      'after',
      `
A stage with approvalBeforeProduction: true pauses every release after the test-traffic smoke: the new revision
serves the test listener, production is still on the old one. Look at it, then promote (or sfdeploy abort). If
nobody acts within approvalTimeoutMinutes, ECS rolls the release back. Exit codes: 0 ECS took the answer; 1 nothing
is paused (or ECS refused: the pause timed out or was answered); 2 usage, credentials or access.

Examples:
  sfdeploy promote --stage prod
  sfdeploy promote --stage staging --json
  sfdeploy promote --stage prod --deployment arn:aws:ecs:eu-west-1:123456789012:service-deployment/softfactory-prod/softfactory-prod-web/r9i43YFjvgF`,
    )
    .action((options: Options) =>
      runAction(() => runPauseCommand(options, 'CONTINUE', makeClient), {
        json: options.json,
        explain: (error) => explainAwsError(error, options),
      }),
    );
}
