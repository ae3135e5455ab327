import { aws_logs as logs } from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface LogQueriesProps {
  /** The log groups the queries open with (the app's). */
  readonly logGroups: logs.ILogGroup[];
  /** Folder in the Logs Insights console, e.g. `softfactory-prod` (names become `<folder>/<query>`). */
  readonly folder: string;
  /**
   * Requests slower than this many milliseconds are "slow".
   * @default 500
   */
  readonly slowRequestMs?: number;
}

/**
 * The request line of an access log (werkzeug and gunicorn's default format): `"GET /path?query HTTP/1.1" 503`.
 * Fields: method, path (without the query string), status.
 */
export const ACCESS_LOG_PARSE = '@message /"(?<method>[A-Z]+) (?<path>[^ ?"]+)[^"]*" (?<status>\\d{3})/';

/**
 * Saved CloudWatch Logs Insights queries: errors (run over the last 5 minutes), requests slower than the latency
 * budget, and 5xx by path. The request queries read the access-log request line (`ACCESS_LOG_PARSE`); the duration
 * comes from a JSON field `duration_ms` or a trailing request time in seconds (gunicorn `%(L)s`).
 */
export class LogQueries extends Construct {
  public readonly errors: logs.QueryDefinition;
  public readonly slowRequests: logs.QueryDefinition;
  public readonly serverErrorsByPath: logs.QueryDefinition;

  constructor(scope: Construct, id: string, props: LogQueriesProps) {
    super(scope, id);
    const slowRequestMs = props.slowRequestMs ?? 500;
    if (!(slowRequestMs > 0))
      throw new Error(`LogQueries: slowRequestMs = ${slowRequestMs}: expected a positive number`);
    const logGroups = props.logGroups;

    // Logs Insights keeps no time range with a saved query: pick "5m" when running it.
    this.errors = new logs.QueryDefinition(this, 'Errors', {
      queryDefinitionName: `${props.folder}/errors-last-5-minutes`,
      logGroups,
      queryString: new logs.QueryString({
        fields: ['@timestamp', '@logStream', '@message'],
        filterStatements: ['@message like /(?i)(error|exception|traceback|critical)/'],
        sort: '@timestamp desc',
        limit: 200,
      }),
    });
    this.slowRequests = new logs.QueryDefinition(this, 'SlowRequests', {
      queryDefinitionName: `${props.folder}/slow-requests`,
      logGroups,
      queryString: new logs.QueryString({
        fields: ['@timestamp', '@logStream', '@message'],
        parseStatements: [ACCESS_LOG_PARSE, '@message /(?<request_seconds>\\d+\\.\\d+)\\s*$/'],
        filterStatements: [`duration_ms > ${slowRequestMs} or request_seconds > ${slowRequestMs / 1000}`],
        sort: '@timestamp desc',
        limit: 200,
      }),
    });
    this.serverErrorsByPath = new logs.QueryDefinition(this, 'ServerErrorsByPath', {
      queryDefinitionName: `${props.folder}/5xx-by-path`,
      logGroups,
      queryString: new logs.QueryString({
        parseStatements: [ACCESS_LOG_PARSE],
        filterStatements: ['status like /^5/'],
        statsStatements: ['count(*) as responses by status, method, path'],
        sort: 'responses desc',
        limit: 50,
      }),
    });
  }
}
