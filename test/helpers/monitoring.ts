/**
 * Readers of the synthesized alarms and the synthesis inputs shared by the monitoring tests
 * (test/lib/monitoring-*.test.ts): alarm properties by name, their metric-stat queries and expressions.
 */
import assert from 'node:assert/strict';
import type { Template } from 'aws-cdk-lib/assertions';
import { resourcesOf, type SynthResult } from './synth';

export interface MetricStat {
  Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] };
  Period: number;
  Stat: string;
}
export interface MetricQuery {
  Id: string;
  Expression?: string;
  MetricStat?: MetricStat;
  ReturnData?: boolean;
}
export interface AlarmProps {
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

export function alarms(template: Template): Record<string, AlarmProps> {
  return Object.fromEntries(
    Object.entries(resourcesOf(template, 'AWS::CloudWatch::Alarm')).map(([id, r]) => [
      id,
      r.Properties as unknown as AlarmProps,
    ]),
  );
}

export function alarmNamed(template: Template, name: string): AlarmProps {
  const found = Object.values(alarms(template)).filter((a) => a.AlarmName === name);
  assert.equal(found.length, 1, `exactly one alarm named ${name}`);
  return found[0]!;
}

export function logicalIdOfAlarm(template: Template, name: string): string {
  const entry = Object.entries(alarms(template)).find(([, a]) => a.AlarmName === name);
  assert.ok(entry, `alarm ${name}`);
  return entry[0];
}

/** The metric-stat queries of an alarm, by id (a single-metric alarm renders its metric at the top level). */
export function stats(alarm: AlarmProps): Record<string, MetricStat> {
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

export function expressions(alarm: AlarmProps): Record<string, string> {
  return Object.fromEntries(
    (alarm.Metrics ?? []).filter((q) => q.Expression).map((q) => [q.Id, q.Expression as string]),
  );
}

export function dimensionNames(stat: { Metric: { Dimensions?: { Name: string }[] } }): string[] {
  return (stat.Metric.Dimensions ?? []).map((d) => d.Name).sort();
}

/** Every monitoring key of the stage config set away from its default, in one synthesis (`synthApp(TUNED)`). */
export const TUNED: Record<string, string> = {
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
};

export function templates(result: SynthResult): Template[] {
  return [result.network, result.data, result.service];
}
