import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..');
const ACTIONLINT = join(ROOT, 'node_modules', '@tktco', 'node-actionlint', 'bin', 'node-actionlint.js');

/** actionlint (compiled to WebAssembly, from the npm registry) over .github/workflows of `cwd`. */
function actionlint(cwd: string) {
  return spawnSync(process.execPath, [ACTIONLINT], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
  });
}

describe('GitHub Actions workflows', () => {
  it('pass actionlint with no findings', () => {
    const run = actionlint(ROOT);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /Checking 1 workflow file/);
  });

  it('would catch a broken workflow (the linter is really running)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'actionlint-'));
    mkdirSync(join(dir, '.github', 'workflows'), { recursive: true });
    writeFileSync(
      join(dir, '.github', 'workflows', 'broken.yml'),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JS template
      'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.evnt }}\n',
    );
    const run = actionlint(dir);
    assert.notEqual(run.status, 0);
    assert.match(run.stdout + run.stderr, /property "evnt" is not defined/);
  });

  it('deploys with OIDC, verifies the release and rolls back with the run URL on failure', () => {
    const text = readFileSync(join(ROOT, '.github', 'workflows', 'deploy.yml'), 'utf8');
    assert.match(text, /id-token: write/);
    assert.match(text, /aws-actions\/configure-aws-credentials@v4[\s\S]*role-to-assume:/);
    assert.doesNotMatch(text, /aws-access-key-id|aws-secret-access-key/);
    for (const step of [
      'npm ci',
      'npm test',
      'npx cdk synth',
      'npx cdk deploy',
      'npx sfdeploy release-status',
      '--wait',
    ]) {
      assert.ok(text.includes(step), step);
    }
    assert.match(
      text,
      /if: failure\(\)\s+run: >-\s+npx sfdeploy rollback --stage "\$STAGE"\s+--reason "[^"]*\$\{\{ github\.server_url \}\}\/\$\{\{ github\.repository \}\}\/actions\/runs\/\$\{\{ github\.run_id \}\}/,
    );
  });
});
