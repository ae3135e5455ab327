/**
 * The stage's alarms as data: one `SIGNALS` row per alarm (which metric, which alarm kind at which configured
 * threshold, which runbook), made by the one alarm factory. Thresholds come only from the parsed stage config, whose
 * schema is their only validation; metrics, kinds, naming and runbook prose live in `./monitoring/`.
 *
 * To add an alarm: its threshold in the stage config (`stageConfigSchema` and its default), a row here, its runbook
 * in `monitoring/runbooks.ts`. The dashboard's alarm-state widget shows it without further wiring.
 */
import type { aws_cloudwatch as cloudwatch, aws_lambda as lambda } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { dbMaxConnections, type StageConfig } from '../config/stage-config';
import { addAlarm } from './monitoring/alarm-factory';
import { anyInMinute, below, mostlyAbove, type Rule, sustainedAbove } from './monitoring/alarm-kinds';
import { DEPLOYMENT_ALARM_SIGNALS } from './monitoring/alarm-naming';
import { FUNCTION_RUNBOOKS, RUNBOOKS, type Runbook } from './monitoring/runbooks';
import { functionMetrics, type ServiceMetrics } from './monitoring/service-metrics';

export { alarmName, DEPLOYMENT_ALARM_SIGNALS } from './monitoring/alarm-naming';

const GIB = 1024 ** 3;

/** One alarm of the stage: its signal (name and construct id), metric, rule and runbook. */
interface Signal {
  readonly signal: string;
  readonly metric: (m: ServiceMetrics, c: StageConfig) => cloudwatch.IMetric;
  readonly rule: (c: StageConfig) => Rule;
  readonly runbook: Runbook;
}

/** The stage's alarms, in the order they are created (the template lists them in this order). */
export const SIGNALS = [
  {
    signal: 'error-rate',
    metric: (m) => m.errorRate,
    rule: (c) => mostlyAbove(c.errorRatePercent, 3, 5),
    runbook: RUNBOOKS.errorRate,
  },
  {
    signal: 'latency',
    metric: (m, c) => (c.latencyStatistic === 'p99' ? m.latencyP99 : m.latencyP95),
    // TargetResponseTime is in seconds; the config says milliseconds.
    rule: (c) => mostlyAbove(c.latencyThresholdMs / 1000, 3, 5, { ignoreLowSamplePercentiles: true }),
    runbook: RUNBOOKS.latency,
  },
  {
    signal: 'unhealthy-hosts',
    metric: (m) => m.unhealthyHosts,
    rule: () => mostlyAbove(0, 2, 2),
    runbook: RUNBOOKS.unhealthyHosts,
  },
  {
    signal: 'healthy-hosts',
    metric: (m) => m.healthyHosts,
    rule: () => below(1, 2, 2, { missingBreaching: true }),
    runbook: RUNBOOKS.healthyHosts,
  },
  { signal: 'cpu', metric: (m) => m.cpu, rule: (c) => sustainedAbove(c.cpuAlarmPercent, 5), runbook: RUNBOOKS.cpu },
  {
    signal: 'memory',
    metric: (m) => m.memory,
    rule: (c) => sustainedAbove(c.memoryAlarmPercent, 5),
    runbook: RUNBOOKS.memory,
  },
  { signal: 'disk', metric: (m) => m.disk, rule: (c) => sustainedAbove(c.diskAlarmPercent, 5), runbook: RUNBOOKS.disk },
  {
    signal: 'db-cpu',
    metric: (m) => m.dbCpu,
    rule: (c) => sustainedAbove(c.dbCpuAlarmPercent, 5),
    runbook: RUNBOOKS.dbCpu,
  },
  {
    signal: 'db-free-storage',
    metric: (m) => m.dbFreeStorage,
    // FreeStorageSpace is in bytes; the config says a percentage of the allocation in GiB.
    rule: (c) => below(Math.floor((c.dbAllocatedStorageGiB * GIB * c.dbFreeStoragePercent) / 100), 1, 1),
    runbook: RUNBOOKS.dbFreeStorage,
  },
  {
    signal: 'db-connections',
    metric: (m) => m.dbConnections,
    rule: (c) => mostlyAbove(Math.floor((dbMaxConnections(c) * c.dbConnectionsPercent) / 100), 3, 5),
    runbook: RUNBOOKS.dbConnections,
  },
  {
    signal: 'app-error-lines',
    metric: (m) => m.appErrorLines,
    // No threshold to configure: like a function error, one traceback is already one to read. Not a deployment
    // alarm: a release whose errors do not fail requests is for a person to judge, not for an automatic rollback.
    rule: () => anyInMinute(),
    runbook: RUNBOOKS.appErrorLines,
  },
] as const satisfies readonly Signal[];

/** The signal of one of the stage's alarms, e.g. `error-rate`. */
export type ServiceSignal = (typeof SIGNALS)[number]['signal'];

export interface ServiceAlarmsProps {
  /** The parsed stage config: the stage (part of every alarm's name) and every threshold. */
  readonly config: StageConfig;
  /** The metrics the alarms watch (`serviceMetrics(…)`, shared with the dashboard). */
  readonly metrics: ServiceMetrics;
  /** Where every alarm sends its ALARM and OK transitions. */
  readonly action: cloudwatch.IAlarmAction;
  /** Dashboard named in the alarm descriptions, e.g. `softfactory-prod`. */
  readonly dashboardName: string;
}

/** The alarms made for one Lambda function. */
export interface FunctionAlarms {
  readonly errors: cloudwatch.Alarm;
  readonly throttles: cloudwatch.Alarm;
}

/**
 * The stage's alarms, named `softfactory-<stage>-<signal>`, each with a description that says what it means and what
 * to do first, and each sending ALARM and OK to one action. The error-rate, latency and unhealthy-hosts alarms are
 * the ECS deployment alarms (`deploymentAlarms`). Functions written later join with `alarmFunction`.
 */
export class ServiceAlarms extends Construct {
  private readonly stage: string;
  private readonly action: cloudwatch.IAlarmAction;
  private readonly alarms = new Map<string, cloudwatch.Alarm>();

  constructor(scope: Construct, id: string, props: ServiceAlarmsProps) {
    super(scope, id);
    const { config } = props;
    this.stage = config.stage;
    this.action = props.action;
    for (const row of SIGNALS) {
      const rule = row.rule(config);
      const facts = { stage: config.stage, dashboard: props.dashboardName, config, threshold: rule.threshold };
      this.add(row.signal, row.metric(props.metrics, config), rule, row.runbook(facts));
    }
  }

  /** The alarm of one of the stage's signals. */
  public alarm(signal: ServiceSignal): cloudwatch.Alarm {
    return this.alarms.get(signal) as cloudwatch.Alarm;
  }

  /** Every alarm, including those added later with `alarmFunction`. */
  public get all(): readonly cloudwatch.Alarm[] {
    return [...this.alarms.values()];
  }

  /** The alarms that roll a deployment back: those of `DEPLOYMENT_ALARM_SIGNALS`, the names the service carries. */
  public get deploymentAlarms(): readonly cloudwatch.Alarm[] {
    return DEPLOYMENT_ALARM_SIGNALS.map((signal) => this.alarm(signal));
  }

  /**
   * Alarms on a Lambda function of ours: any error or any throttle in a minute. Named
   * `softfactory-<stage>-<name>-errors` and `-throttles`; `name` is short kebab-case, e.g. `smoke-hook`.
   */
  public alarmFunction(name: string, fn: lambda.IFunction): FunctionAlarms {
    if (!/^[a-z][a-z0-9-]{0,40}$/.test(name)) {
      throw new Error(`alarmFunction: name "${name}" must be kebab-case (a-z, 0-9, -), at most 41 characters`);
    }
    const m = functionMetrics(fn);
    return {
      errors: this.add(`${name}-errors`, m.errors, anyInMinute(), FUNCTION_RUNBOOKS.errors(name)),
      throttles: this.add(`${name}-throttles`, m.throttles, anyInMinute(), FUNCTION_RUNBOOKS.throttles(name)),
    };
  }

  private add(signal: string, metric: cloudwatch.IMetric, rule: Rule, description: string): cloudwatch.Alarm {
    const alarm = addAlarm(this, { stage: this.stage, signal, metric, rule, description, action: this.action });
    this.alarms.set(signal, alarm);
    return alarm;
  }
}
