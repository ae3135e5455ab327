/**
 * The stage's alarms as synthesized: names, metrics, rules and thresholds from the stage config, the Lambda function
 * alarms and the ECS deployment alarms. What a math alarm computes is checked with test/helpers/metric-math.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aws_lambda as lambda, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { alarmName, DEPLOYMENT_ALARM_SIGNALS } from '../../lib/constructs/monitoring/alarm-naming';
import { evaluate } from '../helpers/metric-math';
import {
  type AlarmProps,
  alarmNamed,
  alarms,
  dimensionNames,
  expressions,
  logicalIdOfAlarm,
  stats,
  TUNED,
} from '../helpers/monitoring';
import { buildApp, only, resourcesOf, synthApp } from '../helpers/synth';
import { CPU, ENV, ERROR_RATE, LATENCY, UNHEALTHY } from '../lambda/rollback/fixtures';

const prod = synthApp({ stage: 'prod' });
const dev = synthApp({ stage: 'dev' });
const tuned = synthApp(TUNED);

// ---------------------------------------------------------------------------------------------------------------

describe('alarm naming', () => {
  it('names alarms softfactory-<stage>-<signal> with a pure function', () => {
    assert.equal(alarmName('prod', 'error-rate'), 'softfactory-prod-error-rate');
  });

  it('gives every alarm a fixed softfactory-<stage>- name and a description with a first response', () => {
    for (const result of [dev, prod]) {
      const all = Object.values(alarms(result.service));
      assert.ok(all.length >= 10);
      for (const alarm of all) {
        assert.match(alarm.AlarmName, new RegExp(`^softfactory-${result.config.stage}-[a-z0-9-]+$`));
        assert.match(alarm.AlarmDescription, /First( response)?: /, `${alarm.AlarmName} says what to do first`);
        assert.ok(alarm.AlarmDescription.length <= 1024, `${alarm.AlarmName} description fits CloudWatch`);
      }
    }
  });
});

describe('error-rate alarm', () => {
  const alarm = alarmNamed(prod.service, 'softfactory-prod-error-rate');

  it('computes over the load balancer’s RequestCount, target 5xx and ELB 5xx, summed per minute', () => {
    const inputs = stats(alarm);
    assert.deepEqual(
      Object.values(inputs)
        .map((s) => s.Metric.MetricName)
        .sort(),
      ['HTTPCode_ELB_5XX_Count', 'HTTPCode_Target_5XX_Count', 'RequestCount'],
    );
    for (const stat of Object.values(inputs)) {
      assert.equal(stat.Metric.Namespace, 'AWS/ApplicationELB');
      assert.deepEqual(dimensionNames(stat), ['LoadBalancer'], 'load-balancer-wide: covers blue and green');
      assert.equal(stat.Stat, 'Sum');
      assert.equal(stat.Period, 60);
    }
  });

  it('wraps every input in FILL(…, 0)', () => {
    const text = Object.values(expressions(alarm)).join(' ');
    for (const id of Object.keys(stats(alarm))) {
      assert.match(text, new RegExp(`FILL\\(${id}, 0\\)`), `${id} is filled with 0`);
      assert.doesNotMatch(text.replaceAll(`FILL(${id}, 0)`, ''), new RegExp(`\\b${id}\\b`), `${id} only inside FILL`);
    }
  });

  it('fires above 1 % in 3 of 5 one-minute periods, missing data not breaching', () => {
    assert.equal(alarm.Threshold, 1);
    assert.equal(alarm.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(alarm.EvaluationPeriods, 5);
    assert.equal(alarm.DatapointsToAlarm, 3);
    assert.equal(alarm.TreatMissingData, 'notBreaching');
  });

  it('reads one failure in three requests at night as 0 % (minimum-volume gate)', () => {
    assert.equal(evaluate(alarm, { RequestCount: 3, HTTPCode_Target_5XX_Count: 1 }), 0);
    assert.equal(evaluate(alarm, { RequestCount: 19, HTTPCode_Target_5XX_Count: 19 }), 0);
  });

  it('reads 2 failures in 100 requests as 2 %, and a quiet minute with no data as 0 %', () => {
    assert.equal(evaluate(alarm, { RequestCount: 100, HTTPCode_Target_5XX_Count: 1, HTTPCode_ELB_5XX_Count: 1 }), 2);
    assert.equal(evaluate(alarm, { RequestCount: 500 }), 0);
    assert.equal(evaluate(alarm, {}), 0);
  });

  it('reads "all requests fail while RequestCount is 0" (no healthy target, ALB answers 503) as 100 %', () => {
    assert.equal(evaluate(alarm, { HTTPCode_ELB_5XX_Count: 40 }), 100);
    assert.equal(evaluate(alarm, { RequestCount: 0, HTTPCode_ELB_5XX_Count: 40 }), 100);
  });

  it('takes threshold and volume gate from the stage config', () => {
    const alarm = alarmNamed(tuned.service, 'softfactory-dev-error-rate');
    assert.equal(alarm.Threshold, 2.5);
    assert.equal(evaluate(alarm, { RequestCount: 49, HTTPCode_Target_5XX_Count: 49 }), 0);
    assert.equal(evaluate(alarm, { RequestCount: 50, HTTPCode_Target_5XX_Count: 5 }), 10);
  });
});

describe('latency alarm', () => {
  it('watches TargetResponseTime p95 per minute above 0.5 s (seconds), ignoring low-sample percentiles', () => {
    const alarm = alarmNamed(prod.service, 'softfactory-prod-latency');
    const [stat] = Object.values(stats(alarm));
    assert.ok(stat);
    assert.equal(stat.Metric.Namespace, 'AWS/ApplicationELB');
    assert.equal(stat.Metric.MetricName, 'TargetResponseTime');
    assert.deepEqual(dimensionNames(stat), ['LoadBalancer']);
    assert.equal(stat.Stat, 'p95');
    assert.equal(stat.Period, 60);
    assert.equal(alarm.Threshold, 0.5);
    assert.equal(alarm.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(alarm.EvaluateLowSampleCountPercentile, 'ignore');
    assert.equal(alarm.EvaluationPeriods, 5);
    assert.equal(alarm.DatapointsToAlarm, 3);
    assert.equal(alarm.TreatMissingData, 'notBreaching');
  });

  it('switches to p99 and another budget by configuration', () => {
    const alarm = alarmNamed(tuned.service, 'softfactory-dev-latency');
    assert.equal(Object.values(stats(alarm))[0]?.Stat, 'p99');
    assert.equal(alarm.Threshold, 0.8);
  });
});

describe('service resource alarms', () => {
  it('fires on ECS service CPU (average) above 80 % for 5 minutes', () => {
    const alarm = alarmNamed(prod.service, 'softfactory-prod-cpu');
    const [stat] = Object.values(stats(alarm));
    assert.ok(stat);
    assert.equal(stat.Metric.Namespace, 'AWS/ECS');
    assert.equal(stat.Metric.MetricName, 'CPUUtilization');
    assert.deepEqual(dimensionNames(stat), ['ClusterName', 'ServiceName']);
    assert.equal(stat.Stat, 'Average');
    assert.equal(stat.Period, 60);
    assert.deepEqual([alarm.Threshold, alarm.EvaluationPeriods, alarm.DatapointsToAlarm], [80, 5, 5]);
    assert.equal(alarm.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(alarm.TreatMissingData, 'notBreaching');
  });

  it('fires on the busiest task’s memory (Maximum) above 80 % for 5 minutes', () => {
    const alarm = alarmNamed(prod.service, 'softfactory-prod-memory');
    const [stat] = Object.values(stats(alarm));
    assert.ok(stat);
    assert.equal(stat.Metric.MetricName, 'MemoryUtilization');
    assert.equal(stat.Metric.Namespace, 'AWS/ECS');
    assert.deepEqual(dimensionNames(stat), ['ClusterName', 'ServiceName']);
    assert.equal(stat.Stat, 'Maximum');
    assert.equal(stat.Period, 60);
    assert.deepEqual([alarm.Threshold, alarm.EvaluationPeriods, alarm.DatapointsToAlarm], [80, 5, 5]);
    assert.equal(alarm.TreatMissingData, 'notBreaching');
  });

  it('fires on Fargate disk: 100 * EphemeralStorageUtilized / EphemeralStorageReserved from Container Insights above 80 %', () => {
    const alarm = alarmNamed(prod.service, 'softfactory-prod-disk');
    const inputs = stats(alarm);
    assert.deepEqual(
      Object.values(inputs)
        .map((s) => s.Metric.MetricName)
        .sort(),
      ['EphemeralStorageReserved', 'EphemeralStorageUtilized'],
    );
    for (const stat of Object.values(inputs)) {
      assert.equal(stat.Metric.Namespace, 'ECS/ContainerInsights');
      assert.deepEqual(dimensionNames(stat), ['ClusterName', 'ServiceName']);
      assert.equal(stat.Stat, 'Maximum');
      assert.equal(stat.Period, 60);
    }
    assert.equal(evaluate(alarm, { EphemeralStorageUtilized: 17, EphemeralStorageReserved: 20 }), 85);
    assert.deepEqual([alarm.Threshold, alarm.EvaluationPeriods, alarm.DatapointsToAlarm], [80, 5, 5]);
    assert.equal(alarm.TreatMissingData, 'notBreaching');
    // The metrics exist only with Container Insights on the cluster.
    prod.service.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: Match.stringLikeRegexp('^(enabled|enhanced)$') }],
    });
  });
});

describe('target health alarms', () => {
  const targetGroups = (alarm: AlarmProps) =>
    Object.values(stats(alarm)).map((s) =>
      JSON.stringify(s.Metric.Dimensions?.find((d) => d.Name === 'TargetGroup')?.Value),
    );

  it('fires when any target in the blue or green group is unhealthy for 2 minutes', () => {
    const alarm = alarmNamed(prod.service, 'softfactory-prod-unhealthy-hosts');
    const inputs = Object.values(stats(alarm));
    assert.equal(inputs.length, 2);
    for (const stat of inputs) {
      assert.equal(stat.Metric.MetricName, 'UnHealthyHostCount');
      assert.equal(stat.Metric.Namespace, 'AWS/ApplicationELB');
      assert.deepEqual(dimensionNames(stat), ['LoadBalancer', 'TargetGroup']);
      assert.equal(stat.Stat, 'Maximum');
      assert.equal(stat.Period, 60);
    }
    const groups = targetGroups(alarm).join(' ');
    assert.match(groups, /LoadBalancerBlue/);
    assert.match(groups, /LoadBalancerGreen/);
    assert.equal(evaluate(alarm, { UnHealthyHostCount: 1 }), 2, 'both groups add');
    assert.equal(evaluate(alarm, {}), 0);
    assert.deepEqual([alarm.Threshold, alarm.ComparisonOperator], [0, 'GreaterThanThreshold']);
    assert.deepEqual(
      [alarm.EvaluationPeriods, alarm.DatapointsToAlarm, alarm.TreatMissingData],
      [2, 2, 'notBreaching'],
    );
  });

  it('fires when fewer than 1 healthy target remains across blue and green, missing data breaching', () => {
    const alarm = alarmNamed(prod.service, 'softfactory-prod-healthy-hosts');
    for (const stat of Object.values(stats(alarm))) {
      assert.equal(stat.Metric.MetricName, 'HealthyHostCount');
      assert.deepEqual(dimensionNames(stat), ['LoadBalancer', 'TargetGroup']);
      assert.equal(stat.Stat, 'Minimum');
      assert.equal(stat.Period, 60);
    }
    assert.match(
      targetGroups(alarm).join(' '),
      /LoadBalancerBlue.*LoadBalancerGreen|LoadBalancerGreen.*LoadBalancerBlue/,
    );
    assert.equal(evaluate(alarm, {}), 0, 'no datapoints: zero healthy');
    assert.deepEqual([alarm.Threshold, alarm.ComparisonOperator], [1, 'LessThanThreshold']);
    assert.deepEqual([alarm.EvaluationPeriods, alarm.DatapointsToAlarm, alarm.TreatMissingData], [2, 2, 'breaching']);
  });
});

describe('database alarms', () => {
  const rds = (alarm: AlarmProps) => {
    const [stat] = Object.values(stats(alarm));
    assert.ok(stat);
    assert.equal(stat.Metric.Namespace, 'AWS/RDS');
    assert.deepEqual(dimensionNames(stat), ['DBInstanceIdentifier']);
    return stat;
  };

  it('fires on database CPU above 80 % for 5 minutes', () => {
    const alarm = alarmNamed(prod.service, 'softfactory-prod-db-cpu');
    const stat = rds(alarm);
    assert.deepEqual([stat.Metric.MetricName, stat.Stat, stat.Period], ['CPUUtilization', 'Average', 60]);
    assert.deepEqual([alarm.Threshold, alarm.EvaluationPeriods, alarm.DatapointsToAlarm], [80, 5, 5]);
    assert.equal(alarm.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(alarm.TreatMissingData, 'notBreaching');
  });

  it('fires when free storage (bytes) falls below 20 % of the allocated storage', () => {
    const alarm = alarmNamed(prod.service, 'softfactory-prod-db-free-storage');
    const stat = rds(alarm);
    assert.deepEqual([stat.Metric.MetricName, stat.Stat, stat.Period], ['FreeStorageSpace', 'Minimum', 300]);
    assert.equal(alarm.Threshold, 0.2 * prod.config.dbAllocatedStorageGiB * 1024 ** 3);
    assert.equal(alarm.ComparisonOperator, 'LessThanThreshold');
    assert.deepEqual(
      [alarm.EvaluationPeriods, alarm.DatapointsToAlarm, alarm.TreatMissingData],
      [1, 1, 'notBreaching'],
    );
  });

  it('fires when connections pass 80 % of the instance class’s max_connections (db.m7g.large: 901 → 720)', () => {
    const alarm = alarmNamed(prod.service, 'softfactory-prod-db-connections');
    const stat = rds(alarm);
    assert.deepEqual([stat.Metric.MetricName, stat.Stat, stat.Period], ['DatabaseConnections', 'Maximum', 60]);
    assert.equal(alarm.Threshold, 720);
    assert.equal(alarm.ComparisonOperator, 'GreaterThanThreshold');
    assert.deepEqual(
      [alarm.EvaluationPeriods, alarm.DatapointsToAlarm, alarm.TreatMissingData],
      [5, 3, 'notBreaching'],
    );
    assert.equal(alarmNamed(dev.service, 'softfactory-dev-db-connections').Threshold, 180, 'db.t4g.small: 225 → 180');
  });

  it('uses a configured max_connections and percentages', () => {
    assert.equal(alarmNamed(tuned.service, 'softfactory-dev-db-connections').Threshold, 450);
    assert.equal(alarmNamed(tuned.service, 'softfactory-dev-db-free-storage').Threshold, 0.1 * 20 * 1024 ** 3);
  });
});

describe('Lambda function alarms', () => {
  const { stacks } = buildApp({ stage: 'dev' });
  const probe = new lambda.Function(stacks.service, 'ProbeFunction', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({});'),
  });
  Validations.of(probe).acknowledge({ id: 'AwsSolutions-L1', reason: 'test probe' });
  Validations.of(probe).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'test probe',
  });
  for (const rule of ['LambdaConcurrency', 'LambdaDLQ', 'LambdaInsideVPC']) {
    Validations.of(probe).acknowledge({ id: `NIST.800.53.R5-${rule}`, reason: 'test probe' });
  }
  const made = stacks.service.alarms.alarmFunction('probe-hook', probe);
  const service = Template.fromStack(stacks.service);
  const probeId = stacks.service.getLogicalId(probe.node.defaultChild as lambda.CfnFunction);

  it('alarms on any error and any throttle of a function, per minute, named after it', () => {
    for (const [signal, metricName] of [
      ['errors', 'Errors'],
      ['throttles', 'Throttles'],
    ] as const) {
      const alarm = alarmNamed(service, `softfactory-dev-probe-hook-${signal}`);
      assert.equal(alarm.Namespace, 'AWS/Lambda');
      assert.equal(alarm.MetricName, metricName);
      assert.equal(alarm.Statistic, 'Sum');
      assert.equal(alarm.Period, 60);
      assert.deepEqual(alarm.Dimensions, [{ Name: 'FunctionName', Value: { Ref: probeId } }]);
      assert.deepEqual([alarm.Threshold, alarm.ComparisonOperator], [0, 'GreaterThanThreshold']);
      assert.deepEqual(
        [alarm.EvaluationPeriods, alarm.DatapointsToAlarm, alarm.TreatMissingData],
        [1, 1, 'notBreaching'],
      );
      assert.equal((alarm.AlarmActions ?? []).length, 1);
      assert.equal((alarm.OKActions ?? []).length, 1);
    }
    assert.ok(made.errors && made.throttles);
  });

  it('shows a function alarmed after the dashboard was created on the dashboard', () => {
    const body = JSON.stringify(only(resourcesOf(service, 'AWS::CloudWatch::Dashboard'), 'dashboard').Properties);
    for (const name of ['softfactory-dev-probe-hook-errors', 'softfactory-dev-probe-hook-throttles']) {
      assert.ok(body.includes(logicalIdOfAlarm(service, name)), `${name} on the dashboard`);
    }
  });

  it('refuses a name that would not make a readable alarm name', () => {
    assert.throws(() => stacks.service.alarms.alarmFunction('Smoke Hook', probe), /kebab-case/);
  });
});

describe('deployment alarms', () => {
  it('names the error-rate, latency and unhealthy-hosts alarms on the ECS service, rolling back on alarm', () => {
    prod.service.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({
        Alarms: {
          AlarmNames: DEPLOYMENT_ALARM_SIGNALS.map((s) => `softfactory-prod-${s}`),
          Enable: true,
          Rollback: true,
        },
        BakeTimeInMinutes: 5,
      }),
    });
  });

  it('has every alarm named on the ECS service in the template, and creates them before the service', () => {
    for (const result of [dev, prod]) {
      const service = only(resourcesOf(result.service, 'AWS::ECS::Service'), 'service') as {
        Properties: { DeploymentConfiguration: { Alarms: { AlarmNames: string[] } } };
        DependsOn?: string[];
      };
      const names = service.Properties.DeploymentConfiguration.Alarms.AlarmNames;
      assert.equal(names.length, 3);
      for (const name of names) {
        const id = logicalIdOfAlarm(result.service, name);
        assert.ok(service.DependsOn?.includes(id), `service depends on ${name}`);
      }
    }
  });
});

describe('rollback test fixtures', () => {
  it('name alarms the prod app creates, and the rollback function’s alarm list as the template sets it', () => {
    const names = new Set(Object.values(alarms(prod.service)).map((a) => a.AlarmName));
    for (const name of [ERROR_RATE, LATENCY, UNHEALTHY, CPU])
      assert.ok(names.has(name), `${name} is an alarm of the app`);
    const rollback = Object.values(resourcesOf(prod.service, 'AWS::Lambda::Function')).find(
      (f) => f.Properties['FunctionName'] === 'softfactory-prod-rollback',
    );
    assert.ok(rollback, 'rollback function');
    const env = (rollback.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    assert.equal(env['ROLLBACK_ALARM_NAMES'], ENV['ROLLBACK_ALARM_NAMES']);
  });
});
