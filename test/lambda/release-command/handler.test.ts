/**
 * The release command hook through its handler and real AWS ports, every AWS call answered by aws-sdk-client-mock
 * with the documented shapes: the stateful ECS world of the rollback tests (DescribeServiceDeployments /
 * DescribeServiceRevisions), standalone tasks (fake-tasks.ts), RDS DescribeDBSnapshots with tags, CloudWatch Logs
 * GetLogEvents and SNS Publish. ECS's hook contract (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html):
 * IN_PROGRESS is invoked again after callBackDelay with the returned hookDetails.
 */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  type GetLogEventsCommandInput,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { type DBSnapshot, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { logStreamOf, snapshotState, startedByFor, taskVerdict } from '../../../lambda/release-command/core';
import { createHandler } from '../../../lambda/release-command/handler';
import type { LifecycleHookResponse } from '../../../lambda/shared/lifecycle-hook';
import { DEPLOYMENT_TAG, PREDEPLOY_TAG, STAGE_TAG } from '../../../lambda/shared/snapshots';
import { EcsWorld, type WorldDeployment } from '../rollback/fake-ecs';
import { DB_INSTANCE, FakeClock, SERVICE_ARN, TOPIC_ARN, td } from '../rollback/fixtures';
import { FakeTasks } from './fake-tasks';

const MIN = 60_000;
const ENV = {
  STAGE: 'prod',
  CLUSTER: 'softfactory-prod',
  RELEASE_COMMAND: JSON.stringify(['flask', 'db', 'upgrade']),
  LOG_GROUP_NAME: 'softfactory-prod/app',
  SUBNETS: 'subnet-0a1b2c3d4e5f60718,subnet-0b2c3d4e5f6071829',
  SECURITY_GROUPS: 'sg-0c3d4e5f60718293a',
  DB_INSTANCE_ID: DB_INSTANCE,
  TOPIC_ARN,
  CALLBACK_DELAY_SECONDS: '30',
  SNAPSHOT_WAIT_MINUTES: '20',
  COMMAND_TIMEOUT_MINUTES: '10',
  LOG_LINES: '3',
};
const quiet = { info: () => undefined, warn: () => undefined };

describe('release command hook (PRE_SCALE_UP)', () => {
  let clock: FakeClock;
  let world: EcsWorld;
  let tasks: FakeTasks;
  let snapshots: (DBSnapshot & { readyAt: number })[];
  const rds = mockClient(RDSClient);
  const logs = mockClient(CloudWatchLogsClient);
  const sns = mockClient(SNSClient);
  const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);

  beforeEach(() => {
    clock = new FakeClock();
    world = new EcsWorld(clock);
    tasks = new FakeTasks(() => clock.t);
    tasks.install(world.ecs);
    snapshots = [];
    rds.reset();
    // Paged by Marker, as RDS documents; tags are in TagList (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBSnapshots.html).
    rds.on(DescribeDBSnapshotsCommand).callsFake(async (input: { Marker?: string }) => {
      const view = snapshots.map(({ readyAt, ...s }) => ({
        ...s,
        Status: clock.t >= readyAt ? 'available' : 'creating',
      }));
      const offset = Number(input.Marker ?? 0);
      const page = view.slice(offset, offset + 1);
      return { DBSnapshots: page, ...(offset + 1 < view.length ? { Marker: String(offset + 1) } : {}) };
    });
    logs.reset();
    logs.on(GetLogEventsCommand).callsFake(async (input: GetLogEventsCommandInput) => {
      const id = String(input.logStreamName).split('/').pop() ?? '';
      const task = tasks.tasks.find((t) => t.arn.endsWith(`/${id}`));
      if (task?.script.kind !== 'exit') {
        throw new ResourceNotFoundException({ message: 'The specified log stream does not exist.', $metadata: {} });
      }
      const lines = tasks.logOf(id).slice(-(input.limit ?? 10_000));
      return {
        events: lines.map((message, i) => ({ timestamp: clock.t - 1000 + i, message, ingestionTime: clock.t })),
        nextForwardToken: 'f/1',
        nextBackwardToken: 'b/1',
      };
    });
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: '1f4c1e2a-7f0b-5f5e-9e6d-2b3c4d5e6f70' });
  });
  afterEach(() => world.restore());
  after(() => {
    rds.restore();
    logs.restore();
    sns.restore();
  });

  function release(): WorldDeployment {
    const first = world.deploy({ td: 40, startedMinutesAgo: 3 * 24 * 60, finishedMinutesAgo: 3 * 24 * 60 - 20 });
    return world.deploy({
      td: 41,
      status: 'IN_PROGRESS',
      startedMinutesAgo: 0,
      stage: 'PRE_SCALE_UP',
      from: [first.targetRevision],
    });
  }

  function snapshotOf(d: WorldDeployment, readyInMinutes: number, deployment = d.arn): void {
    snapshots.push({
      DBSnapshotIdentifier: `sf-prod-predeploy-${d.arn.slice(-12).toLowerCase()}-20251126104500`,
      DBInstanceIdentifier: DB_INSTANCE,
      SnapshotType: 'manual',
      SnapshotCreateTime: clock.now(),
      TagList: [
        { Key: PREDEPLOY_TAG, Value: 'true' },
        { Key: STAGE_TAG, Value: 'prod' },
        { Key: DEPLOYMENT_TAG, Value: deployment },
      ],
      readyAt: clock.t + readyInMinutes * MIN,
    });
  }

  const event = (d: WorldDeployment, details?: Record<string, unknown>, stage = 'PRE_SCALE_UP') => ({
    executionId: `${d.arn.split('/').pop()}-${stage}`,
    lifecycleStage: stage,
    resourceArn: d.arn,
    executionDetails: {
      serviceArn: SERVICE_ARN,
      targetServiceRevisionArn: d.targetRevision,
      testTrafficWeights: {},
      productionTrafficWeights: {},
    },
    ...(details ? { hookDetails: details } : {}),
  });

  /** ECS's loop: invoke, and while IN_PROGRESS wait callBackDelay and invoke again with the hookDetails. */
  async function drive(d: WorldDeployment, env: Record<string, string> = ENV) {
    const hook = createHandler({ env, now: clock.now, log: quiet });
    const answers: LifecycleHookResponse[] = [];
    let details: Record<string, unknown> | undefined;
    for (let i = 0; i < 400; i++) {
      const a = await hook(event(d, details));
      answers.push(a);
      if (a.hookStatus !== 'IN_PROGRESS') break;
      details = a.hookDetails;
      clock.advance((a.callBackDelay ?? 30) * 1000);
    }
    return { answers, last: answers.at(-1) };
  }

  it('waits for this deployment’s pre-deploy snapshot, then runs the target task definition once with the command override; SUCCEEDED on exit 0', async () => {
    const d = release();
    snapshotOf(world.deploy({ td: 39, startedMinutesAgo: 9000, finishedMinutesAgo: 8990 }), 0); // another deployment's
    snapshotOf(d, 4);
    tasks.script = { kind: 'exit', code: 0, runMinutes: 3 };
    const { answers, last } = await drive(d);
    assert.equal(last?.hookStatus, 'SUCCEEDED');
    assert.equal(tasks.runCalls.length, 1, 'one task per deployment');
    const run = tasks.runCalls[0]!;
    assert.equal(run.taskDefinition, td(41), 'the TARGET revision’s task definition');
    assert.equal(run.launchType, 'FARGATE');
    assert.equal(run.startedBy, startedByFor(d.arn));
    assert.deepEqual(run.overrides?.containerOverrides, [{ name: 'web', command: ['flask', 'db', 'upgrade'] }]);
    assert.deepEqual(run.networkConfiguration?.awsvpcConfiguration, {
      subnets: ['subnet-0a1b2c3d4e5f60718', 'subnet-0b2c3d4e5f6071829'],
      securityGroups: ['sg-0c3d4e5f60718293a'],
      assignPublicIp: 'DISABLED',
    });
    // Started only once the snapshot was available (4 min = 8 callbacks of 30 s).
    const startedAt = answers.findIndex((a) => typeof a.hookDetails?.['taskArn'] === 'string');
    assert.ok(startedAt >= 8, `task started at answer ${startedAt}`);
    assert.ok(answers.slice(0, -1).every((a) => a.hookStatus === 'IN_PROGRESS' && a.callBackDelay === 30));
    assert.equal(published().length, 0);
  });

  it('a release command that exits 1 answers FAILED and notifies with the exit code and the task’s last log lines', async () => {
    const d = release();
    snapshotOf(d, 0);
    tasks.script = {
      kind: 'exit',
      code: 1,
      runMinutes: 1,
      log: [
        'INFO  [alembic.runtime.migration] Running upgrade 3f2a -> 9c1d, add invoices.due_at',
        'sqlalchemy.exc.ProgrammingError: (psycopg2.errors.DuplicateColumn) column "due_at" already exists',
        '[SQL: ALTER TABLE invoices ADD COLUMN due_at TIMESTAMP]',
        'Error: migration failed',
      ],
    };
    const { last } = await drive(d);
    assert.equal(last?.hookStatus, 'FAILED');
    assert.match(String(last?.hookDetails?.['reason']), /exited with code 1/);
    assert.equal(published().length, 1);
    const message = String(published()[0]?.Message);
    assert.equal(published()[0]?.TopicArn, TOPIC_ARN);
    assert.match(String(published()[0]?.Subject), /release command failed/);
    assert.match(message, /exited with code 1/);
    assert.match(message, /DuplicateColumn/);
    assert.match(message, /Error: migration failed/);
    assert.doesNotMatch(message, /Running upgrade 3f2a/, 'only the last LOG_LINES (3) lines');
    assert.match(message, /\["flask","db","upgrade"\]/);
    const stream = logs.commandCalls(GetLogEventsCommand)[0]?.args[0].input;
    assert.equal(stream?.logGroupName, 'softfactory-prod/app');
    assert.equal(stream?.startFromHead, false);
    assert.equal(stream?.logStreamName, logStreamOf(tasks.tasks[0]!.arn, 'web', 'web'));
  });

  it('a task stopped without an exit code (the image never pulled) answers FAILED with the stop reason', async () => {
    const d = release();
    snapshotOf(d, 0);
    tasks.script = {
      kind: 'never-starts',
      reason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)',
    };
    const { last } = await drive(d);
    assert.equal(last?.hookStatus, 'FAILED');
    assert.match(
      String(last?.hookDetails?.['reason']),
      /stopped without an exit code.*TaskFailedToStart.*CannotPullContainerError/,
    );
    assert.match(String(published()[0]?.Message), /No log lines/);
  });

  it('a command still running after COMMAND_TIMEOUT_MINUTES is stopped and answers FAILED', async () => {
    const d = release();
    snapshotOf(d, 0);
    tasks.script = { kind: 'exit', code: 0, runMinutes: 60 };
    const { last } = await drive(d);
    assert.equal(last?.hookStatus, 'FAILED');
    assert.match(String(last?.hookDetails?.['reason']), /longer than 10 min/);
    assert.equal(tasks.stopCalls.length, 1);
    assert.equal(tasks.stopCalls[0]?.task, tasks.tasks[0]?.arn);
  });

  it('an answer lost after the task started: the re-invocation without hookDetails finds the task by startedBy (running, then stopped) and starts no second one', async () => {
    const d = release();
    snapshotOf(d, 0);
    tasks.pageSize = 1; // ListTasks pages: the lookup must follow nextToken
    // Other tasks of the family (a person's one-off, already stopped), so the match on startedBy matters.
    tasks.script = { kind: 'exit', code: 3, runMinutes: 0 };
    const ecs = new ECSClient({ region: 'eu-west-1' });
    for (const who of ['ops:alice', 'ops:bob']) {
      await ecs.send(new RunTaskCommand({ cluster: 'softfactory-prod', taskDefinition: td(41), startedBy: who }));
    }
    clock.advance(2 * MIN);
    tasks.runCalls.length = 0;
    tasks.script = { kind: 'exit', code: 0, runMinutes: 2 };
    const hook = createHandler({ env: ENV, now: clock.now, log: quiet });
    const first = await hook(event(d));
    const second = await hook(event(d));
    assert.equal(first.hookStatus, 'IN_PROGRESS');
    assert.equal(tasks.runCalls.length, 1, 'started once');
    // ECS lost both answers; while running and after it stopped, a fresh invocation adopts the same task.
    clock.advance(1.5 * MIN);
    assert.equal((await hook(event(d))).hookStatus, 'IN_PROGRESS');
    clock.advance(5 * MIN);
    const done = await hook(event(d));
    assert.equal(done.hookStatus, 'SUCCEEDED');
    assert.equal(done.hookDetails?.['taskArn'], tasks.tasks[2]?.arn);
    assert.equal(tasks.runCalls.length, 1, 'never a second task');
    assert.equal(second.hookStatus, 'IN_PROGRESS');
  });

  it('our own rollback (a revert to an older revision of the family) answers SUCCEEDED at once, without a task or a snapshot wait', async () => {
    const good = world.deploy({ td: 40, startedMinutesAgo: 300, finishedMinutesAgo: 280 });
    const bad = world.deploy({ td: 41, startedMinutesAgo: 60, finishedMinutesAgo: 40, from: [good.targetRevision] });
    const revert = world.deploy({
      td: 40,
      status: 'IN_PROGRESS',
      startedMinutesAgo: 0,
      stage: 'PRE_SCALE_UP',
      from: [bad.targetRevision],
    });
    const { answers, last } = await drive(revert);
    assert.equal(answers.length, 1);
    assert.equal(last?.hookStatus, 'SUCCEEDED');
    assert.match(String(last?.hookDetails?.['skipped']), /not run for a rollback/);
    assert.equal(tasks.runCalls.length, 0);
    assert.equal(rds.commandCalls(DescribeDBSnapshotsCommand).length, 0);
  });

  it('invoked at another stage, or with a malformed event, it runs nothing', async () => {
    const d = release();
    const hook = createHandler({ env: ENV, now: clock.now, log: quiet });
    assert.equal((await hook(event(d, undefined, 'POST_TEST_TRAFFIC_SHIFT'))).hookStatus, 'SUCCEEDED');
    assert.equal((await hook({ lifecycleStage: 'PRE_SCALE_UP' })).hookStatus, 'FAILED');
    assert.equal(world.ecs.commandCalls(RunTaskCommand).length, 0);
  });

  it('no pre-deploy snapshot of this deployment within SNAPSHOT_WAIT_MINUTES: FAILED and no task (another deployment’s snapshot does not count)', async () => {
    const d = release();
    snapshotOf(
      d,
      0,
      'arn:aws:ecs:eu-west-1:123456789012:service-deployment/softfactory-prod/softfactory-prod-web/other',
    );
    const { answers, last } = await drive(d);
    assert.equal(last?.hookStatus, 'FAILED');
    assert.match(String(last?.hookDetails?.['reason']), /without a pre-deploy snapshot/);
    assert.ok(answers.length >= 40, `${answers.length} answers over 20 minutes`);
    assert.equal(tasks.runCalls.length, 0);
  });

  it('RunTask placement failures for capacity are retried; other placement failures answer FAILED', async () => {
    const d = release();
    snapshotOf(d, 0);
    tasks.placementFailures = [{ reason: 'RESOURCE:ENI', detail: 'no ENI capacity in subnet' }];
    const ok = await drive(d);
    assert.equal(ok.last?.hookStatus, 'SUCCEEDED');
    assert.equal(tasks.runCalls.length, 2);

    const d2 = world.deploy({
      td: 42,
      status: 'IN_PROGRESS',
      startedMinutesAgo: 0,
      stage: 'PRE_SCALE_UP',
      from: [d.targetRevision],
    });
    snapshotOf(d2, 0);
    tasks.placementFailures = [{ arn: td(42), reason: 'MISSING' }];
    const bad = await drive(d2);
    assert.equal(bad.last?.hookStatus, 'FAILED');
    assert.match(
      String(bad.last?.hookDetails?.['reason']),
      /could not start the release task after 1 attempt\(s\): MISSING/,
    );
  });

  it('a misconfigured function (no RELEASE_COMMAND) answers FAILED with the reason instead of throwing', async () => {
    const d = release();
    const { RELEASE_COMMAND: _, ...rest } = ENV;
    const { last } = await drive(d, rest);
    assert.equal(last?.hookStatus, 'FAILED');
    assert.match(String(last?.hookDetails?.['reason']), /RELEASE_COMMAND/);
  });
});

describe('release command: pure rules', () => {
  it('startedBy is derived from the service deployment id, within RunTask’s 128-character alphabet', () => {
    const s = startedByFor(
      'arn:aws:ecs:eu-west-1:123456789012:service-deployment/softfactory-prod/softfactory-prod-web/d4XLHfjm_yrz-EmM',
    );
    assert.equal(s, 'sf-release-d4XLHfjm_yrz-EmM');
    assert.match(startedByFor(`x/${'é:'.repeat(300)}`), /^[A-Za-z0-9_/-]{1,128}$/);
    assert.ok(startedByFor(`x/${'a'.repeat(500)}`).length <= 128);
  });

  it('only STOPPED with exit code 0 succeeds', () => {
    const base = { arn: 'arn:aws:ecs:eu-west-1:123456789012:task/softfactory-prod/abc' };
    assert.equal(taskVerdict({ ...base, lastStatus: 'RUNNING', exitCode: 0 }).kind, 'running');
    assert.equal(taskVerdict({ ...base, lastStatus: 'DEPROVISIONING', exitCode: 0 }).kind, 'running');
    assert.equal(taskVerdict({ ...base, lastStatus: 'STOPPED', exitCode: 0 }).kind, 'succeeded');
    assert.equal(taskVerdict({ ...base, lastStatus: 'STOPPED', exitCode: 2 }).kind, 'failed');
    assert.equal(taskVerdict({ ...base, lastStatus: 'STOPPED', stopCode: 'SpotInterruption' }).kind, 'failed');
  });

  it('a snapshot of this deployment that is still creating is not yet enough', () => {
    const scope = { stage: 'prod', prefix: 'sf-prod-predeploy', deployment: 'arn:d1' };
    const tags = { [PREDEPLOY_TAG]: 'true', [STAGE_TAG]: 'prod', [DEPLOYMENT_TAG]: 'arn:d1' };
    assert.equal(snapshotState([{ id: 'sf-prod-predeploy-a', status: 'creating', tags }], scope).kind, 'waiting');
    assert.equal(snapshotState([{ id: 'sf-prod-predeploy-a', status: 'available', tags }], scope).kind, 'available');
    assert.equal(snapshotState([{ id: 'other-a', status: 'available', tags }], scope).kind, 'waiting');
  });
});
