/**
 * The runner's limits, against a real PostgreSQL: one migration may not outlive CloudFormation's wait for a custom
 * resource (ServiceTimeout, at most 3600 s:
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudformation-customresource.html#cfn-cloudformation-customresource-servicetimeout),
 * and no step may outlive its Lambda invocation (at most 900 s:
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { parseMigrateEnv } from '../../../lambda/migrate/env';
import { checkFits } from '../../../lambda/migrate/handler';
import {
  type CustomResourceEvent,
  type IsCompleteResult,
  isComplete,
  onEvent,
  type RunnerPorts,
} from '../../../lambda/migrate/runner';
import { FIXTURE_TABLES, generateFixture } from './fixture';
import { type PgHarness, scratchDir, startHarness } from './pg-harness';

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
  RETRY_INTERVAL_MS: '0',
};

function localPorts(sqlitePath: string, url: string, remaining: () => number) {
  const stored = new Map<string, string>();
  const ports: RunnerPorts = {
    fetchSource: async () => sqlitePath,
    putObject: async (key, body) => {
      stored.set(key, body.toString());
      return `s3://reports-bucket/${key}`;
    },
    connection: async () => ({ connectionString: url }),
    remainingMs: () => remaining(),
    log: () => {},
  };
  return { ports, stored };
}

const PROPS = { SourceUri: 's3://assets/softfactory.db', SourceVersion: 'v1' };

/** A Create as the provider framework hands it to isComplete: the request plus what onEvent returned. */
function deployment(): CustomResourceEvent {
  const request: CustomResourceEvent = { RequestType: 'Create', ResourceProperties: PROPS };
  return { ...request, ...onEvent(request) };
}

async function loadedRows(url: string): Promise<number> {
  const rows = await pg.query<{ n: string | null }>(url, 'SELECT sum(rows) AS n FROM sfdeploy_migrate.table_state');
  return Number(rows[0]?.n ?? 0);
}

/** Fails instead of hanging when the code under test does not return by itself. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`did not return within ${ms} ms`)), ms);
    }),
  ]);
}

describe('migration runner limits', () => {
  it('stops a migration that does not fit in one deployment with what is loaded and what to do; the next deployment continues', async () => {
    // Given a file that takes many invocations, and a deployment whose hour (here: one minute) is too short
    const info = generateFixture(join(scratch.dir, 'budget.db'), { users: 400 });
    const total = Object.values(info.rows).reduce((a, b) => a + b, 0);
    const url = await pg.freshDatabase();
    const { ports, stored } = localPorts(info.path, url, () => 10_001);
    const short = parseMigrateEnv({ ...env, OPERATION_BUDGET_MS: '60000' });

    // When the worker finds that no further invocation could finish before CloudFormation gives up
    const first = deployment();
    assert.equal(typeof first.StartedAt, 'number');
    await assert.rejects(isComplete(first, short, ports), (e: Error) => {
      // Then it fails now, saying how far it got and what to do, with the report stored
      assert.match(
        e.message,
        /^SQLite → PostgreSQL migration did not finish within one deployment \(CloudFormation waits at most 1 hour for a custom resource\): \d+ of \d+ rows loaded\. What is loaded stays \(committed checkpoints\): deploying again continues from there; or migrate this database from a machine in the VPC instead: `sfdeploy migrate <file> --pg-url …`.*; report s3:\/\/reports-bucket\/migrations\/.*\.json$/,
      );
      return true;
    });
    assert.equal([...stored.keys()].filter((k) => k.endsWith('.json')).length, 1);
    const kept = await loadedRows(url);
    assert.ok(kept > 0 && kept < total, `kept ${kept} of ${total}`);

    // And a new deployment (a new Create of the same source) continues from the checkpoints and verifies
    const again = deployment();
    const roomy = parseMigrateEnv({ ...env, OPERATION_BUDGET_MS: '3600000' });
    const afterFirst: number[] = [];
    let last: IsCompleteResult | undefined;
    for (let i = 0; i < 60 && !last?.IsComplete; i++) {
      last = await isComplete(again, roomy, ports);
      afterFirst.push(await loadedRows(url));
    }
    assert.equal(last?.IsComplete, true);
    assert.ok((afterFirst[0] ?? 0) > kept, 'the first invocation of the new deployment added to what was kept');
    assert.equal(last?.Data?.Rows, String(total));
    const report = JSON.parse([...stored.entries()].filter(([k]) => k.endsWith('.json')).pop()?.[1] ?? '{}');
    assert.equal(report.verification.ok, true);
  });

  it('cancels a statement still running at the invocation’s hard stop, returns in time, and the next invocation continues', async () => {
    const info = generateFixture(join(scratch.dir, 'stuck.db'), { users: 400 });
    const total = Object.values(info.rows).reduce((a, b) => a + b, 0);
    const url = await pg.freshDatabase();
    const config = parseMigrateEnv(env);
    let remaining = () => 10_001;
    const { ports, stored } = localPorts(info.path, url, () => remaining());
    const event = deployment();
    delete (event as { StartedAt?: number }).StartedAt; // this test is about one invocation's deadline only

    // Given a migration under way (tables created, a first segment committed)
    assert.equal((await isComplete(event, config, ports)).IsComplete, false);

    // and every app table locked by another session, so that the next statement on any of them waits
    const locker = new Client({ connectionString: url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE ${FIXTURE_TABLES.join(', ')} IN ACCESS EXCLUSIVE MODE`);
    try {
      // When an invocation with 12 s left runs into it (hard stop 1 s before the end)
      const t0 = Date.now();
      remaining = () => 12_000 - (Date.now() - t0);
      const cut = await within(20_000, isComplete(event, config, ports));

      // Then the waiting statement is cancelled, the invocation answers "not yet" before its deadline
      assert.deepEqual(cut, { IsComplete: false });
      const took = Date.now() - t0;
      assert.ok(took < 12_000, `returned after ${took} ms`);
      const active = await pg.query<{ n: string }>(
        url,
        "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE 'sfdeploy-migrate%' AND state = 'active'",
      );
      assert.equal(Number(active[0]?.n), 0, 'no statement of the runner is left running');
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }

    // And the next invocations continue from the checkpoints to a verified end
    remaining = () => 600_000;
    let last: IsCompleteResult | undefined;
    for (let i = 0; i < 10 && !last?.IsComplete; i++) last = await isComplete(event, config, ports);
    assert.equal(last?.IsComplete, true);
    assert.equal(last?.Data?.Rows, String(total));
    const report = JSON.parse([...stored.entries()].filter(([k]) => k.endsWith('.json')).pop()?.[1] ?? '{}');
    assert.equal(report.verification.ok, true);
  });

  it('refuses a hard stop that is not inside the margin, and an S3 object larger than the free /tmp', () => {
    assert.throws(
      () => parseMigrateEnv({ ...env, HARD_STOP_MS: '10000' }),
      /^Error: migration runner environment is invalid: HARD_STOP_MS: must be less than TIME_MARGIN_MS/,
    );
    const GiB = 1024 ** 3;
    assert.doesNotThrow(() => checkFits('s3://b/k.db', 9 * GiB, 10 * GiB));
    assert.throws(
      () => checkFits('s3://b/k.db', 11 * GiB, 10 * GiB),
      /^Error: migration source s3:\/\/b\/k\.db is 11264 MB, more than this function's free \/tmp \(10240 MB; Lambda's ephemeral storage is at most 10,240 MB\): migrate it from a machine in the VPC with `sfdeploy migrate <file> --pg-url …`$/,
    );
  });
});
