/**
 * The snapshot port on RDS (SDK v3). Used by the snapshot hook and, read-only, by the rollback function to
 * name the newest pre-deploy snapshot in its notifications.
 */
import {
  CreateDBSnapshotCommand,
  type DBSnapshot,
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { SnapshotInfo, SnapshotPort } from './snapshots';

function toInfo(s: DBSnapshot): SnapshotInfo {
  const tags: Record<string, string> = {};
  for (const t of s.TagList ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
  return {
    id: s.DBSnapshotIdentifier ?? '',
    status: s.Status ?? 'unknown',
    createdAt: s.SnapshotCreateTime,
    percentProgress: s.PercentProgress,
    tags,
  };
}

/** A page is 100 snapshots; 20 pages is more manual snapshots than one instance should ever have. */
const MAX_PAGES = 20;

export function rdsSnapshotPort(rds: RDSClient, dbInstanceId: string): SnapshotPort {
  return {
    async create(id, tags) {
      const out = await rds.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: dbInstanceId,
          DBSnapshotIdentifier: id,
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
      return out.DBSnapshot ? toInfo(out.DBSnapshot) : { id, status: 'creating', tags };
    },
    async describe(id) {
      try {
        const out = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }));
        const found = out.DBSnapshots?.[0];
        return found ? toInfo(found) : undefined;
      } catch (error) {
        if (error instanceof Error && error.name === 'DBSnapshotNotFoundFault') return undefined;
        throw error;
      }
    },
    async listManual() {
      const all: SnapshotInfo[] = [];
      let Marker: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const out = await rds.send(
          new DescribeDBSnapshotsCommand({
            DBInstanceIdentifier: dbInstanceId,
            SnapshotType: 'manual',
            MaxRecords: 100,
            Marker,
          }),
        );
        all.push(...(out.DBSnapshots ?? []).map(toInfo));
        Marker = out.Marker;
        if (!Marker) break;
      }
      return all;
    },
    async delete(id) {
      await rds.send(new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: id }));
    },
  };
}
