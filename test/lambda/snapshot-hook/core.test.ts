/** Pure parts of the snapshot hook: identifiers, ownership, pruning choice, and the snapshot to name. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isOurSnapshot, newestPredeploySnapshot, type SnapshotInfo } from '../../../lambda/shared/snapshots';
import {
  isValidSnapshotId,
  selectForPruning,
  snapshotIdFor,
  snapshotProgress,
} from '../../../lambda/snapshot-hook/core';
import { loadSnapshotHookConfig } from '../../../lambda/snapshot-hook/env';

const T0 = Date.parse('2025-11-26T10:45:00.000Z');
const tags = (stage = 'prod', extra: Record<string, string> = {}) => ({
  'softfactory:predeploy': 'true',
  'softfactory:stage': stage,
  ...extra,
});
const snap = (id: string, days: number, t: Record<string, string> = tags(), status = 'available'): SnapshotInfo => ({
  id,
  status,
  createdAt: new Date(T0 - days * 86_400_000),
  tags: t,
});
const scope = { stage: 'prod', prefix: 'sf-prod-predeploy' };

describe('snapshot hook core', () => {
  it('builds valid RDS identifiers from any execution id', () => {
    const now = new Date(T0);
    assert.equal(
      snapshotIdFor('sf-prod-predeploy', 'a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d', now),
      'sf-prod-predeploy-0e1f2a3b4c5d-20251126104500',
    );
    assert.equal(snapshotIdFor('sf-prod-predeploy', '---', now), 'sf-prod-predeploy-deployment-20251126104500');
    for (const id of [snapshotIdFor('sf-dev-predeploy', 'X_Y:Z/1', now), 'a', 'sf-prod-predeploy-1'])
      assert.ok(isValidSnapshotId(id), id);
    for (const id of ['1abc', 'a--b', 'a-', 'a_b', 'x'.repeat(256)]) assert.equal(isValidSnapshotId(id), false, id);
  });

  it('calls a snapshot ours only with our prefix, the predeploy tag and our stage', () => {
    assert.equal(isOurSnapshot(snap('sf-prod-predeploy-a-1', 1), scope), true);
    assert.equal(isOurSnapshot(snap('sf-prod-predeploy-a-1', 1, tags('staging')), scope), false);
    assert.equal(isOurSnapshot(snap('sf-prod-predeploy-a-1', 1, {}), scope), false);
    assert.equal(isOurSnapshot(snap('manual-a-1', 1), scope), false);
    assert.equal(isOurSnapshot(snap('sf-prod-predeployx-1', 1), scope), false);
  });

  it('prunes the oldest available ones beyond the retention, never one being created or protected', () => {
    const list = [
      snap('sf-prod-predeploy-a-5', 5),
      snap('sf-prod-predeploy-a-1', 1),
      snap('sf-prod-predeploy-a-9', 9),
      snap('sf-prod-predeploy-a-0', 0, tags(), 'creating'),
      snap('sf-prod-predeploy-a-7', 7),
      snap('someone-else-20', 20, {}),
    ];
    assert.deepEqual(
      selectForPruning(list, { ...scope, retain: 2 }).map((s) => s.id),
      ['sf-prod-predeploy-a-7', 'sf-prod-predeploy-a-9'],
    );
    assert.deepEqual(
      selectForPruning(list, { ...scope, retain: 2 }, ['sf-prod-predeploy-a-9']).map((s) => s.id),
      ['sf-prod-predeploy-a-7'],
    );
  });

  it('names the snapshot of the rolled-back revision, else the newest available one', () => {
    const list = [
      snap('sf-prod-predeploy-a-3', 3, tags('prod', { 'softfactory:service-revision': 'rev-41' })),
      snap('sf-prod-predeploy-a-1', 1, tags('prod', { 'softfactory:service-revision': 'rev-42' })),
      snap('sf-prod-predeploy-a-0', 0, tags('prod', { 'softfactory:service-revision': 'rev-43' }), 'creating'),
    ];
    assert.equal(newestPredeploySnapshot(list, { ...scope, revisionArn: 'rev-41' })?.id, 'sf-prod-predeploy-a-3');
    assert.equal(newestPredeploySnapshot(list, { ...scope, revisionArn: 'rev-99' })?.id, 'sf-prod-predeploy-a-1');
    assert.equal(newestPredeploySnapshot([], scope), undefined);
  });

  it('reads snapshot statuses', () => {
    assert.deepEqual(snapshotProgress(snap('s', 0, {}, 'available')), { kind: 'available' });
    assert.deepEqual(snapshotProgress(snap('s', 0, {}, 'creating')), { kind: 'waiting' });
    assert.equal(snapshotProgress(snap('s', 0, {}, 'failed')).kind, 'failed');
    assert.deepEqual(snapshotProgress(snap('s', 0, {}, 'something-new')), { kind: 'waiting' });
  });

  it('validates its environment with messages that say what to change', () => {
    assert.deepEqual(loadSnapshotHookConfig({ STAGE: 'prod', DB_INSTANCE_ID: 'softfactory-prod-db' }), {
      stage: 'prod',
      dbInstanceId: 'softfactory-prod-db',
      prefix: 'sf-prod-predeploy',
      retain: 10,
      callbackDelaySeconds: 30,
      maxWaitMinutes: 60,
      maxCreateAttempts: 10,
    });
    assert.throws(
      () => loadSnapshotHookConfig({ STAGE: 'qa', DB_INSTANCE_ID: '1db', SNAPSHOT_PREFIX: 'bad--prefix' }),
      /STAGE: .*DB_INSTANCE_ID: .*SNAPSHOT_PREFIX:/,
    );
  });
});
