/**
 * Rollback function (nodejs22.x). Thin adapter: parse the event (SNS alarm notification or direct pipeline
 * invoke), build clients and ports once per container, hand each trigger to the orchestrator, return its
 * result. See orchestrate.ts for the failure policy and decide.ts for the rules.
 */
import { randomUUID } from 'node:crypto';
import { powertoolsLog } from '../shared/log';
import { rdsSnapshotPort } from '../shared/rds-snapshot-port';
import type { SnapshotPort } from '../shared/snapshots';
import { sdkActPort } from './act';
import { buildClients, type RollbackClients } from './clients';
import type { RollbackResult } from './contract';
import { sdkStatePort } from './ecs-state';
import { loadRollbackConfig } from './env';
import { parseInvocation } from './events';
import { dynamoRollbackStore } from './lock';
import { processTrigger, type RollbackDeps, type RollbackLog, reportInvalid } from './orchestrate';
import { publishReport } from './report';

/** The parts of the Lambda context we use. */
export interface InvocationContext {
  readonly awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
}

export interface HandlerOptions {
  readonly env?: Record<string, string | undefined>;
  readonly clients?: RollbackClients;
  readonly snapshots?: SnapshotPort;
  readonly log?: RollbackLog;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The SNS-triggered answer; Lambda ignores it, the logs and tests read it. */
export interface SnsBatchResult {
  readonly records: readonly (RollbackResult | { readonly outcome: 'ignored'; readonly reason: string })[];
}

export function createHandler(options: HandlerOptions = {}) {
  // Built on the first invocation, not at import: a bad environment then fails an invocation (retried, then
  // dead-lettered and alarmed) instead of the module load, and tests can import the module freely.
  let built: Omit<RollbackDeps, 'remainingMs' | 'attemptId'> | undefined;
  const build = (): Omit<RollbackDeps, 'remainingMs' | 'attemptId'> => {
    const config = loadRollbackConfig(options.env ?? process.env);
    const clients = options.clients ?? buildClients(config.region);
    const target = { clusterArn: config.clusterArn, serviceArn: config.serviceArn };
    return {
      config,
      state: sdkStatePort(clients.ecs, clients.cloudwatch, target),
      act: sdkActPort(clients.ecs, target),
      store: dynamoRollbackStore(clients.dynamodb, {
        tableName: config.lockTableName,
        serviceArn: config.serviceArn,
        lockTtlSeconds: config.lockTtlSeconds,
      }),
      snapshots: options.snapshots ?? rdsSnapshotPort(clients.rds, config.dbInstanceId),
      publish: (report: Parameters<typeof publishReport>[2]) => publishReport(clients.sns, config.topicArn, report),
      log: options.log ?? powertoolsLog('softfactory-rollback'),
      now: options.now ?? (() => new Date()),
      sleep: options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    };
  };

  return async (event: unknown, context?: InvocationContext): Promise<RollbackResult | SnsBatchResult> => {
    built ??= build();
    const deps: RollbackDeps = {
      ...built,
      remainingMs: context?.getRemainingTimeInMillis ? () => context.getRemainingTimeInMillis?.() ?? 0 : undefined,
      attemptId: `${context?.awsRequestId ?? 'local'}/${randomUUID()}`,
    };
    const parsed = parseInvocation(event);
    switch (parsed.kind) {
      case 'sns': {
        const records: SnsBatchResult['records'][number][] = [];
        for (const record of parsed.records) {
          if (record.kind === 'own-message') {
            // Our own report, delivered back to us: drop silently (reporting it would loop).
            records.push({ outcome: 'ignored', reason: `own report ${record.messageId}` });
          } else if (record.kind === 'invalid') {
            records.push(await reportInvalid(record.problem, 'SNS message', deps));
          } else {
            records.push(await processTrigger(record.trigger, deps, 'async'));
          }
        }
        return { records };
      }
      case 'pipeline': {
        const { reason, requestedBy, toRevision, expectImage, dryRun } = parsed.request;
        return processTrigger({ kind: 'pipeline', reason, requestedBy, toRevision, expectImage, dryRun }, deps, 'sync');
      }
      case 'invalid-pipeline': {
        const result = await reportInvalid(
          `invalid rollback request: ${parsed.issues.join('; ')}`,
          'pipeline request',
          deps,
        );
        return { ...result, issues: [...parsed.issues] };
      }
      case 'unknown':
        return reportInvalid(parsed.problem, 'event', deps);
    }
  };
}

export const handler = createHandler();
