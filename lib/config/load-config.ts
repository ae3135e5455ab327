/**
 * Turns CDK context (`-c stage=prod -c cpu=1024`, or cdk.json) into a validated StageConfig, once.
 * A bad value becomes a ConfigError whose message is one line naming the key, the value and what is allowed.
 */
import { existsSync, statSync } from 'node:fs';
import {
  type CertificateSource,
  type ImageSource,
  STAGE_DEFAULTS,
  STAGES,
  type Stage,
  type StageConfig,
  stageConfigSchema,
} from './stage-config';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Kind = 'int' | 'number' | 'bool' | 'string' | 'list' | 'command';

/** Every key a user may set with `-c key=value`, and how its text is read. */
export const CONFIG_KEYS: Readonly<Record<string, Kind>> = {
  stage: 'string',
  migrationSource: 'string',
  migrationSourceVersion: 'string',
  migrationSchemaMode: 'string',
  migrationOnError: 'string',
  account: 'string',
  region: 'string',
  certificateArn: 'string',
  domainName: 'string',
  hostedZoneId: 'string',
  zoneName: 'string',
  image: 'string',
  imageRepository: 'string',
  imageTag: 'string',
  imageDirectory: 'string',
  containerCommand: 'command',
  appEnvironment: 'string',
  appTesting: 'bool',
  appSecretArn: 'string',
  appSecretKeys: 'list',
  cpu: 'int',
  memoryMiB: 'int',
  minTasks: 'int',
  maxTasks: 'int',
  cpuTargetPercent: 'int',
  requestsPerTarget: 'int',
  maxAzs: 'int',
  availabilityZones: 'list',
  natGateways: 'int',
  dbInstanceClass: 'string',
  dbAllocatedStorageGiB: 'int',
  dbMaxAllocatedStorageGiB: 'int',
  multiAz: 'bool',
  backupRetentionDays: 'int',
  deletionProtection: 'bool',
  slowQueryMs: 'int',
  wafRateLimit: 'int',
  alarmEmails: 'list',
  logRetentionDays: 'int',
  accessLogExpiryDays: 'int',
  bakeTimeMinutes: 'int',
  hookTimeoutMinutes: 'int',
  smokeMaxAttempts: 'int',
  smokeTokenSecretArn: 'string',
  snapshotTimeoutMinutes: 'int',
  snapshotRetentionCount: 'int',
  rollbackWatchWindowMinutes: 'int',
  rollbackCooldownMinutes: 'int',
  rollbackReservedConcurrency: 'int',
  errorRatePercent: 'number',
  errorRateMinRequests: 'int',
  latencyThresholdMs: 'int',
  latencyStatistic: 'string',
  cpuAlarmPercent: 'int',
  memoryAlarmPercent: 'int',
  diskAlarmPercent: 'int',
  dbCpuAlarmPercent: 'int',
  dbFreeStoragePercent: 'int',
  dbConnectionsPercent: 'int',
  dbMaxConnections: 'int',
  logArchiveExpiryDays: 'int',
};

/** Where a nested schema field came from, so errors name the key the user typed. */
const NESTED_KEY: Readonly<Record<string, string>> = {
  'certificate.arn': 'certificateArn',
  'certificate.domainName': 'domainName',
  'certificate.hostedZoneId': 'hostedZoneId',
  'certificate.zoneName': 'zoneName',
  'image.repository': 'imageRepository',
  'image.tag': 'imageTag',
  'image.name': 'image',
  'image.path': 'imageDirectory',
};

/** What a well-formed value looks like, for keys whose schema message would be a bare regex. */
const EXPECTED: Readonly<Record<string, string>> = {
  account: 'a 12-digit AWS account id',
  region: 'an AWS region such as eu-west-1',
  certificateArn: 'an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)',
  domainName: 'a lower-case DNS name such as app.example.com',
  hostedZoneId: 'a Route 53 hosted zone id such as Z0123456789ABC',
  zoneName: 'a lower-case DNS zone name such as example.com',
  image: 'an image reference with a tag or digest, such as ghcr.io/acme/softfactory:2.0',
  imageRepository: 'an ECR repository name such as softfactory',
  imageTag: 'an image tag (letters, digits, _ . -; at most 128 characters)',
  dbInstanceClass: 'an RDS instance class such as db.t4g.small',
  alarmEmails: 'comma-separated e-mail addresses',
  availabilityZones: 'comma-separated availability zone names such as eu-west-1a,eu-west-1b',
  containerCommand: 'a command such as "python start_platform.py" or a JSON array of strings',
  latencyStatistic: 'p95 or p99',
  appEnvironment: 'production or development',
  appSecretArn: 'a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
  appSecretKeys: 'comma-separated environment variable names such as STRIPE_SECRET_KEY,SENTRY_DSN',
  smokeTokenSecretArn: 'a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
};

function fail(key: string, value: unknown, problem: string): never {
  const shown = value === undefined ? '(unset)' : JSON.stringify(value);
  throw new ConfigError(`config: ${key} = ${shown}: ${problem}`);
}

const expect = (what: string) => `expected ${what}`;

function coerce(key: string, kind: Kind, raw: unknown): unknown {
  if (kind === 'int') {
    if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
    if (typeof raw === 'string' && /^-?\d+$/.test(raw.trim())) return Number(raw.trim());
    return fail(key, raw, expect('a whole number'));
  }
  if (kind === 'number') {
    if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
    if (typeof raw === 'string' && /^-?\d+(\.\d+)?$/.test(raw.trim())) return Number(raw.trim());
    return fail(key, raw, expect('a number'));
  }
  if (kind === 'bool') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    return fail(key, raw, expect('true or false'));
  }
  if (kind === 'list') {
    if (Array.isArray(raw)) return raw;
    if (typeof raw === 'string')
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    return fail(key, raw, expect(EXPECTED[key] ?? 'a comma-separated list'));
  }
  if (kind === 'command') {
    if (Array.isArray(raw)) return raw;
    if (typeof raw === 'string' && raw.trim().startsWith('[')) {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return fail(key, raw, expect(EXPECTED[key] ?? 'a JSON array'));
      }
    }
    if (typeof raw === 'string') return raw.trim().split(/\s+/).filter(Boolean);
    return fail(key, raw, expect(EXPECTED[key] ?? 'a command'));
  }
  if (typeof raw !== 'string') return fail(key, raw, expect('text'));
  return raw.trim();
}

function pickCertificate(v: Record<string, unknown>, fallback: CertificateSource): CertificateSource {
  if (v['certificateArn'] !== undefined) {
    if (v['hostedZoneId'] !== undefined) {
      fail(
        'hostedZoneId',
        v['hostedZoneId'],
        'must be unset when certificateArn is given (import a certificate or create one, not both)',
      );
    }
    return { kind: 'import', arn: v['certificateArn'] as string, placeholder: false };
  }
  if (v['hostedZoneId'] !== undefined || v['zoneName'] !== undefined) {
    for (const key of ['domainName', 'hostedZoneId', 'zoneName']) {
      if (v[key] === undefined) {
        fail(key, undefined, 'is required: creating a certificate needs domainName, hostedZoneId and zoneName');
      }
    }
    return {
      kind: 'create',
      domainName: v['domainName'] as string,
      hostedZoneId: v['hostedZoneId'] as string,
      zoneName: v['zoneName'] as string,
    };
  }
  return fallback;
}

function pickMigration(v: Record<string, unknown>): Record<string, unknown> | undefined {
  const source = v['migrationSource'] as string | undefined;
  if (source === undefined) {
    for (const key of ['migrationSourceVersion', 'migrationSchemaMode', 'migrationOnError']) {
      if (v[key] !== undefined) fail(key, v[key], 'needs migrationSource (the SQLite file to migrate)');
    }
    return undefined;
  }
  const schemaMode = v['migrationSchemaMode'] ?? 'translate';
  const onError = v['migrationOnError'] ?? 'fail';
  if (!['translate', 'existing'].includes(schemaMode as string))
    fail('migrationSchemaMode', schemaMode, expect('translate or existing'));
  if (!['fail', 'skip-row'].includes(onError as string)) fail('migrationOnError', onError, expect('fail or skip-row'));
  if (source.startsWith('s3://')) {
    if (!/^s3:\/\/[a-z0-9.-]{3,63}\/.+$/.test(source))
      fail('migrationSource', source, expect('s3://<bucket>/<key> or a local file path'));
    if (v['migrationSourceVersion'] === undefined) {
      fail(
        'migrationSourceVersion',
        undefined,
        'is required with an s3:// migrationSource: its ETag or version id (a new value reruns the migration)',
      );
    }
    return { source: { kind: 's3', uri: source, version: v['migrationSourceVersion'] }, schemaMode, onError };
  }
  if (!existsSync(source) || !statSync(source).isFile())
    fail('migrationSource', source, expect('an existing SQLite file or s3://<bucket>/<key>'));
  return { source: { kind: 'path', path: source }, schemaMode, onError };
}

function pickImage(v: Record<string, unknown>, fallback: ImageSource): ImageSource {
  const given = ['image', 'imageDirectory', 'imageRepository'].filter((k) => v[k] !== undefined);
  if (given.length > 1) {
    fail(
      given[1] as string,
      v[given[1] as string],
      `must be unset: ${given[0]} is already set (choose one image source)`,
    );
  }
  if (v['image'] !== undefined) return { kind: 'registry', name: v['image'] as string };
  if (v['imageDirectory'] !== undefined) return { kind: 'directory', path: v['imageDirectory'] as string };
  const repository =
    (v['imageRepository'] as string | undefined) ?? (fallback.kind === 'ecr' ? fallback.repository : '');
  const tag = (v['imageTag'] as string | undefined) ?? (fallback.kind === 'ecr' ? fallback.tag : '');
  if (v['imageTag'] !== undefined && given.length === 1 && given[0] !== 'imageRepository') {
    fail('imageTag', v['imageTag'], `must be unset: imageTag goes with imageRepository, not ${given[0]}`);
  }
  return { kind: 'ecr', repository, tag };
}

/**
 * Reads the stage and overrides from a context lookup (e.g. `key => app.node.tryGetContext(key)`).
 * Unknown plain keys are refused, so a typo (`-c cpus=1024`) does not silently fall back to a default.
 */
export function loadConfig(lookup: (key: string) => unknown, contextKeys: readonly string[] = []): StageConfig {
  for (const key of contextKeys) {
    // Feature flags (@aws-cdk/...) and CDK's own keys (aws:cdk:..., availability-zones:...) are not ours.
    if (key.startsWith('@') || key.includes(':') || key in CONFIG_KEYS) continue;
    if (/^[a-zA-Z][a-zA-Z0-9]*$/.test(key)) {
      fail(key, lookup(key), `unknown config key (known keys: ${Object.keys(CONFIG_KEYS).join(', ')})`);
    }
  }
  const stageRaw = lookup('stage') ?? 'dev';
  if (typeof stageRaw !== 'string' || !(STAGES as readonly string[]).includes(stageRaw)) {
    fail('stage', stageRaw, expect(`one of ${STAGES.join(', ')}`));
  }
  const stage = stageRaw as Stage;
  const values: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(CONFIG_KEYS)) {
    const raw = lookup(key);
    if (raw !== undefined && raw !== null && raw !== '') values[key] = coerce(key, kind, raw);
  }
  const defaults = STAGE_DEFAULTS[stage];
  const candidate: Record<string, unknown> = { ...defaults, stage };
  for (const [key, value] of Object.entries(values)) {
    if (
      ![
        'certificateArn',
        'hostedZoneId',
        'zoneName',
        'image',
        'imageRepository',
        'imageTag',
        'imageDirectory',
      ].includes(key)
    ) {
      candidate[key] = value;
    }
  }
  candidate['certificate'] = pickCertificate(values, defaults.certificate);
  const migration = pickMigration(values);
  if (migration) candidate['migration'] = migration;
  candidate['image'] = pickImage(values, defaults.image);

  const parsed = stageConfigSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const dotted = issue.path.join('.');
  const key = NESTED_KEY[dotted] ?? String(issue.path[0] ?? 'config');
  const value = values[key] ?? candidate[key];
  if (issue.code === 'custom') return fail(key, value, issue.message);
  if (issue.code === 'too_small' || issue.code === 'too_big') return fail(key, value, expect(rangeText(issue)));
  return fail(key, value, expect(EXPECTED[key] ?? issue.message));
}

function rangeText(issue: {
  code: string;
  minimum?: unknown;
  maximum?: unknown;
  inclusive?: boolean;
  message: string;
}): string {
  if (issue.code === 'too_small' && typeof issue.minimum === 'number') {
    return issue.inclusive === false
      ? `a number greater than ${issue.minimum}`
      : `a number of at least ${issue.minimum}`;
  }
  if (issue.code === 'too_big' && typeof issue.maximum === 'number') return `a number of at most ${issue.maximum}`;
  return issue.message;
}

/**
 * The config of one stage as the operator CLI sees it (`sfdeploy deploy|preflight|releases … --stage <s>`): the same
 * validation as `cdk synth`, with `overrides` playing the part of `-c key=value`.
 */
export function loadStageConfig(stage: string, overrides: Readonly<Record<string, unknown>> = {}): StageConfig {
  const values: Record<string, unknown> = { ...overrides, stage };
  return loadConfig((key) => values[key], Object.keys(values));
}
