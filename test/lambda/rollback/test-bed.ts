/**
 * The rollback tests' shared world, set up afresh before each test: a fake clock, the stateful ECS world (paged,
 * unordered), the DynamoDB lock table, and SNS/RDS mocked at the AWS API boundary.
 */
import { after, afterEach, beforeEach } from 'node:test';
import { DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { FakeDynamoTable } from './fake-dynamodb';
import { EcsWorld } from './fake-ecs';
import { FakeClock, TABLE } from './fixtures';

const snsStub = () => mockClient(SNSClient);
const rdsStub = () => mockClient(RDSClient);

export interface RollbackTestBed {
  readonly clock: FakeClock;
  readonly world: EcsWorld;
  readonly table: FakeDynamoTable;
  readonly sns: ReturnType<typeof snsStub>;
  readonly rds: ReturnType<typeof rdsStub>;
}

/** Registers the hooks in the calling describe block; read the fields inside tests (they change per test). */
export function rollbackTestBed(): RollbackTestBed {
  const bed = { sns: snsStub(), rds: rdsStub() } as {
    -readonly [K in keyof RollbackTestBed]: RollbackTestBed[K];
  };
  beforeEach(() => {
    bed.clock = new FakeClock();
    bed.world = new EcsWorld(bed.clock);
    bed.table = new FakeDynamoTable(TABLE);
    bed.sns.reset();
    bed.sns.on(PublishCommand).resolves({ MessageId: 'b3f1c6a2-6f0e-5d5c-9c8a-1e2f3a4b5c6d' });
    bed.rds.reset();
    bed.rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  });
  afterEach(() => {
    bed.world.restore();
    bed.table.restore();
  });
  after(() => {
    bed.sns.restore();
    bed.rds.restore();
  });
  return bed;
}
