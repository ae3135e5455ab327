/** What people read: the notification for each decision. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { databaseNote, renderReport } from '../../../lambda/rollback/report';
import type { SnapshotInfo, SnapshotPort } from '../../../lambda/shared/snapshots';
import { DB_INSTANCE, revisionArn, SERVICE_ARN, T0, td } from './fixtures';

const port = (list: () => Promise<SnapshotInfo[]>): SnapshotPort => ({
  listManual: list,
  create: async () => assert.fail('not used'),
  describe: async () => undefined,
  delete: async () => undefined,
});

const ours = (id: string, minutesAgo: number, revision: string): SnapshotInfo => ({
  id,
  status: 'available',
  createdAt: new Date(T0 - minutesAgo * 60_000),
  tags: { 'softfactory:predeploy': 'true', 'softfactory:stage': 'prod', 'softfactory:service-revision': revision },
});

describe('rollback report', () => {
  it('names the snapshot taken before the rolled-back revision, not merely the newest', async () => {
    const note = await databaseNote(
      port(async () => [
        ours('sf-prod-predeploy-aaaaaaaaaaaa-20251126100000', 45, revisionArn('41')),
        ours('sf-prod-predeploy-bbbbbbbbbbbb-20251126103000', 15, revisionArn('42')),
      ]),
      { stage: 'prod', prefix: 'sf-prod-predeploy', revisionArn: revisionArn('41') },
    );
    assert.equal(note.snapshotId, 'sf-prod-predeploy-aaaaaaaaaaaa-20251126100000');
  });

  it('falls back to point-in-time restore when there is no snapshot, and survives RDS errors', async () => {
    assert.match(
      (
        await databaseNote(
          port(async () => []),
          { stage: 'prod', prefix: 'sf-prod-predeploy' },
        )
      ).note,
      /point-in-time/,
    );
    const failing = await databaseNote(
      port(async () => {
        throw new Error('User is not authorized to perform: rds:DescribeDBSnapshots');
      }),
      { stage: 'prod', prefix: 'sf-prod-predeploy' },
    );
    assert.match(failing.note, /could not list pre-deploy snapshots \(User is not authorized/);
  });

  it('keeps the subject within the 100 ASCII characters SNS allows and describes a pipeline request', () => {
    const report = renderReport({
      stage: 'staging',
      serviceArn: SERVICE_ARN,
      trigger: { kind: 'pipeline', reason: 'bad config — rollback', requestedBy: 'alice@laptop', dryRun: false },
      outcome: 'refused',
      decision: {
        action: 'none',
        code: 'PREVIOUS_REVISION_UNKNOWN',
        reason: 'ECS cannot describe revision …/1',
        fromTaskDefinition: td(41),
      },
      database: { note: 'no pre-deploy snapshot found' },
      runbookUrl: 'README.md#database-restore-after-a-rollback',
      dbInstanceId: DB_INSTANCE,
    });
    assert.ok(report.subject.length <= 100);
    assert.match(report.subject, /^[\x20-\x7e]+$/);
    assert.match(report.message, /request by alice@laptop: "bad config — rollback"/);
    assert.match(report.message, /Database: never restored automatically/);
    const json = JSON.parse(report.message.split('\n').at(-1) ?? '{}');
    assert.equal(json.code, 'PREVIOUS_REVISION_UNKNOWN');
    assert.equal(json.trigger.requestedBy, 'alice@laptop');
  });
});
