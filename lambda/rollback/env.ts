/**
 * Environment of the rollback function. The CDK construct types its `environment` from `RollbackEnv` (the
 * input side of this schema) and the handler parses `process.env` with it once per container.
 */
import { z } from 'zod';
import { snapshotPrefix } from '../../shared/names';
import type { LambdaEnvironment } from '../shared/env';
import { ROLLBACK_STAGES, type RollbackStage } from './contract';

const ECS_SERVICE_ARN = /^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):(\d{12}):service\/([^/]+)\/([^/]+)$/;
const ECS_CLUSTER_ARN = /^arn:(aws[a-z-]*):ecs:([a-z0-9-]+):(\d{12}):cluster\/([^/]+)$/;

const minutes = (fallback: number, max: number) => z.coerce.number().int().min(0).max(max).default(fallback);
const seconds = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

export const rollbackEnvSchema = z
  .object({
    /** dev | staging | prod. */
    STAGE: z.enum(ROLLBACK_STAGES),
    /** The stage's cluster, full ARN. */
    CLUSTER_ARN: z.string().regex(ECS_CLUSTER_ARN, 'CLUSTER_ARN must be an ECS cluster ARN'),
    /** The service, full ARN in the long format (with the cluster name). Account, region and partition come from it. */
    SERVICE_ARN: z.string().regex(ECS_SERVICE_ARN, 'SERVICE_ARN must be a long-format ECS service ARN'),
    /** Task-definition family the service runs; revisions of any other family are never deployed. */
    TASK_FAMILY: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/),
    /** Comma-separated alarm names whose ALARM transition may trigger an automatic rollback. */
    ROLLBACK_ALARM_NAMES: z
      .string()
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string()).min(1, 'ROLLBACK_ALARM_NAMES must name at least one alarm')),
    /** An alarm may roll back a completed deployment only this long after it finished. Default 60. */
    WATCH_WINDOW_MINUTES: minutes(60, 24 * 60),
    /** No further automatic rollback of the service this long after one. Default 30. */
    COOLDOWN_MINUTES: minutes(30, 24 * 60),
    /** DynamoDB table for the per-service lock and per-incident records (pk: S, sk: S, TTL attribute `expiresAt`). */
    LOCK_TABLE_NAME: z.string().min(3),
    /** Lock lease. Must be at least the function timeout, so a crashed holder's lock expires. Default 90. */
    LOCK_TTL_SECONDS: seconds(90, 900),
    /** How long an invocation waits for another one's lock before giving up (and being retried). Default 20. */
    LOCK_WAIT_SECONDS: seconds(20, 300),
    /**
     * An attempt whose ECS call ended without a clear answer (timeout) leaves its incident in state `acting`.
     * A later attempt that cannot see the change in ECS waits this long before retaking it. Default 120.
     */
    ACTING_GRACE_SECONDS: seconds(120, 3600),
    /** The stage's notification topic (the alarm topic). */
    TOPIC_ARN: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+$/),
    /** RDS instance whose pre-deploy snapshots the notifications name. */
    DB_INSTANCE_ID: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,62}$/),
    /** Identifier prefix of the pre-deploy snapshots. Default `sf-<stage>-predeploy`. */
    SNAPSHOT_PREFIX: z.string().optional(),
    /** Where people find the restore procedure, linked from every notification. */
    RUNBOOK_URL: z.string().default('README.md#database-restore-after-a-rollback'),
  })
  .superRefine((env, ctx) => {
    const service = ECS_SERVICE_ARN.exec(env.SERVICE_ARN);
    const cluster = ECS_CLUSTER_ARN.exec(env.CLUSTER_ARN);
    if (!service || !cluster) return;
    if (service[1] !== cluster[1] || service[2] !== cluster[2] || service[3] !== cluster[3]) {
      ctx.addIssue({
        code: 'custom',
        message: 'SERVICE_ARN and CLUSTER_ARN are in different partitions, regions or accounts',
      });
    }
    if (service[4] !== cluster[4]) {
      ctx.addIssue({
        code: 'custom',
        message: `SERVICE_ARN is in cluster ${service[4]}, CLUSTER_ARN names ${cluster[4]}`,
      });
    }
  });

/** What the schema accepts (numbers may be given as strings; defaults apply when omitted). */
export type RollbackEnv = z.input<typeof rollbackEnvSchema>;

/** Recommended Lambda timeout for the rollback function; LOCK_TTL_SECONDS (default 90) must not be below it. */
export const ROLLBACK_FUNCTION_TIMEOUT_SECONDS = 60;

/** Typed input for `rollbackEnvironment`: what the CDK construct knows, in its own types. */
export interface RollbackEnvironmentProps {
  readonly stage: RollbackStage;
  readonly clusterArn: string;
  readonly serviceArn: string;
  readonly taskFamily: string;
  /** The rollback alarms' names (fixed physical names, `softfactory-<stage>-<signal>`). */
  readonly rollbackAlarmNames: readonly string[];
  readonly lockTableName: string;
  readonly topicArn: string;
  readonly dbInstanceId: string;
  /** @default 60 */
  readonly watchWindowMinutes?: number;
  /** @default 30 */
  readonly cooldownMinutes?: number;
  /** @default 90; keep ≥ the function timeout */
  readonly lockTtlSeconds?: number;
  /** @default 20 */
  readonly lockWaitSeconds?: number;
  /** @default 120 */
  readonly actingGraceSeconds?: number;
  /** @default `sf-<stage>-predeploy` (must match the snapshot hook's) */
  readonly snapshotPrefix?: string;
  /** @default `README.md#database-restore-after-a-rollback` */
  readonly runbookUrl?: string;
}

/** The function's `environment`, from typed props; keys match `rollbackEnvSchema`, omitted values use its defaults. */
export function rollbackEnvironment(props: RollbackEnvironmentProps): LambdaEnvironment<typeof rollbackEnvSchema> {
  const optional: Record<string, string | number | undefined> = {
    WATCH_WINDOW_MINUTES: props.watchWindowMinutes,
    COOLDOWN_MINUTES: props.cooldownMinutes,
    LOCK_TTL_SECONDS: props.lockTtlSeconds,
    LOCK_WAIT_SECONDS: props.lockWaitSeconds,
    ACTING_GRACE_SECONDS: props.actingGraceSeconds,
    SNAPSHOT_PREFIX: props.snapshotPrefix,
    RUNBOOK_URL: props.runbookUrl,
  };
  return {
    STAGE: props.stage,
    CLUSTER_ARN: props.clusterArn,
    SERVICE_ARN: props.serviceArn,
    TASK_FAMILY: props.taskFamily,
    ROLLBACK_ALARM_NAMES: props.rollbackAlarmNames.join(','),
    LOCK_TABLE_NAME: props.lockTableName,
    TOPIC_ARN: props.topicArn,
    DB_INSTANCE_ID: props.dbInstanceId,
    ...Object.fromEntries(Object.entries(optional).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]]))),
  };
}

export interface RollbackConfig {
  readonly stage: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly clusterArn: string;
  readonly clusterName: string;
  readonly serviceArn: string;
  readonly serviceName: string;
  readonly taskFamily: string;
  readonly rollbackAlarmNames: readonly string[];
  readonly watchWindowMinutes: number;
  readonly cooldownMinutes: number;
  readonly lockTableName: string;
  readonly lockTtlSeconds: number;
  readonly lockWaitSeconds: number;
  readonly actingGraceSeconds: number;
  readonly topicArn: string;
  readonly dbInstanceId: string;
  readonly snapshotPrefix: string;
  readonly runbookUrl: string;
}

/** Default identifier prefix of pre-deploy snapshots; shared with the snapshot hook. */
export function defaultSnapshotPrefix(stage: string): string {
  return snapshotPrefix(stage);
}

/** Parses the environment; the message lists every problem, so one deploy fixes them all. */
export function loadRollbackConfig(env: Record<string, string | undefined>): RollbackConfig {
  const parsed = rollbackEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'env'}: ${i.message}`).join('; ');
    throw new Error(`rollback function misconfigured: ${problems}`);
  }
  const e = parsed.data;
  const [, partition, region, account, clusterName, serviceName] = ECS_SERVICE_ARN.exec(e.SERVICE_ARN) ?? [];
  return {
    stage: e.STAGE,
    partition: partition!,
    region: region!,
    account: account!,
    clusterArn: e.CLUSTER_ARN,
    clusterName: clusterName!,
    serviceArn: e.SERVICE_ARN,
    serviceName: serviceName!,
    taskFamily: e.TASK_FAMILY,
    rollbackAlarmNames: e.ROLLBACK_ALARM_NAMES,
    watchWindowMinutes: e.WATCH_WINDOW_MINUTES,
    cooldownMinutes: e.COOLDOWN_MINUTES,
    lockTableName: e.LOCK_TABLE_NAME,
    lockTtlSeconds: e.LOCK_TTL_SECONDS,
    lockWaitSeconds: e.LOCK_WAIT_SECONDS,
    actingGraceSeconds: e.ACTING_GRACE_SECONDS,
    topicArn: e.TOPIC_ARN,
    dbInstanceId: e.DB_INSTANCE_ID,
    snapshotPrefix: e.SNAPSHOT_PREFIX ?? defaultSnapshotPrefix(e.STAGE),
    runbookUrl: e.RUNBOOK_URL,
  };
}
