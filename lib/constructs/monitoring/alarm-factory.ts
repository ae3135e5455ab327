/**
 * The one place an alarm is made: named by `alarmName`, its construct id derived from its signal, its rule from an
 * alarm kind, its description a runbook line, ALARM and OK both sent to one action. `ServiceAlarms`, its function
 * alarms and Rollback's dead-letter alarm all come through here, so no alarm spells its own name or wiring.
 */
import { aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Rule } from './alarm-kinds';
import { alarmConstructId, alarmName } from './alarm-naming';

export interface AddAlarmProps {
  /** The stage, part of the alarm's name. */
  readonly stage: string;
  /** Short kebab-case name of what is watched (`error-rate`): the alarm is `softfactory-<stage>-<signal>`. */
  readonly signal: string;
  /**
   * Construct id of the alarm, for an alarm whose id predates this factory (ids are a contract).
   * @default - `alarmConstructId(signal)`, e.g. `ErrorRate`
   */
  readonly id?: string;
  /** What the alarm watches (a metric or metric-math expression). */
  readonly metric: cloudwatch.IMetric;
  /** When it fires: threshold, comparison, periods and missing-data treatment (alarm-kinds.ts). */
  readonly rule: Rule;
  /** What the alarm means and what to do first (a "First:" line; at most 1024 characters). */
  readonly description: string;
  /** Where the ALARM and OK transitions go. */
  readonly action: cloudwatch.IAlarmAction;
}

export function addAlarm(scope: Construct, props: AddAlarmProps): cloudwatch.Alarm {
  const { rule } = props;
  const alarm = new cloudwatch.Alarm(scope, props.id ?? alarmConstructId(props.signal), {
    alarmName: alarmName(props.stage, props.signal),
    alarmDescription: props.description,
    metric: props.metric,
    threshold: rule.threshold,
    comparisonOperator: rule.comparison,
    evaluationPeriods: rule.of,
    ...(rule.datapoints !== undefined ? { datapointsToAlarm: rule.datapoints } : {}),
    treatMissingData: rule.missing,
    ...(rule.lowSamplePercentiles ? { evaluateLowSampleCountPercentile: rule.lowSamplePercentiles } : {}),
  });
  alarm.addAlarmAction(props.action);
  alarm.addOkAction(props.action);
  return alarm;
}
