/**
 * Alarm kinds: when an alarm fires, named by what it means (sustained, mostly, any at all), not by the resource it
 * watches — the analogue of cdk-monitoring-constructs' per-kind alarm factories. Each kind fixes the comparison, how
 * many one-period datapoints out of how many, and what missing data means; the threshold is always the caller's,
 * taken from the stage config.
 */
import { aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';

/** When an alarm fires: threshold, comparison, how many of how many one-period datapoints, missing data. */
export interface Rule {
  readonly threshold: number;
  readonly comparison: cloudwatch.ComparisonOperator;
  /**
   * Breaching datapoints (of `of`) that fire the alarm.
   * @default - absent from the template: CloudWatch then requires every one of `of`
   */
  readonly datapoints?: number;
  /** Periods evaluated (`EvaluationPeriods`). */
  readonly of: number;
  readonly missing: cloudwatch.TreatMissingData;
  /**
   * `EvaluateLowSampleCountPercentile` for percentile metrics.
   * @default - absent (CloudWatch's default: evaluate)
   */
  readonly lowSamplePercentiles?: 'ignore';
}

const { GREATER_THAN_THRESHOLD: ABOVE, LESS_THAN_THRESHOLD: BELOW } = cloudwatch.ComparisonOperator;
const { NOT_BREACHING, BREACHING } = cloudwatch.TreatMissingData;

/** Above `threshold` in every one of the last `minutes` minutes; no data is not a breach. */
export function sustainedAbove(threshold: number, minutes: number): Rule {
  return { threshold, comparison: ABOVE, datapoints: minutes, of: minutes, missing: NOT_BREACHING };
}

/**
 * Above `threshold` in `datapoints` of the last `of` minutes (a spike of one minute does not page); no data is not a
 * breach. `ignoreLowSamplePercentiles` for percentile metrics, so that a quiet minute's p95 of three requests does
 * not count.
 */
export function mostlyAbove(
  threshold: number,
  datapoints: number,
  of: number,
  options: { readonly ignoreLowSamplePercentiles?: boolean } = {},
): Rule {
  return {
    threshold,
    comparison: ABOVE,
    datapoints,
    of,
    missing: NOT_BREACHING,
    ...(options.ignoreLowSamplePercentiles ? { lowSamplePercentiles: 'ignore' as const } : {}),
  };
}

/**
 * Below `threshold` in `datapoints` of the last `of` periods. `missingBreaching` when no data itself means the
 * thing is gone (no healthy host publishes no healthy-host count).
 */
export function below(
  threshold: number,
  datapoints: number,
  of: number,
  options: { readonly missingBreaching?: boolean } = {},
): Rule {
  return {
    threshold,
    comparison: BELOW,
    datapoints,
    of,
    missing: options.missingBreaching ? BREACHING : NOT_BREACHING,
  };
}

/** Any non-zero value in the last minute (an error, a throttle): one is already one too many. */
export function anyInMinute(): Rule {
  return { ...anyInPeriod(), datapoints: 1 };
}

/**
 * Any non-zero value in the last period, `DatapointsToAlarm` left to CloudWatch (1 of 1: the same meaning as
 * `anyInMinute`). The rollback dead-letter alarm was written this way; setting it would change its template.
 */
export function anyInPeriod(): Rule {
  return { threshold: 0, comparison: ABOVE, of: 1, missing: NOT_BREACHING };
}
