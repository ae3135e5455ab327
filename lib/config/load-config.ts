/**
 * Turns the stage's config file (`config/<stage>.json`) and CDK context (`-c stage=prod -c cpu=1024`) into a
 * validated StageConfig, once. Precedence: `-c key=value` > config/<stage>.json > STAGE_DEFAULTS. A bad value becomes
 * a ConfigError whose message is one line naming where it came from (the file, or `config` for `-c`), the key, the
 * value and what is allowed.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { repositoryRoot } from '../repository-root';
import { CONFIG_FILE_KEY, CONFIG_KEYS, isConfigKey, type Kind } from './keys';
import { CLI, ConfigError, EXPECTED, expect, fail, problemOf } from './messages';
import {
  type CertificateSource,
  type ImageSource,
  STAGE_DEFAULTS,
  STAGES,
  type Stage,
  type StageConfig,
  stageConfigSchema,
} from './stage-config';
import { readStageFile, unknownKey } from './stage-file';

export { CONFIG_KEYS } from './keys';
export { ConfigError } from './messages';

/** The repository root: where cdk.json and config/ live, and where `cdk` runs the app. */
export const REPO_ROOT = repositoryRoot();

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

/** Where each value came from (a stage file's path as errors show it); unset keys and `-c` values are `config`. */
type Origin = (key: string) => string;

function coerce(where: string, key: string, kind: Kind, raw: unknown): unknown {
  if (typeof raw === 'string' && raw.trim() === '') {
    // An empty `-c certificateArn=` (an unset CI variable) used to fall back silently to the default.
    if (kind === 'list') return [];
    const what = EXPECTED[key] ?? { int: 'a whole number', number: 'a number', bool: 'true or false' }[kind as string];
    return fail(
      where,
      key,
      raw,
      `${expect(what ?? 'a value')}, not an empty value (leave the key out to use the stage file or default)`,
    );
  }
  if (kind === 'int') {
    if (typeof raw === 'number' && Number.isInteger(raw)) return raw;
    if (typeof raw === 'string' && /^-?\d+$/.test(raw.trim())) return Number(raw.trim());
    return fail(where, key, raw, expect('a whole number'));
  }
  if (kind === 'number') {
    if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
    if (typeof raw === 'string' && /^-?\d+(\.\d+)?$/.test(raw.trim())) return Number(raw.trim());
    return fail(where, key, raw, expect('a number'));
  }
  if (kind === 'bool') {
    if (typeof raw === 'boolean') return raw;
    if (raw === 'true' || raw === 'false') return raw === 'true';
    return fail(where, key, raw, expect('true or false'));
  }
  if (kind === 'list') {
    if (Array.isArray(raw)) return raw;
    if (typeof raw === 'string')
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    return fail(where, key, raw, expect(EXPECTED[key] ?? 'a comma-separated list'));
  }
  if (kind === 'command') {
    if (Array.isArray(raw)) return raw;
    if (typeof raw === 'string' && raw.trim().startsWith('[')) {
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        return fail(where, key, raw, expect(EXPECTED[key] ?? 'a JSON array'));
      }
    }
    if (typeof raw === 'string') return raw.trim().split(/\s+/).filter(Boolean);
    return fail(where, key, raw, expect(EXPECTED[key] ?? 'a command'));
  }
  if (typeof raw !== 'string') return fail(where, key, raw, expect('text'));
  return raw.trim();
}

function pickCertificate(v: Record<string, unknown>, fallback: CertificateSource, at: Origin): CertificateSource {
  if (v['certificateArn'] !== undefined) {
    for (const key of ['hostedZoneId', 'zoneName']) {
      if (v[key] !== undefined) {
        fail(
          at(key),
          key,
          v[key],
          'must be unset when certificateArn is given (import a certificate or create one, not both)',
        );
      }
    }
    return { kind: 'import', arn: v['certificateArn'] as string, placeholder: false };
  }
  if (v['hostedZoneId'] !== undefined || v['zoneName'] !== undefined) {
    for (const key of ['domainName', 'hostedZoneId', 'zoneName']) {
      if (v[key] === undefined) {
        fail(
          at(key),
          key,
          undefined,
          'is required: creating a certificate needs domainName, hostedZoneId and zoneName',
        );
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

function pickMigration(v: Record<string, unknown>, at: Origin): Record<string, unknown> | undefined {
  const source = v['migrationSource'] as string | undefined;
  if (source === undefined) {
    for (const key of ['migrationSourceVersion', 'migrationSchemaMode', 'migrationOnError']) {
      if (v[key] !== undefined) fail(at(key), key, v[key], 'needs migrationSource (the SQLite file to migrate)');
    }
    return undefined;
  }
  const schemaMode = v['migrationSchemaMode'] ?? 'translate';
  const onError = v['migrationOnError'] ?? 'fail';
  if (!['translate', 'existing'].includes(schemaMode as string))
    fail(at('migrationSchemaMode'), 'migrationSchemaMode', schemaMode, expect('translate or existing'));
  if (!['fail', 'skip-row'].includes(onError as string))
    fail(at('migrationOnError'), 'migrationOnError', onError, expect('fail or skip-row'));
  if (source.startsWith('s3://')) {
    if (!/^s3:\/\/[a-z0-9.-]{3,63}\/.+$/.test(source))
      fail(at('migrationSource'), 'migrationSource', source, expect('s3://<bucket>/<key> or a local file path'));
    if (v['migrationSourceVersion'] === undefined) {
      fail(
        at('migrationSourceVersion'),
        'migrationSourceVersion',
        undefined,
        'is required with an s3:// migrationSource: its ETag or version id (a new value reruns the migration)',
      );
    }
    return { source: { kind: 's3', uri: source, version: v['migrationSourceVersion'] }, schemaMode, onError };
  }
  if (!existsSync(source) || !statSync(source).isFile())
    fail(at('migrationSource'), 'migrationSource', source, expect('an existing SQLite file or s3://<bucket>/<key>'));
  return { source: { kind: 'path', path: source }, schemaMode, onError };
}

/** `base`: what a relative imageDirectory is relative to — the app's root (where `cdk` runs the app), else the cwd. */
function pickImage(v: Record<string, unknown>, fallback: ImageSource, at: Origin, base: string): ImageSource {
  const given = ['image', 'imageDirectory', 'imageRepository'].filter((k) => v[k] !== undefined);
  if (given.length > 1) {
    const key = given[1] as string;
    fail(at(key), key, v[key], `must be unset: ${given[0]} is already set (choose one image source)`);
  }
  if (v['imageTag'] !== undefined && given.length === 1 && given[0] !== 'imageRepository') {
    const where = at(given[0] as string) === at('imageTag') ? '' : ` (set in ${at(given[0] as string)})`;
    fail(
      at('imageTag'),
      'imageTag',
      v['imageTag'],
      `must be unset: imageTag goes with imageRepository, not ${given[0]}${where}`,
    );
  }
  if (v['image'] !== undefined) return { kind: 'registry', name: v['image'] as string };
  if (v['imageDirectory'] !== undefined) {
    const path = v['imageDirectory'] as string;
    const full = resolve(base, path);
    // CDK builds the directory's Dockerfile only at deploy; without this check synth dies in a stack trace.
    const problem = !existsSync(full)
      ? 'no such directory'
      : !statSync(full).isDirectory()
        ? 'not a directory'
        : !existsSync(join(full, 'Dockerfile'))
          ? 'it holds no Dockerfile'
          : undefined;
    if (problem !== undefined) {
      fail(
        at('imageDirectory'),
        'imageDirectory',
        path,
        `${expect(EXPECTED['imageDirectory']!)}: ${problem}${isAbsolute(path) ? '' : ` (relative to ${base})`}`,
      );
    }
    return { kind: 'directory', path };
  }
  const repository =
    (v['imageRepository'] as string | undefined) ?? (fallback.kind === 'ecr' ? fallback.repository : '');
  const tag = (v['imageTag'] as string | undefined) ?? (fallback.kind === 'ecr' ? fallback.tag : '');
  return { kind: 'ecr', repository, tag };
}

/**
 * A `-c` key that picks a source replaces the file's choice of that source, rather than clashing with it:
 * `-c image=…` over a file's `imageRepository`, `-c certificateArn=…` over a file's hosted zone.
 */
const REPLACES: Readonly<Record<string, readonly string[]>> = {
  image: ['image', 'imageDirectory', 'imageRepository', 'imageTag'],
  imageDirectory: ['image', 'imageDirectory', 'imageRepository', 'imageTag'],
  imageRepository: ['image', 'imageDirectory'],
  certificateArn: ['hostedZoneId', 'zoneName'],
  hostedZoneId: ['certificateArn'],
  zoneName: ['certificateArn'],
  migrationSource: ['migrationSourceVersion'],
};

export interface LoadOptions {
  /**
   * The app's root directory: its cdk.json `context` must hold no config key (it would apply to every stage), and
   * `config/<stage>.json` is read from it. Unset → no files: `-c` values over the stage defaults only.
   */
  readonly root?: string;
}

/** A path as errors show it: relative to the working directory when inside it (`config/prod.json`). */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function refuseStageKeysInCdkJson(root: string): void {
  const path = join(root, 'cdk.json');
  if (!existsSync(path)) return;
  let context: Record<string, unknown> = {};
  try {
    context = (JSON.parse(readFileSync(path, 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
  } catch (error) {
    throw new ConfigError(`${shown(path)}: not valid JSON: ${(error as Error).message.split('\n')[0]}`);
  }
  for (const key of Object.keys(context)) {
    if (isConfigKey(key) || key === CONFIG_FILE_KEY) {
      throw new ConfigError(
        key === 'stage'
          ? `${shown(path)}: context key "stage" must not be set there: choose the stage with -c stage=<stage>`
          : `${shown(path)}: context key "${key}" would apply to every stage: set it in config/<stage>.json instead (or -c ${key}=… for one run)`,
      );
    }
  }
}

/**
 * Reads the stage and overrides from a context lookup (e.g. `key => app.node.tryGetContext(key)`), and with
 * `options.root` the stage's file. Unknown plain keys are refused, so a typo (`-c cpus=1024`) does not silently fall
 * back to a default.
 */
export function loadConfig(
  lookup: (key: string) => unknown,
  contextKeys: readonly string[] = [],
  options: LoadOptions = {},
): StageConfig {
  for (const key of contextKeys) {
    // Feature flags (@aws-cdk/...) and CDK's own keys (aws:cdk:..., availability-zones:...) are not ours.
    if (key.startsWith('@') || key.includes(':') || isConfigKey(key) || key === CONFIG_FILE_KEY) continue;
    if (/^[a-zA-Z][a-zA-Z0-9]*$/.test(key)) throw new ConfigError(unknownKey(CLI, key, `-c ${key}`, '-c '));
  }
  if (options.root !== undefined) refuseStageKeysInCdkJson(options.root);
  const stageRaw = lookup('stage') ?? 'dev';
  if (typeof stageRaw !== 'string' || !(STAGES as readonly string[]).includes(stageRaw)) {
    fail(CLI, 'stage', stageRaw, expect(`one of ${STAGES.join(', ')}`));
  }
  const stage = stageRaw as Stage;

  const configFile = lookup(CONFIG_FILE_KEY);
  let file: { display: string; values: Record<string, unknown> } | undefined;
  if (configFile !== undefined && configFile !== null) {
    if (typeof configFile !== 'string' || configFile.trim() === '') {
      fail(CLI, CONFIG_FILE_KEY, configFile, expect('the path of a stage file such as config/prod.json'));
    }
    const path = resolve(configFile);
    const values = readStageFile(path, shown(path), true);
    file = { display: shown(path), values: values ?? {} };
  } else if (options.root !== undefined) {
    const path = join(options.root, 'config', `${stage}.json`);
    const values = readStageFile(path, shown(path), false);
    if (values) file = { display: shown(path), values };
  }
  const fileName = file?.display ?? `config/${stage}.json`;

  const fromCli: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(CONFIG_KEYS)) {
    const raw = lookup(key);
    if (raw !== undefined && raw !== null) fromCli[key] = coerce(CLI, key, kind, raw);
  }
  const fromFile: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(file?.values ?? {})) {
    fromFile[key] = coerce(fileName, key, CONFIG_KEYS[key as keyof typeof CONFIG_KEYS], raw);
  }
  for (const key of Object.keys(fromCli)) for (const replaced of REPLACES[key] ?? []) delete fromFile[replaced];
  const values: Record<string, unknown> = { ...fromFile, ...fromCli };
  const at: Origin = (key) => (key in fromCli || !(key in fromFile) ? CLI : fileName);

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
  candidate['certificate'] = pickCertificate(values, defaults.certificate, at);
  const migration = pickMigration(values, at);
  if (migration) candidate['migration'] = migration;
  candidate['image'] = pickImage(values, defaults.image, at, options.root ?? process.cwd());

  const parsed = stageConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const dotted = issue.path.join('.');
    const key = NESTED_KEY[dotted] ?? String(issue.path[0] ?? 'config');
    const value = values[key] ?? candidate[key];
    const kind = isConfigKey(key) ? CONFIG_KEYS[key] : undefined;
    return fail(at(key), key, value, problemOf(key, issue, kind, at(key) !== CLI));
  }
  const config = parsed.data;
  const certificate = config.certificate;
  if (
    certificate.kind === 'create' &&
    certificate.domainName !== certificate.zoneName &&
    !certificate.domainName.endsWith(`.${certificate.zoneName}`)
  ) {
    fail(
      at('domainName'),
      'domainName',
      certificate.domainName,
      `must be zoneName (${certificate.zoneName}) or a name under it, such as app.${certificate.zoneName}: the certificate is validated, and the alias record created, in that zone`,
    );
  }
  if (certificate.kind === 'import' && certificate.placeholder && config.account !== undefined) {
    fail(
      file ? fileName : CLI,
      'certificateArn',
      undefined,
      `is required once account and region are set (the placeholder certificate would fail the HTTPS listener at deploy): set certificateArn and domainName, or domainName, hostedZoneId and zoneName, in ${fileName}`,
    );
  }
  if (config.stage !== 'dev' && config.account !== undefined && config.alarmEmails.length === 0) {
    fail(
      at('alarmEmails'),
      'alarmEmails',
      config.alarmEmails,
      `needs at least one address for ${config.stage} once account and region are set: the alarm topic's only other subscriber is the rollback function, so no person would hear an alarm; set alarmEmails in ${fileName} (or -c alarmEmails=oncall@example.com)`,
    );
  }
  return config;
}

/**
 * The config of one stage as the operator CLI sees it (`sfdeploy deploy|preflight|releases … --stage <s>`): the same
 * files and validation as `cdk synth`, with `overrides` playing the part of `-c key=value`.
 */
export function loadStageConfig(
  stage: string,
  overrides: Readonly<Record<string, unknown>> = {},
  root: string = REPO_ROOT,
): StageConfig {
  const values: Record<string, unknown> = { ...overrides, stage };
  return loadConfig((key) => values[key], Object.keys(values), { root });
}
