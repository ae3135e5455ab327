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
      /npx sfdeploy rollback --stage "\$STAGE" --expect-image "\$IMAGE"\s+--reason "[^"]*\$\{\{ github\.server_url \}\}\/\$\{\{ github\.repository \}\}\/actions\/runs\/\$\{\{ github\.run_id \}\}/,
    );
  });

  describe('rolls back only a release known to have failed, and only this run’s', () => {
    const text = readFileSync(join(ROOT, '.github', 'workflows', 'deploy.yml'), 'utf8');
    const steps = text.split(/\n {6}- /).slice(1);
    const step = (name: RegExp) => {
      const found = steps.find((s) => name.test(s));
      assert.ok(found, `step ${name}`);
      return found;
    };
    const verify = step(/id: verify/);
    const rollback = step(/sfdeploy rollback/);
    const script = /run: \|\n((?: {10}.*\n?)+)/.exec(verify)?.[1]?.replace(/^ {10}/gm, '') ?? '';
    const condition = /if: (.*)/.exec(rollback)?.[1]?.trim() ?? '';

    /** The verify step's own script, with `npx` answering `code`; then the rollback step's `if`, as Actions reads it. */
    function runVerify(code: number): { stepFailed: boolean; rollsBack: boolean } {
      const dir = mkdtempSync(join(tmpdir(), 'verify-'));
      writeFileSync(join(dir, 'npx'), `#!/bin/sh\necho "release-status $*" >&2\nexit ${code}\n`, { mode: 0o755 });
      const output = join(dir, 'output');
      writeFileSync(output, '');
      const run = spawnSync('bash', ['-e', '-c', script], {
        encoding: 'utf8',
        env: { PATH: `${dir}:${process.env['PATH'] ?? ''}`, GITHUB_OUTPUT: output, STAGE: 'prod', IMAGE: 'repo:v2.1' },
      });
      const outputs = Object.fromEntries(
        readFileSync(output, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split('=') as [string, string]),
      );
      const m = /^failure\(\) && steps\.verify\.outputs\.([\w-]+) == '(\d)'$/.exec(condition);
      assert.ok(m, `the rollback condition is failure() && steps.verify.outputs.<code> == '<n>', got: ${condition}`);
      const stepFailed = run.status !== 0;
      return { stepFailed, rollsBack: stepFailed && outputs[m[1]!] === m[2] };
    }

    it('passes the same image to release-status and to the rollback', () => {
      assert.match(text, /IMAGE: \$\{\{ vars\.AWS_ACCOUNT_ID \}\}\.dkr\.ecr\..*softfactory:/);
      assert.match(script, /release-status .*--expect-image "\$IMAGE"/);
      assert.match(rollback, /--expect-image "\$IMAGE"/);
    });

    it('release-status 1 (the release failed): the step fails and the rollback runs', () => {
      assert.deepEqual(runVerify(1), { stepFailed: true, rollsBack: true });
    });

    it('release-status 2 (could not find out: throttling, network, access): the step fails, no rollback', () => {
      assert.deepEqual(runVerify(2), { stepFailed: true, rollsBack: false });
    });

    it('release-status 0: the step passes, no rollback', () => {
      assert.deepEqual(runVerify(0), { stepFailed: false, rollsBack: false });
    });

    it('a failure before verification (npm ci, synth, cdk deploy) leaves no exit code, so no rollback', () => {
      assert.match(condition, /steps\.verify\.outputs/);
      assert.doesNotMatch(condition, /\|\|/);
    });
  });
  describe('passes the stage context the repository variables set, and nothing for an unset one', () => {
    const text = readFileSync(join(ROOT, '.github', 'workflows', 'deploy.yml'), 'utf8');
    const contextStep = text.split(/\n {6}- /).find((s) => s.startsWith('name: Stage context')) ?? '';
    const script = (/run: \|\n((?: {10}.*\n?)+)/.exec(contextStep)?.[1] ?? '')
      .replace(/^ {10}/gm, '')
      // What Actions substitutes before the shell runs.
      .replace(/\$\{\{ vars\.AWS_ACCOUNT_ID \}\}/g, '123456789012')
      .replace(/\$\{\{ vars\.AWS_REGION \}\}/g, 'eu-west-1');

    function contextFor(vars: Record<string, string>): string {
      const file = join(mkdtempSync(join(tmpdir(), 'context-')), 'env');
      writeFileSync(file, '');
      const run = spawnSync('bash', ['-e', '-c', script], {
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '', GITHUB_ENV: file, ...vars },
      });
      assert.equal(run.status, 0, run.stderr);
      return readFileSync(file, 'utf8').trim();
    }

    it('an unset CERTIFICATE_ARN passes no -c certificateArn= (the config refuses an empty value)', () => {
      assert.equal(
        contextFor({ CERTIFICATE_ARN: '', DOMAIN_NAME: '', ALARM_EMAILS: '' }),
        'CONTEXT=-c account=123456789012 -c region=eu-west-1',
      );
    });

    it('set variables become -c pairs, and preflight and cdk deploy both take them', () => {
      assert.equal(
        contextFor({
          CERTIFICATE_ARN: 'arn:aws:acm:eu-west-1:123456789012:certificate/x',
          DOMAIN_NAME: 'app.example.com',
          ALARM_EMAILS: '',
        }),
        'CONTEXT=-c account=123456789012 -c region=eu-west-1 -c certificateArn=arn:aws:acm:eu-west-1:123456789012:certificate/x -c domainName=app.example.com',
      );
      assert.match(text, /npx sfdeploy preflight --stage "\$STAGE" .*\$CONTEXT\n/);
      assert.match(text, /npx cdk deploy .*\$CONTEXT\n/);
    });
  });
});
