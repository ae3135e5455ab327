/**
 * Environment of the release command hook. The CDK construct types its `environment` from this schema
 * (`LambdaEnvironment<typeof releaseCommandEnvSchema>`); the handler parses `process.env` with the same schema.
 */
import { z } from 'zod';
import { functionName, snapshotPrefix } from '../../shared/names';
import { STAGES } from '../../shared/stages';
import type { LambdaEnvironment } from '../shared/env';
import type { ReleaseCommandConfig } from './core';

const list = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()).min(1));

export const releaseCommandEnvSchema = z.object({
  STAGE: z.enum(STAGES),
  /** The cluster the release task runs in (name or ARN). */
  CLUSTER: z.string().min(1),
  /** The command, as a JSON array of non-empty strings. */
  RELEASE_COMMAND: z
    .string()
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'RELEASE_COMMAND must be a JSON array of strings' });
        return z.NEVER;
      }
    })
    .pipe(z.array(z.string().trim().min(1)).min(1)),
  /** The essential container (its exit code decides). Default `web`. */
  CONTAINER_NAME: z.string().min(1).default('web'),
  LOG_GROUP_NAME: z.string().min(1),
  /** awslogs-stream-prefix of the container. Default `web`. */
  LOG_STREAM_PREFIX: z.string().min(1).default('web'),
  /** Fallback network when the target revision carries none: comma-separated subnet and security group ids. */
  SUBNETS: list,
  SECURITY_GROUPS: list,
  /** The instance whose pre-deploy snapshot of this deployment must be available first. */
  DB_INSTANCE_ID: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,62}$/),
  /** Default `sf-<stage>-predeploy` (the snapshot hook's). */
  SNAPSHOT_PREFIX: z.string().min(1).optional(),
  TOPIC_ARN: z.string().startsWith('arn:').optional(),
  CALLBACK_DELAY_SECONDS: z.coerce.number().int().min(5).max(900).default(30),
  SNAPSHOT_WAIT_MINUTES: z.coerce.number().int().min(1).max(1440).default(60),
  COMMAND_TIMEOUT_MINUTES: z.coerce.number().int().min(1).max(1440).default(30),
  LOG_LINES: z.coerce.number().int().min(1).max(200).default(30),
  MAX_START_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
});

export type ReleaseCommandEnvironment = LambdaEnvironment<typeof releaseCommandEnvSchema>;

/** Physical name of the hook function. */
export function releaseCommandFunctionName(stage: string): string {
  return functionName(stage, 'release-command');
}

export function loadReleaseCommandConfig(env: Record<string, string | undefined>): {
  config: ReleaseCommandConfig;
  cluster: string;
  dbInstanceId: string;
  topicArn: string | undefined;
} {
  const parsed = releaseCommandEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'env'}: ${i.message}`).join('; ');
    throw new Error(`release command hook misconfigured: ${problems}`);
  }
  const e = parsed.data;
  return {
    cluster: e.CLUSTER,
    dbInstanceId: e.DB_INSTANCE_ID,
    topicArn: e.TOPIC_ARN,
    config: {
      stage: e.STAGE,
      command: e.RELEASE_COMMAND,
      containerName: e.CONTAINER_NAME,
      logGroupName: e.LOG_GROUP_NAME,
      logStreamPrefix: e.LOG_STREAM_PREFIX,
      subnets: e.SUBNETS,
      securityGroups: e.SECURITY_GROUPS,
      snapshotPrefix: e.SNAPSHOT_PREFIX ?? snapshotPrefix(e.STAGE),
      callbackDelaySeconds: e.CALLBACK_DELAY_SECONDS,
      snapshotWaitMinutes: e.SNAPSHOT_WAIT_MINUTES,
      commandTimeoutMinutes: e.COMMAND_TIMEOUT_MINUTES,
      logLines: e.LOG_LINES,
      maxStartAttempts: e.MAX_START_ATTEMPTS,
    },
  };
}
