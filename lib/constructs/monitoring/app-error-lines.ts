/**
 * The app's error lines as a metric: a metric filter on the app log group counts each log event that carries an
 * error term, so an alarm can read the logs for startup and request errors instead of someone running the saved
 * `errors-last-5-minutes` query.
 */
import { aws_cloudwatch as cloudwatch, Duration, aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/**
 * What a Flask app under gunicorn writes when something fails: the level names of Python's logging (gunicorn's
 * `[ERROR] Exception in worker process`, `[CRITICAL] WORKER TIMEOUT`, Flask's `ERROR in app: Exception on /path`),
 * the first line of every traceback (`Traceback (most recent call last):`) and `Exception`. Filter-pattern terms are
 * case-sensitive: upper-case `ERROR` leaves access-log lines of a path such as `/api/errors` alone. Warnings are
 * not counted: a deprecation warning at start-up is not an outage.
 */
export const ERROR_LINE_TERMS = ['ERROR', 'CRITICAL', 'Traceback', 'Exception'] as const;

/** The metric's name in the stage's namespace. */
export const APP_ERROR_LINES_METRIC = 'AppErrorLines';

export interface AppErrorLinesProps {
  /** The app's log group (the one the container's awslogs driver writes to). */
  readonly logGroup: logs.ILogGroup;
  /** Custom namespace of the metric, e.g. `SoftFactory/softfactory-prod`: one per stage, so stages never mix. */
  readonly namespace: string;
}

export class AppErrorLines extends Construct {
  public readonly filter: logs.MetricFilter;
  /** Error lines per minute (Sum); a minute without any publishes no datapoint. */
  public readonly metric: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: AppErrorLinesProps) {
    super(scope, id);
    // `?ERROR ?Exception` matches an event holding any of the terms
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html). No default value:
    // with one, CloudWatch would publish 0 for every minute with log lines, which adds nothing for an alarm that
    // treats missing data as not breaching.
    this.filter = new logs.MetricFilter(this, 'Filter', {
      logGroup: props.logGroup,
      filterName: 'app-error-lines',
      filterPattern: logs.FilterPattern.anyTerm(...ERROR_LINE_TERMS),
      metricNamespace: props.namespace,
      metricName: APP_ERROR_LINES_METRIC,
      metricValue: '1',
      unit: cloudwatch.Unit.COUNT,
    });
    this.metric = this.filter.metric({
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.SUM,
      label: 'Error lines in the app log',
    });
  }
}
