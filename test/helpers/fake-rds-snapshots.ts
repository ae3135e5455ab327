/**
 * The rehearsals' RDS: manual snapshots that take `readyAfterMs` of fake time to go from `creating` to `available`
 * (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DBSnapshot.html), looked up by identifier or listed.
 */
import {
  CreateDBSnapshotCommand,
  type CreateDBSnapshotCommandInput,
  type DBSnapshot,
  DeleteDBSnapshotCommand,
  DescribeDBSnapshotsCommand,
  type DescribeDBSnapshotsCommandInput,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { AwsClientStub } from 'aws-sdk-client-mock';

export interface SnapshotClock {
  readonly t: number;
  now(): Date;
}

/** Answers CreateDBSnapshot, DescribeDBSnapshots and DeleteDBSnapshot on `rds` (reset first) for `instance`. */
export function fakeRdsSnapshots(
  rds: AwsClientStub<RDSClient>,
  options: { readonly clock: SnapshotClock; readonly instance: string; readonly readyAfterMs: number },
): void {
  const { clock, instance, readyAfterMs } = options;
  const snapshots = new Map<string, DBSnapshot & { readyAt: number }>();
  rds.reset();
  rds.on(CreateDBSnapshotCommand).callsFake(async (input: CreateDBSnapshotCommandInput) => {
    const s = {
      DBSnapshotIdentifier: input.DBSnapshotIdentifier,
      DBInstanceIdentifier: instance,
      SnapshotType: 'manual',
      Status: 'creating',
      SnapshotCreateTime: clock.now(),
      TagList: input.Tags,
      readyAt: clock.t + readyAfterMs,
    };
    snapshots.set(String(input.DBSnapshotIdentifier), s);
    return { DBSnapshot: s };
  });
  rds.on(DescribeDBSnapshotsCommand).callsFake(async (input: DescribeDBSnapshotsCommandInput) => {
    const view = [...snapshots.values()].map(({ readyAt, ...s }) => ({
      ...s,
      Status: clock.t >= readyAt ? 'available' : 'creating',
    }));
    return {
      DBSnapshots: input.DBSnapshotIdentifier
        ? view.filter((s) => s.DBSnapshotIdentifier === input.DBSnapshotIdentifier)
        : view,
    };
  });
  rds.on(DeleteDBSnapshotCommand).resolves({});
}
