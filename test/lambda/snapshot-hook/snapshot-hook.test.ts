/**
 * The PRE_SCALE_UP snapshot hook through its handler, with RDS mocked at the SDK boundary and answering from
 * a small in-memory set of snapshots.
 */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { DescribeServiceDeploymentsCommand, DescribeServiceRevisionsCommand, ECSClient } from '@aws-sdk/client-ecs';
import {
  CreateDBSnapshotCommand,
  type CreateDBSnapshotCommandInput,
  type DBSnapshot,
  DBSnapshotNotFoundFault,
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  type DescribeDBSnapshotsCommandInput,
  InvalidDBInstanceStateFault,
  RDSClient,
  SnapshotQuotaExceededFault,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import type { LifecycleHookResponse } from '../../../lambda/shared/lifecycle-hook';
import type { HookLog } from '../../../lambda/snapshot-hook/core';
import { createHandler } from '../../../lambda/snapshot-hook/handler';

const ACCOUNT = '123456789012';
const DB = 'softfactory-prod-db';
const SERVICE_ARN = `arn:aws:ecs:eu-west-1:${ACCOUNT}:service/softfactory-prod/softfactory-prod-web`;
const TARGET = `arn:aws:ecs:eu-west-1:${ACCOUNT}:service-revision/softfactory-prod/softfactory-prod-web/4980306466373585014`;
const DEPLOYMENT = `arn:aws:ecs:eu-west-1:${ACCOUNT}:service-deployment/softfactory-prod/softfactory-prod-web/r9i43YFjvgF_xlg7m2eJ1r`;
const EXECUTION = 'a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const T0 = Date.parse('2025-11-26T10:45:00.000Z');
const NEW_ID = 'sf-prod-predeploy-0e1f2a3b4c5d-20251126104500';
const ENV = {
  STAGE: 'prod',
  DB_INSTANCE_ID: DB,
  RETAIN_SNAPSHOTS: '10',
  CALLBACK_DELAY_SECONDS: '30',
  MAX_WAIT_MINUTES: '60',
  MAX_CREATE_ATTEMPTS: '3',
};

const quiet: HookLog = { info: () => undefined, warn: () => undefined };

function hookEvent(hookDetails?: Record<string, unknown>, stage = 'PRE_SCALE_UP') {
  return {
    executionId: EXECUTION,
    lifecycleStage: stage,
    resourceArn: DEPLOYMENT,
    executionDetails: {
      serviceArn: SERVICE_ARN,
      targetServiceRevisionArn: TARGET,
      testTrafficWeights: {},
      productionTrafficWeights: {},
    },
    ...(hookDetails ? { hookDetails } : {}),
  };
}

function snapshot(id: string, minutesAgo: number, tags: Record<string, string>, status = 'available'): DBSnapshot {
  return {
    DBSnapshotIdentifier: id,
    DBInstanceIdentifier: DB,
    SnapshotCreateTime: new Date(T0 - minutesAgo * 60_000),
    Engine: 'postgres',
    EngineVersion: '17.4',
    SnapshotType: 'manual',
    Status: status,
    PercentProgress: status === 'available' ? 100 : 0,
    Encrypted: true,
    DBSnapshotArn: `arn:aws:rds:eu-west-1:${ACCOUNT}:snapshot:${id}`,
    TagList: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  };
}

const OURS = { 'softfactory:predeploy': 'true', 'softfactory:stage': 'prod' };

describe('pre-deploy snapshot hook', () => {
  const rds = mockClient(RDSClient);
  // A forward release 40 → 41 (not a revert): the hook takes its snapshot.
  const ecs = mockClient(ECSClient);
  ecs.on(DescribeServiceDeploymentsCommand).resolves({
    serviceDeployments: [
      {
        serviceDeploymentArn: DEPLOYMENT,
        targetServiceRevision: { arn: TARGET },
        sourceServiceRevisions: [{ arn: `${TARGET}0` }],
      },
    ],
    failures: [],
  });
  ecs.on(DescribeServiceRevisionsCommand).resolves({
    serviceRevisions: [
      { serviceRevisionArn: TARGET, taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:41' },
      { serviceRevisionArn: `${TARGET}0`, taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:40' },
    ],
    failures: [],
  });
  let snapshots: Map<string, DBSnapshot>;
  let clock: number;
  let handler: (event: unknown) => Promise<LifecycleHookResponse>;
  const created = () => rds.commandCalls(CreateDBSnapshotCommand).map((c) => c.args[0].input);
  const deleted = () => rds.commandCalls(DeleteDBSnapshotCommand).map((c) => c.args[0].input.DBSnapshotIdentifier);

  beforeEach(() => {
    rds.reset();
    snapshots = new Map();
    clock = T0;
    rds.on(CreateDBSnapshotCommand).callsFake(async (input: CreateDBSnapshotCommandInput) => {
      const s = {
        ...snapshot(input.DBSnapshotIdentifier!, 0, {}, 'creating'),
        TagList: input.Tags,
        SnapshotCreateTime: new Date(clock),
      };
      snapshots.set(s.DBSnapshotIdentifier!, s);
      return { DBSnapshot: s };
    });
    rds.on(DescribeDBSnapshotsCommand).callsFake(async (input: DescribeDBSnapshotsCommandInput) => {
      if (input.DBSnapshotIdentifier) {
        const s = snapshots.get(input.DBSnapshotIdentifier);
        if (!s)
          throw new DBSnapshotNotFoundFault({
            message: `DBSnapshot ${input.DBSnapshotIdentifier} not found.`,
            $metadata: {},
          });
        return { DBSnapshots: [s] };
      }
      assert.equal(input.DBInstanceIdentifier, DB);
      assert.equal(input.SnapshotType, 'manual');
      return { DBSnapshots: [...snapshots.values()] };
    });
    rds.on(DeleteDBSnapshotCommand).callsFake(async ({ DBSnapshotIdentifier }) => {
      const s = snapshots.get(DBSnapshotIdentifier!);
      snapshots.delete(DBSnapshotIdentifier!);
      return { DBSnapshot: { ...s, Status: 'deleted' } };
    });
    handler = createHandler({ env: ENV, now: () => new Date(clock), log: quiet });
  });

  after(() => {
    rds.restore();
    ecs.restore();
  });

  const setStatus = (id: string, status: string) => {
    const s = snapshots.get(id)!;
    snapshots.set(id, { ...s, Status: status, PercentProgress: status === 'available' ? 100 : 45 });
  };

  it('answers IN_PROGRESS, IN_PROGRESS, then SUCCEEDED as the snapshot goes from creating to available', async () => {
    const first = await handler(hookEvent());
    clock += 30_000;
    const second = await handler(hookEvent(first.hookDetails));
    setStatus(NEW_ID, 'available');
    clock += 30_000;
    const third = await handler(hookEvent(second.hookDetails));

    assert.deepEqual(first, {
      hookStatus: 'IN_PROGRESS',
      callBackDelay: 30,
      hookDetails: { snapshotId: NEW_ID, snapshotRequestedAt: new Date(T0).toISOString() },
    });
    assert.equal(second.hookStatus, 'IN_PROGRESS');
    assert.equal(second.hookDetails?.['snapshotId'], NEW_ID);
    assert.deepEqual(third, {
      hookStatus: 'SUCCEEDED',
      hookDetails: { snapshotId: NEW_ID, snapshotRequestedAt: new Date(T0).toISOString() },
    });
    assert.deepEqual(created(), [
      {
        DBInstanceIdentifier: DB,
        DBSnapshotIdentifier: NEW_ID,
        Tags: [
          { Key: 'softfactory:predeploy', Value: 'true' },
          { Key: 'softfactory:stage', Value: 'prod' },
          { Key: 'softfactory:service-deployment', Value: DEPLOYMENT },
          { Key: 'softfactory:service-revision', Value: TARGET },
          { Key: 'softfactory:execution-id', Value: EXECUTION },
        ],
      },
    ]);
  });

  it('keeps hook details configured on the service when it adds its own', async () => {
    const answer = await handler(hookEvent({ owner: 'platform-team' }));
    assert.equal(answer.hookDetails?.['owner'], 'platform-team');
    assert.equal(answer.hookDetails?.['snapshotId'], NEW_ID);
  });

  it('answers FAILED with the reason when RDS refuses to create the snapshot', async () => {
    rds.on(CreateDBSnapshotCommand).rejects(
      new SnapshotQuotaExceededFault({
        message: 'Cannot create more than 100 manual snapshots',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const answer = await handler(hookEvent());
    assert.equal(answer.hookStatus, 'FAILED');
    assert.match(String(answer.hookDetails?.['reason']), /manual snapshot quota/);
  });

  it('answers FAILED with the reason when the snapshot itself fails', async () => {
    const first = await handler(hookEvent());
    setStatus(NEW_ID, 'failed');
    const answer = await handler(hookEvent(first.hookDetails));
    assert.equal(answer.hookStatus, 'FAILED');
    assert.equal(answer.hookDetails?.['reason'], `snapshot ${NEW_ID} is failed`);
  });

  it('answers FAILED when the snapshot disappeared between calls', async () => {
    const answer = await handler(
      hookEvent({
        snapshotId: 'sf-prod-predeploy-gone-20251126100000',
        snapshotRequestedAt: new Date(T0).toISOString(),
      }),
    );
    assert.equal(answer.hookStatus, 'FAILED');
    assert.match(String(answer.hookDetails?.['reason']), /no longer exists/);
  });

  it('retries while the instance is busy, then gives up with FAILED', async () => {
    rds.on(CreateDBSnapshotCommand).rejects(
      new InvalidDBInstanceStateFault({
        message: `Cannot create a snapshot because the database instance ${DB} is not currently in the available state.`,
        $metadata: {},
      }),
    );
    const a = await handler(hookEvent());
    const b = await handler(hookEvent(a.hookDetails));
    const c = await handler(hookEvent(b.hookDetails));
    assert.deepEqual([a.hookStatus, b.hookStatus, c.hookStatus], ['IN_PROGRESS', 'IN_PROGRESS', 'FAILED']);
    assert.equal(c.hookDetails?.['createAttempts'], 3);
    assert.match(String(c.hookDetails?.['reason']), /after 3 attempt\(s\): InvalidDBInstanceStateFault/);
  });

  it('gives up when the snapshot is not available within the maximum wait', async () => {
    const first = await handler(hookEvent());
    clock += 61 * 60_000;
    const answer = await handler(hookEvent(first.hookDetails));
    assert.equal(answer.hookStatus, 'FAILED');
    assert.match(String(answer.hookDetails?.['reason']), /still creating after 61 min \(limit 60\)/);
  });

  it('reuses the snapshot already taken for this execution when ECS calls again without our details', async () => {
    const first = await handler(hookEvent());
    const again = await handler(hookEvent());
    assert.equal(created().length, 1);
    assert.equal(again.hookDetails?.['snapshotId'], first.hookDetails?.['snapshotId']);
  });

  it('keeps the newest 10 of its own snapshots and never touches anyone else’s', async () => {
    for (let i = 1; i <= 12; i++) {
      const id = `sf-prod-predeploy-${String(i).padStart(12, '0')}-202511${String(i).padStart(2, '0')}090000`;
      snapshots.set(id, snapshot(id, (30 - i) * 24 * 60, { ...OURS, 'softfactory:service-revision': `rev-${i}` }));
    }
    const foreign = [
      snapshot('softfactory-prod-db-before-pg17-upgrade', 90 * 24 * 60, {}),
      snapshot('sf-staging-predeploy-000000000001-20251001090000', 60 * 24 * 60, {
        ...OURS,
        'softfactory:stage': 'staging',
      }),
      snapshot('sf-prod-predeploy-untagged-20251002090000', 59 * 24 * 60, {}),
      snapshot('manual-by-alice-20251003', 58 * 24 * 60, OURS),
    ];
    for (const s of foreign) snapshots.set(s.DBSnapshotIdentifier!, s);

    const first = await handler(hookEvent());
    setStatus(NEW_ID, 'available');
    const answer = await handler(hookEvent(first.hookDetails));

    assert.equal(answer.hookStatus, 'SUCCEEDED');
    assert.deepEqual(deleted(), [
      'sf-prod-predeploy-000000000003-20251103090000',
      'sf-prod-predeploy-000000000002-20251102090000',
      'sf-prod-predeploy-000000000001-20251101090000',
    ]);
    for (const s of foreign) assert.ok(snapshots.has(s.DBSnapshotIdentifier!), `${s.DBSnapshotIdentifier} untouched`);
    assert.ok(snapshots.has(NEW_ID));
  });

  it('still succeeds when pruning fails', async () => {
    snapshots.set(
      'sf-prod-predeploy-000000000001-20251101090000',
      snapshot('sf-prod-predeploy-000000000001-20251101090000', 40 * 24 * 60, OURS),
    );
    handler = createHandler({
      env: { ...ENV, RETAIN_SNAPSHOTS: '1' },
      now: () => new Date(clock),
      log: quiet,
    });
    rds.on(DeleteDBSnapshotCommand).rejects(new Error('AccessDenied'));
    const first = await handler(hookEvent());
    setStatus(NEW_ID, 'available');
    assert.equal((await handler(hookEvent(first.hookDetails))).hookStatus, 'SUCCEEDED');
  });

  it('answers SUCCEEDED without a snapshot outside PRE_SCALE_UP, and FAILED for an event it cannot read', async () => {
    assert.deepEqual(await handler(hookEvent(undefined, 'POST_TEST_TRAFFIC_SHIFT')), { hookStatus: 'SUCCEEDED' });
    assert.equal(rds.calls().length, 0);
    const invalid = await handler({ lifecycleStage: 'PRE_SCALE_UP' });
    assert.equal(invalid.hookStatus, 'FAILED');
    assert.match(String(invalid.hookDetails?.['reason']), /not an ECS lifecycle hook event/);
  });
});
