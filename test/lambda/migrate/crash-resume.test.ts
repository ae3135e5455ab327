import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runMigration } from '../../../lambda/migrate/engine';
import type { MigrationReport } from '../../../lambda/migrate/report';
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

function cli(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; stdout: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/sfdeploy.ts'), 'migrate', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.resume();
  const done = new Promise<{ code: number | null; stdout: string }>((resolveDone) =>
    child.on('exit', (code) => resolveDone({ code, stdout })),
  );
  return { child, done };
}

describe('a migration killed mid-table', () => {
  it('leaves no partly loaded table that looks complete, and the rerun ends with identical checksums', async () => {
    // Given a file whose comments table takes a while to load
    const path = join(scratch.dir, 'big.db');
    generateFixture(path, { users: 16000 });
    const url = await pg.freshDatabase();

    // When the migration process is SIGKILLed while COPY into comments is under way
    const run = cli([path, '--pg-url', url, '--json']);
    let killedAt = -1;
    for (let i = 0; i < 2000 && killedAt < 0; i++) {
      const rows = await pg
        .query<{ relname: string; n: string }>(
          url,
          `SELECT c.relname, p.tuples_processed::text AS n FROM pg_stat_progress_copy p JOIN pg_class c ON c.oid = p.relid`,
        )
        .catch(() => []);
      const copy = rows.find((r) => r.relname === 'comments');
      if (copy && Number(copy.n) > 0) {
        run.child.kill('SIGKILL');
        killedAt = Number(copy.n);
      } else {
        await sleep(5);
      }
    }
    const exit = await run.done;
    assert.ok(killedAt > 0, `the kill landed mid-COPY (exit ${exit.code})`);
    assert.equal(exit.code, null, 'the process died by the signal');
    for (let i = 0; i < 200; i++) {
      const busy = await pg.query(url, `SELECT 1 FROM pg_stat_activity WHERE application_name = 'sfdeploy-migrate'`);
      if (busy.length === 0) break;
      await sleep(25);
    }

    // Then the half-loaded table is empty and not marked loaded; earlier tables are complete
    const states = await pg.query<{ table_name: string; status: string }>(
      url,
      'SELECT table_name, status FROM sfdeploy_migrate.table_state ORDER BY 1',
    );
    assert.deepEqual(
      states.map((s) => `${s.table_name}:${s.status}`),
      ['projects:loaded', 'users:loaded'],
    );
    const [comments] = await pg.query<{ n: string }>(url, 'SELECT count(*)::text AS n FROM comments');
    assert.equal(comments?.n, '0');

    // When it is run again
    const rerun = cli([path, '--pg-url', url, '--json']);
    const result = await rerun.done;
    assert.equal(result.code, 0, result.stdout.slice(0, 2000));
    const resumed = JSON.parse(result.stdout) as MigrationReport;
    assert.deepEqual(
      resumed.tables.filter((t) => t.status === 'already-loaded').map((t) => t.table),
      ['users', 'projects'],
    );
    assert.ok(resumed.verification?.ok);

    // Then its checksums equal those of an uninterrupted migration of the same file
    const clean = await runMigration({
      sqlitePath: path,
      target: { connectionString: await pg.freshDatabase() },
      targetDescription: 'clean',
      rehearsal: false,
      schemaMode: 'translate',
      action: 'migrate',
      onError: 'fail',
    });
    const sums = (r: MigrationReport) =>
      r.verification?.rows.map((v) => `${v.table}:${v.targetRows}:${v.targetChecksum}`);
    assert.deepEqual(sums(resumed), sums(clean));
  });
});
