import { aws_cloudwatch as cloudwatch, Duration, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ServiceMetrics } from './monitoring/service-metrics';
import type { ServiceSignal } from './service-alarms';

export interface DashboardProps {
  /** Physical dashboard name, e.g. `softfactory-prod`. */
  readonly dashboardName: string;
  /** The metrics the graphs show (the same objects the alarms watch). */
  readonly metrics: ServiceMetrics;
  /** The alarms whose thresholds the graphs draw, by signal (`ServiceAlarms`). */
  readonly alarms: { alarm(signal: ServiceSignal): cloudwatch.Alarm };
  /**
   * Time range shown when the dashboard opens.
   * @default Duration.hours(3)
   */
  readonly defaultRange?: Duration;
}

/**
 * The stage's dashboard: traffic (requests, error rate, p95/p99 latency, healthy and unhealthy targets), the service
 * (CPU, memory, disk, network in and out), the database (CPU, free storage, connections), the app log's error lines,
 * and the state of every alarm in the stack —
 * including alarms created after this dashboard (functions alarmed later, other constructs' alarms): the widget
 * collects them when the template is written.
 */
export class Dashboard extends Construct {
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    const range = props.defaultRange ?? Duration.hours(3);
    const a = (signal: ServiceSignal) => props.alarms.alarm(signal);
    const m = props.metrics;
    const graph = (
      title: string,
      left: cloudwatch.IMetric[],
      alarm?: cloudwatch.Alarm,
      leftYAxis?: cloudwatch.YAxisProps,
    ) =>
      new cloudwatch.GraphWidget({
        title,
        left,
        width: 6,
        height: 6,
        ...(leftYAxis ? { leftYAxis } : {}),
        ...(alarm ? { leftAnnotations: [alarm.toAnnotation()] } : {}),
      });
    const percent = { min: 0, max: 100, label: '%', showUnits: false };

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: range,
    });
    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: `# ${props.dashboardName}\nTraffic, service, database and alarm states. Alarms: README "Alarms and notifications".`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('Requests and 5xx (per minute)', [m.requests, m.target5xx, m.elb5xx]),
      graph('Error rate (%)', [m.errorRate], a('error-rate'), { min: 0, label: '%', showUnits: false }),
      graph('Response time p95 / p99 (s)', [m.latencyP95, m.latencyP99], a('latency'), { min: 0 }),
      graph('Targets: healthy / unhealthy (blue + green)', [m.healthyHosts, m.unhealthyHosts], undefined, { min: 0 }),
    );
    this.dashboard.addWidgets(
      graph('Service CPU (%)', [m.cpu], a('cpu'), percent),
      graph('Service memory, busiest task (%)', [m.memory], a('memory'), percent),
      graph('Ephemeral storage, fullest task (%)', [m.disk], a('disk'), percent),
      graph('Service network: received / sent (bytes/s)', [m.networkRx, m.networkTx], undefined, { min: 0 }),
    );
    this.dashboard.addWidgets(
      graph('Database CPU (%)', [m.dbCpu], a('db-cpu'), percent),
      graph('Database free storage (bytes)', [m.dbFreeStorage], a('db-free-storage'), { min: 0 }),
      graph('Database connections', [m.dbConnections], a('db-connections'), { min: 0 }),
      graph('App log: error lines (per minute)', [m.appErrorLines], a('app-error-lines'), { min: 0 }),
    );
    const stack = Stack.of(this);
    this.dashboard.addWidgets(
      new AlarmStates('Alarm states', () =>
        stack.node.findAll().filter((c): c is cloudwatch.Alarm => c instanceof cloudwatch.Alarm),
      ),
    );
  }
}

/**
 * An alarm-status widget that lists the alarms when the dashboard body is rendered, not when the widget is
 * created, so alarms added later appear too.
 */
class AlarmStates implements cloudwatch.IWidget {
  public readonly width = 24;
  public readonly height = 6;
  private x?: number;
  private y?: number;

  constructor(
    private readonly title: string,
    private readonly alarms: () => readonly cloudwatch.IAlarm[],
  ) {}

  public position(x: number, y: number): void {
    this.x = x;
    this.y = y;
  }

  public toJson(): Record<string, unknown>[] {
    return [
      {
        type: 'alarm',
        width: this.width,
        height: this.height,
        x: this.x,
        y: this.y,
        properties: {
          title: this.title,
          alarms: this.alarms().map((alarm) => alarm.alarmArn),
          sortBy: 'stateUpdatedTimestamp',
        },
      },
    ];
  }
}
