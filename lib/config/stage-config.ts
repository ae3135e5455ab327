/**
 * The one typed stage configuration. Every value the stacks use comes from here; nothing else reads raw context.
 * Thresholds from the production checklist (1 %, 500 ms, 80 %, 30 days, 5 minutes) live here as named values.
 */
import { z } from 'zod';
import { STAGES, type Stage } from '../../shared/stages';
import {
  CANARY_PERCENT_RANGE,
  CLOUDFORMATION_CALCULATED_LIMIT_MINUTES,
  CLOUDFORMATION_OPERATION_LIMIT_MINUTES,
  calculatedDeploymentMinutes,
  DEPLOYMENT_STRATEGIES,
  isTenthMultiple,
  LINEAR_STEP_PERCENT_RANGE,
  PAUSE_TIMEOUT_MINUTES_RANGE,
  STEP_BAKE_MINUTES_RANGE,
} from './deployment-strategy';

export { STAGES, type Stage } from '../../shared/stages';

/** Fargate's CPU units and, for each, the memory sizes (MiB) it offers. */
export const FARGATE_MEMORY_BY_CPU: Readonly<Record<number, readonly number[]>> = {
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16384, 1024),
  4096: range(8192, 30720, 1024),
  8192: range(16384, 61440, 4096),
  16384: range(32768, 122880, 8192),
};

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return out;
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;
const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
/** A web origin as browsers send it in `Origin`: scheme, host, optional port; no path, no `*`. */
const ORIGIN = /^https?:\/\/(?:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(?::\d{1,5})?$/;
const ECR_REPOSITORY = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DB_INSTANCE_CLASS = /^db\.[a-z0-9]+\.[a-z0-9]+$/;
const AZ = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d[a-z]$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;
/** A backup vault ARN; vault names are 2–50 letters, digits, hyphens and underscores (AWS Backup CreateBackupVault). */
const BACKUP_VAULT_ARN = /^arn:aws[a-z-]*:backup:([a-z0-9-]+):\d{12}:backup-vault:[A-Za-z0-9_-]{2,50}$/;

/** Retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

const count = (min: number, max: number) => z.number().int().min(min).max(max);
const percent = count(1, 100);

/** SoftFactory's `ENVIRONMENT` values. */
export const APP_ENVIRONMENTS = ['production', 'development'] as const;

/** App secrets generated at create (random, never in a template), one Secrets Manager secret each. */
export const GENERATED_APP_SECRETS = ['PLATFORM_SECRET_KEY', 'JWT_SECRET', 'ENCRYPTION_KEY'] as const;

/** The external secrets SoftFactory's .env.example lists; an operator fills them in the app secret. */
export const DEFAULT_APP_SECRET_KEYS = [
  'GOOGLE_CLIENT_ID',
  'GOOGLE_CLIENT_SECRET',
  'FACEBOOK_APP_ID',
  'FACEBOOK_APP_SECRET',
  'KAKAO_REST_API_KEY',
  'KAKAO_CLIENT_SECRET',
  'STRIPE_SECRET_KEY',
  'STRIPE_PUBLISHABLE_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'SENTRY_DSN',
  'ANTHROPIC_API_KEY',
] as const;

/**
 * RDS enhanced monitoring intervals, in seconds; 0 turns it off (the `MonitoringInterval` values RDS accepts:
 * https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html).
 */
export const RDS_MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60] as const;

/** Percentiles the latency alarm may use (`TargetResponseTime` is a percentile metric). */
export const LATENCY_STATISTICS = ['p95', 'p99'] as const;

/** S3 lifecycle of the log archive: Standard → Infrequent Access → Glacier Flexible Retrieval, then expiry. */
export const LOG_ARCHIVE_INFREQUENT_ACCESS_DAYS = 30;
export const LOG_ARCHIVE_GLACIER_DAYS = 90;

/** RDS PostgreSQL's default `max_connections`: LEAST({DBInstanceClassMemory/9531392}, 5000). */
export const RDS_POSTGRES_BYTES_PER_CONNECTION = 9_531_392;
export const RDS_POSTGRES_MAX_CONNECTIONS_CAP = 5000;

const SIZE_STEPS: Readonly<Record<string, number>> = {
  large: 1,
  xlarge: 2,
  '2xlarge': 4,
  '4xlarge': 8,
  '8xlarge': 16,
  '12xlarge': 24,
  '16xlarge': 32,
  '24xlarge': 48,
};
const BURSTABLE_GIB: Readonly<Record<string, number>> = {
  micro: 1,
  small: 2,
  medium: 4,
  large: 8,
  xlarge: 16,
  '2xlarge': 32,
};

/**
 * Nominal memory (GiB) of the RDS instance classes we expect to run: burstable t3/t4g, general-purpose m5–m8
 * (8 GiB per `large` step) and memory-optimised r5–r8 (16 GiB per step). `undefined` for anything else.
 */
export function instanceClassMemoryGiB(instanceClass: string): number | undefined {
  const match = /^db\.([a-z])(\d)([a-z]*)\.([a-z0-9]+)$/.exec(instanceClass);
  if (!match) return undefined;
  const [, family = '', generation = '', , size = ''] = match;
  if (family === 't' && ['3', '4'].includes(generation)) return BURSTABLE_GIB[size];
  const step = SIZE_STEPS[size];
  if (step === undefined || !['5', '6', '7', '8'].includes(generation)) return undefined;
  if (family === 'm') return 8 * step;
  if (family === 'r') return 16 * step;
  return undefined;
}

/**
 * RDS PostgreSQL's default `max_connections` for an instance class, from its nominal memory. RDS computes it from
 * DBInstanceClassMemory (the class memory minus what RDS reserves), so the real limit is a few percent lower —
 * `SHOW max_connections` gives the exact value for `dbMaxConnections`.
 */
export function defaultMaxConnections(instanceClass: string): number | undefined {
  const gib = instanceClassMemoryGiB(instanceClass);
  if (gib === undefined) return undefined;
  return Math.min(Math.floor((gib * 1024 ** 3) / RDS_POSTGRES_BYTES_PER_CONNECTION), RDS_POSTGRES_MAX_CONNECTIONS_CAP);
}

/** The container image: an ECR repository + tag, an image in any registry, or a local Dockerfile directory. */
export const imageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('ecr'), repository: z.string().regex(ECR_REPOSITORY), tag: z.string().regex(IMAGE_TAG) }),
  z.object({ kind: z.literal('registry'), name: z.string().regex(/^[^\s]+[:@][^\s]+$/) }),
  z.object({ kind: z.literal('directory'), path: z.string().min(1) }),
]);
export type ImageSource = z.infer<typeof imageSchema>;

/** The HTTPS certificate: import an existing ACM certificate, or create a DNS-validated one. */
export const certificateSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('import'), arn: z.string().regex(ACM_ARN), placeholder: z.boolean() }),
  z.object({
    kind: z.literal('create'),
    domainName: z.string().regex(DOMAIN),
    hostedZoneId: z.string().regex(HOSTED_ZONE_ID),
    zoneName: z.string().regex(DOMAIN),
  }),
]);
export type CertificateSource = z.infer<typeof certificateSchema>;

/** The SQLite file to migrate into RDS: a local path (uploaded as an asset) or an S3 object and its version. */
export const migrationSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('path'), path: z.string().min(1) }),
  z.object({
    kind: z.literal('s3'),
    uri: z.string().regex(/^s3:\/\/[a-z0-9.-]{3,63}\/.+$/),
    version: z.string().min(1),
  }),
]);
export type MigrationSource = z.infer<typeof migrationSourceSchema>;

export const stageConfigSchema = z
  .object({
    stage: z.enum(STAGES),
    /** Deploy target; both absent → an environment-agnostic synth. */
    account: z.string().regex(ACCOUNT).optional(),
    region: z.string().regex(REGION).optional(),
    certificate: certificateSchema,
    /** Public hostname the service answers on (used for smoke checks); absent → the ALB's DNS name. */
    domainName: z.string().regex(DOMAIN).optional(),
    image: imageSchema,
    /**
     * The app's start command, run after DATABASE_URL is assembled; absent → gunicorn serving `start_platform:app`
     * (workers from the task's vCPUs), as SoftFactory's own Dockerfile.prod does.
     */
    containerCommand: z.array(z.string().min(1)).min(1).optional(),
    /**
     * The release command (schema migrations, e.g. `["flask", "db", "upgrade"]`): run once per release as a task of
     * the new revision at PRE_SCALE_UP, after the pre-deploy snapshot, through the same entry point (DATABASE_URL);
     * anything but exit code 0 rolls the release back before a new task takes traffic. Absent → no release command.
     */
    releaseCommand: z.array(z.string().trim().min(1)).min(1).optional(),
    /**
     * SoftFactory's `ENVIRONMENT` and `TESTING`: its start_platform.py defaults them to development and true when
     * unset (test mode: `Bearer demo_token` is accepted, OAuth answers mock URLs), so the task always sets both.
     */
    appEnvironment: z.enum(APP_ENVIRONMENTS),
    appTesting: z.boolean(),
    /**
     * An existing Secrets Manager secret (JSON) holding every app secret (the generated keys and `appSecretKeys`);
     * absent → the Data stack creates them: PLATFORM_SECRET_KEY, JWT_SECRET and ENCRYPTION_KEY generated at create,
     * the `appSecretKeys` empty until an operator fills them.
     */
    appSecretArn: z.string().regex(SECRET_ARN).optional(),
    /** The external secrets the app reads (OAuth, Stripe, Sentry, …), each a key of the app secret and a container secret. */
    appSecretKeys: z.array(z.string().regex(ENV_NAME)),
    cpu: z.number().int(),
    memoryMiB: z.number().int(),
    minTasks: count(1, 100),
    maxTasks: count(1, 100),
    /** Autoscaling targets. */
    cpuTargetPercent: count(10, 90),
    requestsPerTarget: count(10, 100000),
    maxAzs: count(2, 3),
    /**
     * The availability zones to use, pinned (e.g. `eu-west-1a,eu-west-1b,eu-west-1c`); absent → the region's first
     * `maxAzs` zones (`Fn::GetAZs` when synthesized without account/region, CDK's context lookup with them).
     */
    availabilityZones: z.array(z.string().regex(AZ)).optional(),
    natGateways: count(1, 3),
    dbInstanceClass: z.string().regex(DB_INSTANCE_CLASS),
    dbAllocatedStorageGiB: count(20, 65536),
    dbMaxAllocatedStorageGiB: count(20, 65536),
    multiAz: z.boolean(),
    /**
     * Days backups are kept: RDS automated backups (point-in-time restore; RDS allows 1–35) and the AWS Backup plan's
     * daily recovery points of the database and the rollback lock table (and their copies, with `backupCopyVaultArn`).
     */
    backupRetentionDays: count(1, 35),
    /**
     * A backup vault in another region (or account) the daily recovery points are copied to; absent → no copy. The
     * vault must exist before the deploy (a copy job names its destination vault by ARN).
     */
    backupCopyVaultArn: z.string().regex(BACKUP_VAULT_ARN).optional(),
    deletionProtection: z.boolean(),
    /**
     * Days between rotations of the database master password by Secrets Manager (single-user rotation; Secrets
     * Manager allows 1–1000 days). A rotation changes the password running tasks composed into DATABASE_URL at start.
     */
    databaseCredentialRotationDays: count(1, 1000),
    /**
     * RDS enhanced monitoring (OS metrics) interval in seconds, 0 = off. On in staging and prod (60 s: per-process CPU
     * and memory when the instance is under load); off in dev, where the CloudWatch Logs ingestion it costs buys nothing.
     */
    databaseMonitoringIntervalSeconds: z.union(RDS_MONITORING_INTERVALS.map((v) => z.literal(v))),
    /** `log_min_duration_statement`: statements slower than this are logged (checklist: slow query logging). */
    slowQueryMs: count(0, 3_600_000),
    /** WAF per-IP rate limit: requests per 5-minute window (WAF's minimum is 10). */
    wafRateLimit: count(10, 2_000_000_000),
    alarmEmails: z.array(z.string().regex(EMAIL)),
    /** CloudWatch Logs retention in days; the checklist's minimum is 30. */
    logRetentionDays: count(30, 3653),
    /** Days before ALB access logs expire in S3. */
    accessLogExpiryDays: count(1, 3653),
    /** ECS bake time after the production traffic shift (checklist: no error spike in the first 5 minutes). */
    bakeTimeMinutes: count(0, 1440),
    /**
     * How a release moves production traffic: all at once (blue_green), a canary share then the rest, or linear
     * steps (lib/config/deployment-strategy.ts has the ranges and the AWS pages they come from).
     */
    deploymentStrategy: z.enum(DEPLOYMENT_STRATEGIES),
    /** Canary: percent of production traffic on the new revision during the canary phase (0.1–100, in 0.1 steps). */
    canaryPercent: z.number(),
    /** Canary: minutes the canary share bakes before the rest of the traffic moves. */
    canaryBakeMinutes: z.number().int(),
    /** Linear: percent of production traffic moved at each step (3–100, in 0.1 steps). */
    linearStepPercent: z.number(),
    /** Linear: minutes between steps (not after the last). */
    linearStepBakeMinutes: z.number().int(),
    /** Pause every release after the test-traffic smoke until `sfdeploy promote` (or `abort`); off by default. */
    approvalBeforeProduction: z.boolean(),
    /** Minutes a paused release waits for `sfdeploy promote` before ECS rolls it back. */
    approvalTimeoutMinutes: z.number().int(),
    /** SQLite → PostgreSQL migration run by the Data stack; absent → no migration runner. */
    migration: z
      .object({
        source: migrationSourceSchema,
        schemaMode: z.enum(['translate', 'existing']),
        onError: z.enum(['fail', 'skip-row']),
      })
      .optional(),
    /** Minutes the smoke hook may take at each stage before ECS rolls back (the ECS default is 24 hours). */
    hookTimeoutMinutes: count(1, 20160),
    /** Invocations of the smoke hook per stage before transient failures become FAILED. */
    smokeMaxAttempts: count(1, 20),
    /**
     * An existing Secrets Manager secret holding the smoke checks' bearer token, so it can be filled before the first
     * deploy; absent → the stack creates one (authenticated checks are `skipped` until it holds a usable token).
     */
    smokeTokenSecretArn: z.string().regex(SECRET_ARN).optional(),
    /**
     * The origins SoftFactory allows cross-origin requests from: the task's CORS_ORIGINS, and what the smoke checks
     * assert exactly (no `*`, no other origin); absent → `https://<domainName>` (the ALB's DNS name without one).
     */
    corsAllowedOrigins: z.array(z.string().regex(ORIGIN)).min(1).optional(),
    /**
     * The smoke hook also makes the spec's unattended writes (a post it deletes again, a review scrape) against green
     * at POST_TEST_TRAFFIC_SHIFT, never after the production shift.
     */
    smokeWrites: z.boolean(),
    /** Minutes the pre-deploy snapshot hook may take before ECS rolls back. */
    snapshotTimeoutMinutes: count(10, 20160),
    /** Pre-deploy snapshots kept (ours only; older ones are pruned). */
    snapshotRetentionCount: count(1, 100),
    /** An alarm may roll back a completed deployment only this long after it finished. */
    rollbackWatchWindowMinutes: count(0, 1440),
    /** No further automatic rollback of the service this long after one. */
    rollbackCooldownMinutes: count(0, 1440),
    /**
     * Reserved concurrency for the rollback function; absent → none (the DynamoDB lock already serialises rollbacks,
     * and Lambda refuses a reservation that leaves the account's unreserved pool below its minimum).
     */
    rollbackReservedConcurrency: count(1, 1000).optional(),
    /** Error-rate alarm: percent of requests answered 5xx (by the app or the load balancer) in a minute. */
    errorRatePercent: z.number().gt(0).max(100),
    /** Error-rate volume gate: a minute with fewer requests than this reads as 0 % (no paging at 1 of 3 at night). */
    errorRateMinRequests: count(1, 1_000_000),
    /** Latency alarm: `TargetResponseTime` above this many milliseconds at `latencyStatistic`. */
    latencyThresholdMs: count(1, 60_000),
    latencyStatistic: z.enum(LATENCY_STATISTICS),
    /** ECS service CPU (average over tasks) above this percentage for 5 minutes. */
    cpuAlarmPercent: percent,
    /** ECS service memory (the busiest task) above this percentage. */
    memoryAlarmPercent: percent,
    /** Fargate ephemeral storage (the fullest task) above this percentage. */
    diskAlarmPercent: percent,
    dbCpuAlarmPercent: percent,
    /** RDS free storage below this percentage of the allocated storage. */
    dbFreeStoragePercent: count(1, 99),
    /** RDS connections above this percentage of `max_connections`. */
    dbConnectionsPercent: percent,
    /** The database's `max_connections`; unset → RDS's default for `dbInstanceClass`. */
    dbMaxConnections: count(1, 262_143).optional(),
    /** Days before archived application logs expire in S3 (after Infrequent Access at 30 and Glacier at 90). */
    logArchiveExpiryDays: count(1, 36_500),
  })
  .superRefine((c, ctx) => {
    const memories = FARGATE_MEMORY_BY_CPU[c.cpu];
    if (!memories) {
      ctx.addIssue({
        code: 'custom',
        path: ['cpu'],
        message: `expected one of ${Object.keys(FARGATE_MEMORY_BY_CPU).join(', ')} (Fargate CPU units)`,
      });
    } else if (!memories.includes(c.memoryMiB)) {
      ctx.addIssue({
        code: 'custom',
        path: ['memoryMiB'],
        message: `Fargate offers cpu ${c.cpu} with memoryMiB ${memories[0]}–${memories[memories.length - 1]} in steps of ${(memories[1] ?? 0) - (memories[0] ?? 0)}`,
      });
    }
    if (c.minTasks > c.maxTasks) {
      ctx.addIssue({ code: 'custom', path: ['minTasks'], message: `must not exceed maxTasks (${c.maxTasks})` });
    }
    if (c.dbMaxAllocatedStorageGiB < c.dbAllocatedStorageGiB) {
      ctx.addIssue({
        code: 'custom',
        path: ['dbMaxAllocatedStorageGiB'],
        message: `must be at least dbAllocatedStorageGiB (${c.dbAllocatedStorageGiB})`,
      });
    }
    if (c.availabilityZones !== undefined) {
      if (c.availabilityZones.length !== c.maxAzs) {
        ctx.addIssue({
          code: 'custom',
          path: ['availabilityZones'],
          message: `must list exactly maxAzs (${c.maxAzs}) zones`,
        });
      } else if (new Set(c.availabilityZones).size !== c.availabilityZones.length) {
        ctx.addIssue({ code: 'custom', path: ['availabilityZones'], message: 'must not repeat a zone' });
      } else if (c.region !== undefined && !c.availabilityZones.every((az) => az.startsWith(c.region as string))) {
        ctx.addIssue({
          code: 'custom',
          path: ['availabilityZones'],
          message: `must be zones of region ${c.region} (such as ${c.region}a)`,
        });
      }
    }
    if (c.natGateways > c.maxAzs) {
      ctx.addIssue({ code: 'custom', path: ['natGateways'], message: `must not exceed maxAzs (${c.maxAzs})` });
    }
    if ((c.account === undefined) !== (c.region === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [c.account === undefined ? 'account' : 'region'],
        message: 'account and region go together: give both, or neither for an environment-agnostic synth',
      });
    }
    if (!(LOG_RETENTION_DAYS as readonly number[]).includes(c.logRetentionDays)) {
      ctx.addIssue({
        code: 'custom',
        path: ['logRetentionDays'],
        message: `expected one of ${LOG_RETENTION_DAYS.filter((d) => d >= 30).join(', ')} (CloudWatch Logs retention periods of at least 30 days)`,
      });
    }
    if (c.dbMaxConnections === undefined && defaultMaxConnections(c.dbInstanceClass) === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['dbMaxConnections'],
        message: `is required for dbInstanceClass ${c.dbInstanceClass} (its memory is not in the table): set it to the instance's max_connections (SHOW max_connections)`,
      });
    }
    if (c.logArchiveExpiryDays <= LOG_ARCHIVE_GLACIER_DAYS) {
      ctx.addIssue({
        code: 'custom',
        path: ['logArchiveExpiryDays'],
        message: `must exceed ${LOG_ARCHIVE_GLACIER_DAYS}: archived logs move to Glacier at ${LOG_ARCHIVE_GLACIER_DAYS} days and S3 expires objects only after their last transition`,
      });
    }
    if (c.certificate.kind === 'import' && !c.certificate.placeholder && c.domainName === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['domainName'],
        message:
          'is required with certificateArn: the smoke checks verify TLS against this host name (the one the certificate covers)',
      });
    }
    if (c.stage === 'prod' && c.appTesting) {
      ctx.addIssue({
        code: 'custom',
        path: ['appTesting'],
        message: 'must be false in prod: SoftFactory in test mode accepts Bearer demo_token as user 1',
      });
    }
    if (c.stage === 'prod' && c.appEnvironment !== 'production') {
      ctx.addIssue({ code: 'custom', path: ['appEnvironment'], message: 'must be production in prod' });
    }
    const clash = c.appSecretKeys.find(
      (k) => (GENERATED_APP_SECRETS as readonly string[]).includes(k) || k.startsWith('DB_'),
    );
    if (clash !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['appSecretKeys'],
        message: `must not name ${clash}: the stack generates ${GENERATED_APP_SECRETS.join(', ')} and sets the DB_* variables itself`,
      });
    }
    refineStrategy(c, ctx);
    const copyRegion =
      c.backupCopyVaultArn === undefined ? undefined : BACKUP_VAULT_ARN.exec(c.backupCopyVaultArn)?.[1];
    if (copyRegion !== undefined && copyRegion === c.region) {
      ctx.addIssue({
        code: 'custom',
        path: ['backupCopyVaultArn'],
        message: `must be a vault in another region than ${c.region}: a copy in the same region survives no regional outage`,
      });
    }
    if (c.stage === 'prod' && !c.deletionProtection) {
      ctx.addIssue({ code: 'custom', path: ['deletionProtection'], message: 'must be true in prod' });
    }
  });

export type StageConfig = z.infer<typeof stageConfigSchema>;

type StrategyFields = Pick<
  StageConfig,
  | 'deploymentStrategy'
  | 'canaryPercent'
  | 'canaryBakeMinutes'
  | 'linearStepPercent'
  | 'linearStepBakeMinutes'
  | 'bakeTimeMinutes'
  | 'approvalBeforeProduction'
  | 'approvalTimeoutMinutes'
>;

/**
 * The strategy rules zod's ranges cannot say: percentages in 0.1 steps (the ECS API reference's "multiples of 0.1"),
 * CloudFormation's calculated-deployment-time limit (33 h, below its 36-hour operation timeout), and, with an approval
 * pause, the pause's timeout on top: CloudFormation waits for the deployment, so a release paused past 36 hours fails
 * the stack update. Only the chosen strategy's keys are checked.
 */
function refineStrategy(c: StrategyFields, ctx: z.RefinementCtx): void {
  // Ranges said whole ("from 3 to 100"), not zod's one-sided "at least 3": the AWS field each key becomes is named.
  const checks: [keyof StrategyFields, { min: number; max: number }, boolean, string][] = [
    ['canaryPercent', CANARY_PERCENT_RANGE, true, 'ECS CanaryConfiguration.canaryPercent'],
    ['canaryBakeMinutes', STEP_BAKE_MINUTES_RANGE, false, 'ECS CanaryConfiguration.canaryBakeTimeInMinutes'],
    ['linearStepPercent', LINEAR_STEP_PERCENT_RANGE, true, 'ECS LinearConfiguration.stepPercent'],
    ['linearStepBakeMinutes', STEP_BAKE_MINUTES_RANGE, false, 'ECS LinearConfiguration.stepBakeTimeInMinutes'],
    ['approvalTimeoutMinutes', PAUSE_TIMEOUT_MINUTES_RANGE, false, 'ECS lifecycle hook timeoutInMinutes'],
  ];
  let inRange = true;
  for (const [key, range, tenths, field] of checks) {
    const value = c[key] as number;
    if (value < range.min || value > range.max || (tenths && !isTenthMultiple(value))) {
      inRange = false;
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: tenths
          ? `expected a multiple of 0.1 from ${range.min} to ${range.max} percent (${field})`
          : `expected a whole number from ${range.min} to ${range.max} minutes (${field})`,
      });
    }
  }
  if (!inRange) return;
  const strategy = c.deploymentStrategy;
  const calculated = calculatedDeploymentMinutes(c);
  if (calculated > CLOUDFORMATION_CALCULATED_LIMIT_MINUTES) {
    const key =
      strategy === 'canary' ? 'canaryBakeMinutes' : strategy === 'linear' ? 'linearStepBakeMinutes' : 'bakeTimeMinutes';
    const formula =
      strategy === 'canary'
        ? 'bakeTimeMinutes + canaryBakeMinutes'
        : strategy === 'linear'
          ? 'bakeTimeMinutes + linearStepBakeMinutes × steps'
          : 'bakeTimeMinutes';
    ctx.addIssue({
      code: 'custom',
      path: [key],
      message: `makes ${formula} = ${calculated} minutes; CloudFormation refuses a ${strategy} deployment whose calculated time exceeds ${CLOUDFORMATION_CALCULATED_LIMIT_MINUTES} minutes (33 h, under its 36-hour operation limit): shorten the bake times`,
    });
    return;
  }
  if (c.approvalBeforeProduction && calculated + c.approvalTimeoutMinutes > CLOUDFORMATION_OPERATION_LIMIT_MINUTES) {
    ctx.addIssue({
      code: 'custom',
      path: ['approvalTimeoutMinutes'],
      message: `plus the ${calculated} minutes of bake time exceeds CloudFormation's 36-hour operation limit (${CLOUDFORMATION_OPERATION_LIMIT_MINUTES} minutes): a release still paused then fails the stack update; use at most ${CLOUDFORMATION_OPERATION_LIMIT_MINUTES - calculated}`,
    });
  }
}

/** The database's connection limit: the configured `dbMaxConnections`, else RDS's default for the instance class. */
export function dbMaxConnections(config: Pick<StageConfig, 'dbMaxConnections' | 'dbInstanceClass'>): number {
  const limit = config.dbMaxConnections ?? defaultMaxConnections(config.dbInstanceClass);
  if (limit === undefined) throw new Error(`no max_connections known for ${config.dbInstanceClass}`);
  return limit;
}

/** Certificate ARN used when none is configured, so a zero-config synth works. A real deploy must replace it. */
export const PLACEHOLDER_CERTIFICATE_ARN =
  'arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-0000-0000-000000000000';

type Defaults = Omit<StageConfig, 'stage' | 'account' | 'region' | 'domainName'>;

const common: Defaults = {
  certificate: { kind: 'import', arn: PLACEHOLDER_CERTIFICATE_ARN, placeholder: true },
  image: { kind: 'ecr', repository: 'softfactory', tag: 'v2.0' },
  appEnvironment: 'production',
  appTesting: false,
  appSecretKeys: [...DEFAULT_APP_SECRET_KEYS],
  cpu: 512,
  memoryMiB: 1024,
  minTasks: 1,
  maxTasks: 2,
  cpuTargetPercent: 60,
  requestsPerTarget: 1000,
  maxAzs: 2,
  natGateways: 1,
  dbInstanceClass: 'db.t4g.small',
  dbAllocatedStorageGiB: 20,
  dbMaxAllocatedStorageGiB: 100,
  multiAz: false,
  backupRetentionDays: 7,
  deletionProtection: false,
  databaseCredentialRotationDays: 30,
  databaseMonitoringIntervalSeconds: 60,
  slowQueryMs: 500,
  wafRateLimit: 2000,
  alarmEmails: [],
  logRetentionDays: 30,
  accessLogExpiryDays: 90,
  bakeTimeMinutes: 5,
  deploymentStrategy: 'blue_green',
  // ECS's own defaults (API reference): canary 5 % for 10 minutes, linear 10 % steps 6 minutes apart.
  canaryPercent: 5,
  canaryBakeMinutes: 10,
  linearStepPercent: 10,
  linearStepBakeMinutes: 6,
  approvalBeforeProduction: false,
  approvalTimeoutMinutes: 240,
  hookTimeoutMinutes: 30,
  smokeMaxAttempts: 3,
  smokeWrites: true,
  snapshotTimeoutMinutes: 60,
  snapshotRetentionCount: 10,
  rollbackWatchWindowMinutes: 60,
  rollbackCooldownMinutes: 30,
  errorRatePercent: 1,
  errorRateMinRequests: 20,
  latencyThresholdMs: 500,
  latencyStatistic: 'p95',
  cpuAlarmPercent: 80,
  memoryAlarmPercent: 80,
  diskAlarmPercent: 80,
  dbCpuAlarmPercent: 80,
  dbFreeStoragePercent: 20,
  dbConnectionsPercent: 80,
  logArchiveExpiryDays: 365,
};

/** Sensible defaults per stage: dev is small and disposable, prod is redundant and protected. */
export const STAGE_DEFAULTS: Readonly<Record<Stage, Defaults>> = {
  // dev is the test stage: SoftFactory's test mode, so the checklist's test-mode checks (demo_token) run there.
  // Enhanced monitoring off in dev: nobody tunes a disposable database, and its OS metrics are billed as log ingestion.
  dev: { ...common, appEnvironment: 'development', appTesting: true, databaseMonitoringIntervalSeconds: 0 },
  staging: { ...common, minTasks: 2, maxTasks: 4, backupRetentionDays: 14 },
  prod: {
    ...common,
    cpu: 1024,
    memoryMiB: 2048,
    minTasks: 2,
    maxTasks: 10,
    maxAzs: 3,
    natGateways: 2,
    dbInstanceClass: 'db.m7g.large',
    dbAllocatedStorageGiB: 100,
    dbMaxAllocatedStorageGiB: 500,
    multiAz: true,
    backupRetentionDays: 30,
    deletionProtection: true,
    accessLogExpiryDays: 365,
  },
};
