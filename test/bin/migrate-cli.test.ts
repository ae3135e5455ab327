import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../lambda/migrate/embedded-pg';
import type { MigrationReport } from '../../lambda/migrate/report';
import { generateFixture } from '../lambda/migrate/fixture';
import { scratchDir } from '../lambda/migrate/pg-harness';

const ROOT = resolve(__dirname, '../..');
let scratch: ReturnType<typeof scratchDir>;
let good: string;
let bad: string;
let planted: number;

function sfdeploy(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/sfdeploy.ts'), 'migrate', ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('exit', (code) => done({ code, stdout, stderr }));
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
    assert.match(r.stderr, /load users: 30 rows, loaded/, 'plain progress lines when not on a terminal');
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
