/** `sfdeploy checklist` as an operator or a pipeline runs it: the real CLI in a child process. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CHECKLIST_FILE } from '../../lib/checklist/source';

function sfdeploy(...args: string[]) {
  const run = spawnSync(process.execPath, ['bin/sfdeploy.js', 'checklist', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '' },
    timeout: 30_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

interface Document {
  coverage: Record<string, number>;
  items: Record<string, unknown>[];
}

describe('sfdeploy checklist', () => {
  const dir = mkdtempSync(join(tmpdir(), 'checklist-cli-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a table per phase and the coverage line, and exits 0 with every item mapped', () => {
    const run = sfdeploy();
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.match(run.stdout, /^PRE-DEPLOYMENT PHASE\nid +section +status +how\n/);
    assert.match(run.stdout, /\npre-2-health-endpoint +2\. Flask Server Health Check +enforced +.*smoke health/);
    assert.match(
      run.stdout,
      /\nsec-2-passwords-hashed +2\. Data Protection +out-of-scope +A grep of backend\/models\.py/,
    );
    assert.match(
      run.stdout,
      /\nCoverage: \d+ of 143 checklist items enforced by code \([\d.]+ %\), \d+ partly enforced, \d+ out of scope with a reason, 0 unmapped\.\n/,
    );
    assert.ok(!run.stdout.includes('\u001b['), 'no colour codes when stdout is not a terminal');
  });

  it('prints exactly the documented JSON document for --json, one item per checkbox', () => {
    const run = sfdeploy('--json');
    assert.equal(run.status, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as Document;
    assert.deepEqual(Object.keys(doc), ['coverage', 'items']);
    assert.deepEqual(Object.keys(doc.coverage), [
      'total',
      'enforced',
      'partial',
      'outOfScope',
      'unmapped',
      'percentEnforced',
    ]);
    assert.equal(doc.items.length, 143);
    assert.equal(doc.coverage['total'], 143);
    const statuses = new Map<unknown, number>();
    for (const item of doc.items) {
      const id = String(item['id']);
      assert.deepEqual(Object.keys(item), [
        'id',
        'section',
        'text',
        'status',
        'enforcement',
        'missing',
        'note',
        'outOfScope',
      ]);
      statuses.set(item['status'], (statuses.get(item['status']) ?? 0) + 1);
      assert.ok((item['enforcement'] === null) !== (item['outOfScope'] === null), `${id}: exactly one`);
      // A partial item says what is missing; no other item does.
      assert.equal(item['status'] === 'partial', typeof item['missing'] === 'string', `${id}: missing iff partial`);
      assert.equal(item['status'] === 'out-of-scope', item['outOfScope'] !== null, `${id}: reason iff out of scope`);
    }
    const health = doc.items.find((i) => i['id'] === 'pre-2-health-endpoint');
    const refs = (health?.['enforcement'] ?? []) as unknown[];
    assert.deepEqual(refs[0], { kind: 'smoke', check: 'health' });
    assert.equal(doc.coverage['enforced']! + doc.coverage['partial']! + doc.coverage['outOfScope']!, 143);
    assert.equal(statuses.get('enforced'), doc.coverage['enforced']);
    assert.equal(statuses.get('partial') ?? 0, doc.coverage['partial']);
  });

  it('keeps each item’s note and, for a partial item, what is missing in --json', () => {
    const doc = JSON.parse(sfdeploy('--json').stdout) as Document;
    const withNotes = doc.items.filter((i) => typeof i['note'] === 'string');
    assert.ok(withNotes.length >= 10, `notes kept: ${withNotes.length}`);
    const demo = doc.items.find((i) => i['id'] === 'team-a-demo-token');
    assert.match(String(demo?.['note']), /test-stage check/);
  });

  it('filters by --section, case-insensitively, and counts the coverage of that section only', () => {
    const run = sfdeploy('--section', 'data protection', '--json');
    assert.equal(run.status, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as Document;
    assert.deepEqual(
      doc.items.map((i) => i['id']),
      [
        'sec-2-postgresql',
        'sec-2-migration-script',
        'sec-2-schema-transfer',
        'sec-2-verify-data-integrity',
        'sec-2-passwords-hashed',
        'sec-2-sensitive-data-not-logged',
      ],
    );
    assert.equal(doc.coverage['total'], 6);
    const table = sfdeploy('--section', 'SECURITY');
    assert.match(table.stdout, /Coverage \(section "SECURITY"\): \d+ of 20 /);
  });

  it('exits 1 and names an item the map does not know, with a suggested id', () => {
    const newer = join(dir, 'newer.md');
    const text = readFileSync(CHECKLIST_FILE, 'utf8').replace(
      '- [ ] No error rate spike\n',
      '- [ ] No error rate spike\n\n- [ ] Synthetic canary green for 10 minutes\n',
    );
    writeFileSync(newer, text);
    const run = sfdeploy('--checklist', newer, '--unmapped');
    assert.equal(run.status, 1);
    assert.match(run.stdout, /deploy-3-synthetic-canary-green-for +3\. Post-Deployment Verification +UNMAPPED/);
    assert.match(run.stdout, /1 unmapped\./);
    const json = JSON.parse(sfdeploy('--checklist', newer, '--json').stdout) as Document;
    const added = json.items.find((i) => i['text'] === 'Synthetic canary green for 10 minutes');
    assert.deepEqual(added, {
      id: 'deploy-3-synthetic-canary-green-for',
      section: 'DEPLOYMENT PHASE › 3. Post-Deployment Verification',
      text: 'Synthetic canary green for 10 minutes',
      status: 'unmapped',
      enforcement: null,
      missing: null,
      note: null,
      outOfScope: null,
    });
  });

  it('reports a map entry whose checkbox disappeared as stale, and exits 1', () => {
    const older = join(dir, 'older.md');
    writeFileSync(older, readFileSync(CHECKLIST_FILE, 'utf8').replace('- [ ] Git tag created\n', ''));
    const run = sfdeploy('--checklist', older);
    assert.equal(run.status, 1);
    assert.match(run.stderr, /^sfdeploy: map: deploy-1-git-tag is stale: no checkbox "Git tag created"/m);
  });

  for (const [name, args, message] of [
    ['a section that matches nothing', ['--section', 'no such section'], /matches no section \(phases: PRE-DEPLOYMENT/],
    [
      'a checklist file that does not exist',
      ['--checklist', '/nonexistent/list.md'],
      /cannot read .* \(no such file\)/,
    ],
    ['an unknown option', ['--wide'], /unknown option '--wide'/],
  ] as const) {
    it(`exits 2 with one line on stderr for ${name}`, () => {
      const run = sfdeploy(...args);
      assert.equal(run.status, 2);
      assert.match(run.stderr, message);
      assert.match(run.stderr, /^sfdeploy: /);
      assert.doesNotMatch(run.stderr, /at .*\.ts:\d+/);
    });
  }

  it('shows examples and exit codes in --help', () => {
    const run = sfdeploy('--help');
    assert.equal(run.status, 0);
    assert.match(run.stdout, /Examples:\n {2}\$ sfdeploy checklist /);
    assert.match(run.stdout, /--section <text>/);
    assert.match(run.stdout, /Exit codes: 0 .*, 1 .*, 2 usage error/);
  });
});
