/**
 * The config keys a user may set (`-c key=value` or in `config/<stage>.json`), how `-c` text is read, and what each
 * means (the description editors show from config/schema.json). No dependencies, like stages.ts.
 */

export type Kind = 'int' | 'number' | 'bool' | 'string' | 'list' | 'command';

const KEYS = {
  stage: ['string', 'dev, staging or prod; chosen with -c stage=<stage>, which picks config/<stage>.json'],
  account: ['string', 'Deploy target account (12 digits); give account and region together, or neither'],
  region: ['string', 'Deploy target region, such as eu-west-1; give account and region together, or neither'],
  certificateArn: [
    'string',
    'Import this ACM certificate for the HTTPS listener; needs domainName (the host name it covers)',
  ],
  domainName: [
    'string',
    'Public host name of the service (the smoke checks verify TLS against it); with hostedZoneId and zoneName, a DNS-validated certificate and an alias record are created for it',
  ],
  hostedZoneId: ['string', 'Route 53 hosted zone to create the certificate and alias record in (with zoneName)'],
  zoneName: ['string', 'Name of that hosted zone, such as example.com; domainName must be it or a name under it'],
  image: ['string', 'Image from any registry with a tag or digest, such as ghcr.io/acme/softfactory:2.0'],
  imageRepository: ['string', 'ECR repository in the deploy account holding the image (default softfactory)'],
  imageTag: ['string', 'Tag of the image in imageRepository (default v2.0); not with image or imageDirectory'],
  imageDirectory: [
    'string',
    "A directory holding SoftFactory's Dockerfile, relative to where cdk runs; cdk deploy builds and pushes it",
  ],
  containerCommand: [
    'command',
    "The app's start command, run after DATABASE_URL is assembled; unset → gunicorn serving start_platform:app",
  ],
  releaseCommand: [
    'command',
    'Run once per release at PRE_SCALE_UP (after the pre-deploy snapshot) as a task of the new revision, such as ["flask","db","upgrade"]; a non-zero exit rolls the release back; unset → none',
  ],
  appEnvironment: ['string', "SoftFactory's ENVIRONMENT: production or development (prod must be production)"],
  appTesting: ['bool', "SoftFactory's TESTING: test mode accepts Bearer demo_token (prod refuses it)"],
  appSecretArn: ['string', 'An existing Secrets Manager secret (JSON) holding every app secret; unset → created'],
  appSecretKeys: ['list', 'External secrets the app reads, each a key of the app secret and a container secret'],
  cpu: ['int', 'Fargate task CPU units: 256, 512, 1024, 2048, 4096, 8192 or 16384'],
  memoryMiB: ['int', 'Fargate task memory (MiB); only the sizes Fargate offers with cpu are accepted'],
  minTasks: ['int', 'Fewest running tasks autoscaling keeps'],
  maxTasks: ['int', 'Most running tasks autoscaling starts'],
  cpuTargetPercent: ['int', 'Autoscaling target: average service CPU (percent)'],
  requestsPerTarget: ['int', 'Autoscaling target: requests per running task per minute'],
  maxAzs: ['int', 'Availability zones of the VPC (2 or 3)'],
  availabilityZones: ['list', 'Pin the zones: exactly maxAzs zones of region, such as eu-west-1a,eu-west-1b'],
  natGateways: ['int', 'NAT gateways (at most maxAzs)'],
  dbInstanceClass: ['string', 'RDS instance class, such as db.t4g.small'],
  dbAllocatedStorageGiB: ['int', 'RDS allocated storage (GiB)'],
  dbMaxAllocatedStorageGiB: ['int', 'RDS storage autoscaling ceiling (GiB)'],
  multiAz: ['bool', 'RDS Multi-AZ'],
  backupRetentionDays: [
    'int',
    'Days backups are kept (1–35): RDS automated backups and the AWS Backup daily recovery points of the database and lock table',
  ],
  backupCopyVaultArn: [
    'string',
    'An existing backup vault in another region the daily recovery points are copied to; unset → no copy',
  ],
  databaseCredentialRotationDays: [
    'int',
    'Days between Secrets Manager rotations of the database password (1–1000); tasks pick it up when they restart',
  ],
  databaseMonitoringIntervalSeconds: [
    'int',
    'RDS enhanced monitoring interval: 0 (off, the dev default), 1, 5, 10, 15, 30 or 60 (staging and prod)',
  ],
  deletionProtection: [
    'bool',
    'RDS and load balancer deletion protection (prod must have it; off elsewhere so teardown works)',
  ],
  slowQueryMs: ['int', 'log_min_duration_statement: statements slower than this are logged (ms)'],
  wafRateLimit: ['int', 'Requests per client IP per 5 minutes before WAF blocks'],
  alarmEmails: ['list', 'E-mail addresses subscribed to the alarm topic'],
  logRetentionDays: ['int', 'CloudWatch Logs retention (days; a CloudWatch retention period of at least 30)'],
  accessLogExpiryDays: ['int', 'Days before ALB access logs expire in S3'],
  bakeTimeMinutes: ['int', 'ECS bake time after the production traffic shift (minutes)'],
  deploymentStrategy: [
    'string',
    'How a release moves production traffic: blue_green (all at once, default), canary or linear',
  ],
  canaryPercent: ['number', 'Canary: percent of production traffic on the new revision first (0.1-100, 0.1 steps)'],
  canaryBakeMinutes: ['int', 'Canary: minutes the canary share bakes before the rest moves (0-1440)'],
  linearStepPercent: ['number', 'Linear: percent of production traffic moved per step (3-100, 0.1 steps)'],
  linearStepBakeMinutes: ['int', 'Linear: minutes between traffic steps (0-1440)'],
  approvalBeforeProduction: [
    'bool',
    'Pause each release after the test-traffic smoke until sfdeploy promote (or abort); default false',
  ],
  approvalTimeoutMinutes: [
    'int',
    'Minutes a paused release waits for sfdeploy promote before ECS rolls it back (1-20160)',
  ],
  hookTimeoutMinutes: ['int', 'Timeout of the smoke hook at each lifecycle stage (minutes)'],
  smokeMaxAttempts: ['int', 'Smoke-hook invocations per stage before transient failures fail the deployment'],
  smokeTokenSecretArn: ['string', "An existing secret with the smoke user's bearer token; unset → created"],
  corsAllowedOrigins: [
    'list',
    'Origins SoftFactory allows cross-origin requests from (its CORS_ORIGINS; the smoke checks assert them exactly); unset → https://<domainName>',
  ],
  smokeWrites: [
    'bool',
    'The smoke hook also makes its self-cleaning writes (a post it deletes, a review scrape) against green before production traffic (default true)',
  ],
  snapshotTimeoutMinutes: ['int', 'Timeout of the pre-deploy snapshot hook (minutes)'],
  snapshotRetentionCount: ['int', 'Pre-deploy snapshots kept (older ones are pruned)'],
  rollbackWatchWindowMinutes: ['int', 'An alarm may roll back a completed deployment only this long after it'],
  rollbackCooldownMinutes: ['int', 'No second automatic rollback this long after one (minutes)'],
  rollbackReservedConcurrency: ['int', 'Reserved concurrency of the rollback function; unset → none'],
  errorRatePercent: ['number', 'Error-rate alarm: percent of requests answered 5xx in a minute'],
  errorRateMinRequests: ['int', 'Error-rate volume gate: a minute with fewer requests reads as 0 %'],
  latencyThresholdMs: ['int', 'Latency alarm: TargetResponseTime budget (ms) at latencyStatistic'],
  latencyStatistic: ['string', 'Latency alarm percentile: p95 or p99'],
  cpuAlarmPercent: ['int', 'Alarm: service CPU (average over tasks) above this percentage'],
  memoryAlarmPercent: ['int', 'Alarm: memory of the busiest task above this percentage'],
  diskAlarmPercent: ['int', 'Alarm: ephemeral storage of the fullest task above this percentage'],
  dbCpuAlarmPercent: ['int', 'Alarm: database CPU above this percentage'],
  dbFreeStoragePercent: ['int', 'Alarm: database free storage below this percentage of dbAllocatedStorageGiB'],
  dbConnectionsPercent: ['int', 'Alarm: database connections above this percentage of max_connections'],
  dbMaxConnections: ['int', "The database's max_connections; unset → RDS's default for dbInstanceClass"],
  logArchiveExpiryDays: ['int', 'Days before archived application logs expire in S3 (more than 90)'],
  migrationSource: ['string', 'SQLite file to migrate into RDS: a local path or s3://<bucket>/<key>'],
  migrationSourceVersion: ['string', 'With an s3:// migrationSource: its ETag or version id'],
  migrationSchemaMode: ['string', 'translate (create tables from the SQLite schema) or existing'],
  migrationOnError: ['string', 'fail, or skip-row (load the rest and keep the rejected rows)'],
} as const satisfies Record<string, readonly [Kind, string]>;

export type ConfigKey = keyof typeof KEYS;

/** Every key a user may set with `-c key=value` or in a stage file, and how its `-c` text is read. */
export const CONFIG_KEYS: Readonly<Record<ConfigKey, Kind>> = Object.fromEntries(
  Object.entries(KEYS).map(([key, [kind]]) => [key, kind]),
) as Record<ConfigKey, Kind>;

/** One sentence per key, for the JSON Schema (editor hover text). */
export const CONFIG_KEY_DESCRIPTIONS: Readonly<Record<ConfigKey, string>> = Object.fromEntries(
  Object.entries(KEYS).map(([key, [, description]]) => [key, description]),
) as Record<ConfigKey, string>;

/** `-c configFile=<path>`: read this file instead of config/<stage>.json (relative to where cdk runs). */
export const CONFIG_FILE_KEY = 'configFile';

export function isConfigKey(key: string): key is ConfigKey {
  return Object.hasOwn(KEYS, key);
}

/**
 * The known key closest to a mistyped one (`alarmEmail` → `alarmEmails`, `CPU` → `cpu`), or undefined when none is
 * close: at most one edit per three characters (Damerau–Levenshtein, case-insensitive).
 */
export function closestKey(typed: string, known: readonly string[] = Object.keys(KEYS)): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = editDistance(typed.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(typed.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
}
