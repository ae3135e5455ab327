import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as logs from 'aws-cdk-lib/aws-logs';
import { retentionDays } from '../../lib/constructs/log-retention';

describe('retentionDays (CloudWatch Logs retention, checked instead of cast)', () => {
  it('maps the day counts PutRetentionPolicy accepts to their RetentionDays members', () => {
    assert.equal(retentionDays(30), logs.RetentionDays.ONE_MONTH);
    assert.equal(retentionDays(365), logs.RetentionDays.ONE_YEAR);
    assert.equal(retentionDays(3653), logs.RetentionDays.TEN_YEARS);
  });

  it('refuses a number that is not a retention period, naming it', () => {
    assert.throws(() => retentionDays(31), /log retention of 31 days is not a CloudWatch Logs retention period/);
    assert.throws(() => retentionDays(0), /0 days/);
  });
});
