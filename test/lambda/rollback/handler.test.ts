/**
 * The rollback function end to end, through its handler, with ECS, CloudWatch, DynamoDB, SNS and RDS mocked at
 * the SDK boundary (aws-sdk-client-mock) and answering from a small stateful world.
 */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import { ECSServiceException, ListServiceDeploymentsCommand } from '@aws-sdk/client-ecs';
import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { RollbackResult } from '../../../lambda/rollback/contract';
import { createHandler, type SnsBatchResult } from '../../../lambda/rollback/handler';
import type { StructuredLog } from '../../../lambda/shared/log';
import { FakeDynamoTable } from './fake-dynamodb';
import { EcsWorld } from './fake-ecs';
import {
  alarmMessage,
  CLUSTER_ARN,
  DB_INSTANCE,
  ENV,
  ERROR_RATE,
  FakeClock,
  LATENCY,
  pipelineRequest,
  SERVICE_ARN,
  snsEvent,
  T0,
  TABLE,
  td,
  UNHEALTHY,
} from './fixtures';

const MIN = 60_000;

class RecordingLog implements StructuredLog {
  readonly lines: { level: string; message: string; attributes: Record<string, unknown> }[] = [];
  info(message: string, attributes: Record<string, unknown> = {}) {
    this.lines.push({ level: 'INFO', message, attributes });
  }
  warn(message: string, attributes: Record<string, unknown> = {}) {
    this.lines.push({ level: 'WARN', message, attributes });
  }
  error(message: string, attributes: Record<string, unknown> = {}) {
    this.lines.push({ level: 'ERROR', message, attributes });
  }
  decisions() {
    return this.lines.filter((l) => l.message === 'rollback decision').map((l) => l.attributes);
  }
}

/** The one result of an SNS invocation (SNS delivers one record per invocation). */
function only(result: RollbackResult | SnsBatchResult): RollbackResult {
  if ('records' in result) {
    assert.equal(result.records.length, 1);
    const r = result.records[0]!;
    assert.ok(!('reason' in r && r.outcome === 'ignored'), 'record was ignored');
    return r as RollbackResult;
  }
  return result;
}

function snapshot(id: string, minutesAgo: number, revision: string, status = 'available') {
  return {
    DBSnapshotIdentifier: id,
    DBInstanceIdentifier: DB_INSTANCE,
    SnapshotCreateTime: new Date(T0 - minutesAgo * MIN),
    Engine: 'postgres',
    EngineVersion: '17.4',
    SnapshotType: 'manual',
    Status: status,
    PercentProgress: status === 'available' ? 100 : 40,
    Encrypted: true,
    DBSnapshotArn: `arn:aws:rds:eu-west-1:123456789012:snapshot:${id}`,
    TagList: [
      { Key: 'softfactory:predeploy', Value: 'true' },
      { Key: 'softfactory:stage', Value: 'prod' },
      { Key: 'softfactory:service-revision', Value: revision },
    ],
  };
}

describe('rollback function', () => {
  let clock: FakeClock;
  let world: EcsWorld;
  let table: FakeDynamoTable;
  const sns = mockClient(SNSClient);
  const rds = mockClient(RDSClient);
  let log: RecordingLog;
  let handler: ReturnType<typeof createHandler>;

  const published = (): PublishCommandInput[] => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);

  beforeEach(() => {
    clock = new FakeClock();
    world = new EcsWorld(clock);
    table = new FakeDynamoTable(TABLE);
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'b3f1c6a2-6f0e-5d5c-9c8a-1e2f3a4b5c6d' });
    rds.reset();
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    log = new RecordingLog();
    handler = createHandler({ env: ENV, now: clock.now, sleep: clock.sleep, log });
  });

  afterEach(() => {
    world.restore();
    table.restore();
  });

  after(() => {
    sns.restore();
    rds.restore();
  });

  it('rolls a regression after the bake back with exactly one UpdateService to the previous revision', async () => {
    // Given a release (td 41) that finished its bake 10 minutes ago, and the error-rate alarm in ALARM
    const { first, release } = world.standardHistory({ finishedMinutesAgo: 10 });
    world.alarms.set(ERROR_RATE, 'ALARM');
    rds.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [
        snapshot('sf-prod-predeploy-abc123def456-20251126101500', 30, release.targetRevision),
        snapshot('sf-prod-predeploy-0a1b2c3d4e5f-20251124102000', 2 * 24 * 60 + 25, first.targetRevision),
      ],
    });

    // When the alarm notification arrives
    const result = only(await handler(snsEvent(alarmMessage({ at: T0 - 30_000 }))));

    // Then ECS gets one UpdateService back to td 40, nothing else
    assert.deepEqual(world.updateCalls, [{ cluster: CLUSTER_ARN, service: SERVICE_ARN, taskDefinition: td(40) }]);
    assert.equal(world.stopCalls.length, 0);
    assert.equal(result.outcome, 'acted');
    assert.equal(result.decision?.code, 'ROLL_BACK_COMPLETED');
    assert.equal(result.decision?.fromRevision, release.targetRevision);
    assert.equal(result.decision?.toRevision, first.targetRevision);
    assert.equal(result.serviceDeploymentArn, world.currentServiceDeployment);
    assert.equal(result.database?.snapshotId, 'sf-prod-predeploy-abc123def456-20251126101500');

    // And the notification names the revisions, the alarm, the snapshot and the restore procedure
    const [report] = published();
    assert.ok(report);
    assert.match(report.Subject ?? '', /^\[softfactory-prod\] rollback: ROLLED BACK \(ROLL_BACK_COMPLETED\)$/);
    assert.match(report.Message ?? '', /UpdateService → task definition softfactory-prod-web:40/);
    assert.match(report.Message ?? '', /Rolled back from: .*\[softfactory-prod-web:41\]/);
    assert.match(report.Message ?? '', new RegExp(`CloudWatch alarm ${ERROR_RATE} \\(OK → ALARM`));
    assert.match(report.Message ?? '', /sf-prod-predeploy-abc123def456-20251126101500/);
    assert.match(report.Message ?? '', /restore-db-instance-from-db-snapshot/);
    assert.deepEqual(report.MessageAttributes, {
      'softfactory:origin': { DataType: 'String', StringValue: 'rollback-function' },
    });

    // And the records say it happened, and the lock is free again
    const items = table.itemsOf(SERVICE_ARN);
    assert.equal(items[`incident#${release.arn}`]?.['state'], 'done');
    assert.equal(items['last-rollback']?.['state'], 'done');
    assert.equal(items['last-rollback']?.['createdDeploymentArn'], world.currentServiceDeployment);
    assert.equal(items['lock'], undefined);
    assert.equal(log.decisions()[0]?.['code'], 'ROLL_BACK_COMPLETED');
  });

  it('makes one ECS change when the same SNS message is delivered 10 times', async () => {
    world.standardHistory({ finishedMinutesAgo: 10 });
    world.alarms.set(ERROR_RATE, 'ALARM');
    const event = snsEvent(alarmMessage(), { messageId: '5b1f0d6e-3c2a-5e8f-9b7d-0a1c2e3f4a5b' });

    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      outcomes.push(only(await handler(event)).outcome);
      clock.advance(5_000);
    }

    assert.equal(world.changes, 1);
    assert.equal(world.updateCalls.length, 1);
    assert.deepEqual(outcomes, ['acted', ...Array(9).fill('satisfied')]);
    assert.ok(
      log
        .decisions()
        .slice(1)
        .every((d) => d['code'] === 'ALREADY_HANDLED'),
    );
  });

  it('makes one ECS change when 10 copies of the message arrive at the same time', async () => {
    world.standardHistory({ finishedMinutesAgo: 10 });
    world.alarms.set(ERROR_RATE, 'ALARM');
    const event = snsEvent(alarmMessage(), { messageId: '5b1f0d6e-3c2a-5e8f-9b7d-0a1c2e3f4a5c' });

    const results = await Promise.all(Array.from({ length: 10 }, () => handler(event)));

    assert.equal(world.changes, 1);
    assert.equal(results.map(only).filter((r) => r.outcome === 'acted').length, 1);
    assert.equal(results.map(only).filter((r) => r.outcome === 'satisfied').length, 9);
    assert.ok(table.calls.conditionFailures > 0, 'the copies really contended for the lock');
    assert.equal(table.get(SERVICE_ARN, 'lock'), undefined);
  });

  it('makes one change when three different rollback alarms fire within 60 seconds', async () => {
    world.standardHistory({ finishedMinutesAgo: 10 });
    for (const name of [ERROR_RATE, LATENCY, UNHEALTHY]) world.alarms.set(name, 'ALARM');

    const results: RollbackResult[] = [];
    for (const name of [ERROR_RATE, LATENCY, UNHEALTHY]) {
      results.push(only(await handler(snsEvent(alarmMessage({ name, at: clock.t - 5_000 })))));
      clock.advance(20_000);
    }

    assert.equal(world.changes, 1);
    assert.deepEqual(
      results.map((r) => [r.outcome, r.decision?.code]),
      [
        ['acted', 'ROLL_BACK_COMPLETED'],
        ['satisfied', 'ALREADY_HANDLED'],
        ['satisfied', 'ALREADY_HANDLED'],
      ],
    );
    assert.equal(published().length, 3, 'every decision is reported');
  });

  it('does nothing when an alarm arrives while ECS is already rolling back', async () => {
    world.standardHistory({ status: 'ROLLBACK_IN_PROGRESS', stage: 'PRODUCTION_TRAFFIC_SHIFT' });
    world.alarms.set(ERROR_RATE, 'ALARM');

    const result = only(await handler(snsEvent(alarmMessage())));

    assert.equal(world.updateCalls.length + world.stopCalls.length, 0);
    assert.equal(result.outcome, 'satisfied');
    assert.equal(result.decision?.code, 'ECS_ALREADY_ROLLING_BACK');
    assert.match(published()[0]?.Message ?? '', /ECS is already stopping\/rolling back/);
  });

  it('stops a deployment still in its bake time with StopServiceDeployment ROLLBACK, once', async () => {
    const { release } = world.standardHistory({ status: 'IN_PROGRESS', stage: 'BAKE_TIME' });
    world.alarms.set(ERROR_RATE, 'ALARM');
    world.alarms.set(LATENCY, 'ALARM');

    const first = only(await handler(snsEvent(alarmMessage())));
    clock.advance(30_000);
    const second = only(await handler(snsEvent(alarmMessage({ name: LATENCY }))));

    assert.deepEqual(world.stopCalls, [{ serviceDeploymentArn: release.arn, stopType: 'ROLLBACK' }]);
    assert.equal(world.updateCalls.length, 0);
    assert.equal(first.outcome, 'acted');
    assert.equal(first.decision?.code, 'STOP_IN_FLIGHT');
    assert.equal(first.decision?.taskDefinition, td(40));
    assert.equal(second.outcome, 'satisfied');
  });

  it('treats ECS refusing to stop a deployment it is already rolling back as done', async () => {
    const { release } = world.standardHistory({ status: 'IN_PROGRESS', stage: 'BAKE_TIME' });
    world.alarms.set(ERROR_RATE, 'ALARM');
    // ECS's own deployment alarm wins the race between our read and our call
    world.beforeStop = () => {
      const d = world.deployments.find((x) => x.arn === release.arn)!;
      d.status = 'ROLLBACK_IN_PROGRESS';
    };

    const result = only(await handler(snsEvent(alarmMessage())));

    assert.equal(world.stopCalls.length, 1);
    assert.equal(world.changes, 0);
    assert.equal(result.outcome, 'satisfied');
    assert.equal(result.decision?.code, 'ECS_ALREADY_ROLLING_BACK');
    assert.equal(table.get(SERVICE_ARN, `incident#${release.arn}`)?.['state'], 'done');
  });

  it('makes one change when a pipeline request and an alarm arrive at once', async () => {
    world.standardHistory({ finishedMinutesAgo: 10 });
    world.alarms.set(ERROR_RATE, 'ALARM');

    const [fromPipeline, fromAlarm] = await Promise.all([
      handler(pipelineRequest()),
      handler(snsEvent(alarmMessage())),
    ]);

    assert.equal(world.changes, 1);
    const outcomes = [only(fromPipeline).outcome, only(fromAlarm).outcome].sort();
    assert.deepEqual(outcomes, ['acted', 'satisfied']);
  });

  it('does not act on a first-ever deployment, and says why', async () => {
    world.deploy({ td: 40, startedMinutesAgo: 30, finishedMinutesAgo: 12 });
    world.alarms.set(ERROR_RATE, 'ALARM');

    const result = only(await handler(snsEvent(alarmMessage())));

    assert.equal(world.changes, 0);
    assert.equal(result.outcome, 'refused');
    assert.equal(result.decision?.code, 'FIRST_DEPLOYMENT');
    const [report] = published();
    assert.match(report?.Subject ?? '', /no action \(FIRST_DEPLOYMENT\)/);
    assert.match(report?.Message ?? '', /first successful deployment; there is no previous revision to return to/);
  });

  it('fails after the bounded SDK retries when ECS throttles, changing nothing, so Lambda sends the event to the DLQ', async () => {
    world.standardHistory({ finishedMinutesAgo: 10 });
    world.alarms.set(ERROR_RATE, 'ALARM');
    world.ecs.on(ListServiceDeploymentsCommand).rejects(
      new ECSServiceException({
        name: 'ThrottlingException',
        message: 'Rate exceeded',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    await assert.rejects(handler(snsEvent(alarmMessage())), /Rate exceeded/);

    assert.equal(world.changes, 0);
    assert.equal(table.get(SERVICE_ARN, 'lock'), undefined, 'lock released');
    assert.deepEqual(Object.keys(table.itemsOf(SERVICE_ARN)), [], 'no incident claimed');
  });

  it('does not make a second, conflicting change when retried after a timeout mid-rollback', async () => {
    world.standardHistory({ finishedMinutesAgo: 10 });
    world.alarms.set(ERROR_RATE, 'ALARM');
    // ECS applies the UpdateService, but the answer never arrives
    world.failNextUpdate = {
      error: Object.assign(new Error('Connection timed out after 5000 ms'), { name: 'TimeoutError' }),
      applyFirst: true,
    };
    const event = snsEvent(alarmMessage());

    await assert.rejects(handler(event), /may have taken effect/);
    clock.advance(60_000); // Lambda's first async retry
    const retry = only(await handler(event));

    assert.equal(world.updateCalls.length, 1, 'no second UpdateService');
    assert.equal(world.changes, 1);
    assert.equal(retry.outcome, 'satisfied');
    assert.equal(retry.decision?.code, 'EARLIER_ATTEMPT_LANDED');
    assert.equal(table.get(SERVICE_ARN, 'last-rollback')?.['state'], 'done');
  });

  it('acts once when the timed-out call never reached ECS: waits out the grace period, then retakes', async () => {
    const { release } = world.standardHistory({ finishedMinutesAgo: 10 });
    world.alarms.set(ERROR_RATE, 'ALARM');
    world.failNextUpdate = {
      error: Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }),
      applyFirst: false,
    };
    const event = snsEvent(alarmMessage());

    await assert.rejects(handler(event), /may have taken effect/);
    clock.advance(60_000);
    await assert.rejects(handler(event), { name: 'RetryLaterError' });
    clock.advance(120_000);
    const third = only(await handler(event));

    assert.equal(world.updateCalls.length, 2, 'the lost call and the one retake');
    assert.equal(world.changes, 1);
    assert.equal(third.outcome, 'acted');
    assert.equal(table.get(SERVICE_ARN, `incident#${release.arn}`)?.['state'], 'done');
  });

  it('does not report success for an incident whose claimant died before acting; retakes it after the grace period', async () => {
    const { release } = world.standardHistory({ finishedMinutesAgo: 10 });
    world.alarms.set(ERROR_RATE, 'ALARM');
    // An attempt claimed the incident and was killed before it wrote its plan or called ECS
    table.items.set(`${SERVICE_ARN}\u0000incident#${release.arn}`, {
      pk: { S: SERVICE_ARN },
      sk: { S: `incident#${release.arn}` },
      state: { S: 'acting' },
      owner: { S: 'dead-attempt' },
      action: { S: 'update-service' },
      updatedAt: { S: new Date(clock.t - 30_000).toISOString() },
    });
    const event = snsEvent(alarmMessage());

    await assert.rejects(handler(event), { name: 'RetryLaterError' });
    assert.equal(world.changes, 0);
    clock.advance(2 * MIN);
    const retry = only(await handler(event));

    assert.equal(retry.outcome, 'acted');
    assert.equal(world.changes, 1);
  });

  it('answers malformed input without acting and without throwing (no retry storm)', async () => {
    const results = [
      only(await handler(snsEvent('ALARM: error rate high'))),
      only(await handler(snsEvent({ NewStateValue: 'ALARM', Region: 'EU (Ireland)' }))),
      only(await handler(pipelineRequest({ reason: undefined }))),
      only(await handler({ detail: 'not for us' })),
    ];

    assert.deepEqual(
      results.map((r) => r.outcome),
      ['invalid', 'invalid', 'invalid', 'invalid'],
    );
    assert.match(results[0]?.error ?? '', /is not JSON/);
    assert.match(results[1]?.error ?? '', /AlarmName/);
    assert.ok(results[2]?.issues?.some((i) => i.startsWith('reason')));
    assert.equal(world.ecs.calls().length, 0, 'no ECS call');
    assert.equal(table.calls.put, 0, 'no lock taken');
    assert.equal(published().length, 4, 'each one reported');
  });

  it('drops its own reports delivered back by the topic, silently', async () => {
    const result = await handler(
      snsEvent('SoftFactory prod: no action', { attributes: { 'softfactory:origin': 'rollback-function' } }),
    );

    assert.equal((result as SnsBatchResult).records[0]?.outcome, 'ignored');
    assert.equal(published().length, 0);
    assert.equal(world.ecs.calls().length, 0);
  });

  it('ignores OK transitions without calling ECS', async () => {
    world.standardHistory();
    const result = only(await handler(snsEvent(alarmMessage({ newState: 'OK' }))));

    assert.equal(result.decision?.code, 'NOT_IN_ALARM');
    assert.equal(world.ecs.calls().length, 0);
    assert.match(published()[0]?.Message ?? '', /changed ALARM → OK/);
  });

  it('ignores a stale notification whose alarm is no longer in ALARM', async () => {
    world.standardHistory();
    world.alarms.set(ERROR_RATE, 'OK');
    const result = only(await handler(snsEvent(alarmMessage())));
    assert.equal(result.decision?.code, 'STALE_ALARM');
    assert.equal(world.changes, 0);
  });

  it('prints the decision without acting or notifying on a dry run', async () => {
    world.standardHistory({ finishedMinutesAgo: 10 });
    const result = only(await handler(pipelineRequest({ dryRun: true })));

    assert.equal(result.outcome, 'would-act');
    assert.equal(result.dryRun, true);
    assert.equal(result.decision?.taskDefinition, td(40));
    assert.equal(world.changes, 0);
    assert.equal(published().length, 0);
    assert.equal(table.calls.put, 0);
  });

  it('lets a pipeline roll back outside the watch window, to an explicit revision', async () => {
    const { first } = world.standardHistory({ finishedMinutesAgo: 5 * 60 });
    const alarmResult = only(await handler(snsEvent(alarmMessage())));
    world.alarms.set(ERROR_RATE, 'ALARM');
    const alarmResult2 = only(await handler(snsEvent(alarmMessage())));

    const result = only(await handler(pipelineRequest({ toRevision: first.targetRevision })));

    assert.equal(alarmResult.decision?.code, 'STALE_ALARM');
    assert.equal(alarmResult2.decision?.code, 'OUTSIDE_WINDOW');
    assert.equal(result.outcome, 'acted');
    assert.deepEqual(world.updates, [{ cluster: CLUSTER_ARN, service: SERVICE_ARN, taskDefinition: td(40) }]);
  });

  it('never rolls back its own rollback, and keeps the cooldown', async () => {
    world.standardHistory({ finishedMinutesAgo: 10 });
    world.alarms.set(ERROR_RATE, 'ALARM');
    only(await handler(snsEvent(alarmMessage())));
    // the rollback deployment bakes and completes; the alarm is still in ALARM
    clock.advance(15 * MIN);
    world.complete(world.currentServiceDeployment);
    const onRollback = only(await handler(snsEvent(alarmMessage({ at: clock.t - 10_000 }))));
    // someone deploys a fix (td 42) that fails again, still within the cooldown
    clock.advance(5 * MIN);
    world.deploy({
      td: 42,
      startedMinutesAgo: 4,
      finishedMinutesAgo: 1,
      from: [world.deployments.at(-1)!.targetRevision],
    });
    const inCooldown = only(await handler(snsEvent(alarmMessage({ at: clock.t - 10_000 }))));

    assert.equal(world.changes, 1);
    assert.equal(onRollback.decision?.code, 'ALREADY_HANDLED');
    assert.equal(inCooldown.decision?.code, 'COOLDOWN');
  });
});
