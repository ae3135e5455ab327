import {
  aws_cloudwatch as cloudwatch,
  Duration,
  type aws_ecs as ecs,
  aws_elasticloadbalancingv2 as elbv2,
  type aws_lambda as lambda,
  type aws_rds as rds,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { LoadBalancer } from './load-balancer';

/** The signals whose alarms roll a deployment back while it runs or bakes (ECS `deploymentAlarms`). */
export const DEPLOYMENT_ALARM_SIGNALS = ['error-rate', 'latency', 'unhealthy-hosts'] as const;

/**
 * The one naming scheme for alarms: `softfactory-<stage>-<signal>`. Pure and fixed, so the ECS service can name its
 * deployment alarms before they exist (the alarms' metrics name the load balancer; a token would make a cycle).
 */
export function alarmName(stage: string, signal: string): string {
  return `softfactory-${stage}-${signal}`;
}

/** Latency percentiles the alarm accepts. */
export type LatencyStatistic = 'p95' | 'p99';

export interface ServiceAlarmsProps {
  /** The stage, part of every alarm's name. */
  readonly stage: string;
  /** The load balancer and its blue and green target groups. */
  readonly loadBalancer: LoadBalancer;
  /** The Fargate service (its cluster must have Container Insights for the disk alarm). */
  readonly service: ecs.FargateService;
  /** The RDS instance whose CPU, free storage and connections are watched. */
  readonly database: rds.IDatabaseInstance;
  /** The database's allocated storage in GiB, the base of the free-storage threshold. */
  readonly dbAllocatedStorageGiB: number;
  /** The database's `max_connections`, the base of the connections threshold. */
  readonly dbMaxConnections: number;
  /** Where every alarm sends its ALARM and OK transitions. */
  readonly action: cloudwatch.IAlarmAction;
  /** Error rate (percent of requests answered 5xx) above which the error-rate alarm fires. @default 1 */
  readonly errorRatePercent?: number;
  /** Requests a minute needs before its error rate counts; quieter minutes read as 0 %. @default 20 */
  readonly errorRateMinRequests?: number;
  /** `TargetResponseTime` (ms) above which the latency alarm fires. @default 500 */
  readonly latencyThresholdMs?: number;
  /** The percentile the latency alarm watches. @default 'p95' */
  readonly latencyStatistic?: LatencyStatistic;
  /** Service CPU (average over tasks) in percent. @default 80 */
  readonly cpuPercent?: number;
  /** Service memory (the busiest task) in percent. @default 80 */
  readonly memoryPercent?: number;
  /** Ephemeral storage (the fullest task) in percent. @default 80 */
  readonly diskPercent?: number;
  /** Database CPU in percent. @default 80 */
  readonly dbCpuPercent?: number;
  /** Free storage below this percentage of `dbAllocatedStorageGiB`. @default 20 */
  readonly dbFreeStoragePercent?: number;
  /** Connections above this percentage of `dbMaxConnections`. @default 80 */
  readonly dbConnectionsPercent?: number;
  /** Dashboard named in the alarm descriptions. @default `softfactory-<stage>` */
  readonly dashboardName?: string;
}

/** The metrics behind the alarms, for the dashboard. */
export interface ServiceMetrics {
  readonly requests: cloudwatch.IMetric;
  readonly target5xx: cloudwatch.IMetric;
  readonly elb5xx: cloudwatch.IMetric;
  readonly errorRate: cloudwatch.IMetric;
  readonly latencyP95: cloudwatch.IMetric;
  readonly latencyP99: cloudwatch.IMetric;
  readonly healthyHosts: cloudwatch.IMetric;
  readonly unhealthyHosts: cloudwatch.IMetric;
  readonly cpu: cloudwatch.IMetric;
  readonly memory: cloudwatch.IMetric;
  readonly disk: cloudwatch.IMetric;
  readonly dbCpu: cloudwatch.IMetric;
  readonly dbFreeStorage: cloudwatch.IMetric;
  readonly dbConnections: cloudwatch.IMetric;
}

/** When an alarm fires: threshold, comparison, how many of how many one-period datapoints, missing data. */
interface Rule {
  readonly threshold: number;
  readonly comparison: cloudwatch.ComparisonOperator;
  readonly datapoints: number;
  readonly of: number;
  readonly missing: cloudwatch.TreatMissingData;
  readonly lowSamplePercentiles?: 'ignore';
}

/** The alarms made for one Lambda function. */
export interface FunctionAlarms {
  readonly errors: cloudwatch.Alarm;
  readonly throttles: cloudwatch.Alarm;
}

const MINUTE = Duration.minutes(1);
const GIB = 1024 ** 3;
const { GREATER_THAN_THRESHOLD: ABOVE, LESS_THAN_THRESHOLD: BELOW } = cloudwatch.ComparisonOperator;
const { NOT_BREACHING, BREACHING } = cloudwatch.TreatMissingData;

/**
 * The stage's alarms, named `softfactory-<stage>-<signal>`, each with a description that says what it means and what
 * to do first, and each sending ALARM and OK to one action. Metrics, rules and actions are built separately; the
 * error-rate, latency and unhealthy-hosts alarms are the ECS deployment alarms (`deploymentAlarms`). Functions
 * written later join with `alarmFunction`.
 *
 * Blue/green: per-target-group metrics (host counts) add the blue and green groups; request, 5xx and latency
 * metrics are load-balancer-wide, so they cover both groups and also the test listener's traffic to green.
 */
export class ServiceAlarms extends Construct {
  public readonly errorRate: cloudwatch.Alarm;
  public readonly latency: cloudwatch.Alarm;
  public readonly unhealthyHosts: cloudwatch.Alarm;
  public readonly healthyHosts: cloudwatch.Alarm;
  public readonly cpu: cloudwatch.Alarm;
  public readonly memory: cloudwatch.Alarm;
  public readonly disk: cloudwatch.Alarm;
  public readonly dbCpu: cloudwatch.Alarm;
  public readonly dbFreeStorage: cloudwatch.Alarm;
  public readonly dbConnections: cloudwatch.Alarm;
  public readonly metrics: ServiceMetrics;

  private readonly stage: string;
  private readonly action: cloudwatch.IAlarmAction;
  private readonly alarms = new Map<string, cloudwatch.Alarm>();

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const errorRatePercent = props.errorRatePercent ?? 1;
    const errorRateMinRequests = props.errorRateMinRequests ?? 20;
    const latencyThresholdMs = props.latencyThresholdMs ?? 500;
    const latencyStatistic = props.latencyStatistic ?? 'p95';
    const cpuPercent = props.cpuPercent ?? 80;
    const memoryPercent = props.memoryPercent ?? 80;
    const diskPercent = props.diskPercent ?? 80;
    const dbCpuPercent = props.dbCpuPercent ?? 80;
    const dbFreeStoragePercent = props.dbFreeStoragePercent ?? 20;
    const dbConnectionsPercent = props.dbConnectionsPercent ?? 80;
    const dashboard = props.dashboardName ?? `softfactory-${props.stage}`;
    validate({ errorRatePercent, cpuPercent, memoryPercent, diskPercent, dbCpuPercent, dbConnectionsPercent }, 0, 100);
    validate({ dbFreeStoragePercent }, 0, 99);
    validate(
      {
        errorRateMinRequests,
        latencyThresholdMs,
        dbAllocatedStorageGiB: props.dbAllocatedStorageGiB,
        dbMaxConnections: props.dbMaxConnections,
      },
      0,
    );
    this.stage = props.stage;
    this.action = props.action;

    this.metrics = serviceMetrics(props, errorRateMinRequests);
    const m = this.metrics;
    const latencyMetric = latencyStatistic === 'p99' ? m.latencyP99 : m.latencyP95;
    const freeStorageBytes = Math.floor((props.dbAllocatedStorageGiB * GIB * dbFreeStoragePercent) / 100);
    const connectionLimit = Math.floor((props.dbMaxConnections * dbConnectionsPercent) / 100);

    this.errorRate = this.add(
      'error-rate',
      'ErrorRate',
      m.errorRate,
      { threshold: errorRatePercent, comparison: ABOVE, datapoints: 3, of: 5, missing: NOT_BREACHING },
      `More than ${errorRatePercent} % of requests got a 5xx (from the app or the load balancer) in 3 of the last 5 ` +
        `minutes; minutes with fewer than ${errorRateMinRequests} requests count as 0 %, and 5xx with no routed ` +
        'request (no healthy target) counts as 100 %. During a deployment or its bake time ECS rolls back by itself. ' +
        `First: on dashboard ${dashboard} see whether the 5xx come from targets or the load balancer, run the saved ` +
        `query softfactory-${props.stage}/5xx-by-path; if a release went out in the last hour, roll back (sfdeploy rollback).`,
    );
    this.latency = this.add(
      'latency',
      'Latency',
      latencyMetric,
      {
        threshold: latencyThresholdMs / 1000,
        comparison: ABOVE,
        datapoints: 3,
        of: 5,
        missing: NOT_BREACHING,
        lowSamplePercentiles: 'ignore',
      },
      `The ${latencyStatistic} target response time was above ${latencyThresholdMs} ms in 3 of the last 5 minutes. ` +
        'During a deployment or its bake time ECS rolls back by itself. First: run the saved query ' +
        `softfactory-${props.stage}/slow-requests, then check the service CPU and the database CPU and connections ` +
        `on dashboard ${dashboard}; scale out if the tasks are saturated.`,
    );
    this.unhealthyHosts = this.add(
      'unhealthy-hosts',
      'UnhealthyHosts',
      m.unhealthyHosts,
      { threshold: 0, comparison: ABOVE, datapoints: 2, of: 2, missing: NOT_BREACHING },
      'At least one task failed the load balancer health check (GET /health) for 2 minutes, in the blue or the ' +
        'green target group. During a deployment or its bake time ECS rolls back by itself. First: read the ' +
        'stopped-task reasons (aws ecs describe-tasks) and the app log group for startup or database errors.',
    );
    this.healthyHosts = this.add(
      'healthy-hosts',
      'HealthyHosts',
      m.healthyHosts,
      { threshold: 1, comparison: BELOW, datapoints: 2, of: 2, missing: BREACHING },
      'No task has passed the health check for 2 minutes: the site is down (the load balancer answers 503). ' +
        'First: check the ECS service events and stopped tasks, then the database (reachable, credentials, ' +
        'free storage); redeploy the last good revision if a release caused it.',
    );
    this.cpu = this.add(
      'cpu',
      'Cpu',
      m.cpu,
      { threshold: cpuPercent, comparison: ABOVE, datapoints: 5, of: 5, missing: NOT_BREACHING },
      `The service's average CPU was above ${cpuPercent} % for 5 minutes. Autoscaling should add tasks. First: if ` +
        'the service is at maxTasks, raise maxTasks or the task size; look for a hot endpoint with the slow-requests query.',
    );
    this.memory = this.add(
      'memory',
      'Memory',
      m.memory,
      { threshold: memoryPercent, comparison: ABOVE, datapoints: 5, of: 5, missing: NOT_BREACHING },
      `The busiest task used more than ${memoryPercent} % of its memory for 5 minutes; at 100 % it is killed ` +
        '(OutOfMemoryError). First: check whether memory grows steadily (a leak: restart tasks with a forced ' +
        'deployment) or with load (raise memoryMiB).',
    );
    this.disk = this.add(
      'disk',
      'Disk',
      m.disk,
      { threshold: diskPercent, comparison: ABOVE, datapoints: 5, of: 5, missing: NOT_BREACHING },
      `The fullest task used more than ${diskPercent} % of its Fargate ephemeral storage for 5 minutes ` +
        '(Container Insights). First: find what writes to local disk (temporary files, logs written to files ' +
        'instead of stdout); a forced deployment gives every task fresh storage.',
    );
    this.dbCpu = this.add(
      'db-cpu',
      'DbCpu',
      m.dbCpu,
      { threshold: dbCpuPercent, comparison: ABOVE, datapoints: 5, of: 5, missing: NOT_BREACHING },
      `The database CPU was above ${dbCpuPercent} % for 5 minutes. First: Performance Insights top SQL and the ` +
        `slow-statement log (/aws/rds/instance/softfactory-${props.stage}/postgresql); add an index or scale the instance class.`,
    );
    this.dbFreeStorage = this.add(
      'db-free-storage',
      'DbFreeStorage',
      m.dbFreeStorage,
      { threshold: freeStorageBytes, comparison: BELOW, datapoints: 1, of: 1, missing: NOT_BREACHING },
      `The database has less than ${dbFreeStoragePercent} % of its ${props.dbAllocatedStorageGiB} GiB allocation ` +
        'free. Storage autoscaling grows it up to dbMaxAllocatedStorageGiB. First: check whether autoscaling has ' +
        'reached its ceiling and what grows (tables, WAL, logs); raise dbMaxAllocatedStorageGiB if needed.',
    );
    this.dbConnections = this.add(
      'db-connections',
      'DbConnections',
      m.dbConnections,
      { threshold: connectionLimit, comparison: ABOVE, datapoints: 3, of: 5, missing: NOT_BREACHING },
      `More than ${connectionLimit} connections (${dbConnectionsPercent} % of max_connections ${props.dbMaxConnections}) ` +
        'in 3 of the last 5 minutes; at the limit new connections fail. First: count connections per client ' +
        '(pg_stat_activity): too many tasks, a leaking pool, or idle-in-transaction sessions.',
    );
  }

  /** Every alarm, including those added later with `alarmFunction`. */
  public get all(): readonly cloudwatch.Alarm[] {
    return [...this.alarms.values()];
  }

  /** The alarms that roll a deployment back: those of `DEPLOYMENT_ALARM_SIGNALS`, the names the service carries. */
  public get deploymentAlarms(): readonly cloudwatch.Alarm[] {
    return DEPLOYMENT_ALARM_SIGNALS.map((signal) => this.alarms.get(signal) as cloudwatch.Alarm);
  }

  /**
   * Alarms on a Lambda function of ours: any error or any throttle in a minute. Named
   * `softfactory-<stage>-<name>-errors` and `-throttles`; `name` is short kebab-case, e.g. `smoke-hook`.
   */
  public alarmFunction(name: string, fn: lambda.IFunction): FunctionAlarms {
    if (!/^[a-z][a-z0-9-]{0,40}$/.test(name)) {
      throw new Error(`alarmFunction: name "${name}" must be kebab-case (a-z, 0-9, -), at most 41 characters`);
    }
    const id = name.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
    const once = { threshold: 0, comparison: ABOVE, datapoints: 1, of: 1, missing: NOT_BREACHING };
    return {
      errors: this.add(
        `${name}-errors`,
        `${id}Errors`,
        fn.metricErrors({ period: MINUTE, statistic: cloudwatch.Stats.SUM }),
        once,
        `The ${name} function failed (threw, timed out or ran out of memory) at least once in the last minute. ` +
          `First: read its log group for the error and the request id; a deployment hook failure also rolls the deployment back.`,
      ),
      throttles: this.add(
        `${name}-throttles`,
        `${id}Throttles`,
        fn.metricThrottles({ period: MINUTE, statistic: cloudwatch.Stats.SUM }),
        once,
        `The ${name} function was throttled at least once in the last minute: its invocations were refused. ` +
          'First: check its reserved concurrency and the account concurrency (other functions consuming it).',
      ),
    };
  }

  private add(signal: string, id: string, metric: cloudwatch.IMetric, rule: Rule, description: string) {
    const alarm = new cloudwatch.Alarm(this, id, {
      alarmName: alarmName(this.stage, signal),
      alarmDescription: description,
      metric,
      threshold: rule.threshold,
      comparisonOperator: rule.comparison,
      evaluationPeriods: rule.of,
      datapointsToAlarm: rule.datapoints,
      treatMissingData: rule.missing,
      ...(rule.lowSamplePercentiles ? { evaluateLowSampleCountPercentile: rule.lowSamplePercentiles } : {}),
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.set(signal, alarm);
    return alarm;
  }
}

/** Builds the metrics: one-minute periods, statistics chosen per signal, FILL where a missing value means 0. */
function serviceMetrics(props: ServiceAlarmsProps, errorRateMinRequests: number): ServiceMetrics {
  const alb = props.loadBalancer.alb;
  const sum = { period: MINUTE, statistic: cloudwatch.Stats.SUM };
  const requests = alb.metrics.requestCount(sum);
  const target5xx = alb.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, sum);
  const elb5xx = alb.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, sum);
  // ALB publishes a count only for minutes in which it happened: a missing datapoint is zero.
  const errors = new cloudwatch.MathExpression({
    expression: 'FILL(target5xx, 0) + FILL(elb5xx, 0)',
    usingMetrics: { target5xx, elb5xx },
    period: MINUTE,
    label: '5xx responses',
  });
  const served = new cloudwatch.MathExpression({
    expression: 'FILL(requests, 0)',
    usingMetrics: { requests },
    period: MINUTE,
    label: 'Requests',
  });
  // RequestCount counts only requests routed to a target: the 503s the ALB answers itself (no healthy target) are
  // not in it. Taking the larger of the two makes "every request failed while RequestCount is 0" read 100 %.
  const total = new cloudwatch.MathExpression({
    expression: 'MAX([served, errors])',
    usingMetrics: { served, errors },
    period: MINUTE,
  });
  const errorRate = new cloudwatch.MathExpression({
    expression: `IF(total >= ${errorRateMinRequests}, 100 * errors / total, 0)`,
    usingMetrics: { total, errors },
    period: MINUTE,
    label: 'Error rate (%)',
  });

  const latency = (statistic: LatencyStatistic) =>
    alb.metrics.targetResponseTime({ period: MINUTE, statistic, label: `Response time ${statistic} (s)` });

  // Blue/green: the live tasks sit in either target group, so the host counts add both.
  const { blueTargetGroup: blue, greenTargetGroup: green } = props.loadBalancer;
  const hosts = (kind: 'healthy' | 'unhealthy', get: (g: elbv2.ApplicationTargetGroup) => cloudwatch.IMetric) =>
    new cloudwatch.MathExpression({
      // Ids are unique per kind: the dashboard graphs both sums in one widget.
      expression: `FILL(${kind}Blue, 0) + FILL(${kind}Green, 0)`,
      usingMetrics: { [`${kind}Blue`]: get(blue), [`${kind}Green`]: get(green) },
      period: MINUTE,
      label: `${kind === 'healthy' ? 'Healthy' : 'Unhealthy'} targets`,
    });
  const unhealthyHosts = hosts('unhealthy', (g) =>
    g.metrics.unhealthyHostCount({ period: MINUTE, statistic: cloudwatch.Stats.MAXIMUM }),
  );
  const healthyHosts = hosts('healthy', (g) =>
    g.metrics.healthyHostCount({ period: MINUTE, statistic: cloudwatch.Stats.MINIMUM }),
  );

  const service = props.service;
  // Fargate has no disk metric outside Container Insights: the ratio of the fullest task's used to reserved storage.
  const insights = (metricName: string) =>
    new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName,
      dimensionsMap: { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName },
      period: MINUTE,
      statistic: cloudwatch.Stats.MAXIMUM,
    });
  const disk = new cloudwatch.MathExpression({
    expression: '100 * utilized / reserved',
    usingMetrics: { utilized: insights('EphemeralStorageUtilized'), reserved: insights('EphemeralStorageReserved') },
    period: MINUTE,
    label: 'Ephemeral storage used (%)',
  });

  return {
    requests,
    target5xx,
    elb5xx,
    errorRate,
    latencyP95: latency('p95'),
    latencyP99: latency('p99'),
    healthyHosts,
    unhealthyHosts,
    cpu: service.metricCpuUtilization({ period: MINUTE, statistic: cloudwatch.Stats.AVERAGE }),
    // Maximum of the service's MemoryUtilization is the busiest task: the one the OOM killer takes first.
    memory: service.metricMemoryUtilization({ period: MINUTE, statistic: cloudwatch.Stats.MAXIMUM }),
    disk,
    dbCpu: props.database.metricCPUUtilization({ period: MINUTE, statistic: cloudwatch.Stats.AVERAGE }),
    dbFreeStorage: props.database.metricFreeStorageSpace({
      period: Duration.minutes(5),
      statistic: cloudwatch.Stats.MINIMUM,
    }),
    dbConnections: props.database.metricDatabaseConnections({ period: MINUTE, statistic: cloudwatch.Stats.MAXIMUM }),
  };
}

function validate(values: Record<string, number>, min: number, max = Number.POSITIVE_INFINITY): void {
  for (const [name, value] of Object.entries(values)) {
    if (!(value > min && value <= max)) {
      const range = max === Number.POSITIVE_INFINITY ? `above ${min}` : `above ${min} and at most ${max}`;
      throw new Error(`ServiceAlarms: ${name} = ${value}: expected a number ${range}`);
    }
  }
}
