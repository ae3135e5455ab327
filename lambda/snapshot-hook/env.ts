/**
 * Environment of the pre-deploy snapshot hook. The CDK construct types its `environment` from
 * `SnapshotHookEnv`; the handler parses `process.env` with the same schema.
 */
import { z } from 'zod';
import { functionName, snapshotPrefix } from '../../shared/names';
import { STAGES as ROLLBACK_STAGES, type Stage as RollbackStage } from '../../shared/stages';
import type { LambdaEnvironment } from '../shared/env';
import { isValidSnapshotId, type SnapshotHookConfig } from './core';

export const snapshotHookEnvSchema = z.object({
  /** dev | staging | prod; tagged on every snapshot and part of the default prefix. */
  STAGE: z.enum(ROLLBACK_STAGES),
  /** The RDS instance to snapshot. */
  DB_INSTANCE_ID: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,62}$/),
  /** Identifier prefix of our snapshots; pruning only ever considers snapshots with it. Default `sf-<stage>-predeploy`. */
  SNAPSHOT_PREFIX: z
    .string()
    .refine(
      (p) => isValidSnapshotId(p) && p.length <= 200,
      'SNAPSHOT_PREFIX must be a valid RDS snapshot identifier start',
    )
    .optional(),
  /** How many of our snapshots to keep, the new one included. Default 10. */
  RETAIN_SNAPSHOTS: z.coerce.number().int().min(1).max(100).default(10),
  /** Seconds ECS waits before asking again while the snapshot is being created. Default 30. */
  CALLBACK_DELAY_SECONDS: z.coerce.number().int().min(5).max(900).default(30),
  /** FAILED when the snapshot is not available after this long. Keep the hook's ECS timeout above it. Default 60. */
  MAX_WAIT_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(60),
  /** Attempts at CreateDBSnapshot while RDS is busy (e.g. `backing-up`) or throttling. Default 10. */
  MAX_CREATE_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
});

export type SnapshotHookEnv = z.input<typeof snapshotHookEnvSchema>;

/** Physical name of the hook function. */
export function snapshotHookFunctionName(stage: string): string {
  return functionName(stage, 'predeploy-snapshot');
}

export interface SnapshotHookEnvironmentProps {
  readonly stage: RollbackStage;
  readonly dbInstanceId: string;
  /** @default `sf-<stage>-predeploy` (must match the rollback function's) */
  readonly snapshotPrefix?: string;
  /** @default 10 */
  readonly retainSnapshots?: number;
  /** @default 30 */
  readonly callbackDelaySeconds?: number;
  /** @default 60; the hook's ECS TimeoutConfiguration must be longer */
  readonly maxWaitMinutes?: number;
  /** @default 10 */
  readonly maxCreateAttempts?: number;
}

/** The hook's `environment`, from typed props; keys match `snapshotHookEnvSchema`. */
export function snapshotHookEnvironment(
  props: SnapshotHookEnvironmentProps,
): LambdaEnvironment<typeof snapshotHookEnvSchema> {
  const optional: Record<string, string | number | undefined> = {
    SNAPSHOT_PREFIX: props.snapshotPrefix,
    RETAIN_SNAPSHOTS: props.retainSnapshots,
    CALLBACK_DELAY_SECONDS: props.callbackDelaySeconds,
    MAX_WAIT_MINUTES: props.maxWaitMinutes,
    MAX_CREATE_ATTEMPTS: props.maxCreateAttempts,
  };
  return {
    STAGE: props.stage,
    DB_INSTANCE_ID: props.dbInstanceId,
    ...Object.fromEntries(Object.entries(optional).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]]))),
  };
}

export function loadSnapshotHookConfig(env: Record<string, string | undefined>): SnapshotHookConfig {
  const parsed = snapshotHookEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'env'}: ${i.message}`).join('; ');
    throw new Error(`snapshot hook misconfigured: ${problems}`);
  }
  const e = parsed.data;
  return {
    stage: e.STAGE,
    dbInstanceId: e.DB_INSTANCE_ID,
    prefix: e.SNAPSHOT_PREFIX ?? snapshotPrefix(e.STAGE),
    retain: e.RETAIN_SNAPSHOTS,
    callbackDelaySeconds: e.CALLBACK_DELAY_SECONDS,
    maxWaitMinutes: e.MAX_WAIT_MINUTES,
    maxCreateAttempts: e.MAX_CREATE_ATTEMPTS,
  };
}
