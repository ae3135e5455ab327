/**
 * pre-3-no-corruption: the SQLite source is checked by SQLite itself before a migration (`PRAGMA quick_check`) and in
 * `sfdeploy migrate --check` (`PRAGMA integrity_check`), on real files with a page or an index deliberately damaged.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Database } from 'node-sqlite3-wasm';
import { runMigration } from '../../../lambda/migrate/engine';
import { SourceFileError, SqliteSource } from '../../../lambda/migrate/sqlite-source';
import { generateFixture } from './fixture';
import { scratchDir } from './pg-harness';

const ROOT = resolve(__dirname, '../../..');
let scratch: ReturnType<typeof scratchDir>;
let good: string;
/** `projects`' B-tree root page overwritten with garbage: the file opens, `users` still reads. */
let damagedPage: string;
/** `ix_tags_name` redefined over another column: every page is sound, the index no longer matches its table. */
let staleIndex: string;

function schemaRow(path: string, name: string): { rootpage: number; pageSize: number } {
  const db = new Database(path, { readOnly: true });
  try {
    const row = db.get('SELECT rootpage FROM sqlite_master WHERE name = ?', [name]) as { rootpage: number };
    const size = db.get('PRAGMA page_size') as { page_size: number };
    return { rootpage: Number(row.rootpage), pageSize: Number(size.page_size) };
  } finally {
    db.close();
  }
}

before(() => {
  scratch = scratchDir();
  good = generateFixture(join(scratch.dir, 'good.db'), { users: 2000 }).path;

  damagedPage = join(scratch.dir, 'damaged-page.db');
  copyFileSync(good, damagedPage);
  const { rootpage, pageSize } = schemaRow(damagedPage, 'projects');
  const fd = openSync(damagedPage, 'r+');
  try {
    // Page n starts at byte (n - 1) × page size (https://www.sqlite.org/fileformat2.html#pages).
    writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (rootpage - 1) * pageSize);
  } finally {
    closeSync(fd);
  }

  staleIndex = join(scratch.dir, 'stale-index.db');
  copyFileSync(good, staleIndex);
  const db = new Database(staleIndex);
  try {
    // The stored index entries stay those of tags.name; the schema now says they are of tags.id.
    db.exec(
      "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = 'CREATE UNIQUE INDEX ix_tags_name ON tags (id)' " +
        "WHERE name = 'ix_tags_name'; PRAGMA writable_schema = OFF;",
    );
  } finally {
    db.close();
  }
});

after(() => scratch.cleanup());

function problemOf(path: string, mode: 'quick' | 'full'): string | null {
  const source = new SqliteSource(path);
  try {
    return source.integrityProblem(mode);
  } finally {
    source.close();
  }
}

const options = (sqlitePath: string, action: 'migrate' | 'check') => ({
  sqlitePath,
  target: null,
  targetDescription: 'none',
  rehearsal: false,
  schemaMode: 'translate' as const,
  action,
  onError: 'fail' as const,
  readerThread: false,
});

describe('SQLite integrity of the migration source (pre-3-no-corruption)', () => {
  it('finds nothing wrong with a sound file, quick or full', () => {
    assert.equal(problemOf(good, 'quick'), null);
    assert.equal(problemOf(good, 'full'), null);
  });

  it('names the damaged page and its table in one line, where reading another table notices nothing', () => {
    const db = new Database(damagedPage, { readOnly: true });
    try {
      assert.deepEqual(db.get('SELECT count(*) AS n FROM users'), { n: 2000 }, 'users still reads');
    } finally {
      db.close();
    }
    const problem = problemOf(damagedPage, 'quick') ?? '';
    assert.match(problem, /^PRAGMA quick_check: Tree \d+ page \d+: .+ \(table projects\)$/);
    assert.doesNotMatch(problem, /\n/);
  });

  it('refuses a damaged source before a migration reads or writes anything', async () => {
    await assert.rejects(runMigration(options(damagedPage, 'migrate')), (error: unknown) => {
      assert.ok(error instanceof SourceFileError);
      assert.match(
        error.message,
        /damaged-page\.db is corrupt: PRAGMA quick_check: Tree \d+ page \d+: .*\(table projects\)/,
      );
      return true;
    });
  });

  it('--check runs the full integrity_check, which finds an index that no longer matches its table', async () => {
    // quick_check walks every page but does not compare indexes with their tables; integrity_check does.
    assert.equal(problemOf(staleIndex, 'quick'), null);
    assert.match(problemOf(staleIndex, 'full') ?? '', /^PRAGMA integrity_check: .*ix_tags_name/);
    await assert.rejects(
      runMigration(options(staleIndex, 'check')),
      /stale-index\.db is corrupt: PRAGMA integrity_check: .*ix_tags_name/,
    );
  });

  it('sfdeploy migrate --check exits 2 with one line naming the file and the first problem', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'bin/sfdeploy.js'), 'migrate', damagedPage, '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    assert.equal(run.status, 2, run.stderr);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(
      run.stderr,
      /^sfdeploy: \S*damaged-page\.db is corrupt: PRAGMA integrity_check: Tree \d+ page \d+: .*\(table projects\)/,
    );
    assert.equal(run.stdout, '');
  });
});

describe('the tables the app needs (pre-3-schema-complete)', () => {
  it('reports each expected table the file lacks as a schema error, and writes nothing', async () => {
    const report = await runMigration({
      ...options(good, 'check'),
      expectTables: ['users', 'sns_account', 'projects', 'review_listing'],
    });
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.schemaIssues.filter((i) => i.severity === 'error').map((i) => [i.table, i.message]),
      ['sns_account', 'review_listing'].map((t) => [
        t,
        `the app needs table ${t}; the SQLite file has no such table (wrong or incomplete database file?)`,
      ]),
    );
    const complete = await runMigration({ ...options(good, 'check'), expectTables: ['users', 'projects', 'comments'] });
    assert.deepEqual(
      complete.schemaIssues.filter((i) => i.severity === 'error'),
      [],
    );
    assert.equal(complete.ok, true);
  });

  it('sfdeploy migrate --check --expect-tables exits 1 naming a missing table, 0 when all are there, 2 for a bad list', () => {
    const sfdeploy = (...args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'bin/sfdeploy.js'), 'migrate', good, '--check', ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
    const missing = sfdeploy('--expect-tables', 'users,sns_post', '--json');
    assert.equal(missing.status, 1, missing.stderr);
    const report = JSON.parse(missing.stdout) as { ok: boolean; schemaIssues: { table: string; severity: string }[] };
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.schemaIssues.filter((i) => i.severity === 'error').map((i) => i.table),
      ['sns_post'],
    );
    const present = sfdeploy('--expect-tables', 'users,projects');
    assert.equal(present.status, 0, present.stdout + present.stderr);
    const bad = sfdeploy('--expect-tables', 'users;drop');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^sfdeploy: --expect-tables takes comma-separated table names/);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
  });
});
