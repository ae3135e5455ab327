import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { renderTable, stripAnsi } from '../../bin/cli/support';

describe('CLI support', () => {
  it('aligns table columns on visible width, ignoring colour codes', () => {
    const table = renderTable(
      ['id', 'verdict'],
      [
        ['health', '\u001b[32mpass\u001b[0m'],
        ['a-longer-id', 'fail'],
      ],
    );
    const lines = table.split('\n').map(stripAnsi);
    assert.equal(lines[0], 'id           verdict');
    assert.equal(lines[1], '-----------  -------');
    assert.equal(lines[2], 'health       pass');
    assert.equal(lines[3], 'a-longer-id  fail');
  });

  it('prints the command list for --help and exits 0', () => {
    const run = spawnSync(process.execPath, ['bin/sfdeploy.js', '--help'], { encoding: 'utf8' });
    assert.equal(run.status, 0);
    for (const command of ['smoke', 'migrate', 'rollback']) assert.match(run.stdout, new RegExp(`\\n  ${command}\\b`));
  });

  it('runs when started through a symlink named sfdeploy, as npm links package bins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfdeploy-bin-'));
    const link = join(dir, 'sfdeploy');
    symlinkSync(resolve('bin/sfdeploy.js'), link);
    const run = spawnSync(process.execPath, [link, '--help'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^Usage: sfdeploy /);
  });

  it('loads lazily imported command modules through the launcher (migrate imports its core on demand)', () => {
    const run = spawnSync(process.execPath, ['bin/sfdeploy.js', 'migrate', join(tmpdir(), 'no-such-file.db')], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /^sfdeploy: .*no-such-file\.db/);
    assert.doesNotMatch(run.stderr, /Cannot find module/);
  });

  it('registers every command without loading a dependency beyond commander (heavy ones load in the action)', () => {
    const script =
      "require('./bin/sfdeploy.ts').buildProgram();" +
      'process.stdout.write(JSON.stringify(Object.keys(require.cache)));';
    const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const packages = new Set(
      (JSON.parse(run.stdout) as string[])
        .filter((file) => file.includes('/node_modules/'))
        .map((file) => file.split('/node_modules/').pop()!.split('/')[0]!),
    );
    for (const loader of ['tsx', 'esbuild']) packages.delete(loader);
    assert.deepEqual([...packages], ['commander']);
  });

  it('answers an unknown command with one line and exit 2', () => {
    const run = spawnSync(process.execPath, ['bin/sfdeploy.js', 'no-such-command'], { encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^sfdeploy: unknown command 'no-such-command'/);
    assert.doesNotMatch(run.stderr, /at .*\.ts:\d+/);
  });
});
