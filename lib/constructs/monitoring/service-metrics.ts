/**
 * The metric factory: which CloudWatch metric stands for each signal, one builder per resource (load balancer,
 * ECS service, database, Lambda function), in the manner of cdk-monitoring-constructs' `…MetricFactory` classes.
 * One-minute periods, statistics chosen per signal, FILL where a missing value means 0. The alarms and the dashboard
 * both read these; no threshold lives here.
 */
import {
  aws_cloudwatch as cloudwatch,
  Duration,
  type aws_ecs as ecs,
  aws_elasticloadbalancingv2 as elbv2,
  type aws_lambda as lambda,
  type aws_rds as rds,
} from 'aws-cdk-lib';
import type { StageConfig } from '../../config/stage-config';
import type { LoadBalancer } from '../load-balancer';

const MINUTE = Duration.minutes(1);

type LatencyStatistic = StageConfig['latencyStatistic'];

/** Container Insights' namespace: Fargate publishes no disk metric anywhere else. */
const CONTAINER_INSIGHTS = 'ECS/ContainerInsights';

/** Traffic metrics of the load balancer and its blue and green target groups. */
export interface AlbMetrics {
  readonly requests: cloudwatch.IMetric;
  readonly target5xx: cloudwatch.IMetric;
  readonly elb5xx: cloudwatch.IMetric;
  /** 5xx answered by the targets or by the load balancer itself, per minute, a missing count read as 0. */
  readonly errors5xx: cloudwatch.IMetric;
  readonly errorRate: cloudwatch.IMetric;
  readonly latencyP95: cloudwatch.IMetric;
  readonly latencyP99: cloudwatch.IMetric;
  readonly healthyHosts: cloudwatch.IMetric;
  readonly unhealthyHosts: cloudwatch.IMetric;
}

/** Resource metrics of the Fargate service. */
export interface EcsServiceMetrics {
  readonly cpu: cloudwatch.IMetric;
  readonly memory: cloudwatch.IMetric;
  readonly disk: cloudwatch.IMetric;
  /** Bytes per second the service's tasks receive (Container Insights, service level). */
  readonly networkRx: cloudwatch.IMetric;
  /** Bytes per second the service's tasks send (Container Insights, service level). */
  readonly networkTx: cloudwatch.IMetric;
}

/** Metrics read from the app's own log lines. */
export interface AppLogMetrics {
  /** Log events with an error term per minute (`AppErrorLines`' metric filter). */
  readonly appErrorLines: cloudwatch.IMetric;
}

/** Metrics of the RDS instance. */
export interface DatabaseMetrics {
  readonly dbCpu: cloudwatch.IMetric;
  readonly dbFreeStorage: cloudwatch.IMetric;
  readonly dbConnections: cloudwatch.IMetric;
}

/** Every metric the stage's alarms and dashboard show. */
export type ServiceMetrics = AlbMetrics & EcsServiceMetrics & DatabaseMetrics & AppLogMetrics;

/** Metrics of one Lambda function of ours. */
export interface FunctionMetrics {
  readonly errors: cloudwatch.IMetric;
  readonly throttles: cloudwatch.IMetric;
}

export interface ServiceMetricsProps {
  /** The load balancer and its blue and green target groups. */
  readonly loadBalancer: LoadBalancer;
  /** The Fargate service (its cluster must have Container Insights for the disk metric). */
  readonly service: ecs.FargateService;
  /** The RDS instance. */
  readonly database: rds.IDatabaseInstance;
  /** Requests a minute needs before its error rate counts; quieter minutes read as 0 % (`config.errorRateMinRequests`). */
  readonly errorRateMinRequests: number;
  /** Error lines of the app's log per minute (`new AppErrorLines(…).metric`). */
  readonly appErrorLines: cloudwatch.IMetric;
}

/** The stage's metrics: the load balancer's, the service's, the database's and the app log's. */
export function serviceMetrics(props: ServiceMetricsProps): ServiceMetrics {
  return {
    ...albMetrics(props.loadBalancer, props.errorRateMinRequests),
    ...ecsServiceMetrics(props.service),
    ...databaseMetrics(props.database),
    appErrorLines: props.appErrorLines,
  };
}

/**
 * Request, 5xx and latency metrics are load-balancer-wide, so they cover both target groups and also the test
 * listener's traffic to green; per-target-group metrics (host counts) add the blue and green groups.
 */
export function albMetrics(loadBalancer: LoadBalancer, errorRateMinRequests: number): AlbMetrics {
  const alb = loadBalancer.alb;
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
  const { blueTargetGroup: blue, greenTargetGroup: green } = loadBalancer;
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

  return {
    requests,
    target5xx,
    elb5xx,
    errors5xx: errors,
    errorRate,
    latencyP95: latency('p95'),
    latencyP99: latency('p99'),
    healthyHosts,
    unhealthyHosts,
  };
}

export function ecsServiceMetrics(service: ecs.FargateService): EcsServiceMetrics {
  // Fargate has no disk metric outside Container Insights: the ratio of the fullest task's used to reserved storage.
  const insights = (metricName: string, statistic: string = cloudwatch.Stats.MAXIMUM, label?: string) =>
    new cloudwatch.Metric({
      namespace: CONTAINER_INSIGHTS,
      metricName,
      dimensionsMap: { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName },
      period: MINUTE,
      statistic,
      ...(label ? { label } : {}),
    });
  return {
    cpu: service.metricCpuUtilization({ period: MINUTE, statistic: cloudwatch.Stats.AVERAGE }),
    // Maximum of the service's MemoryUtilization is the busiest task: the one the OOM killer takes first.
    memory: service.metricMemoryUtilization({ period: MINUTE, statistic: cloudwatch.Stats.MAXIMUM }),
    disk: new cloudwatch.MathExpression({
      expression: '100 * utilized / reserved',
      usingMetrics: { utilized: insights('EphemeralStorageUtilized'), reserved: insights('EphemeralStorageReserved') },
      period: MINUTE,
      label: 'Ephemeral storage used (%)',
    }),
    // Bytes/Second received and sent by the service's tasks, per ClusterName + ServiceName
    // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Container-Insights-metrics-ECS.html).
    networkRx: insights('NetworkRxBytes', cloudwatch.Stats.AVERAGE, 'Received (bytes/s)'),
    networkTx: insights('NetworkTxBytes', cloudwatch.Stats.AVERAGE, 'Sent (bytes/s)'),
  };
}

export function databaseMetrics(database: rds.IDatabaseInstance): DatabaseMetrics {
  return {
    dbCpu: database.metricCPUUtilization({ period: MINUTE, statistic: cloudwatch.Stats.AVERAGE }),
    dbFreeStorage: database.metricFreeStorageSpace({
      period: Duration.minutes(5),
      statistic: cloudwatch.Stats.MINIMUM,
    }),
    dbConnections: database.metricDatabaseConnections({ period: MINUTE, statistic: cloudwatch.Stats.MAXIMUM }),
  };
}

/** Errors and throttles of a function, summed per minute. */
export function functionMetrics(fn: lambda.IFunction): FunctionMetrics {
  return {
    errors: fn.metricErrors({ period: MINUTE, statistic: cloudwatch.Stats.SUM }),
    throttles: fn.metricThrottles({ period: MINUTE, statistic: cloudwatch.Stats.SUM }),
  };
}
