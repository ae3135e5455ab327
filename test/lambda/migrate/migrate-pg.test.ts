import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Database } from 'node-sqlite3-wasm';
import { hashBytesExtended, pgChecksumSql } from '../../../lambda/migrate/checksum';
import { type MigrateOptions, runMigration } from '../../../lambda/migrate/engine';
import type { MigrationReport } from '../../../lambda/migrate/report';
import { type FixtureInfo, generateFixture } from './fixture';
import { type PgHarness, scratchDir, startHarness } from './pg-harness';

let pg: PgHarness;
let scratch: ReturnType<typeof scratchDir>;
let good: FixtureInfo;
let bad: FixtureInfo;

before(async () => {
  scratch = scratchDir();
  pg = await startHarness();
  good = generateFixture(join(scratch.dir, 'good.db'), { users: 150 });
  bad = generateFixture(join(scratch.dir, 'bad.db'), { users: 60, bad: true });
});

after(async () => {
  await pg?.stop();
  scratch?.cleanup();
});

function options(sqlitePath: string, url: string | null, extra: Partial<MigrateOptions> = {}): MigrateOptions {
  return {
    sqlitePath,
    target: url ? { connectionString: url } : null,
    targetDescription: 'test',
    rehearsal: false,
    schemaMode: 'translate',
    action: 'migrate',
    onError: 'fail',
    ...extra,
  };
}

/** Physical identity of every row: unchanged if and only if nothing was rewritten. */
async function rowVersions(url: string, tables: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (const t of tables) {
    const [row] = await pg.query<{ v: string }>(
      url,
      `SELECT md5(coalesce(string_agg(ctid::text || ':' || xmin::text, ',' ORDER BY ctid), '')) AS v FROM "${t}"`,
    );
    parts.push(`${t}=${row?.v}`);
  }
  return parts.join(' ');
}

function assertEveryPlantedProblemReported(report: MigrationReport, info: FixtureInfo): void {
  for (const p of info.planted) {
    const found = report.problems.find((x) => x.table === p.table && x.rowKey === p.rowKey && x.column === p.column);
    assert.ok(found, `expected a problem at ${p.table} ${p.rowKey} ${p.column}`);
    assert.match(found.reason, p.reason);
    assert.ok(found.value.length > 0, 'a value excerpt is reported');
  }
  assert.equal(report.problems.length, info.planted.length, 'no problem beyond the planted ones');
}

describe('translate mode into a real PostgreSQL 17', () => {
  let url: string;
  let first: MigrationReport;
  before(async () => {
    url = await pg.freshDatabase();
    first = await runMigration(options(good.path, url));
  });

  it('loads every row and verifies counts, checksums, keys and indexes', () => {
    assert.equal(first.ok, true, JSON.stringify(first.verification, null, 1));
    assert.ok(first.verification?.ok);
    for (const row of first.verification?.rows ?? []) {
      assert.equal(row.sourceRows, good.rows[row.table]);
      assert.equal(row.targetRows, good.rows[row.table]);
      assert.equal(row.sourceChecksum, row.targetChecksum);
    }
  });

  it('translates column types, order and lengths the way the app relies on', async () => {
    const cols = await pg.query<{ column_name: string; type: string; nullable: string }>(
      url,
      `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type,
              CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END AS nullable
       FROM pg_attribute a WHERE a.attrelid = 'users'::regclass AND a.attnum > 0 ORDER BY a.attnum`,
    );
    assert.deepEqual(
      cols.map((c) => `${c.column_name} ${c.type}${c.nullable === 'NO' ? ' not null' : ''}`),
      [
        'id integer not null',
        'email character varying(120) not null',
        'name character varying(80)',
        'is_active boolean not null',
        'created_at timestamp(6) without time zone',
        'birthday date',
        'score double precision',
        'balance numeric(10,2)',
        'profile json',
        'avatar bytea',
        'big_counter bigint',
        'login_count integer',
      ],
    );
  });

  it('keeps 64-bit integers, Korean and emoji text, blobs and JSON exactly', async () => {
    const rows = await pg.query<{
      id: number;
      big: string;
      name: string | null;
      avatar: string | null;
      profile: string;
    }>(
      url,
      `SELECT id, big_counter::text AS big, name, encode(avatar, 'hex') AS avatar, profile::text AS profile
       FROM users WHERE id IN (1, 2, 3, 10, 11) ORDER BY id`,
    );
    assert.deepEqual(
      rows.slice(0, 3).map((r) => r.big),
      ['9223372036854775807', '9007199254740993', '-9223372036854775808'],
    );
    const db = new Database(good.path, { readOnly: true });
    try {
      for (const r of rows) {
        const src = db.get('SELECT name, hex(avatar) AS avatar, profile FROM users WHERE id = ?', [r.id]);
        assert.equal(r.name, src?.['name']);
        assert.equal(r.avatar?.toUpperCase() ?? '', src?.['avatar']);
        assert.equal(r.profile, src?.['profile']);
      }
    } finally {
      db.close();
    }
    const [user11] = rows.filter((r) => r.id === 11);
    assert.match(user11?.name ?? '', /\t.*\n.*\\/s, 'tabs, newlines and backslashes survive COPY');
  });

  it('creates keys, uniques and indexes under their original names, and validated foreign keys', async () => {
    const idx = await pg.query<{ indexname: string }>(
      url,
      `SELECT indexname FROM pg_indexes WHERE schemaname = 'public'`,
    );
    const names = idx.map((i) => i.indexname);
    for (const n of [
      'ix_projects_created_at',
      'ix_comments_project_id',
      'ix_tags_name',
      'users_email_key',
      'uq_projects_owner_title',
      'users_pkey',
      'settings_pkey',
      'project_tags_pkey',
    ]) {
      assert.ok(names.includes(n), `index ${n}`);
    }
    const fks = await pg.query<{ conname: string; convalidated: boolean; def: string }>(
      url,
      `SELECT conname, convalidated, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'f' ORDER BY conname`,
    );
    assert.equal(fks.length, 6);
    assert.ok(fks.every((f) => f.convalidated));
    assert.match(fks.find((f) => f.conname === 'fk_comments_author')?.def ?? '', /ON DELETE SET NULL/);
    assert.match(fks.find((f) => f.conname === 'projects_owner_id_fkey')?.def ?? '', /ON DELETE CASCADE/);
  });

  it('sets the identity sequence past the highest id and translates defaults', async () => {
    const [row] = await pg.query<{ id: number; is_active: boolean; login_count: number; status: string }>(
      url,
      `WITH u AS (INSERT INTO users (email) VALUES ('new@x.example') RETURNING id, is_active, login_count)
       SELECT u.*, (SELECT column_default FROM information_schema.columns WHERE table_name = 'projects' AND column_name = 'status') AS status FROM u`,
    );
    assert.equal(row?.id, 151);
    assert.equal(row?.is_active, true);
    assert.equal(row?.login_count, 0);
    assert.match(row?.status ?? '', /'draft'/);
    await pg.query(url, `DELETE FROM users WHERE id = 151`);
  });

  it('re-running after a completed migration verifies and changes nothing', async () => {
    const tables = Object.keys(good.rows);
    const before = await rowVersions(url, tables);
    const again = await runMigration(options(good.path, url));
    assert.equal(again.ok, true);
    assert.ok(again.tables.every((t) => t.status === 'already-loaded'));
    assert.ok(again.verification?.ok);
    assert.equal(await rowVersions(url, tables), before);
  });

  it('--verify-only finds a changed value in the target', async () => {
    await pg.query(url, `UPDATE comments SET body = body || '!' WHERE id = 7`);
    const report = await runMigration(options(good.path, url, { action: 'verify-only' }));
    assert.equal(report.ok, false);
    const bad = report.verification?.rows.filter((r) => !r.ok).map((r) => r.table);
    assert.deepEqual(bad, ['comments']);
    await pg.query(url, `UPDATE comments SET body = left(body, -1) WHERE id = 7`);
    const clean = await runMigration(options(good.path, url, { action: 'verify-only' }));
    assert.equal(clean.ok, true);
  });

  it('refuses to overwrite a completed migration of a different source', async () => {
    await assert.rejects(runMigration(options(bad.path, url)), /different version of this SQLite file/);
  });
});

describe('checksum hash', () => {
  it('reimplements PostgreSQL hashtextextended(text, 0) bit for bit', async () => {
    const url = await pg.freshDatabase();
    const samples = ['', 'a', 'ab', 'abc', 'abcd', '한국어', '🎉 emoji', '\u0001quoted\u0001\t12\t\tt'];
    for (let n = 5; n <= 40; n++)
      samples.push(Array.from({ length: n }, (_, i) => String.fromCharCode(33 + ((i * 7 + n) % 90))).join(''));
    const rows = await pg.query<{ i: number; h: string }>(
      url,
      'SELECT i::int, hashtextextended(s, 0)::text AS h FROM unnest($1::text[]) WITH ORDINALITY AS u(s, i)',
      [samples],
    );
    const out = new Uint32Array(2);
    for (const row of rows) {
      const bytes = Buffer.from(samples[row.i - 1] ?? '', 'utf8');
      hashBytesExtended(bytes, 0, bytes.length, out);
      const mine = BigInt.asIntN(64, (BigInt(out[0] ?? 0) << 32n) | BigInt(out[1] ?? 0));
      assert.equal(mine.toString(), row.h, JSON.stringify(samples[row.i - 1]));
    }
  });

  it('the target checksum renders each row once: the scan projects the rendering, the aggregates share it', async () => {
    // Flattened, PostgreSQL copies the rendering into both aggregates (hash and length) and renders every row twice.
    const url = await pg.freshDatabase();
    await pg.query(url, 'CREATE TABLE t (a int, b text, c boolean)');
    const sql = pgChecksumSql('t', [
      { name: 'a', kind: 'int4' },
      { name: 'b', kind: 'text' },
      { name: 'c', kind: 'bool' },
    ]);
    const [row] = await pg.query<{ 'QUERY PLAN': unknown }>(url, `EXPLAIN (VERBOSE, FORMAT JSON) ${sql}`);
    interface PlanNode {
      'Node Type': string;
      Output?: string[];
      Plans?: PlanNode[];
    }
    const scans: PlanNode[] = [];
    const walk = (node: PlanNode) => {
      if (node['Node Type'] === 'Seq Scan') scans.push(node);
      for (const child of node.Plans ?? []) walk(child);
    };
    assert.ok(row, 'EXPLAIN returned no row');
    const plan = (row['QUERY PLAN'] as { Plan: PlanNode }[])[0]?.Plan;
    assert.ok(plan, 'EXPLAIN returned no plan');
    walk(plan);
    assert.equal(scans.length, 1);
    const outputs = scans[0]?.Output ?? [];
    assert.equal(outputs.length, 1, `the scan should project one rendered row, got ${JSON.stringify(outputs)}`);
    assert.match(outputs[0] ?? '', /replace\(t\.b/);
  });
});

describe('bad data', () => {
  it('--check lists every planted problem with table, row, column, value and reason, and writes nothing', async () => {
    const url = await pg.freshDatabase();
    const report = await runMigration(options(bad.path, url, { action: 'check' }));
    assert.equal(report.ok, false);
    assertEveryPlantedProblemReported(report, bad);
    const tables = await pg.query(
      url,
      `SELECT 1 FROM pg_class WHERE relname = 'users' OR relnamespace::regnamespace::text = 'sfdeploy_migrate'`,
    );
    assert.equal(tables.length, 0);
  });

  it('fails without loading any table that could look complete, and lists every problem', async () => {
    const url = await pg.freshDatabase();
    const report = await runMigration(options(bad.path, url));
    assert.equal(report.ok, false);
    assertEveryPlantedProblemReported(report, bad);
    const loaded = await pg.query<{ table_name: string }>(url, `SELECT table_name FROM sfdeploy_migrate.table_state`);
    assert.deepEqual(loaded, []);
    const [users] = await pg.query<{ n: string }>(url, 'SELECT count(*) AS n FROM users');
    assert.equal(users?.n, '0');
  });

  it('fails when PostgreSQL cannot validate a foreign key, naming every orphan row', async () => {
    const path = join(scratch.dir, 'orphan.db');
    generateFixture(path, { users: 20 });
    const db = new Database(path);
    db.exec(`PRAGMA foreign_keys = OFF; UPDATE comments SET author_id = 4040 WHERE id IN (5, 6)`);
    db.close();
    const url = await pg.freshDatabase();
    const report = await runMigration(options(path, url));
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.problems.map((p) => `${p.table} ${p.rowKey} ${p.column} ${p.value}`),
      ['comments id=5 author_id 4040', 'comments id=6 author_id 4040'],
    );
    const [run] = await pg.query<{ status: string }>(url, 'SELECT status FROM sfdeploy_migrate.run');
    assert.equal(run?.status, 'loading', 'the migration is not marked complete');
  });

  it('does not mark the migration complete when the SQLite file is written to during the run', async () => {
    const path = join(scratch.dir, 'written-during.db');
    generateFixture(path, { users: 30 });
    const url = await pg.freshDatabase();
    let wrote = false;
    const report = await runMigration(
      options(path, url, {
        progress: {
          tableStart: () => {},
          rows: () => {},
          message: () => {},
          tableEnd: () => {
            if (wrote) return;
            wrote = true;
            // Another process (the app, say) commits a change while the migration reads the file.
            const db = new Database(path);
            db.exec("UPDATE users SET name = 'changed' WHERE id = 1");
            db.close();
          },
        },
      }),
    );
    assert.ok(wrote);
    assert.equal(report.ok, false);
    assert.ok(
      report.schemaIssues.some((i) => /changed while it was being read/.test(i.message)),
      JSON.stringify(report.schemaIssues),
    );
    const [run] = await pg.query<{ status: string }>(url, 'SELECT status FROM sfdeploy_migrate.run');
    assert.equal(run?.status, 'loading', 'not marked complete');
    // The rerun sees a different source, starts over, and completes.
    const again = await runMigration(options(path, url));
    assert.ok(again.ok, JSON.stringify(again.schemaIssues));
    assert.ok(again.notes.some((n) => /source changed/.test(n)));
  });

  it('names the unique constraint PostgreSQL refuses, and still adds the other keys and foreign keys', async () => {
    // SQLite keeps text '7' and integer 7 apart in an untyped UNIQUE column; as text in PostgreSQL they collide.
    const path = join(scratch.dir, 'collide.db');
    const db = new Database(path);
    db.exec(
      'CREATE TABLE parent (id INTEGER PRIMARY KEY, code UNIQUE, label TEXT); ' +
        'CREATE INDEX ix_parent_label ON parent (label); ' +
        "INSERT INTO parent VALUES (1, '7', 'a'), (2, 7, 'b'); " +
        'CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id)); ' +
        'INSERT INTO child VALUES (1, 2);',
    );
    db.close();
    const url = await pg.freshDatabase();
    const report = await runMigration(options(path, url));
    assert.equal(report.ok, false);
    const issue = report.schemaIssues.find((i) => i.severity === 'error' && i.table === 'parent');
    assert.ok(issue, JSON.stringify(report.schemaIssues));
    assert.match(issue.message, /^unique constraint parent_code_key failed: could not create unique index/);
    const present = await pg.query<{ name: string }>(
      url,
      `SELECT conname AS name FROM pg_constraint WHERE conrelid IN ('parent'::regclass, 'child'::regclass)
       UNION ALL SELECT indexname FROM pg_indexes WHERE tablename = 'parent' ORDER BY 1`,
    );
    const names = present.map((r) => r.name);
    assert.ok(names.includes('parent_pkey'), names.join(', '));
    assert.ok(names.includes('ix_parent_label'), names.join(', '));
    assert.ok(names.includes('child_pkey'), names.join(', '));
    assert.ok(
      names.some((n) => n.startsWith('child_parent_id')),
      names.join(', '),
    );
  });

  it('--on-error skip-row loads the rest, writes the rejected rows, and verifies what it loaded', async () => {
    const url = await pg.freshDatabase();
    const rejectedFile = join(scratch.dir, 'rejected.jsonl');
    const report = await runMigration(options(bad.path, url, { onError: 'skip-row', rejectedFile }));
    assertEveryPlantedProblemReported(report, bad);
    assert.equal(report.rejectedRows, bad.planted.length);
    assert.equal(report.ok, false, 'rejected rows still fail the verdict');
    assert.ok(report.verification?.ok, 'what was loaded matches the source minus the rejected rows');
    const lines = readFileSync(rejectedFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, bad.planted.length);
    // Rows are kept byte for byte: JSON can carry NUL; invalid UTF-8 travels as hex.
    assert.equal(lines.find((l) => l.row === `id=${60 + 6}`).values.name, 'a\u0000b\u0000c');
    assert.deepEqual(lines.find((l) => l.row === `id=${60 + 7}`).values.name, { $textHex: '41c328' });
    const [users] = await pg.query<{ n: string }>(url, 'SELECT count(*) AS n FROM users');
    const rejectedUsers = bad.planted.filter((p) => p.table === 'users').length;
    assert.equal(Number(users?.n), bad.rows['users']! - rejectedUsers);
    const again = await runMigration(options(bad.path, url, { onError: 'skip-row', rejectedFile }));
    assert.ok(again.verification?.ok, 'a rerun verifies against the remembered rejections');
  });
});

describe('the two readers of the fast path', () => {
  it('reading through SQLite (SFDEPLOY_PAGE_READER=0) finds the same problems and loads the same rows', async () => {
    const run = async (env: string | undefined) => {
      const saved = process.env['SFDEPLOY_PAGE_READER'];
      if (env === undefined) delete process.env['SFDEPLOY_PAGE_READER'];
      else process.env['SFDEPLOY_PAGE_READER'] = env;
      try {
        const url = await pg.freshDatabase();
        return await runMigration(options(bad.path, url, { onError: 'skip-row' }));
      } finally {
        if (saved === undefined) delete process.env['SFDEPLOY_PAGE_READER'];
        else process.env['SFDEPLOY_PAGE_READER'] = saved;
      }
    };
    const viaPages = await run(undefined);
    const viaSqlite = await run('0');
    for (const report of [viaPages, viaSqlite]) {
      assertEveryPlantedProblemReported(report, bad);
      assert.ok(report.verification?.ok);
    }
    const sums = (r: MigrationReport) =>
      r.verification?.rows.map((t) => `${t.table} ${t.targetRows} ${t.targetChecksum}`);
    assert.deepEqual(sums(viaSqlite), sums(viaPages));
    assert.equal(viaSqlite.problems.length, viaPages.problems.length);
  });

  it('reading in the main thread (no reader thread, as in a one-vCPU Lambda) loads the same rows', async () => {
    const threaded = await runMigration(options(bad.path, await pg.freshDatabase(), { onError: 'skip-row' }));
    const inThread = await runMigration(
      options(bad.path, await pg.freshDatabase(), { onError: 'skip-row', readerThread: false }),
    );
    assertEveryPlantedProblemReported(inThread, bad);
    assert.ok(inThread.verification?.ok);
    const sums = (r: MigrationReport) =>
      r.verification?.rows.map((t) => `${t.table} ${t.targetRows} ${t.targetChecksum}`);
    assert.deepEqual(sums(inThread), sums(threaded));
  });
});

describe('--schema existing', () => {
  it('loads into tables the app created, converting by the target column types', async () => {
    const url = await pg.freshDatabase();
    await pg.query(
      url,
      `CREATE TABLE tags (id SERIAL PRIMARY KEY, name VARCHAR(50) NOT NULL UNIQUE);
       CREATE TABLE settings (key VARCHAR(64) PRIMARY KEY, value JSONB, updated_on DATE);
       CREATE TABLE audit_log (id BIGSERIAL PRIMARY KEY, event TEXT NOT NULL, detail TEXT, at TIMESTAMPTZ, amount DOUBLE PRECISION);`,
    );
    const db = new Database(join(scratch.dir, 'subset.db'));
    db.exec(
      `PRAGMA foreign_keys = OFF;
       CREATE TABLE tags (id INTEGER NOT NULL, name VARCHAR(50) NOT NULL, PRIMARY KEY (id));
       CREATE TABLE settings (key VARCHAR(64) NOT NULL PRIMARY KEY, value JSON, updated_on DATE) WITHOUT ROWID;
       CREATE TABLE audit_log (event VARCHAR(40) NOT NULL, detail TEXT, at DATETIME, amount REAL);
       INSERT INTO tags VALUES (1, '하나'), (5, 'five 🎉');
       INSERT INTO settings VALUES ('k', '{"z": 1, "a": [1.50, 2e2]}', '2024-02-29');
       INSERT INTO audit_log VALUES ('login', NULL, '2024-06-01 12:00:00.25', 0.1);`,
    );
    db.close();
    const report = await runMigration(options(join(scratch.dir, 'subset.db'), url, { schemaMode: 'existing' }));
    assert.equal(report.ok, true, JSON.stringify({ v: report.verification, i: report.schemaIssues }, null, 1));
    const [settings] = await pg.query<{ v: string }>(url, `SELECT value::text AS v FROM settings`);
    assert.equal(settings?.v, '{"a": [1.50, 200], "z": 1}');
    const [audit] = await pg.query<{ at: string }>(url, `SELECT (at AT TIME ZONE 'UTC')::text AS at FROM audit_log`);
    assert.equal(audit?.at, '2024-06-01 12:00:00.25');
    const [tag] = await pg.query<{ id: number }>(url, `INSERT INTO tags (name) VALUES ('new') RETURNING id`);
    assert.equal(tag?.id, 6, 'the serial sequence was moved past the highest id');
  });

  it('restores the app’s foreign keys after the load', async () => {
    const url = await pg.freshDatabase();
    await pg.query(
      url,
      `CREATE TABLE users (id SERIAL PRIMARY KEY, email VARCHAR(120) NOT NULL);
       CREATE TABLE posts (id SERIAL PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), title TEXT);`,
    );
    const db = new Database(join(scratch.dir, 'fk.db'));
    db.exec(
      `PRAGMA foreign_keys = OFF;
       CREATE TABLE posts (id INTEGER NOT NULL, user_id INTEGER NOT NULL, title TEXT, PRIMARY KEY (id), FOREIGN KEY (user_id) REFERENCES users (id));
       CREATE TABLE users (id INTEGER NOT NULL, email VARCHAR(120) NOT NULL, PRIMARY KEY (id));
       INSERT INTO posts VALUES (1, 2, 'hello');
       INSERT INTO users VALUES (2, 'a@b.c');`,
    );
    db.close();
    const report = await runMigration(options(join(scratch.dir, 'fk.db'), url, { schemaMode: 'existing' }));
    assert.equal(report.ok, true, JSON.stringify(report.verification));
    const fks = await pg.query<{ convalidated: boolean }>(
      url,
      `SELECT convalidated FROM pg_constraint WHERE contype = 'f'`,
    );
    assert.deepEqual(fks, [{ convalidated: true }]);
  });
});

describe('--check forecasts what --on-error skip-row rejects', () => {
  let file: string;
  before(() => {
    file = join(scratch.dir, 'cascade.db');
    const db = new Database(file);
    db.exec(
      `PRAGMA foreign_keys = OFF;
       CREATE TABLE users (id INTEGER NOT NULL, email VARCHAR(20) NOT NULL, PRIMARY KEY (id));
       CREATE TABLE projects (id INTEGER NOT NULL, owner_id INTEGER NOT NULL, PRIMARY KEY (id),
         FOREIGN KEY (owner_id) REFERENCES users (id));
       CREATE TABLE comments (id INTEGER NOT NULL, project_id INTEGER NOT NULL, PRIMARY KEY (id),
         FOREIGN KEY (project_id) REFERENCES projects (id));
       CREATE TABLE memberships (user_id INTEGER NOT NULL, project_id INTEGER NOT NULL, level INTEGER,
         PRIMARY KEY (user_id, project_id));
       INSERT INTO users VALUES (1, 'ok@x.example'), (2, 'this address is far too long'), (3, 'ok3@x.example');
       INSERT INTO projects VALUES (10, 1), (20, 2), (21, 2), (30, 99);
       INSERT INTO comments VALUES (100, 10), (200, 20), (201, 20), (210, 21), (300, 30);
       INSERT INTO memberships VALUES (1, 10, 1), (3, 10, 'admin');`,
    );
    db.close();
  });

  it('per table and reason, including the children of rejected parents, and matches the skip-row run', async () => {
    const check = await runMigration(options(file, null, { action: 'check' }));
    assert.equal(check.ok, false);
    // The problems themselves: one bad value, one orphan, one bad value in a composite-key table.
    assert.deepEqual(
      check.problems.map((p) => `${p.table} ${p.rowKey} ${p.column}`),
      ['users id=2 email', 'memberships (user_id=3, project_id=10) level', 'projects id=30 owner_id'],
    );
    const forecast = Object.fromEntries((check.skipRowForecast ?? []).map((f) => [f.table, f]));
    assert.deepEqual(forecast['users']?.reasons, [{ reason: 'bad value in email', rows: 1 }]);
    assert.deepEqual(forecast['projects']?.reasons, [
      { reason: 'references rejected users row (owner_id)', rows: 2 },
      { reason: 'orphan foreign key: no such users row (owner_id)', rows: 1 },
    ]);
    assert.deepEqual(forecast['comments']?.reasons, [
      { reason: 'references rejected projects row (project_id)', rows: 4 },
    ]);
    assert.equal(forecast['memberships']?.rows, 1);

    const url = await pg.freshDatabase();
    const skip = await runMigration(
      options(file, url, { onError: 'skip-row', rejectedFile: join(scratch.dir, 'cascade.rejected.jsonl') }),
    );
    const rejected = Object.fromEntries(skip.tables.map((t) => [t.table, t.rejectedRows]));
    for (const f of check.skipRowForecast ?? []) assert.equal(rejected[f.table], f.rows, f.table);
    assert.equal(
      skip.rejectedRows,
      (check.skipRowForecast ?? []).reduce((n, f) => n + f.rows, 0),
    );
    // The summary counts by table, column and reason without the values' particulars.
    assert.deepEqual(
      check.problemSummary?.map((g) => [g.table, g.column, g.reason, g.rows]),
      [
        ['users', 'email', 'longer than varchar(20) (would be truncated)', 1],
        ['memberships', 'level', 'text that is not an integer in an integer column', 1],
        ['projects', 'owner_id', 'orphan foreign key: no such users row', 1],
      ],
    );
  });
});
