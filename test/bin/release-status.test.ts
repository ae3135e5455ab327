import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  type ServiceDeployment,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';
import { readLatestRelease, register, waitForRelease } from '../../bin/commands/release-status';
import { cli as runCli } from '../helpers/fake-aws';

const ACCOUNT = '123456789012';
const CLUSTER = `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/softfactory-prod`;
const SERVICE = `arn:aws:ecs:eu-west-1:${ACCOUNT}:service/softfactory-prod/softfactory-prod-web`;
const IMAGE = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/softfactory`;
const deploymentArn = (id: string) =>
  `arn:aws:ecs:eu-west-1:${ACCOUNT}:service-deployment/softfactory-prod/softfactory-prod-web/${id}`;
const revisionArn = (id: string) =>
  `arn:aws:ecs:eu-west-1:${ACCOUNT}:service-revision/softfactory-prod/softfactory-prod-web/${id}`;

const ecs = mockClient(ECSClient);
afterEach(() => ecs.reset());

/** ECS as it answers for a service whose newest deployment has `status` and targets a revision running `tag`. */
function ecsAnswers(status: string, tag: string, extra: Partial<ServiceDeployment> = {}): void {
  ecs.on(ListServiceDeploymentsCommand).resolves({
    serviceDeployments: [
      {
        serviceDeploymentArn: deploymentArn('old'),
        serviceArn: SERVICE,
        clusterArn: CLUSTER,
        status: 'SUCCESSFUL',
        createdAt: new Date('2026-11-20T10:00:00Z'),
        targetServiceRevisionArn: revisionArn('100'),
      },
      {
        serviceDeploymentArn: deploymentArn('new'),
        serviceArn: SERVICE,
        clusterArn: CLUSTER,
        status: status as ServiceDeployment['status'],
        createdAt: new Date('2026-11-26T09:00:00Z'),
        targetServiceRevisionArn: revisionArn('200'),
      },
    ],
  });
  ecs.on(DescribeServiceDeploymentsCommand, { serviceDeploymentArns: [deploymentArn('new')] }).resolves({
    serviceDeployments: [
      {
        serviceDeploymentArn: deploymentArn('new'),
        serviceArn: SERVICE,
        clusterArn: CLUSTER,
        status: status as ServiceDeployment['status'],
        createdAt: new Date('2026-11-26T09:00:00Z'),
        targetServiceRevision: {
          arn: revisionArn('200'),
          requestedTaskCount: 2,
          runningTaskCount: 2,
          pendingTaskCount: 0,
        },
        sourceServiceRevisions: [
          { arn: revisionArn('100'), requestedTaskCount: 2, runningTaskCount: 2, pendingTaskCount: 0 },
        ],
        ...extra,
      },
    ],
    failures: [],
  });
  ecs.on(DescribeServiceRevisionsCommand, { serviceRevisionArns: [revisionArn('200')] }).resolves({
    serviceRevisions: [
      {
        serviceRevisionArn: revisionArn('200'),
        serviceArn: SERVICE,
        clusterArn: CLUSTER,
        taskDefinition: `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/SoftFactoryProdServiceWebTask:42`,
        containerImages: [{ containerName: 'web', image: `${IMAGE}:${tag}`, imageDigest: 'sha256:abc123' }],
      },
    ],
    failures: [],
  });
}

const client = () => new ECSClient({ region: 'eu-west-1' });

describe('release-status', () => {
  it('succeeds when the newest deployment completed with the expected image', async () => {
    ecsAnswers('SUCCESSFUL', 'v2.1');
    const status = await readLatestRelease(client(), 'softfactory-prod', 'softfactory-prod-web', `${IMAGE}:v2.1`);
    assert.equal(status.verdict, 'succeeded');
    assert.equal(status.deploymentArn, deploymentArn('new'));
    assert.equal(ecs.commandCalls(ListServiceDeploymentsCommand)[0]!.args[0].input.service, 'softfactory-prod-web');
  });

  it('fails when ECS rolled the deployment back, quoting the reason', async () => {
    ecsAnswers('ROLLBACK_SUCCESSFUL', 'v2.1', {
      rollback: {
        reason: 'Service deployment rolled back because of lifecycle hook failure',
        startedAt: new Date(),
        serviceRevisionArn: revisionArn('100'),
      },
    });
    const status = await readLatestRelease(client(), 'softfactory-prod', 'softfactory-prod-web', `${IMAGE}:v2.1`);
    assert.equal(status.verdict, 'failed');
    assert.match(
      status.reason,
      /rolled the deployment back \(ROLLBACK_SUCCESSFUL\): Service deployment rolled back because of lifecycle hook failure/,
    );
  });

  it('fails when the deployment was stopped or its rollback failed', async () => {
    for (const state of ['STOPPED', 'ROLLBACK_FAILED']) {
      ecs.reset();
      ecsAnswers(state, 'v2.1', { statusReason: 'stopped by user' });
      const status = await readLatestRelease(client(), 'c', 's');
      assert.equal(status.verdict, 'failed', state);
    }
  });

  it('fails when the deployment succeeded with another image', async () => {
    ecsAnswers('SUCCESSFUL', 'v2.0');
    const status = await readLatestRelease(client(), 'c', 's', `${IMAGE}:v2.1`);
    assert.equal(status.verdict, 'failed');
    assert.match(status.reason, /runs .*softfactory:v2\.0, not .*softfactory:v2\.1/);
  });

  it('matches an expected image given by digest', async () => {
    ecsAnswers('SUCCESSFUL', 'v2.1');
    assert.equal((await readLatestRelease(client(), 'c', 's', `${IMAGE}@sha256:abc123`)).verdict, 'succeeded');
    assert.equal((await readLatestRelease(client(), 'c', 's', `${IMAGE}@sha256:fff`)).verdict, 'failed');
  });

  it('reports a deployment in flight, and fails it when the wait ends first', async () => {
    ecsAnswers('IN_PROGRESS', 'v2.1', { lifecycleStage: 'BAKE_TIME' });
    const read = () => readLatestRelease(client(), 'c', 's', `${IMAGE}:v2.1`);
    assert.equal((await read()).verdict, 'in-flight');
    let clock = 0;
    let polls = 0;
    const status = await waitForRelease(read, {
      timeoutMs: 60_000,
      intervalMs: 15_000,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
      },
      onPoll: () => {
        polls += 1;
      },
    });
    assert.equal(status.verdict, 'failed');
    assert.match(status.reason, /still in flight \(IN_PROGRESS at BAKE_TIME\) when the wait ended after 60 s/);
    assert.equal(polls, 5); // at 0, 15, 30, 45 and 60 s
  });

  it('waits through flight to success', async () => {
    let calls = 0;
    const status = await waitForRelease(
      async () => {
        calls += 1;
        return calls < 3 ? { verdict: 'in-flight', reason: 'in flight' } : { verdict: 'succeeded', reason: 'done' };
      },
      { timeoutMs: 60_000, intervalMs: 1, sleep: async () => {} },
    );
    assert.equal(status.verdict, 'succeeded');
    assert.equal(calls, 3);
  });

  it('fails when the service has no deployments', async () => {
    ecs.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [] });
    assert.equal((await readLatestRelease(client(), 'c', 's')).verdict, 'failed');
  });

  it('prints one JSON document and exits 1 for a rolled-back release', async () => {
    ecsAnswers('ROLLBACK_SUCCESSFUL', 'v2.1');
    const program = new Command().exitOverride();
    register(program, () => client());
    const written: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    // The command writes strings. The test runner streams its own (binary) reports to stdout too, and the command
    // loads the AWS SDK with `await import()`, during which those reports can be written: they are passed through.
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (typeof chunk !== 'string') return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
      written.push(chunk);
      return true;
    }) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'sfdeploy', 'release-status', '--stage', 'prod', '--json']);
    } finally {
      process.stdout.write = original;
    }
    const doc = JSON.parse(written.join('')) as { verdict: string; passed: boolean; deploymentStatus: string };
    assert.equal(doc.verdict, 'failed');
    assert.equal(doc.passed, false);
    assert.equal(doc.deploymentStatus, 'ROLLBACK_SUCCESSFUL');
    assert.equal(process.exitCode, 1);
    process.exitCode = 0;
  });

  it('rejects an unknown stage with one line and exit 2', () => {
    const run = spawnSync(process.execPath, ['bin/sfdeploy.js', 'release-status', '--stage', 'qa'], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 2);
    assert.equal(run.stderr.trim(), 'sfdeploy: --stage must be one of dev, staging, prod, got "qa"');
  });
});

/**
 * Through the real entry point (`node bin/sfdeploy.js`), against a fake ECS on 127.0.0.1 speaking ECS's JSON protocol
 * (the SDK reaches it through AWS_ENDPOINT_URL_ECS): 0 succeeded, 1 the release failed, 2 could not find out.
 */
describe('release-status exit codes (node bin/sfdeploy.js)', () => {
  type Answer = { status: number; body: Record<string, unknown> };
  let answer: (target: string, input: Record<string, unknown>) => Answer = () => ({ status: 500, body: {} });
  let server: import('node:http').Server;
  let endpoint = '';
  const seen: { target: string; input: Record<string, unknown> }[] = [];

  before(async () => {
    const { createServer } = await import('node:http');
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => {
        raw += chunk.toString();
      });
      req.on('end', () => {
        const target =
          String(req.headers['x-amz-target'] ?? '')
            .split('.')
            .pop() ?? '';
        const input = JSON.parse(raw || '{}') as Record<string, unknown>;
        seen.push({ target, input });
        const { status, body } = answer(target, input);
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'req-1' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(() => server.close());

  /** `node bin/sfdeploy.js release-status --stage prod …` against the fake ECS; `stderr` is only our own lines. */
  async function cli(...args: string[]) {
    const run = await runCli(['release-status', '--stage', 'prod', ...args], { endpoint });
    return { status: run.status, stdout: run.stdout, stderr: run.errors };
  }

  const epoch = (iso: string) => Date.parse(iso) / 1000;
  /** `count` deployments, oldest first across pages of 2 (ECS documents no order); the newest has `status`. */
  function history(status: string, tag: string) {
    const all = Array.from({ length: 5 }, (_, i) => ({
      serviceDeploymentArn: deploymentArn(`d${i}`),
      serviceArn: SERVICE,
      clusterArn: CLUSTER,
      status: i === 4 ? status : 'SUCCESSFUL',
      createdAt: epoch(`2026-11-2${i}T09:00:00Z`),
      targetServiceRevisionArn: revisionArn(`r${i}`),
    }));
    answer = (target, input) => {
      if (target === 'ListServiceDeployments') {
        const offset = Number(input['nextToken'] ?? 0);
        const next = offset + 2 < all.length ? String(offset + 2) : undefined;
        return {
          status: 200,
          body: { serviceDeployments: all.slice(offset, offset + 2), ...(next ? { nextToken: next } : {}) },
        };
      }
      if (target === 'DescribeServiceDeployments') {
        const arn = (input['serviceDeploymentArns'] as string[])[0];
        const d = all.find((x) => x.serviceDeploymentArn === arn);
        return {
          status: 200,
          body: {
            serviceDeployments: [{ ...d, targetServiceRevision: { arn: d?.targetServiceRevisionArn } }],
            failures: [],
          },
        };
      }
      return {
        status: 200,
        body: {
          serviceRevisions: [
            {
              serviceRevisionArn: (input['serviceRevisionArns'] as string[])[0],
              containerImages: [{ containerName: 'web', image: `${IMAGE}:${tag}`, imageDigest: 'sha256:abc123' }],
            },
          ],
          failures: [],
        },
      };
    };
  }

  it('exits 0 when the newest deployment (on the last of three unordered pages) succeeded with the image', async () => {
    history('SUCCESSFUL', 'v2.1');
    seen.length = 0;
    const run = await cli('--expect-image', `${IMAGE}:v2.1`, '--json');
    assert.equal(run.status, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).deploymentArn, deploymentArn('d4'));
    const lists = seen.filter((s) => s.target === 'ListServiceDeployments');
    assert.equal(lists.length, 3);
    assert.ok(lists.every((l) => typeof (l.input['createdAt'] as { after?: unknown })?.after === 'number'));
  });

  it('exits 1 when ECS rolled the release back', async () => {
    history('ROLLBACK_SUCCESSFUL', 'v2.1');
    const run = await cli('--expect-image', `${IMAGE}:v2.1`);
    assert.equal(run.status, 1, run.stderr);
  });

  it('exits 2 with one line when ECS keeps throttling (could not find out, not "failed")', async () => {
    answer = () => ({ status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } });
    const run = await cli();
    assert.equal(run.status, 2, run.stdout + run.stderr);
    assert.match(
      run.stderr.trim(),
      /^sfdeploy: could not find out the release status \(ThrottlingException: Rate exceeded\)/,
    );
    assert.equal(run.stderr.trim().split('\n').length, 1);
  });

  it('exits 2 when access is denied', async () => {
    answer = () => ({
      status: 400,
      body: {
        __type: 'AccessDeniedException',
        message: 'User is not authorized to perform: ecs:ListServiceDeployments',
      },
    });
    const run = await cli();
    assert.equal(run.status, 2);
    assert.match(run.stderr, /AccessDeniedException/);
  });

  it('exits 2 when ECS cannot be reached (connection refused)', async () => {
    const saved = endpoint;
    endpoint = 'http://127.0.0.1:1';
    try {
      const run = await cli();
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, /^sfdeploy: cannot reach AWS \(127\.0\.0\.1:1\): check the network/);
    } finally {
      endpoint = saved;
    }
  });
});
