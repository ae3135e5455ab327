/**
 * Runbook text: each alarm's description says what it means and what to do first ("First: …", asserted by the
 * tests), with the numbers it fires at. Kept apart from the wiring so the prose can be read and changed as prose.
 * Pure: the facts come in, a string goes out.
 */
import { dbInstanceIdentifier, resourcePrefix } from '../../../shared/names';
import { dbMaxConnections, type StageConfig } from '../../config/stage-config';
import { appLogGroupName } from '../web-container';

/** What a service alarm's description may name. */
export interface RunbookFacts {
  readonly stage: string;
  /** The dashboard the description points to. */
  readonly dashboard: string;
  readonly config: StageConfig;
  /** The alarm's threshold as it is in the template (after unit conversion). */
  readonly threshold: number;
}

export type Runbook = (f: RunbookFacts) => string;

/** One runbook per service signal, referenced by its row in `SIGNALS`. */
export const RUNBOOKS = {
  errorRate: ({ stage, dashboard, config: c }) =>
    `More than ${c.errorRatePercent} % of requests got a 5xx (from the app or the load balancer) in 3 of the last 5 ` +
    `minutes; minutes with fewer than ${c.errorRateMinRequests} requests count as 0 %, and 5xx with no routed ` +
    'request (no healthy target) counts as 100 %. During a deployment or its bake time ECS rolls back by itself. ' +
    `First: on dashboard ${dashboard} see whether the 5xx come from targets or the load balancer, run the saved ` +
    `query ${resourcePrefix(stage)}/5xx-by-path; if a release went out in the last hour, roll back (sfdeploy rollback).`,

  latency: ({ stage, dashboard, config: c }) =>
    `The ${c.latencyStatistic} target response time was above ${c.latencyThresholdMs} ms in 3 of the last 5 minutes. ` +
    'During a deployment or its bake time ECS rolls back by itself. First: run the saved query ' +
    `${resourcePrefix(stage)}/slow-requests, then check the service CPU and the database CPU and connections ` +
    `on dashboard ${dashboard}; scale out if the tasks are saturated.`,

  unhealthyHosts: () =>
    'At least one task failed the load balancer health check (GET /health) for 2 minutes, in the blue or the ' +
    'green target group. During a deployment or its bake time ECS rolls back by itself. First: read the ' +
    'stopped-task reasons (aws ecs describe-tasks) and the app log group for startup or database errors.',

  healthyHosts: () =>
    'No task has passed the health check for 2 minutes: the site is down (the load balancer answers 503). ' +
    'First: check the ECS service events and stopped tasks, then the database (reachable, credentials, ' +
    'free storage); redeploy the last good revision if a release caused it.',

  cpu: ({ config: c }) =>
    `The service's average CPU was above ${c.cpuAlarmPercent} % for 5 minutes. Autoscaling should add tasks. First: if ` +
    'the service is at maxTasks, raise maxTasks or the task size; look for a hot endpoint with the slow-requests query.',

  memory: ({ config: c }) =>
    `The busiest task used more than ${c.memoryAlarmPercent} % of its memory for 5 minutes; at 100 % it is killed ` +
    '(OutOfMemoryError). First: check whether memory grows steadily (a leak: restart tasks with a forced ' +
    'deployment) or with load (raise memoryMiB).',

  disk: ({ config: c }) =>
    `The fullest task used more than ${c.diskAlarmPercent} % of its Fargate ephemeral storage for 5 minutes ` +
    '(Container Insights). First: find what writes to local disk (temporary files, logs written to files ' +
    'instead of stdout); a forced deployment gives every task fresh storage.',

  dbCpu: ({ stage, config: c }) =>
    `The database CPU was above ${c.dbCpuAlarmPercent} % for 5 minutes. First: Performance Insights top SQL and the ` +
    `slow-statement log (/aws/rds/instance/${dbInstanceIdentifier(stage)}/postgresql); add an index or scale the instance class.`,

  dbFreeStorage: ({ config: c }) =>
    `The database has less than ${c.dbFreeStoragePercent} % of its ${c.dbAllocatedStorageGiB} GiB allocation ` +
    'free. Storage autoscaling grows it up to dbMaxAllocatedStorageGiB. First: check whether autoscaling has ' +
    'reached its ceiling and what grows (tables, WAL, logs); raise dbMaxAllocatedStorageGiB if needed.',

  dbConnections: ({ config: c, threshold }) =>
    `More than ${threshold} connections (${c.dbConnectionsPercent} % of max_connections ${dbMaxConnections(c)}) ` +
    'in 3 of the last 5 minutes; at the limit new connections fail. First: count connections per client ' +
    '(pg_stat_activity): too many tasks, a leaking pool, or idle-in-transaction sessions.',

  appErrorLines: ({ stage, dashboard }) =>
    `The app wrote at least one error line (ERROR, CRITICAL, Traceback or Exception) to ` +
    `${appLogGroupName(resourcePrefix(stage))} in the last minute: a worker that failed to boot, a failed ` +
    'database connection or an unhandled exception in a request. First: run the saved Logs Insights query ' +
    `${resourcePrefix(stage)}/errors-last-5-minutes and read the traceback; right after a release, compare with ` +
    `the error-rate graph on dashboard ${dashboard} and roll back (sfdeploy rollback) if requests fail.`,
} satisfies Record<string, Runbook>;

/** The runbooks of a Lambda function's alarms, by the function's short name. */
export const FUNCTION_RUNBOOKS = {
  errors: (name: string) =>
    `The ${name} function failed (threw, timed out or ran out of memory) at least once in the last minute. ` +
    `First: read its log group for the error and the request id; a deployment hook failure also rolls the deployment back.`,
  throttles: (name: string) =>
    `The ${name} function was throttled at least once in the last minute: its invocations were refused. ` +
    'First: check its reserved concurrency and the account concurrency (other functions consuming it).',
};

/** The rollback function's dead-letter alarm. */
export const ROLLBACK_DEAD_LETTERS_RUNBOOK =
  'A rollback trigger could not be processed (ECS/DynamoDB errors after retries, or an undeliverable alarm ' +
  'notification). First response: read the message in the dead-letter queue and the function logs, then run ' +
  '`sfdeploy rollback --stage <stage> --reason …` by hand if the service still needs it.';
