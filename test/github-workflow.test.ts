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

  describe('gates the deploy on the image scan: no CRITICAL or HIGH finding, and a scan that finished', () => {
    const text = readFileSync(join(ROOT, '.github', 'workflows', 'deploy.yml'), 'utf8');
    const steps = text.split(/\n {6}- /).slice(1);
    const index = (name: RegExp) => steps.findIndex((s) => name.test(s));
    const gate = steps[index(/name: Image scan gate/)] ?? '';
    const script = (/run: \|\n((?: {10}.*\n?)+)/.exec(gate)?.[1] ?? '').replace(/^ {10}/gm, '');

    // Shapes of DescribeImageScanFindings (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImageScanFindings.html):
    // imageScanStatus.status is one of ImageScanStatus' values; findingSeverityCounts is optional (absent when
    // nothing was found) and summarises all findings, while `findings` pages (nextToken).
    const scan = (status: string, counts?: Record<string, number>) =>
      JSON.stringify({
        registryId: '123456789012',
        repositoryName: 'softfactory',
        imageId: { imageDigest: `sha256:${'a'.repeat(64)}`, imageTag: 'v2.1' },
        imageScanStatus: { status, description: `The scan is ${status}.` },
        imageScanFindings: {
          imageScanCompletedAt: '2026-12-03T10:00:00+00:00',
          vulnerabilitySourceUpdatedAt: '2026-12-03T09:00:00+00:00',
          ...(counts ? { findingSeverityCounts: counts } : {}),
          findings: counts
            ? [{ name: 'CVE-2026-0001', severity: Object.keys(counts)[0], uri: 'https://cve.example/CVE-2026-0001' }]
            : [],
        },
        ...(counts ? { nextToken: 'page-2' } : {}),
      });
    const NOT_FOUND =
      "An error occurred (ScanNotFoundException) when calling the DescribeImageScanFindings operation: Image scan does not exist for the image with '{imageDigest:'null', imageTag:'v2.1'}' in the repository with name 'softfactory' in the registry with id '123456789012'";

    /** The gate's own script against a fake `aws` answering each call with the next of `answers` (JSON, or an error). */
    function runGate(answers: (string | { error: string })[], env: Record<string, string> = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'scan-gate-'));
      answers.forEach((answer, i) => {
        if (typeof answer === 'string') writeFileSync(join(dir, `answer-${i + 1}.json`), answer);
        else writeFileSync(join(dir, `error-${i + 1}.txt`), answer.error);
      });
      writeFileSync(
        join(dir, 'aws'),
        [
          '#!/bin/bash',
          `d=${dir}`,
          'n=$(( $(cat "$d/calls" 2>/dev/null || echo 0) + 1 )); echo "$n" > "$d/calls"',
          'echo "$*" >> "$d/args"',
          'if [ -f "$d/error-$n.txt" ]; then cat "$d/error-$n.txt" >&2; exit 254; fi',
          'cat "$d/answer-$n.json"',
        ].join('\n'),
        { mode: 0o755 },
      );
      const run = spawnSync('bash', ['-e', '-c', script], {
        encoding: 'utf8',
        env: {
          PATH: `${dir}:${process.env['PATH'] ?? ''}`,
          IMAGE_TAG: 'v2.1',
          ECR_REPOSITORY: 'softfactory',
          SCAN_POLL_SECONDS: '0',
          ...env,
        },
      });
      const args = readFileSync(join(dir, 'args'), 'utf8').trim().split('\n');
      return { status: run.status, out: run.stdout + run.stderr, args };
    }

    it('runs after the AWS credentials and before cdk deploy, on the tag being deployed', () => {
      assert.ok(gate, 'an image scan gate step');
      assert.ok(index(/configure-aws-credentials/) < index(/name: Image scan gate/));
      assert.ok(index(/name: Image scan gate/) < index(/name: cdk deploy/));
      assert.match(gate, /ECR_REPOSITORY: softfactory/);
      assert.match(text, /IMAGE: .*\/softfactory:/, 'the repository the IMAGE names');
      const { args } = runGate([scan('COMPLETE', { LOW: 1 })]);
      assert.deepEqual(args, [
        'ecr describe-image-scan-findings --repository-name softfactory --image-id imageTag=v2.1 --no-paginate --output json',
      ]);
    });

    it('fails on HIGH findings of a basic scan, naming the counts', () => {
      const run = runGate([scan('COMPLETE', { HIGH: 2, MEDIUM: 5 })]);
      assert.equal(run.status, 1);
      assert.match(run.out, /::error::softfactory:v2\.1 has 0 CRITICAL and 2 HIGH findings/);
    });

    it('fails on a CRITICAL finding of an enhanced (Inspector) scan', () => {
      const run = runGate([scan('ACTIVE', { CRITICAL: 1, LOW: 3 })]);
      assert.equal(run.status, 1);
      assert.match(run.out, /has 1 CRITICAL and 0 HIGH findings/);
    });

    it('passes with only MEDIUM, LOW or INFORMATIONAL findings, or none at all', () => {
      for (const answer of [
        scan('COMPLETE', { MEDIUM: 4, LOW: 9, INFORMATIONAL: 2 }),
        scan('ACTIVE', { LOW: 1 }),
        scan('COMPLETE'),
      ]) {
        const run = runGate([answer]);
        assert.equal(run.status, 0, run.out);
        assert.match(run.out, /no CRITICAL or HIGH findings/);
      }
    });

    it('waits for a scan IN_PROGRESS or PENDING, then judges its findings', () => {
      const clean = runGate([scan('IN_PROGRESS'), scan('PENDING'), scan('COMPLETE', { LOW: 1 })]);
      assert.equal(clean.status, 0, clean.out);
      assert.equal(clean.args.length, 3);
      const dirty = runGate([scan('IN_PROGRESS'), scan('COMPLETE', { HIGH: 1 })]);
      assert.equal(dirty.status, 1);
    });

    it('fails when the scan does not finish in time', () => {
      const run = runGate([scan('IN_PROGRESS'), scan('IN_PROGRESS'), scan('IN_PROGRESS')], { SCAN_POLL_ATTEMPTS: '3' });
      assert.equal(run.status, 1);
      assert.match(run.out, /did not finish \(still IN_PROGRESS\)/);
    });

    it('fails when there is no scan, or the scan failed or could not judge the image', () => {
      const none = runGate([{ error: NOT_FOUND }]);
      assert.equal(none.status, 1);
      assert.match(
        none.out,
        /::error::no scan findings for softfactory:v2\.1 \(An error occurred \(ScanNotFoundException\)/,
      );
      for (const status of ['FAILED', 'UNSUPPORTED_IMAGE', 'SCAN_ELIGIBILITY_EXPIRED', 'FINDINGS_UNAVAILABLE']) {
        const run = runGate([scan(status)]);
        assert.equal(run.status, 1, status);
        assert.match(run.out, new RegExp(`the scan of softfactory:v2\\.1 is ${status}`));
      }
    });
  });
});
