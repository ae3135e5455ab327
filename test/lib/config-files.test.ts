/**
 * config/<stage>.json: the committed files and their generated JSON Schema, the precedence -c > file > stage
 * defaults, the one-line errors naming the file, and the refusals of what used to be accepted silently — each
 * through loadConfig/loadStageConfig, and the exit code through the app command exactly as cdk.json states it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CONFIG_KEYS, ConfigError, loadConfig, loadStageConfig } from '../../lib/config/load-config';
import { STAGE_DEFAULTS, STAGES, type StageConfig } from '../../lib/config/stage-config';
import { FILE_KEYS, renderConfigSchema } from '../../lib/config/stage-file';

const ROOT = join(__dirname, '..', '..');
const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';
const ENV = { account: '123456789012', region: 'eu-west-1' };

/** A throwaway app root: cdk.json (feature flags only, unless `context` is given) and config/<stage>.json files. */
function appRoot(files: Record<string, unknown>, context: Record<string, unknown> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'sf-config-'));
  mkdirSync(join(root, 'config'));
  writeFileSync(
    join(root, 'cdk.json'),
    JSON.stringify({ app: 'true', context: { '@aws-cdk/core:checkSecretUsage': true, ...context } }),
  );
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(join(root, 'config', name), typeof body === 'string' ? body : JSON.stringify(body));
  }
  return root;
}

/** A directory and, unless `dockerfile` is false, a Dockerfile in it. */
function imageDir(dockerfile = true): string {
  const dir = mkdtempSync(join(tmpdir(), 'sf-image-'));
  if (dockerfile) writeFileSync(join(dir, 'Dockerfile'), 'FROM python:3.12-slim\n');
  return dir;
}

/** The one-line ConfigError `load` throws, asserted to be one line. */
function errorOf(load: () => unknown): string {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`);
    assert.equal(error.message.includes('\n'), false, 'one line');
    return error.message;
  }
  assert.fail('expected a ConfigError');
}

describe('config files: the committed ones', () => {
  it('config/schema.json is the JSON Schema generated from the zod schema (npm run config:schema)', () => {
    assert.equal(readFileSync(join(ROOT, 'config', 'schema.json'), 'utf8'), renderConfigSchema());
  });

  it('the schema offers every config key but stage, and flags any other key (additionalProperties: false)', () => {
    const schema = JSON.parse(renderConfigSchema()) as {
      properties: Record<string, { description?: string }>;
      additionalProperties: boolean;
    };
    assert.deepEqual(Object.keys(schema.properties).sort(), ['$schema', ...FILE_KEYS].sort());
    assert.deepEqual(
      Object.keys(CONFIG_KEYS).filter((k) => !(k in schema.properties)),
      ['stage'],
    );
    assert.equal(schema.additionalProperties, false);
    for (const key of FILE_KEYS) assert.ok(schema.properties[key]?.description, `${key} has a description`);
  });

  for (const stage of STAGES) {
    it(`config/${stage}.json names the schema and loads, over the ${stage} defaults`, () => {
      const text = JSON.parse(readFileSync(join(ROOT, 'config', `${stage}.json`), 'utf8')) as Record<string, unknown>;
      assert.equal(text['$schema'], './schema.json');
      const config = loadStageConfig(stage);
      assert.equal(config.stage, stage);
      assert.equal(config.cpu, STAGE_DEFAULTS[stage].cpu);
    });
  }

  it('cdk.json runs the app with plain node (no npx banner) and holds no config key in its context', () => {
    const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as {
      app: string;
      context: Record<string, unknown>;
    };
    assert.equal(cdkJson.app, 'node --import tsx bin/softfactory.ts');
    assert.deepEqual(
      Object.keys(cdkJson.context).filter((k) => k in CONFIG_KEYS),
      [],
    );
  });
});

describe('config files: precedence -c > config/<stage>.json > stage defaults', () => {
  const root = appRoot({
    'prod.json': {
      $schema: './schema.json',
      cpu: 2048,
      memoryMiB: 4096,
      minTasks: 3,
      alarmEmails: ['ops@example.com'],
    },
    'staging.json': { minTasks: 3 },
  });

  it('takes the file over the defaults and -c over the file', () => {
    const config = loadStageConfig('prod', { minTasks: '4' }, root);
    assert.equal(config.cpu, 2048, 'from the file');
    assert.equal(config.memoryMiB, 4096, 'from the file');
    assert.equal(config.minTasks, 4, '-c over the file');
    assert.equal(config.maxTasks, STAGE_DEFAULTS.prod.maxTasks, 'the prod default');
    assert.deepEqual(config.alarmEmails, ['ops@example.com']);
  });

  it('reads only the chosen stage’s file', () => {
    assert.equal(loadStageConfig('staging', {}, root).minTasks, 3);
    assert.equal(loadStageConfig('staging', {}, root).cpu, STAGE_DEFAULTS.staging.cpu);
    assert.equal(loadStageConfig('dev', {}, root).minTasks, STAGE_DEFAULTS.dev.minTasks, 'no dev.json: defaults');
  });

  it('clears a list from the file with an empty -c value', () => {
    assert.deepEqual(loadStageConfig('prod', { alarmEmails: '' }, root).alarmEmails, []);
  });

  it('reads -c configFile=<path> instead of config/<stage>.json', () => {
    const other = join(appRoot({ 'x.json': { minTasks: 5, maxTasks: 6 } }), 'config', 'x.json');
    const config = loadStageConfig('prod', { configFile: other }, root);
    assert.equal(config.minTasks, 5);
    assert.equal(config.cpu, STAGE_DEFAULTS.prod.cpu, 'config/prod.json not read');
    assert.match(
      errorOf(() => loadStageConfig('prod', { configFile: join(root, 'config', 'missing.json') }, root)),
      /config\/missing\.json: no such file \(named by -c configFile\)$/,
    );
  });

  it('lets a -c image or certificate source replace the file’s instead of clashing with it', () => {
    const zoned = appRoot({
      'prod.json': {
        imageRepository: 'softfactory-prod',
        imageTag: 'v2.0',
        domainName: 'app.example.com',
        hostedZoneId: 'Z0123456789ABC',
        zoneName: 'example.com',
      },
    });
    const config = loadStageConfig(
      'prod',
      { image: 'ghcr.io/acme/softfactory:2.1', certificateArn: CERTIFICATE_ARN },
      zoned,
    );
    assert.deepEqual(config.image, { kind: 'registry', name: 'ghcr.io/acme/softfactory:2.1' });
    assert.deepEqual(config.certificate, { kind: 'import', arn: CERTIFICATE_ARN, placeholder: false });
    assert.equal(config.domainName, 'app.example.com', 'the file’s host name stays');
    // -c imageTag (what the deploy workflow passes) keeps the file's repository.
    assert.deepEqual(loadStageConfig('prod', { imageTag: 'v2.1' }, zoned).image, {
      kind: 'ecr',
      repository: 'softfactory-prod',
      tag: 'v2.1',
    });
  });
});

describe('config files: one line naming the file, the key, the value and what is allowed', () => {
  const cwd = process.cwd();
  const root = appRoot({
    'prod.json': { cpu: 'abc' },
    'staging.json': { alarmEmail: ['ops@example.com'] },
    'dev.json': '{ "cpu": 256, }',
  });
  // Errors show a file relative to the working directory, as `cdk synth` (run from the repo root) shows it.
  before(() => process.chdir(root));
  after(() => process.chdir(cwd));

  it('names the file for a bad value in it', () => {
    assert.equal(
      errorOf(() => loadStageConfig('prod', {}, root)),
      'config/prod.json: cpu = "abc": expected a whole number',
    );
  });

  it('suggests the known key for a mistyped one in a file', () => {
    assert.equal(
      errorOf(() => loadStageConfig('staging', {}, root)),
      'config/staging.json: unknown key "alarmEmail" (did you mean "alarmEmails"?)',
    );
  });

  it('suggests the known key for a mistyped -c key, as -c', () => {
    assert.equal(
      errorOf(() => loadStageConfig('staging', { alarmEmail: 'ops@example.com' }, root)),
      'config: unknown key "-c alarmEmail" (did you mean "-c alarmEmails"?)',
    );
  });

  it('lists the known keys when none is close', () => {
    assert.match(
      errorOf(() => loadStageConfig('prod', { desiredCount: '9' }, root)),
      /^config: unknown key "-c desiredCount" \(known keys: stage, account, region, /,
    );
  });

  it('names a bad -c value as config, and a bad file even where -c overrides the key', () => {
    const good = appRoot({ 'prod.json': { cpu: 1024 } });
    assert.equal(
      errorOf(() => loadStageConfig('prod', { memoryMiB: 'lots' }, good)),
      'config: memoryMiB = "lots": expected a whole number',
    );
    assert.match(
      errorOf(() => loadStageConfig('prod', { cpu: '1024' }, root)),
      /config\/prod\.json: cpu = "abc": expected a whole number$/,
    );
  });

  it('reports a file that is not JSON in one line', () => {
    assert.match(
      errorOf(() => loadStageConfig('dev', {}, root)),
      /^config\/dev\.json: not valid JSON: /,
    );
  });

  it('asks for JSON arrays, not comma-separated text, in a file', () => {
    const lists = appRoot({ 'prod.json': { alarmEmails: 'ops@example.com' } });
    process.chdir(lists);
    assert.equal(
      errorOf(() => loadStageConfig('prod', {}, lists)),
      'config/prod.json: alarmEmails = "ops@example.com": expected a JSON array of e-mail addresses',
    );
    process.chdir(root);
  });

  it('refuses the stage in a stage file: -c stage picks the file', () => {
    const staged = appRoot({ 'prod.json': { stage: 'dev' } });
    assert.match(
      errorOf(() => loadStageConfig('prod', {}, staged)),
      /config\/prod\.json: stage = "dev": must not be set in a stage file: -c stage=<stage> picks the file$/,
    );
  });

  it('refuses a per-stage key in cdk.json’s context (it would apply to every stage), pointing to config/<stage>.json', () => {
    const leaky = appRoot({}, { cpu: 1024 });
    assert.match(
      errorOf(() => loadStageConfig('prod', {}, leaky)),
      /cdk\.json: context key "cpu" would apply to every stage: set it in config\/<stage>\.json instead \(or -c cpu=… for one run\)$/,
    );
    assert.match(
      errorOf(() => loadStageConfig('prod', {}, appRoot({}, { stage: 'prod' }))),
      /context key "stage" must not be set there/,
    );
  });
});

describe('config files: refusals of what used to be accepted silently', () => {
  const load = (context: Record<string, unknown>): StageConfig =>
    loadConfig((key) => context[key], Object.keys(context));
  const inFile = (values: Record<string, unknown>, overrides: Record<string, unknown> = {}) => {
    const root = appRoot({ 'prod.json': values });
    return () => loadStageConfig('prod', overrides, root);
  };

  it('refuses a domainName outside zoneName (the certificate and alias record live in that zone)', () => {
    const zone = { hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com' };
    assert.equal(
      errorOf(() => load({ ...zone, domainName: 'app.example.org' })),
      'config: domainName = "app.example.org": must be zoneName (example.com) or a name under it, such as app.example.com: the certificate is validated, and the alias record created, in that zone',
    );
    assert.match(
      errorOf(inFile({ ...zone, domainName: 'badexample.com' })),
      /config\/prod\.json: domainName = "badexample\.com": must be zoneName/,
    );
    assert.equal(load({ ...zone, domainName: 'example.com' }).certificate.kind, 'create', 'the apex itself');
    assert.equal(load({ ...zone, domainName: 'a.b.example.com' }).certificate.kind, 'create', 'a deeper name');
  });

  it('refuses imageTag with a full image, also when they come from different places', () => {
    assert.match(
      errorOf(() => load({ image: 'ghcr.io/acme/softfactory:2.0', imageTag: 'v2.1' })),
      /^config: imageTag = "v2\.1": must be unset: imageTag goes with imageRepository, not image$/,
    );
    assert.match(
      errorOf(inFile({ image: 'ghcr.io/acme/softfactory:2.0' }, { imageTag: 'v2.1' })),
      /^config: imageTag = "v2\.1": must be unset: imageTag goes with imageRepository, not image \(set in .*config\/prod\.json\)$/,
    );
  });

  it('refuses an empty certificateArn (an unset CI variable) instead of falling back to the placeholder', () => {
    assert.equal(
      errorOf(() => load({ certificateArn: '' })),
      'config: certificateArn = "": expected an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>), not an empty value (leave the key out to use the stage file or default)',
    );
    assert.match(
      errorOf(inFile({ certificateArn: '' })),
      /config\/prod\.json: certificateArn = "": expected an ACM certificate ARN/,
    );
    assert.match(
      errorOf(() => load({ cpu: ' ' })),
      /^config: cpu = " ": expected a whole number, not an empty value/,
    );
  });

  it('refuses the placeholder certificate once account and region are set', () => {
    assert.match(
      errorOf(() => load({ stage: 'prod', ...ENV })),
      /^config: certificateArn = \(unset\): is required once account and region are set .*: set certificateArn and domainName, or domainName, hostedZoneId and zoneName, in config\/prod\.json$/,
    );
    assert.match(
      errorOf(inFile({ alarmEmails: [] }, ENV)),
      /config\/prod\.json: certificateArn = \(unset\): is required once account and region/,
    );
    assert.equal(
      load({ stage: 'prod' }).certificate.kind,
      'import',
      'environment-agnostic: the placeholder, with a warning',
    );
    assert.equal(
      inFile(
        { certificateArn: CERTIFICATE_ARN, domainName: 'app.example.com', alarmEmails: ['oncall@example.com'] },
        ENV,
      )().certificate.kind,
      'import',
      'a certificate in the file',
    );
  });

  it('refuses staging and prod with no alarm recipient once account and region are set (issue 18: alerts must reach a person)', () => {
    const withCert = { certificateArn: CERTIFICATE_ARN, domainName: 'app.example.com' };
    for (const stage of ['staging', 'prod']) {
      assert.match(
        errorOf(() => load({ stage, ...ENV, ...withCert })),
        new RegExp(
          `^config: alarmEmails = \\[\\]: needs at least one address for ${stage} once account and region are set: .*no person would hear an alarm; set alarmEmails in config/${stage}\\.json`,
        ),
      );
    }
    assert.match(
      errorOf(inFile({ ...withCert, alarmEmails: [] }, ENV)),
      /config\/prod\.json: alarmEmails = \[\]: needs at least one address for prod .*; set alarmEmails in \S*config\/prod\.json/,
    );
    assert.deepEqual(load({ stage: 'prod', ...ENV, ...withCert, alarmEmails: 'oncall@example.com' }).alarmEmails, [
      'oncall@example.com',
    ]);
    assert.deepEqual(load({ stage: 'dev', ...ENV, ...withCert }).alarmEmails, [], 'dev may go without');
    assert.deepEqual(load({ stage: 'prod' }).alarmEmails, [], 'environment-agnostic synth needs no recipient');
  });

  it('refuses an imageDirectory that does not exist', () => {
    const missing = join(tmpdir(), 'sf-no-such-dir');
    assert.equal(
      errorOf(() => load({ imageDirectory: missing })),
      `config: imageDirectory = ${JSON.stringify(missing)}: expected a directory holding a Dockerfile: no such directory`,
    );
    assert.match(
      errorOf(() => load({ imageDirectory: 'no/such/dir' })),
      /no such directory \(relative to \//,
    );
  });

  it('refuses an imageDirectory without a Dockerfile', () => {
    const empty = imageDir(false);
    assert.match(
      errorOf(inFile({ imageDirectory: empty })),
      /config\/prod\.json: imageDirectory = ".*": expected a directory holding a Dockerfile: it holds no Dockerfile$/,
    );
    assert.deepEqual(load({ imageDirectory: imageDir() }).image.kind, 'directory');
  });

  it('refuses zoneName next to certificateArn (it would be ignored)', () =>
    assert.match(
      errorOf(() => load({ certificateArn: CERTIFICATE_ARN, domainName: 'app.example.com', zoneName: 'example.com' })),
      /^config: zoneName = "example\.com": must be unset when certificateArn is given/,
    ));
});

/** The app command exactly as cdk.json states it, with the context the CDK CLI passes (CDK_CONTEXT_JSON). */
function runApp(context: Record<string, unknown>) {
  const { app } = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { app: string };
  return spawnSync(app, {
    cwd: ROOT,
    shell: true,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDK_CONTEXT_JSON: JSON.stringify(context),
      CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'sf-cdk-out-')),
    },
  });
}

describe('the CDK app on a config mistake: one line, exit 2', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      'a bad -c value',
      { stage: 'prod', cpu: '300' },
      'config: cpu = 300: expected one of 256, 512, 1024, 2048, 4096, 8192, 16384 (Fargate CPU units)',
    ],
    [
      'an imageDirectory without a Dockerfile (a 15-line stack trace before)',
      { imageDirectory: 'lib' },
      `config: imageDirectory = "lib": expected a directory holding a Dockerfile: it holds no Dockerfile (relative to ${ROOT})`,
    ],
    [
      'a bad value in the stage file',
      { configFile: join(appRoot({ 'bad.json': { memoryMiB: 'abc' } }), 'config', 'bad.json') },
      'memoryMiB = "abc": expected a whole number',
    ],
  ];
  for (const [name, context, line] of cases) {
    it(`prints exactly that line and exits 2 for ${name}`, () => {
      const run = runApp(context);
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stdout, '');
      const lines = run.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, run.stderr);
      assert.ok(lines[0]!.endsWith(line), `${lines[0]} ends with ${line}`);
    });
  }

  it('through `cdk synth`: our line first, then only the CDK CLI’s own "Subprocess exited with error 2"; the CLI exits 1 (aws-cdk cli(): process.exitCode = 1)', () => {
    const { app } = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { app: string };
    const run = spawnSync(
      process.execPath,
      [
        join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk'),
        'synth',
        '--no-notices',
        '-o',
        mkdtempSync(join(tmpdir(), 'sf-cdk-out-')),
        '-c',
        'stage=prod',
        '-c',
        'cpu=300',
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        // No network: no telemetry, no version check.
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DISABLE_VERSION_CHECK: '1', CI: 'true' },
      },
    );
    const lines = run.stderr.split('\n').filter(Boolean);
    assert.deepEqual(lines, [
      'config: cpu = 300: expected one of 256, 512, 1024, 2048, 4096, 8192, 16384 (Fargate CPU units)',
      `${app}: Subprocess exited with error 2`,
    ]);
    // The CDK CLI turns any app failure into exit code 1 (see the README, Configuration files); the app's own 2 is
    // in its line above. If the CLI ever passes the code through, this fails and the README should say so.
    assert.equal(run.status, 1);
  });
});
