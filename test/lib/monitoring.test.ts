import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aws_lambda as lambda, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { STAGES } from '../../lib/config/stage-config';
import { DEPLOYMENT_EVENT, ROLLBACK_REASON_PATTERNS } from '../../lib/constructs/deployment-events';
import { CREDENTIAL_DATA_IDENTIFIERS, CUSTOM_DATA_IDENTIFIERS } from '../../lib/constructs/log-archive';
import { alarmName, DEPLOYMENT_ALARM_SIGNALS } from '../../lib/constructs/service-alarms';
import { buildApp, only, resourcesOf, type SynthResult, synthApp } from '../helpers/synth';

// ---------------------------------------------------------------------------------------------------------------
// Template helpers

interface MetricStat {
  Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] };
  Period: number;
  Stat: string;
}
interface MetricQuery {
  Id: string;
  Expression?: string;
  MetricStat?: MetricStat;
  ReturnData?: boolean;
}
interface AlarmProps {
  AlarmName: string;
  AlarmDescription: string;
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  ExtendedStatistic?: string;
  Period?: number;
  Dimensions?: { Name: string; Value: unknown }[];
  Metrics?: MetricQuery[];
  Threshold: number;
  ComparisonOperator: string;
  EvaluationPeriods: number;
  DatapointsToAlarm: number;
  TreatMissingData: string;
  EvaluateLowSampleCountPercentile?: string;
  AlarmActions?: unknown[];
  OKActions?: unknown[];
}

function alarms(template: Template): Record<string, AlarmProps> {
  return Object.fromEntries(
    Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map(([id, r]) => [
      id,
      r.Properties as unknown as AlarmProps,
    ]),
  );
}

function alarmNamed(template: Template, name: string): AlarmProps {
  const found = Object.values(alarms(template)).filter((a) => a.AlarmName === name);
  assert.equal(found.length, 1, `exactly one alarm named ${name}`);
  return found[0]!;
}

function logicalIdOfAlarm(template: Template, name: string): string {
  const entry = Object.entries(alarms(template)).find(([, a]) => a.AlarmName === name);
  assert.ok(entry, `alarm ${name}`);
  return entry[0];
}

/** The metric-stat queries of an alarm, by id (a single-metric alarm renders its metric at the top level). */
function stats(alarm: AlarmProps): Record<string, MetricStat> {
  if (!alarm.Metrics) {
    return {
      metric: {
        Metric: { Namespace: alarm.Namespace ?? '', MetricName: alarm.MetricName ?? '', Dimensions: alarm.Dimensions },
        Period: alarm.Period ?? 0,
        Stat: alarm.Statistic ?? alarm.ExtendedStatistic ?? '',
      },
    };
  }
  return Object.fromEntries(alarm.Metrics.filter((q) => q.MetricStat).map((q) => [q.Id, q.MetricStat as MetricStat]));
}

function expressions(alarm: AlarmProps): Record<string, string> {
  return Object.fromEntries(
    (alarm.Metrics ?? []).filter((q) => q.Expression).map((q) => [q.Id, q.Expression as string]),
  );
}

function dimensionNames(stat: { Metric: { Dimensions?: { Name: string }[] } }): string[] {
  return (stat.Metric.Dimensions ?? []).map((d) => d.Name).sort();
}

/**
 * Evaluates a math alarm's returned expression for one period, as CloudWatch would, for the subset of metric math
 * our alarms use: FILL(x, v), MAX([a, b]), IF(cond, a, b), arithmetic and comparisons. `values` holds one datapoint
 * per metric name; a metric left out has no datapoint in that period.
 */
function evaluate(alarm: AlarmProps, values: Record<string, number>): number | undefined {
  const queries = new Map((alarm.Metrics ?? []).map((q) => [q.Id, q]));
  const datapoint = (id: string): number | undefined => {
    const query = queries.get(id);
    assert.ok(query, `metric id ${id}`);
    if (query.MetricStat) return values[query.MetricStat.Metric.MetricName];
    const js = (query.Expression as string)
      .replace(/FILL\((\w+),\s*([\d.]+)\)/g, '(v.$1 ?? $2)')
      .replace(/MAX\(\[([^\]]+)\]\)/g, 'Math.max($1)')
      .replace(/IF\(/g, 'iff(')
      .replace(/\b([a-z]\w*)\b(?!\s*[(.])/g, (name) => (name === 'v' || name === 'iff' ? name : `v.${name}`))
      .replace(/v\.v\./g, 'v.');
    const ids = [...queries.keys()];
    const v: Record<string, number | undefined> = {};
    for (const other of ids) if (other !== id && js.includes(`v.${other}`)) v[other] = datapoint(other);
    if (Object.entries(v).some(([name, value]) => value === undefined && !js.includes(`(v.${name} ??`))) {
      return undefined; // CloudWatch yields no datapoint when an unfilled input has none
    }
    const iff = (c: boolean, a: number, b: number) => (c ? a : b);
    return new Function('v', 'iff', `return ${js};`)(v, iff) as number;
  };
  const returned = (alarm.Metrics ?? []).find((q) => q.ReturnData !== false);
  assert.ok(returned, 'a returned query');
  return datapoint(returned.Id);
}

const prod = synthApp({ stage: 'prod' });
const dev = synthApp({ stage: 'dev' });
/** Every monitoring key of the stage config set away from its default, in one synthesis. */
const tuned = synthApp({
  stage: 'dev',
  errorRatePercent: '2.5',
  errorRateMinRequests: '50',
  latencyStatistic: 'p99',
  latencyThresholdMs: '800',
  dbMaxConnections: '500',
  dbConnectionsPercent: '90',
  dbFreeStoragePercent: '10',
  alarmEmails: 'ops@example.com,oncall@example.com',
  logRetentionDays: '90',
  logArchiveExpiryDays: '730',
});

function templates(result: SynthResult): Template[] {
  return [result.network, result.data, result.service];
}

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

describe('notifications', () => {
  it('has one SNS topic per stage, encrypted with a customer-managed KMS key (not aws/sns)', () => {
    for (const result of [dev, prod]) {
      const topic = only(resourcesOf(result.service, 'AWS::SNS::Topic'), 'topic');
      assert.equal(topic.Properties['TopicName'], `softfactory-${result.config.stage}-alarms`);
      assert.deepEqual(topic.Properties['KmsMasterKeyId'], { 'Fn::GetAtt': [findKey(result), 'Arn'] });
      assert.doesNotMatch(JSON.stringify(topic.Properties), /alias\/aws\/sns/);
    }
    prod.service.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      Description: Match.stringLikeRegexp('softfactory-prod-alarms'),
    });
  });

  it('lets CloudWatch and EventBridge use the key to publish to the encrypted topic', () => {
    const key = resourcesOf(prod.service, 'AWS::KMS::Key')[findKey(prod)]!;
    const statements = (
      key.Properties['KeyPolicy'] as { Statement: { Principal?: { Service?: string }; Action: unknown }[] }
    ).Statement;
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      const grant = statements.find((s) => s.Principal?.Service === service);
      assert.ok(grant, `${service} in the key policy`);
      assert.deepEqual(grant.Action, ['kms:Decrypt', 'kms:GenerateDataKey*']);
    }
  });

  it('admits CloudWatch (only this account’s softfactory-<stage>- alarms) and EventBridge in the topic policy, TLS only', () => {
    const policy = JSON.stringify(only(resourcesOf(prod.service, 'AWS::SNS::TopicPolicy'), 'topic policy').Properties);
    assert.match(policy, /"Service":"cloudwatch.amazonaws.com"/);
    assert.match(policy, /:alarm:softfactory-prod-\*/);
    assert.match(policy, /"aws:SourceAccount"/);
    assert.match(policy, /"Service":"events.amazonaws.com"/);
    assert.match(policy, /"aws:SecureTransport":"false"/);
  });

  it('subscribes the configured e-mail addresses, and nobody by default', () => {
    const emails = (template: typeof dev.service) =>
      Object.values(resourcesOf(template, 'AWS::SNS::Subscription')).filter(
        (s) => s.Properties['Protocol'] === 'email',
      );
    assert.equal(emails(dev.service).length, 0);
    assert.equal(emails(tuned.service).length, 2);
    tuned.service.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^AlarmTopic') },
    });
  });

  it('sends every alarm’s ALARM and OK transitions to the stage topic, in every stack', () => {
    for (const result of [dev, prod]) {
      let count = 0;
      for (const template of templates(result)) {
        for (const alarm of Object.values(alarms(template))) {
          count += 1;
          for (const actions of [alarm.AlarmActions, alarm.OKActions]) {
            assert.deepEqual(actions, [{ Ref: topicId(result) }], alarm.AlarmName);
          }
        }
      }
      assert.ok(count >= 10);
    }
  });

  it('reports ECS deployment state changes of this service to the topic with readable messages', () => {
    const rules = Object.values(resourcesOf(prod.service, 'AWS::Events::Rule')).map(
      (r) =>
        r.Properties as {
          EventPattern: {
            source: string[];
            'detail-type': string[];
            resources: unknown[];
            detail: Record<string, unknown[]>;
          };
          Targets: {
            Arn: unknown;
            InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string };
          }[];
        },
    );
    assert.equal(rules.length, 3);
    const serviceId = Object.keys(resourcesOf(prod.service, 'AWS::ECS::Service'))[0];
    const events = new Set<string>();
    for (const rule of rules) {
      assert.deepEqual(rule.EventPattern.source, ['aws.ecs']);
      assert.deepEqual(rule.EventPattern['detail-type'], ['ECS Deployment State Change']);
      assert.deepEqual(rule.EventPattern.resources, [{ Ref: serviceId }]);
      for (const name of rule.EventPattern.detail['eventName'] as string[]) events.add(name);
      const [target] = rule.Targets;
      assert.ok(target);
      assert.deepEqual(target.Arn, { Ref: topicId(prod) });
      assert.equal(target.InputTransformer.InputPathsMap['detail-reason'], '$.detail.reason');
      assert.match(
        target.InputTransformer.InputTemplate,
        /^"\[softfactory-prod\] Deployment|^"\[softfactory-prod\] ROLLBACK/,
      );
      assert.match(target.InputTransformer.InputTemplate, /<detail-reason>/);
      assert.match(target.InputTransformer.InputTemplate, /<detail-deploymentId>/);
    }
    assert.deepEqual([...events].sort(), [DEPLOYMENT_EVENT.completed, DEPLOYMENT_EVENT.inProgress]);
    const headlines = rules.map((r) => r.Targets[0]?.InputTransformer.InputTemplate.split('\\n')[0]).join(' | ');
    for (const word of ['STARTED', 'ROLLBACK', 'COMPLETED']) assert.match(headlines, new RegExp(word));
  });

  it('tells a rollback from a start with complementary patterns on the reason, so each event sends one message', () => {
    const patterns = Object.values(resourcesOf(prod.service, 'AWS::Events::Rule'))
      .map((r) => (r.Properties['EventPattern'] as { detail: { reason?: unknown[] } }).detail.reason)
      .filter((reason) => reason !== undefined);
    assert.deepEqual(patterns, [
      [{ 'anything-but': { wildcard: ROLLBACK_REASON_PATTERNS } }],
      ROLLBACK_REASON_PATTERNS.map((wildcard) => ({ wildcard })),
    ]);
    const matches = (reason: string) =>
      ROLLBACK_REASON_PATTERNS.some((p) => new RegExp(`^${p.replaceAll('*', '.*')}$`).test(reason));
    // The documented reasons (Amazon ECS Developer Guide, service deployment state change events).
    assert.equal(matches('ECS deployment circuit breaker: rolling back to deploymentId deploymentID.'), true);
    assert.equal(matches('ECS deployment deploymentId in progress.'), false);
  });
});

describe('dashboard', () => {
  const dashboard = only(resourcesOf(prod.service, 'AWS::CloudWatch::Dashboard'), 'dashboard');
  const body = JSON.stringify(dashboard.Properties['DashboardBody']);

  it('is named after the stage', () => {
    assert.equal(dashboard.Properties['DashboardName'], 'softfactory-prod');
  });

  it('shows requests, error rate, p95/p99 latency, healthy hosts, CPU, memory, disk and the database', () => {
    for (const metric of [
      'RequestCount',
      'HTTPCode_Target_5XX_Count',
      'HTTPCode_ELB_5XX_Count',
      'TargetResponseTime',
      'HealthyHostCount',
      'UnHealthyHostCount',
      'CPUUtilization',
      'MemoryUtilization',
      'EphemeralStorageUtilized',
      'EphemeralStorageReserved',
      'FreeStorageSpace',
      'DatabaseConnections',
    ]) {
      assert.ok(body.includes(metric), `${metric} on the dashboard`);
    }
    assert.match(body, /\\"stat\\":\\"p95\\"/);
    assert.match(body, /\\"stat\\":\\"p99\\"/);
    assert.match(body, /AWS\/RDS\\",\\"CPUUtilization/);
    assert.match(body, /Error rate/);
  });

  it('shows the state of every alarm in the stack', () => {
    assert.match(body, /\\"type\\":\\"alarm\\"/);
    for (const id of Object.keys(alarms(prod.service))) assert.ok(body.includes(id), `${id} on the dashboard`);
  });
});

describe('log retention', () => {
  const everyStage = STAGES.map((stage) => (stage === 'prod' ? prod : stage === 'dev' ? dev : synthApp({ stage })));

  it('keeps every log group of every stack of every stage at least 30 days', () => {
    let count = 0;
    for (const result of everyStage) {
      for (const template of templates(result)) {
        for (const [id, group] of Object.entries(resourcesOf(template, 'AWS::Logs::LogGroup'))) {
          count += 1;
          const days = group.Properties['RetentionInDays'];
          assert.equal(typeof days, 'number', `${result.config.stage} ${id} has a retention`);
          assert.ok((days as number) >= 30, `${result.config.stage} ${id} keeps ${days} days`);
        }
      }
    }
    assert.ok(count >= 6 * STAGES.length, `found ${count} log groups`);
  });

  it('applies a longer configured retention to every log group we create', () => {
    for (const template of templates(tuned)) {
      for (const group of Object.values(resourcesOf(template, 'AWS::Logs::LogGroup'))) {
        assert.equal(group.Properties['RetentionInDays'], 90);
      }
    }
  });
});

describe('log data protection', () => {
  const appLogs = Object.entries(resourcesOf(prod.service, 'AWS::Logs::LogGroup')).find(
    ([, g]) => g.Properties['LogGroupName'] === '/softfactory/softfactory-prod/app',
  );
  assert.ok(appLogs);
  const policy = appLogs[1].Properties['DataProtectionPolicy'] as {
    Version: string;
    Configuration: { CustomDataIdentifier: { Name: string; Regex: string }[] };
    Statement: { DataIdentifier: unknown[]; Operation: Record<string, unknown> }[];
  };

  it('audits and masks credentials and tokens in the app’s log group', () => {
    assert.equal(policy.Version, '2021-06-01');
    const [audit, mask] = policy.Statement;
    assert.ok(audit && mask);
    assert.deepEqual(Object.keys(audit.Operation), ['Audit']);
    assert.deepEqual(mask.Operation, { Deidentify: { MaskConfig: {} } });
    assert.deepEqual(audit.DataIdentifier, mask.DataIdentifier);
    const identifiers = JSON.stringify(mask.DataIdentifier);
    for (const managed of CREDENTIAL_DATA_IDENTIFIERS) {
      assert.ok(identifiers.includes(`:dataprotection::aws:data-identifier/${managed}`), managed);
    }
    for (const custom of Object.keys(CUSTOM_DATA_IDENTIFIERS)) assert.ok(identifiers.includes(`"${custom}"`), custom);
    assert.deepEqual(
      policy.Configuration.CustomDataIdentifier.map((c) => c.Name),
      Object.keys(CUSTOM_DATA_IDENTIFIERS),
    );
  });

  it('writes custom identifiers CloudWatch Logs accepts (≤ 200 characters from its allowed set)', () => {
    for (const { Name, Regex } of policy.Configuration.CustomDataIdentifier) {
      assert.match(Name, /^[A-Za-z0-9_-]{1,128}$/);
      assert.ok(Regex.length <= 200, `${Name} regex length`);
      assert.match(Regex, /^[A-Za-z0-9_#=@/;,\- ^$?[\]{}|\\*+.]+$/, `${Name} uses only allowed characters`);
    }
  });

  it('masks the secrets SoftFactory could log, and leaves ordinary lines alone', () => {
    const masks = (line: string) => Object.values(CUSTOM_DATA_IDENTIFIERS).some((r) => new RegExp(r).test(line));
    for (const secret of [
      'Authorization: Bearer 3f9a8c7d6e5b4a39',
      'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJlLXZhbHVl',
      'connecting to postgresql://softfactory:s3cr3t@db.internal:5432/softfactory',
      'POST /login password=hunter22 user=bob',
    ]) {
      assert.equal(masks(secret), true, secret);
    }
    for (const ordinary of ['GET /health HTTP/1.1 200', 'invalid password for user bob', 'https://example.com/api']) {
      assert.equal(masks(ordinary), false, ordinary);
    }
  });
});

describe('log archive', () => {
  it('wires the app log group → subscription → Firehose → archive bucket with lifecycle, end to end', () => {
    const appLogGroupId = Object.entries(resourcesOf(prod.service, 'AWS::Logs::LogGroup')).find(
      ([, g]) => g.Properties['LogGroupName'] === '/softfactory/softfactory-prod/app',
    )?.[0];
    // log group → subscription filter (every event) → delivery stream
    const subscription = only(resourcesOf(prod.service, 'AWS::Logs::SubscriptionFilter'), 'subscription');
    assert.deepEqual(subscription.Properties['LogGroupName'], { Ref: appLogGroupId });
    assert.equal(subscription.Properties['FilterPattern'], '');
    const streamId = Object.keys(resourcesOf(prod.service, 'AWS::KinesisFirehose::DeliveryStream'))[0];
    assert.deepEqual(subscription.Properties['DestinationArn'], { 'Fn::GetAtt': [streamId, 'Arn'] });
    // CloudWatch Logs may put records into the stream
    const roleId = (subscription.Properties['RoleArn'] as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    prod.service.hasResourceProperties(
      'AWS::IAM::Role',
      Match.objectLike({
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [Match.objectLike({ Principal: { Service: 'logs.amazonaws.com' } })],
        }),
      }),
    );
    const logsPolicy = Object.values(resourcesOf(prod.service, 'AWS::IAM::Policy')).find((p) =>
      JSON.stringify(p.Properties['Roles']).includes(roleId as string),
    );
    assert.match(JSON.stringify(logsPolicy?.Properties), /firehose:PutRecord/);

    // delivery stream → the data stack's archive bucket, compressed, date-partitioned
    const stream = only(resourcesOf(prod.service, 'AWS::KinesisFirehose::DeliveryStream'), 'stream');
    const s3 = stream.Properties['ExtendedS3DestinationConfiguration'] as {
      BucketARN: unknown;
      CompressionFormat: string;
      Prefix: string;
      ErrorOutputPrefix: string;
      ProcessingConfiguration: { Processors: { Type: string }[] };
      RoleARN: { 'Fn::GetAtt': string[] };
      CloudWatchLoggingOptions: { Enabled: boolean; LogStreamName: unknown };
    };
    assert.match(JSON.stringify(s3.BucketARN), /:s3:::softfactory-prod-logs-/);
    assert.equal(s3.CompressionFormat, 'GZIP');
    assert.match(
      s3.Prefix,
      /^softfactory-prod\/app\/year=!\{timestamp:yyyy\}\/month=!\{timestamp:MM\}\/day=!\{timestamp:dd\}\/$/,
    );
    assert.match(s3.ErrorOutputPrefix, /!\{firehose:error-output-type\}/);
    assert.deepEqual(
      s3.ProcessingConfiguration.Processors.map((p) => p.Type),
      ['Decompression', 'CloudWatchLogProcessing', 'AppendDelimiterToRecord'],
    );
    assert.deepEqual(stream.Properties['DeliveryStreamEncryptionConfigurationInput'], { KeyType: 'AWS_OWNED_CMK' });
    // Firehose's role may write only its prefix
    const deliveryPolicy = Object.values(resourcesOf(prod.service, 'AWS::IAM::Policy')).find((p) =>
      JSON.stringify(p.Properties['Roles']).includes(s3.RoleARN['Fn::GetAtt'][0] as string),
    );
    const delivery = JSON.stringify(deliveryPolicy?.Properties);
    assert.match(delivery, /s3:PutObject/);
    assert.match(delivery, /softfactory-prod-logs-.*\/softfactory-prod\/app\/\*/);
    assert.doesNotMatch(delivery, /s3:DeleteObject/);
    // …and log its delivery errors to exactly the stream the stream is configured with
    const logging = s3.CloudWatchLoggingOptions;
    assert.equal(logging.Enabled, true);
    assert.ok(delivery.includes(JSON.stringify(logging.LogStreamName)), 'PutLogEvents on the configured error stream');

    // the bucket: stateful (data stack), named as the stream expects, encrypted, private, TLS-only, lifecycle
    const bucket = only(resourcesOf(prod.data, 'AWS::S3::Bucket'), 'archive bucket') as {
      Properties: Record<string, unknown>;
      DeletionPolicy?: string;
    };
    assert.match(JSON.stringify(bucket.Properties['BucketName']), /softfactory-prod-logs-/);
    // Kept on stack deletion, deleted only when a create rolls back (its name is fixed; a retry must not collide).
    assert.equal(bucket.DeletionPolicy, 'RetainExceptOnCreate');
    prod.data.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Status: 'Enabled',
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
              { StorageClass: 'GLACIER', TransitionInDays: 90 },
            ],
            ExpirationInDays: 365,
          }),
        ],
      },
    });
    prod.data.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
  });

  it('expires archived logs at the configured age', () => {
    tuned.data.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 730 })] },
    });
  });

  it('saves Logs Insights queries: errors in the last 5 minutes, requests slower than 500 ms, 5xx by path', () => {
    const queries = Object.values(resourcesOf(prod.service, 'AWS::Logs::QueryDefinition')).map((q) => q.Properties);
    const byName = Object.fromEntries(queries.map((q) => [q['Name'] as string, q]));
    assert.deepEqual(Object.keys(byName).sort(), [
      'softfactory-prod/5xx-by-path',
      'softfactory-prod/errors-last-5-minutes',
      'softfactory-prod/slow-requests',
    ]);
    const appLogGroupId = Object.entries(resourcesOf(prod.service, 'AWS::Logs::LogGroup')).find(
      ([, g]) => g.Properties['LogGroupName'] === '/softfactory/softfactory-prod/app',
    )?.[0];
    for (const query of queries) assert.deepEqual(query['LogGroupNames'], [{ Ref: appLogGroupId }]);
    assert.match(
      byName['softfactory-prod/errors-last-5-minutes']?.['QueryString'] as string,
      /filter @message like \/\(\?i\)\(error\|exception/,
    );
    assert.match(
      byName['softfactory-prod/slow-requests']?.['QueryString'] as string,
      /duration_ms > 500 or request_seconds > 0.5/,
    );
    assert.match(
      byName['softfactory-prod/5xx-by-path']?.['QueryString'] as string,
      /filter status like \/\^5\/[\s\S]*stats count\(\*\) as responses by status, method, path/,
    );
  });
});

function findKey(result: SynthResult): string {
  const id = Object.keys(resourcesOf(result.service, 'AWS::KMS::Key')).find((k) => k.startsWith('AlarmTopicKey'));
  assert.ok(id, 'alarm topic key');
  return id;
}

function topicId(result: SynthResult): string {
  const id = Object.keys(resourcesOf(result.service, 'AWS::SNS::Topic'))[0];
  assert.ok(id, 'topic');
  return id;
}
