import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { afterEach, describe, it } from 'node:test';
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
