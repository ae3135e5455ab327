/**
 * Issue 18 (checklist audit): the monitoring claims asserted on the resources the app really uses — the log group the
 * container writes to (not merely a group with the right name), the WAF's own log group, the service's network
 * metrics — and the data stack's maintenance settings. Each test fails when the property it names is removed or
 * pointed elsewhere.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APP_ERROR_LINES_METRIC, ERROR_LINE_TERMS } from '../../lib/constructs/monitoring/app-error-lines';
import { RATE_LIMIT_RULE } from '../../lib/constructs/web-acl';
import { alarmNamed, stats } from '../helpers/monitoring';
import { only, resourcesOf, synthApp } from '../helpers/synth';

const dev = synthApp({ stage: 'dev' });
const prod = synthApp({ stage: 'prod' });

type Resources = ReturnType<typeof resourcesOf>;

/** The logical id of the log group the web container's awslogs driver writes to (its `awslogs-group`). */
function containerLogGroupId(result: typeof prod): string {
  const task = only(resourcesOf(result.service, 'AWS::ECS::TaskDefinition'), 'task definition');
  const [web] = task.Properties['ContainerDefinitions'] as {
    LogConfiguration: { LogDriver: string; Options: Record<string, unknown> };
  }[];
  assert.equal(web?.LogConfiguration.LogDriver, 'awslogs');
  const ref = (web?.LogConfiguration.Options['awslogs-group'] as { Ref?: string } | undefined)?.Ref;
  assert.ok(ref, 'awslogs-group refers to a log group of the stack');
  assert.ok(resourcesOf(result.service, 'AWS::Logs::LogGroup')[ref], `${ref} is a log group`);
  return ref;
}

function idOfLogGroupNamed(groups: Resources, name: string): string {
  const found = Object.entries(groups).find(([, g]) => g.Properties['LogGroupName'] === name);
  assert.ok(found, `a log group named ${name}`);
  return found[0];
}

describe('the app log group the container writes to (audit C2)', () => {
  it('is the group that is masked, archived, queried and read for errors', () => {
    for (const result of [dev, prod]) {
      const groupId = containerLogGroupId(result);
      const group = resourcesOf(result.service, 'AWS::Logs::LogGroup')[groupId]!;
      assert.equal(group.Properties['LogGroupName'], `/softfactory/softfactory-${result.config.stage}/app`);
      assert.ok(group.Properties['DataProtectionPolicy'], 'the masking policy is on the container’s group');
      const subscription = only(resourcesOf(result.service, 'AWS::Logs::SubscriptionFilter'), 'archive subscription');
      assert.deepEqual(subscription.Properties['LogGroupName'], { Ref: groupId });
      const queries = Object.values(resourcesOf(result.service, 'AWS::Logs::QueryDefinition'))
        .filter((q) => !String(q.Properties['Name']).endsWith('/waf-rate-limit-blocks'))
        .map((q) => q.Properties['LogGroupNames']);
      assert.equal(queries.length, 3);
      for (const groups of queries) assert.deepEqual(groups, [{ Ref: groupId }]);
      const filter = only(resourcesOf(result.service, 'AWS::Logs::MetricFilter'), 'error-line filter');
      assert.deepEqual(filter.Properties['LogGroupName'], { Ref: groupId });
    }
  });
});

describe('error lines in the app log (pre-2-startup-errors)', () => {
  const filter = only(resourcesOf(prod.service, 'AWS::Logs::MetricFilter'), 'error-line filter');
  const [transformation] = filter.Properties['MetricTransformations'] as Record<string, unknown>[];

  it('counts every app log line with ERROR, CRITICAL, Traceback or Exception in a per-stage metric', () => {
    // `?term ?term` matches an event holding any one of the terms; terms are case-sensitive
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html).
    assert.equal(filter.Properties['FilterPattern'], '?"ERROR" ?"CRITICAL" ?"Traceback" ?"Exception"');
    assert.deepEqual(transformation, {
      MetricNamespace: 'SoftFactory/softfactory-prod',
      MetricName: APP_ERROR_LINES_METRIC,
      MetricValue: '1',
      Unit: 'Count',
    });
  });

  it('has a term for each line gunicorn and Flask write when a worker fails to boot or a request raises', () => {
    const failing = [
      '[2026-12-03 10:00:01 +0000] [8] [ERROR] Exception in worker process',
      'Traceback (most recent call last):',
      '[2026-12-03 10:00:31 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:8)',
      '[2026-12-03 10:02:11,204] ERROR in app: Exception on /api/sns/posts [GET]',
      'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) connection to server failed',
    ];
    const ordinary = [
      '[2026-12-03 10:00:00 +0000] [1] [INFO] Booting worker with pid: 8',
      '10.0.1.5 - - [03/Dec/2026:10:00:05 +0000] "GET /api/errors HTTP/1.1" 200 17 0.004',
      '[2026-12-03 10:00:00 +0000] [1] [WARNING] Worker graceful timeout',
    ];
    // A term matches as a whole word (letters, digits, underscore) in the event; the traceback's last line holds
    // "OperationalError", which is why the terms need no "Error" suffix variants: its line above is the ERROR line.
    const hasTerm = (line: string) =>
      ERROR_LINE_TERMS.some((t) => new RegExp(`(^|[^A-Za-z0-9_])${t}([^A-Za-z0-9_]|$)`).test(line));
    assert.deepEqual(failing.slice(0, 4).map(hasTerm), [true, true, true, true]);
    assert.deepEqual(ordinary.map(hasTerm), [false, false, false]);
  });

  it('alarms on any error line in a minute and notifies the stage topic, with a runbook', () => {
    const alarm = alarmNamed(prod.service, 'softfactory-prod-app-error-lines');
    const [metric, ...others] = Object.values(stats(alarm));
    assert.deepEqual(others, [], 'one metric');
    assert.equal(metric?.Metric.Namespace, 'SoftFactory/softfactory-prod');
    assert.equal(metric?.Metric.MetricName, APP_ERROR_LINES_METRIC);
    assert.equal(metric?.Period, 60);
    assert.equal(metric?.Stat, 'Sum');
    assert.equal(alarm.Threshold, 0);
    assert.equal(alarm.ComparisonOperator, 'GreaterThanThreshold');
    assert.equal(alarm.EvaluationPeriods, 1);
    assert.equal(alarm.DatapointsToAlarm, 1);
    assert.equal(alarm.TreatMissingData, 'notBreaching');
    const [topicId] = Object.keys(resourcesOf(prod.service, 'AWS::SNS::Topic')).filter((id) =>
      id.startsWith('AlarmTopic'),
    );
    assert.deepEqual(alarm.AlarmActions, [{ Ref: topicId }]);
    assert.deepEqual(alarm.OKActions, [{ Ref: topicId }]);
    assert.match(alarm.AlarmDescription, /\/softfactory\/softfactory-prod\/app/);
    assert.match(
      alarm.AlarmDescription,
      /First: run the saved Logs Insights query softfactory-prod\/errors-last-5-minutes/,
    );
  });

  it('graphs the error lines on the dashboard with the alarm threshold', () => {
    const dashboard = only(resourcesOf(prod.service, 'AWS::CloudWatch::Dashboard'), 'dashboard');
    const body = JSON.stringify(dashboard.Properties['DashboardBody']);
    assert.match(body, /App log: error lines/);
    assert.ok(body.includes(`SoftFactory/softfactory-prod\\",\\"${APP_ERROR_LINES_METRIC}`));
  });
});

describe('network I/O (mon-1-network-io)', () => {
  it('graphs the service’s received and sent bytes from Container Insights on the dashboard', () => {
    // NetworkRxBytes / NetworkTxBytes, Bytes/Second, per ClusterName + ServiceName
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html).
    const dashboard = only(resourcesOf(prod.service, 'AWS::CloudWatch::Dashboard'), 'dashboard');
    const body = JSON.stringify(dashboard.Properties['DashboardBody']);
    const [serviceId] = Object.keys(resourcesOf(prod.service, 'AWS::ECS::Service'));
    const [clusterId] = Object.keys(resourcesOf(prod.service, 'AWS::ECS::Cluster'));
    for (const metric of ['NetworkRxBytes', 'NetworkTxBytes']) {
      const graphed = new RegExp(
        `\\[\\\\"ECS/ContainerInsights\\\\",\\\\"${metric}\\\\",\\\\"ClusterName\\\\",\\\\"",\\{"Ref":"${clusterId}"\\},` +
          `"\\\\",\\\\"ServiceName\\\\",\\\\"",\\{"Fn::GetAtt":\\["${serviceId}","Name"\\]\\}`,
      );
      assert.match(body, graphed, `${metric} of this cluster's service on the dashboard`);
    }
    assert.match(body, /Service network: received \/ sent/);
  });
});

describe('rate-limit blocks in the WAF logs (sec-4-rate-limit-logs)', () => {
  it('saves a Logs Insights query on the WAF log group for the requests the rate-based rule blocked', () => {
    const wafGroupId = idOfLogGroupNamed(
      resourcesOf(prod.service, 'AWS::Logs::LogGroup'),
      'aws-waf-logs-softfactory-prod',
    );
    const query = Object.values(resourcesOf(prod.service, 'AWS::Logs::QueryDefinition')).find(
      (q) => q.Properties['Name'] === 'softfactory-prod/waf-rate-limit-blocks',
    );
    assert.ok(query, 'query softfactory-prod/waf-rate-limit-blocks');
    assert.deepEqual(query.Properties['LogGroupNames'], [{ Ref: wafGroupId }]);
    // Blocked by the rate-based rule: action BLOCK, terminatingRuleType RATE_BASED, terminatingRuleId its name
    // (https://docs.aws.amazon.com/waf/latest/developerguide/logging-fields.html).
    assert.match(
      query.Properties['QueryString'] as string,
      new RegExp(
        `filter action = "BLOCK" and terminatingRuleType = "RATE_BASED" and terminatingRuleId = "${RATE_LIMIT_RULE}"` +
          '[\\s\\S]*stats count\\(\\*\\) as blocked by bin\\(5m\\), httpRequest.clientIp',
      ),
    );
    const acl = only(resourcesOf(prod.service, 'AWS::WAFv2::WebACL'), 'web ACL');
    const rule = (
      acl.Properties['Rules'] as { Name: string; Action?: unknown; Statement: Record<string, unknown> }[]
    ).find((r) => r.Name === RATE_LIMIT_RULE);
    assert.ok(rule?.Statement['RateBasedStatement'], `the query names the web ACL's rate-based rule`);
    assert.deepEqual(rule.Action, { Block: {} });
  });
});

describe('database maintenance (mon-3-weekly-vacuum, mon-3-security-patches)', () => {
  it('leaves autovacuum on in every stage’s parameter group', () => {
    // RDS for PostgreSQL runs autovacuum by default; only the parameter group could turn it off
    // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Autovacuum.html).
    for (const result of [dev, prod]) {
      const instance = only(resourcesOf(result.data, 'AWS::RDS::DBInstance'), 'database');
      const groupId = (instance.Properties['DBParameterGroupName'] as { Ref?: string }).Ref;
      const group = resourcesOf(result.data, 'AWS::RDS::DBParameterGroup')[groupId ?? ''];
      assert.ok(group, 'the instance uses the stack’s own parameter group');
      const parameters = group.Properties['Parameters'] as Record<string, string>;
      for (const [name, value] of Object.entries(parameters)) {
        if (name === 'autovacuum' || name === 'track_counts') assert.notEqual(value, '0', `${name} stays on`);
        if (name === 'autovacuum' || name === 'track_counts') assert.notEqual(value.toLowerCase(), 'off');
      }
    }
  });

  it('applies minor engine versions automatically, in every stage', () => {
    // Minor versions are applied in the instance's maintenance window when AutoMinorVersionUpgrade is true
    // (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.Upgrading.html).
    for (const result of [dev, prod]) {
      const instance = only(resourcesOf(result.data, 'AWS::RDS::DBInstance'), 'database');
      assert.equal(instance.Properties['AutoMinorVersionUpgrade'], true);
    }
  });
});
