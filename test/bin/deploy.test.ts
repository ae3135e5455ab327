/**
 * `sfdeploy deploy`: in-process against AWS faked at the SDK boundary and a fake `cdk` executable (a real child
 * process, test/helpers/fake-cdk) that records its arguments; as a process for usage and help.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DescribeImagesCommand, ImageNotFoundException } from '@aws-sdk/client-ecr';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  ListServiceDeploymentsCommand,
} from '@aws-sdk/client-ecs';
import { type DeployCommandOptions, type DeployIo, runDeploy, type StepRow } from '../../bin/commands/deploy';
import { summarizeDiff } from '../../bin/preflight/cdk';
import { PROJECT_DIR } from '../../bin/preflight/stage';
import { ACCOUNT, clients, healthyStage, mocks, PROD_CONTEXT, REGION, resetMocks } from './preflight-world';

const FAKE_CDK = resolve('test/helpers/fake-cdk');
const IMAGE = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/softfactory`;
const deploymentArn = (id: string) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:service-deployment/softfactory-prod/softfactory-prod-web/${id}`;
const revisionArn = (id: string) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:service-revision/softfactory-prod/softfactory-prod-web/${id}`;

/**
 * ECS after the deploy: the newest service deployment in `status`, its target revision running `tag`
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceDeployments.html,
 * API_DescribeServiceRevisions.html). The release read is the only ListServiceDeployments call with maxResults.
 */
function releaseAnswers(status: 'SUCCESSFUL' | 'ROLLBACK_SUCCESSFUL', tag: string): void {
  mocks.ecs.on(ListServiceDeploymentsCommand, { maxResults: 100 }).resolves({
    serviceDeployments: [
      {
        serviceDeploymentArn: deploymentArn('new'),
        status,
        createdAt: new Date('2026-03-02T10:00:00Z'),
        targetServiceRevisionArn: revisionArn('200'),
      },
      {
        serviceDeploymentArn: deploymentArn('old'),
        status: 'SUCCESSFUL',
        createdAt: new Date('2026-02-20T10:00:00Z'),
        targetServiceRevisionArn: revisionArn('100'),
      },
    ],
  });
  mocks.ecs.on(DescribeServiceDeploymentsCommand, { serviceDeploymentArns: [deploymentArn('new')] }).resolves({
    serviceDeployments: [
      {
        serviceDeploymentArn: deploymentArn('new'),
        status,
        createdAt: new Date('2026-03-02T10:00:00Z'),
        targetServiceRevision: {
          arn: revisionArn('200'),
          requestedTaskCount: 2,
          runningTaskCount: 2,
          pendingTaskCount: 0,
        },
        ...(status === 'ROLLBACK_SUCCESSFUL'
          ? {
              rollback: {
                reason: 'Service deployment rolled back because of lifecycle hook failure',
                startedAt: new Date('2026-03-02T10:06:00Z'),
                serviceRevisionArn: revisionArn('100'),
              },
            }
          : {}),
      },
    ],
    failures: [],
  });
  mocks.ecs.on(DescribeServiceRevisionsCommand, { serviceRevisionArns: [revisionArn('200')] }).resolves({
    serviceRevisions: [
      {
        serviceRevisionArn: revisionArn('200'),
        containerImages: [{ containerName: 'web', image: `${IMAGE}:${tag}`, imageDigest: 'sha256:abc123' }],
      },
    ],
    failures: [],
  });
}

function sink() {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

interface Recorded {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

async function deploy(
  options: Partial<DeployCommandOptions> = {},
  io: Partial<DeployIo> & { cdkEnv?: Record<string, string> } = {},
) {
  const record = join(mkdtempSync(join(tmpdir(), 'fake-cdk-')), 'calls.jsonl');
  const stdout = sink();
  const stderr = sink();
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  stdin.isTTY = true;
  const code = await runDeploy(
    { stage: 'prod', imageTag: 'v2.1', context: PROD_CONTEXT, yes: true, cdk: FAKE_CDK, ...options },
    {
      stdout: stdout.stream,
      stderr: stderr.stream,
      stdin,
      makeClients: () => clients(),
      env: { ...process.env, FAKE_CDK_RECORD: record, ...io.cdkEnv },
      sleep: async () => {},
      ...io,
    },
  );
  const calls: Recorded[] = existsSync(record)
    ? readFileSync(record, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Recorded)
    : [];
  return { code, stdout: stdout.text(), stderr: stderr.text(), calls };
}

/** The result column of the final table, by step. */
function results(table: string): Record<string, string> {
  const rows = table.trim().split('\n').slice(2);
  return Object.fromEntries(rows.map((row) => row.split(/\s{2,}/).slice(0, 2) as [string, string]));
}

beforeEach(() => {
  resetMocks();
  healthyStage();
  // The tag this release deploys is in ECR.
  mocks.ecr.on(DescribeImagesCommand).resolves({
    imageDetails: [{ repositoryName: 'softfactory', imageDigest: 'sha256:abc123', imageTags: ['v2.1'] }],
  });
});
afterEach(() => resetMocks());

describe('sfdeploy deploy', () => {
  it('runs diff then deploy with the stage context, waits for the release and exits 0 when it serves', async () => {
    releaseAnswers('SUCCESSFUL', 'v2.1');
    const run = await deploy({ profile: 'prod-admin' });
    assert.equal(run.code, 0, run.stderr);
    const context = ['-c', 'stage=prod', ...PROD_CONTEXT.flatMap((p) => ['-c', p]), '-c', 'imageTag=v2.1'];
    assert.deepEqual(
      run.calls.map((c) => c.argv),
      [
        ['diff', '--all', ...context, '--profile', 'prod-admin'],
        [
          'deploy',
          '--all',
          '--require-approval',
          'never',
          '--progress',
          'events',
          ...context,
          '--profile',
          'prod-admin',
        ],
      ],
    );
    for (const call of run.calls) {
      assert.equal(call.cwd, PROJECT_DIR);
      assert.equal(call.env['AWS_REGION'], REGION);
    }
    assert.deepEqual(results(run.stdout), {
      config: 'pass',
      preflight: 'pass',
      diff: 'pass',
      confirm: 'skipped',
      deploy: 'pass',
      release: 'pass',
    });
    assert.match(
      run.stdout,
      /release\s+pass\s+SUCCESSFUL on 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/softfactory:v2\.1/,
    );
    // Progress on stderr: the preflight table, the diff summary, the CDK CLI's own streamed output.
    assert.match(run.stderr, /preflight passed/);
    assert.match(
      run.stderr,
      /SoftFactory-Prod-Service: \+1 ~3 -1, replaces AWS::ECS::TaskDefinition WebTaskDefinition9F8E7D6C/,
    );
    assert.match(run.stderr, /✅ {2}SoftFactory-Prod-Service/);
  });

  it('fails the release ECS rolled back: exit 1 with the reason', async () => {
    releaseAnswers('ROLLBACK_SUCCESSFUL', 'v2.1');
    const run = await deploy();
    assert.equal(run.code, 1);
    assert.equal(results(run.stdout)['release'], 'fail');
    assert.match(
      run.stdout,
      /rolled the deployment back \(ROLLBACK_SUCCESSFUL\): Service deployment rolled back because of lifecycle hook failure/,
    );
  });

  it('fails a release that runs another image than the one deployed', async () => {
    releaseAnswers('SUCCESSFUL', 'v2.0');
    const run = await deploy();
    assert.equal(run.code, 1);
    assert.match(run.stdout, /runs .*softfactory:v2\.0, not .*softfactory:v2\.1/);
  });

  it('stops when cdk deploy fails: exit 1, the release not run and not read', async () => {
    releaseAnswers('SUCCESSFUL', 'v2.1');
    const run = await deploy({}, { cdkEnv: { FAKE_CDK_EXIT_DEPLOY: '1' } });
    assert.equal(run.code, 1);
    assert.deepEqual(results(run.stdout), {
      config: 'pass',
      preflight: 'pass',
      diff: 'pass',
      confirm: 'skipped',
      deploy: 'fail',
      release: 'not run',
    });
    assert.match(
      run.stdout,
      /cdk deploy exited 1: ❌ {2}SoftFactory-Prod-Network failed: ValidationError: fake failure/,
    );
    assert.equal(mocks.ecs.commandCalls(DescribeServiceDeploymentsCommand).length, 0);
  });

  it('stops when cdk diff fails, before asking or deploying', async () => {
    const run = await deploy({}, { cdkEnv: { FAKE_CDK_EXIT_DIFF: '1' } });
    assert.equal(run.code, 1);
    assert.deepEqual(
      run.calls.map((c) => c.argv[0]),
      ['diff'],
    );
    assert.equal(results(run.stdout)['deploy'], 'not run');
  });

  it('never runs the CDK CLI when preflight fails', async () => {
    mocks.ecr
      .on(DescribeImagesCommand)
      .rejects(new ImageNotFoundException({ $metadata: {}, message: 'no such image' }));
    const run = await deploy();
    assert.equal(run.code, 1);
    assert.deepEqual(run.calls, []);
    assert.deepEqual(results(run.stdout), {
      config: 'pass',
      preflight: 'fail',
      diff: 'not run',
      confirm: 'not run',
      deploy: 'not run',
      release: 'not run',
    });
    assert.match(run.stdout, /preflight\s+fail\s+failed: image/);
  });

  it('asks before deploying and deploys nothing when declined', async () => {
    const questions: string[] = [];
    const run = await deploy(
      { yes: false },
      {
        confirm: async (q) => {
          questions.push(q);
          return false;
        },
      },
    );
    assert.equal(run.code, 1);
    assert.match(
      questions[0] ?? '',
      /^Deploy prod to 123456789012\/eu-west-1 \(2 stack\(s\) with differences, 2 replacement\(s\)\)\? \[y\/N\] $/,
    );
    assert.deepEqual(
      run.calls.map((c) => c.argv[0]),
      ['diff'],
    );
    assert.equal(results(run.stdout)['confirm'], 'fail');
  });

  it('finds the CDK CLI through SFDEPLOY_CDK and prints one JSON document with --json', async () => {
    releaseAnswers('SUCCESSFUL', 'v2.1');
    const run = await deploy({ cdk: undefined, json: true }, { cdkEnv: { SFDEPLOY_CDK: FAKE_CDK } });
    assert.equal(run.code, 0);
    assert.equal(run.calls.length, 2);
    const doc = JSON.parse(run.stdout) as { ok: boolean; steps: StepRow[]; diff: { stacksWithDifferences: number } };
    assert.equal(doc.ok, true);
    assert.deepEqual(
      doc.steps.map((s) => s.step),
      ['config', 'preflight', 'diff', 'confirm', 'deploy', 'release'],
    );
    assert.equal(doc.diff.stacksWithDifferences, 2);
    assert.equal(run.stderr, '', 'with --json nothing but the document is printed');
  });
});

describe('cdk diff summary', () => {
  it('counts added, modified and removed resources per stack, and the replacements', () => {
    const summary = summarizeDiff(readFileSync('test/helpers/fake-cdk-diff.txt', 'utf8'));
    assert.deepEqual(summary, {
      stacks: [
        { stack: 'SoftFactory-Prod-Network', added: 0, modified: 0, removed: 0, replaced: [], securityChanges: false },
        { stack: 'SoftFactory-Prod-Data', added: 0, modified: 1, removed: 0, replaced: [], securityChanges: false },
        {
          stack: 'SoftFactory-Prod-Service',
          added: 1,
          modified: 3,
          removed: 1,
          replaced: [
            'AWS::ECS::TaskDefinition WebTaskDefinition9F8E7D6C',
            'AWS::Lambda::Function RollbackFunction11223344',
          ],
          securityChanges: true,
        },
      ],
      stacksWithDifferences: 2,
    });
  });

  it('reads coloured output the same as plain', () => {
    const coloured =
      '\u001b[1mStack SoftFactory-Dev-Service\u001b[22m\nResources\n\u001b[32m[+]\u001b[39m \u001b[36mAWS::SNS::Topic\u001b[39m AlarmTopic/Topic AlarmTopicD01E77F9\n';
    assert.equal(summarizeDiff(coloured).stacks[0]?.added, 1);
  });
});

describe('sfdeploy deploy (process)', () => {
  it('refuses to run unattended without --yes: one line, exit 2', () => {
    const run = spawnSync(
      process.execPath,
      ['bin/sfdeploy.js', 'deploy', '--stage', 'prod', '--cdk', FAKE_CDK, ...PROD_CONTEXT.flatMap((p) => ['-c', p])],
      { encoding: 'utf8', input: '', timeout: 60_000 },
    );
    assert.equal(run.status, 2, run.stderr);
    assert.equal(
      run.stderr,
      'sfdeploy: deploy asks for confirmation and stdin is not a terminal: pass --yes to deploy without asking\n',
    );
  });

  it('shows examples and the exit codes in --help', () => {
    const run = spawnSync(process.execPath, ['bin/sfdeploy.js', 'deploy', '--help'], { encoding: 'utf8' });
    assert.equal(run.status, 0);
    assert.match(run.stdout, /Exit codes: 0 the new revision serves; 1 /);
    assert.match(run.stdout, /Examples:\n {2}sfdeploy deploy --stage prod --image-tag v2\.1/);
  });

  it('answers a config mistake with one line and exit 2', () => {
    const run = spawnSync(
      process.execPath,
      ['bin/sfdeploy.js', 'deploy', '--stage', 'prod', '--yes', '--image-tag', 'v2.1', '-c', 'image=ghcr.io/acme/sf:1'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(run.status, 2);
    assert.equal(
      run.stderr,
      // The config refuses the pair (issue 12 point 1) before deploy's own guard would.
      'sfdeploy: config: imageTag = "v2.1": must be unset: imageTag goes with imageRepository, not image\n',
    );
  });
});
