/** The environment contract between the CDK construct and the rollback function. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alarmSubscriptionFilterPolicy, rollbackFunctionName } from '../../../lambda/rollback/contract';
import { loadRollbackConfig, rollbackEnvironment } from '../../../lambda/rollback/env';
import { loadSnapshotHookConfig, snapshotHookEnvironment } from '../../../lambda/snapshot-hook/env';
import { CLUSTER_ARN, DB_INSTANCE, ENV, ERROR_RATE, FAMILY, LATENCY, SERVICE_ARN, TABLE, TOPIC_ARN } from './fixtures';

describe('rollback environment', () => {
  it('builds, from typed props, an environment the handler accepts, with the documented defaults', () => {
    const env = rollbackEnvironment({
      stage: 'prod',
      clusterArn: CLUSTER_ARN,
      serviceArn: SERVICE_ARN,
      taskFamily: FAMILY,
      rollbackAlarmNames: [ERROR_RATE, LATENCY],
      lockTableName: TABLE,
      topicArn: TOPIC_ARN,
      dbInstanceId: DB_INSTANCE,
      cooldownMinutes: 45,
    });
    assert.equal(env['ROLLBACK_ALARM_NAMES'], `${ERROR_RATE},${LATENCY}`);
    assert.equal(env['WATCH_WINDOW_MINUTES'], undefined, 'defaults are left to the schema');
    const config = loadRollbackConfig(env);
    assert.deepEqual(
      {
        region: config.region,
        account: config.account,
        partition: config.partition,
        clusterName: config.clusterName,
        serviceName: config.serviceName,
        watch: config.watchWindowMinutes,
        cooldown: config.cooldownMinutes,
        lockTtl: config.lockTtlSeconds,
        grace: config.actingGraceSeconds,
        prefix: config.snapshotPrefix,
      },
      {
        region: 'eu-west-1',
        account: '123456789012',
        partition: 'aws',
        clusterName: 'softfactory-prod',
        serviceName: 'softfactory-prod-web',
        watch: 60,
        cooldown: 45,
        lockTtl: 90,
        grace: 120,
        prefix: 'sf-prod-predeploy',
      },
    );
  });

  it('lists every problem of a broken environment in one message', () => {
    assert.throws(
      () =>
        loadRollbackConfig({
          ...ENV,
          STAGE: 'qa',
          ROLLBACK_ALARM_NAMES: ' , ',
          TOPIC_ARN: 'softfactory-prod-alarms',
          WATCH_WINDOW_MINUTES: 'an hour',
        }),
      (error: Error) => {
        for (const key of ['STAGE', 'ROLLBACK_ALARM_NAMES', 'TOPIC_ARN', 'WATCH_WINDOW_MINUTES'])
          assert.match(error.message, new RegExp(key));
        return true;
      },
    );
  });

  it('refuses a service ARN from another cluster, or the short ARN format', () => {
    assert.throws(
      () =>
        loadRollbackConfig({ ...ENV, CLUSTER_ARN: 'arn:aws:ecs:eu-west-1:123456789012:cluster/softfactory-staging' }),
      /SERVICE_ARN is in cluster softfactory-prod, CLUSTER_ARN names softfactory-staging/,
    );
    assert.throws(
      () =>
        loadRollbackConfig({ ...ENV, SERVICE_ARN: 'arn:aws:ecs:eu-west-1:123456789012:service/softfactory-prod-web' }),
      /long-format ECS service ARN/,
    );
  });

  it("names the function, and lets only the rollback alarms' ALARM notifications through its subscription", () => {
    assert.equal(rollbackFunctionName('staging'), 'softfactory-staging-rollback');
    assert.deepEqual(alarmSubscriptionFilterPolicy(['a', 'b']), { AlarmName: ['a', 'b'], NewStateValue: ['ALARM'] });
  });

  it('builds the snapshot hook environment the same way', () => {
    const env = snapshotHookEnvironment({ stage: 'dev', dbInstanceId: 'softfactory-dev-db', retainSnapshots: 3 });
    assert.deepEqual(env, { STAGE: 'dev', DB_INSTANCE_ID: 'softfactory-dev-db', RETAIN_SNAPSHOTS: '3' });
    assert.equal(loadSnapshotHookConfig(env).retain, 3);
  });
});
