/**
 * `sfdeploy status`: the service's current deployment as a person wants to see it — strategy, lifecycle stage,
 * traffic weights (production and test), each hook's result, the deployment alarms' states, bake time left and the
 * revisions (image tag) from and to. Read-only: DescribeServices, ListServiceDeployments,
 * DescribeServiceDeployments, DescribeServiceRevisions (ECS) and DescribeAlarms (CloudWatch).
 *
 * Shapes (API reference): Service.currentServiceDeployment and deploymentConfiguration
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Service.html); ServiceDeployment status,
 * lifecycleStage, lifecycleHookDetails (active hooks: status AWAITING_ACTION | IN_PROGRESS | SUCCEEDED | FAILED |
 * TIMED_OUT), alarms.triggeredAlarmNames, deploymentConfiguration.bakeTimeInMinutes / canaryConfiguration /
 * linearConfiguration (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html,
 * API_DeploymentLifecycleHookDetail.html, API_DeploymentConfiguration.html); the weights are each revision's
 * requestedProductionTrafficWeight / requestedTestTrafficWeight, "a snapshot of the traffic distribution"
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceRevisionSummary.html), so no Elastic Load
 * Balancing call is needed; ListServiceDeployments pages and promises no order
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html); DescribeAlarms
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html).
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ECSClient, Service, ServiceDeployment, ServiceRevision } from '@aws-sdk/client-ecs';
import type { Command } from 'commander';
import { clusterName, webServiceName } from '../../shared/names';
import { STAGES, type Stage } from '../../shared/stages';
import { type AwsCliOptions, addAwsOptions, awsClientConfig, explainAwsError } from '../cli/aws';
import { colours, EXIT_CHECK_FAILED, EXIT_OK, renderTable, runAction, UsageError } from '../cli/support';

/** The lifecycle stages in the order ECS runs them (DeploymentLifecycleHook.lifecycleStages, ServiceDeployment). */
export const STAGE_ORDER = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRE_PRODUCTION_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
  'BAKE_TIME',
  'CLEAN_UP',
] as const;

const ENDED = new Set(['SUCCESSFUL', 'STOPPED', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED']);
const FAILED = new Set([
  'STOPPED',
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
  'ROLLBACK_SUCCESSFUL',
  'ROLLBACK_FAILED',
]);

export interface RevisionView {
  readonly revisionArn: string;
  readonly image?: string | undefined;
  /** The image tag (or digest) of the web container. */
  readonly tag?: string | undefined;
  readonly productionWeight?: number | undefined;
  readonly testWeight?: number | undefined;
}

export interface HookView {
  /** The Lambda function's name, or PAUSE. */
  readonly name: string;
  readonly stages: readonly string[];
  /** ECS's own status while the hook is active; otherwise read from the stage reached (see `inferred`). */
  readonly result: string;
  readonly inferred: boolean;
}

export interface StatusView {
  readonly stage: string;
  readonly cluster: string;
  readonly service: string;
  readonly verdict: 'succeeded' | 'failed' | 'in-flight' | 'none';
  readonly ended: boolean;
  readonly reason: string;
  readonly deploymentArn?: string | undefined;
  readonly status?: string | undefined;
  readonly lifecycleStage?: string | undefined;
  readonly strategy?: string | undefined;
  readonly from: readonly RevisionView[];
  readonly to?: RevisionView | undefined;
  readonly hooks: readonly HookView[];
  readonly alarms: readonly { readonly name: string; readonly state: string; readonly triggered: boolean }[];
  readonly bake?: { readonly minutes: number; readonly leftMinutes?: number | undefined } | undefined;
  readonly startedAt?: string | undefined;
  readonly finishedAt?: string | undefined;
}

export interface StatusInput {
  readonly stage: string;
  readonly cluster: string;
  readonly service: string;
  readonly serviceDescription?: Service | undefined;
  readonly deployment?: ServiceDeployment | undefined;
  readonly revisions: readonly ServiceRevision[];
  readonly alarmStates: ReadonlyMap<string, string>;
  readonly now: number;
  readonly containerName?: string;
}

function tagOf(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1);
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(colon + 1) : 'latest';
}

function hookName(arn: string | undefined, targetType: string | undefined): string {
  if (targetType === 'PAUSE' || !arn) return 'PAUSE';
  return /:function:([^:]+)/.exec(arn)?.[1] ?? arn;
}

/** The view of one deployment (pure: everything comes from the Describe/List answers). */
export function summarize(input: StatusInput): StatusView {
  const base = { stage: input.stage, cluster: input.cluster, service: input.service };
  const d = input.deployment;
  if (!d) {
    return {
      ...base,
      verdict: 'none',
      ended: true,
      reason: 'the service has no deployments',
      from: [],
      hooks: [],
      alarms: [],
    };
  }
  const status = d.status ?? 'UNKNOWN';
  const stage = d.lifecycleStage as string | undefined;
  const container = input.containerName ?? 'web';
  const revision = (summary: ServiceDeployment['targetServiceRevision']): RevisionView | undefined => {
    if (!summary?.arn) return undefined;
    const r = input.revisions.find((x) => x.serviceRevisionArn === summary.arn);
    const image = r?.containerImages?.find((c) => c.containerName === container)?.image;
    return {
      revisionArn: summary.arn,
      image,
      tag: tagOf(image),
      productionWeight: summary.requestedProductionTrafficWeight,
      testWeight: summary.requestedTestTrafficWeight,
    };
  };
  const config = d.deploymentConfiguration ?? input.serviceDescription?.deploymentConfiguration;
  const strategy = config?.strategy ?? input.serviceDescription?.deploymentConfiguration?.strategy;
  const ended = ENDED.has(status);
  const verdict =
    status === 'SUCCESSFUL' ? 'succeeded' : FAILED.has(status) ? 'failed' : ended ? 'failed' : 'in-flight';
  const why = d.rollback?.reason ?? d.statusReason;
  const reason =
    verdict === 'succeeded'
      ? 'the deployment completed successfully'
      : verdict === 'failed'
        ? `the deployment ${status.startsWith('ROLLBACK') ? `was rolled back (${status})` : `ended ${status}`}${why ? `: ${why}` : ''}`
        : `the deployment is in flight (${status}${stage ? ` at ${stage}` : ''})`;

  const position = stage ? STAGE_ORDER.indexOf(stage as (typeof STAGE_ORDER)[number]) : -1;
  const active = d.lifecycleHookDetails ?? [];
  const configured = config?.lifecycleHooks ?? input.serviceDescription?.deploymentConfiguration?.lifecycleHooks ?? [];
  const hooks: HookView[] = configured.map((h) => {
    const stages = (h.lifecycleStages ?? []) as string[];
    const detail = active.find((a) =>
      h.targetType === 'PAUSE'
        ? a.targetType === 'PAUSE'
        : a.targetArn !== undefined && a.targetArn === h.hookTargetArn,
    );
    const name = hookName(h.hookTargetArn, h.targetType);
    if (detail?.status) return { name, stages, result: detail.status, inferred: false };
    let result = 'unknown';
    if (status === 'SUCCESSFUL') result = 'passed';
    else if (!ended && !FAILED.has(status) && position >= 0) {
      const indexes = stages.map((s) => STAGE_ORDER.indexOf(s as (typeof STAGE_ORDER)[number]));
      // At the current stage but not among ECS's active hooks: ECS lists only the active ones, so it may be done.
      result = indexes.every((i) => i < position) ? 'passed' : indexes.includes(position) ? 'this stage' : 'pending';
    }
    return { name, stages, result, inferred: true };
  });

  const triggered = new Set(d.alarms?.triggeredAlarmNames ?? []);
  const alarmNames = d.alarms?.alarmNames ?? config?.alarms?.alarmNames ?? [];
  const alarms = alarmNames.map((name) => ({
    name,
    state: input.alarmStates.get(name) ?? 'UNKNOWN',
    triggered: triggered.has(name),
  }));

  // Bake: the wait after the production shift (BLUE_GREEN), after the canary step, or after each linear step. ECS
  // does not say when the wait began; updatedAt (the deployment's last update) is the closest it tells.
  const stepping = stage === 'PRODUCTION_TRAFFIC_SHIFT' && (strategy === 'CANARY' || strategy === 'LINEAR');
  const bakeMinutes = !stepping
    ? config?.bakeTimeInMinutes
    : strategy === 'CANARY'
      ? config?.canaryConfiguration?.canaryBakeTimeInMinutes
      : config?.linearConfiguration?.stepBakeTimeInMinutes;
  const baking = stage === 'BAKE_TIME' || stepping;
  const since = d.updatedAt?.getTime();
  const bake =
    bakeMinutes === undefined
      ? undefined
      : {
          minutes: bakeMinutes,
          ...(baking && !ended && since !== undefined
            ? { leftMinutes: Math.max(0, Math.round(bakeMinutes - (input.now - since) / 60_000)) }
            : {}),
        };

  return {
    ...base,
    verdict,
    ended,
    reason,
    deploymentArn: d.serviceDeploymentArn,
    status,
    lifecycleStage: stage,
    strategy,
    from: (d.sourceServiceRevisions ?? []).flatMap((s) => {
      const v = revision(s);
      return v ? [v] : [];
    }),
    to: revision(d.targetServiceRevision),
    hooks,
    alarms,
    bake,
    startedAt: d.startedAt?.toISOString(),
    finishedAt: d.finishedAt?.toISOString(),
  };
}

const pct = (n: number | undefined) => (n === undefined ? '-' : `${n}%`);

/** The view as a table and a reason line; colour only on a terminal. */
export function render(view: StatusView, c: ReturnType<typeof colours>): string {
  if (view.verdict === 'none') return `${view.cluster}/${view.service}: ${view.reason}\n`;
  const verdict =
    view.verdict === 'succeeded'
      ? c.green(view.verdict)
      : view.verdict === 'failed'
        ? c.red(view.verdict)
        : c.yellow(view.verdict);
  const rev = (r: RevisionView | undefined) => (r ? `${r.tag ?? '?'} (${r.revisionArn.split('/').pop()})` : '-');
  const rows: string[][] = [
    ['service', `${view.cluster}/${view.service}`],
    ['deployment', view.deploymentArn?.split('/').pop() ?? '-'],
    ['status', `${view.status ?? '-'}${view.lifecycleStage ? ` at ${view.lifecycleStage}` : ''}`],
    ['strategy', view.strategy ?? '-'],
    ['from', view.from.map(rev).join(', ') || '-'],
    ['to', rev(view.to)],
    [
      'production traffic',
      [
        ...view.from.map((r) => `${r.tag ?? '?'} ${pct(r.productionWeight)}`),
        `${view.to?.tag ?? '?'} ${pct(view.to?.productionWeight)}`,
      ].join(' / '),
    ],
    [
      'test traffic',
      [
        ...view.from.map((r) => `${r.tag ?? '?'} ${pct(r.testWeight)}`),
        `${view.to?.tag ?? '?'} ${pct(view.to?.testWeight)}`,
      ].join(' / '),
    ],
    [
      'bake',
      view.bake
        ? `${view.bake.minutes} min${view.bake.leftMinutes !== undefined ? ` (about ${view.bake.leftMinutes} min left)` : ''}`
        : '-',
    ],
    ...view.hooks.map((h) => [
      `hook ${h.name}`,
      `${h.result}${h.inferred && h.result !== 'unknown' ? ' (from the stage reached)' : ''} at ${h.stages.join(', ')}`,
    ]),
    ...view.alarms.map((a) => [
      `alarm ${a.name}`,
      `${a.state === 'ALARM' ? c.red(a.state) : a.state}${a.triggered ? ' (triggered this deployment)' : ''}`,
    ]),
    ['verdict', verdict],
  ];
  return `${renderTable(['field', 'value'], rows)}\n${view.reason}\n`;
}

/** One line per change, for --watch when stdout is not a terminal. */
export function line(view: StatusView, at: Date): string {
  const hooks = view.hooks
    .filter((h) => !h.inferred)
    .map((h) => `${h.name}=${h.result}`)
    .join(' ');
  return [
    at.toISOString().slice(11, 19),
    view.status ?? '-',
    view.lifecycleStage ?? '-',
    `production ${pct(view.to?.productionWeight)}`,
    `test ${pct(view.to?.testWeight)}`,
    ...(view.bake?.leftMinutes !== undefined ? [`bake ${view.bake.leftMinutes} min left`] : []),
    ...(hooks ? [`hooks ${hooks}`] : []),
    ...view.alarms.filter((a) => a.state === 'ALARM').map((a) => `ALARM ${a.name}`),
  ].join('  ');
}

export interface Clients {
  readonly ecs: ECSClient;
  readonly cloudwatch: CloudWatchClient;
}

/** How far back ListServiceDeployments looks when the service names no current deployment. */
const HISTORY_DAYS = 90;

/** Reads the current deployment and everything the view shows, with Describe and List calls only. */
export async function readStatus(
  clients: Clients,
  target: { stage: string; cluster: string; service: string },
  now: () => number = Date.now,
): Promise<StatusView> {
  const ecsSdk = await import('@aws-sdk/client-ecs');
  const { ecs } = clients;
  const described = await ecs.send(
    new ecsSdk.DescribeServicesCommand({ cluster: target.cluster, services: [target.service] }),
  );
  const service = described.services?.find((s) => s.status !== 'INACTIVE');
  if (!service) {
    throw new UsageError(
      `service ${target.cluster}/${target.service} not found in this account and region; deploy the stage first or check --profile/--region`,
    );
  }
  let arn = service.currentServiceDeployment;
  if (!arn) {
    let newest: { arn?: string; at: number } = { at: Number.NEGATIVE_INFINITY };
    let nextToken: string | undefined;
    do {
      const page = await ecs.send(
        new ecsSdk.ListServiceDeploymentsCommand({
          cluster: target.cluster,
          service: target.service,
          createdAt: { after: new Date(now() - HISTORY_DAYS * 24 * 60 * 60_000) },
          maxResults: 100,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      for (const d of page.serviceDeployments ?? []) {
        const at = d.createdAt?.getTime() ?? 0;
        if (d.serviceDeploymentArn && at > newest.at) newest = { arn: d.serviceDeploymentArn, at };
      }
      nextToken = page.nextToken;
    } while (nextToken);
    arn = newest.arn;
  }
  const deployment = arn
    ? (await ecs.send(new ecsSdk.DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] })))
        .serviceDeployments?.[0]
    : undefined;
  const revisionArns = [
    deployment?.targetServiceRevision?.arn,
    ...(deployment?.sourceServiceRevisions ?? []).map((r) => r.arn),
  ].filter((a): a is string => Boolean(a));
  const revisions = revisionArns.length
    ? ((await ecs.send(new ecsSdk.DescribeServiceRevisionsCommand({ serviceRevisionArns: revisionArns.slice(0, 20) })))
        .serviceRevisions ?? [])
    : [];
  const alarmNames =
    deployment?.alarms?.alarmNames ??
    deployment?.deploymentConfiguration?.alarms?.alarmNames ??
    service.deploymentConfiguration?.alarms?.alarmNames ??
    [];
  const alarmStates = new Map<string, string>();
  if (alarmNames.length) {
    const cw = await import('@aws-sdk/client-cloudwatch');
    // DescribeAlarms takes up to 100 names per call and pages with NextToken.
    let NextToken: string | undefined;
    do {
      const out = await clients.cloudwatch.send(
        new cw.DescribeAlarmsCommand({
          AlarmNames: alarmNames.slice(0, 100),
          AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
          ...(NextToken ? { NextToken } : {}),
        }),
      );
      for (const a of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
        if (a.AlarmName && a.StateValue) alarmStates.set(a.AlarmName, a.StateValue);
      }
      NextToken = out.NextToken;
    } while (NextToken);
  }
  return summarize({ ...target, serviceDescription: service, deployment, revisions, alarmStates, now: now() });
}

export interface WatchOptions {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  /** Each view as it is read. */
  readonly onView?: (view: StatusView) => void;
}

/** Reads until the deployment ends; still in flight when the watch ends is a failure (like release-status --wait). */
export async function watch(read: () => Promise<StatusView>, options: WatchOptions): Promise<StatusView> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  for (;;) {
    const view = await read();
    options.onView?.(view);
    if (view.ended) return view;
    if (now() + options.intervalMs > deadline) {
      return {
        ...view,
        verdict: 'failed',
        reason: `${view.reason} when the watch ended after ${Math.round(options.timeoutMs / 1000)} s`,
      };
    }
    await sleep(options.intervalMs);
  }
}

interface Options extends AwsCliOptions {
  stage?: string;
  watch?: boolean;
  interval: string;
  timeout: string;
  json?: boolean;
}

function seconds(name: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`${name} must be a whole number of seconds ≥ 1, got "${value}"`);
  }
  return Number(value) * 1000;
}

export function register(
  program: Command,
  makeClients: (aws: AwsCliOptions) => Promise<Clients> = defaultClients,
): void {
  const command = program
    .command('status')
    .description("Show the service's current deployment: stage, traffic weights, hooks, alarms, bake, revisions")
    .requiredOption('--stage <stage>', `stage: ${STAGES.join(', ')}`)
    .option('--watch', 'refresh until the deployment ends (in place on a terminal, one line per change otherwise)')
    .option('--interval <seconds>', 'seconds between reads with --watch', '10')
    .option('--timeout <seconds>', 'how long --watch watches', '3600')
    .option('--json', 'print one JSON document (with --watch: the final one)')
    .addHelpText(
      'after',
      `
Reads only Describe*/List* APIs (ECS DescribeServices, ListServiceDeployments, DescribeServiceDeployments,
DescribeServiceRevisions; CloudWatch DescribeAlarms). Traffic weights are the ones ECS last requested for each
revision. A hook's result is ECS's own while the hook is active; otherwise it is read from the stage the deployment
reached ("passed (from the stage reached)"). Exit codes: 0 the deployment succeeded or is in flight (without
--watch); 1 it failed, was rolled back, or was still in flight when --watch ended; 2 usage, credentials or access.

Examples:
  sfdeploy status --stage prod
  sfdeploy status --stage prod --watch
  sfdeploy status --stage staging --watch --interval 5 --timeout 1800 --json`,
    );
  addAwsOptions(command).action((options: Options) =>
    runAction(
      async () => {
        const stage = options.stage as Stage;
        if (!(STAGES as readonly string[]).includes(stage)) {
          throw new UsageError(`--stage must be one of ${STAGES.join(', ')}, got "${options.stage}"`);
        }
        const intervalMs = seconds('--interval', options.interval);
        const timeoutMs = seconds('--timeout', options.timeout);
        const target = { stage, cluster: clusterName(stage), service: webServiceName(stage) };
        const clients = await makeClients(options);
        const read = () => readStatus(clients, target);
        const out = process.stdout as NodeJS.WriteStream;
        const c = colours(out);
        let view: StatusView;
        if (options.watch) {
          let drawnLines = 0;
          let lastLine = '';
          view = await watch(read, {
            intervalMs,
            timeoutMs,
            onView: (v) => {
              if (options.json) return;
              if (out.isTTY) {
                // In place: move up over the last frame and clear it (ECMA-48 CPL and ED).
                const frame = render(v, c);
                out.write(`${drawnLines ? `\u001b[${drawnLines}F\u001b[0J` : ''}${frame}`);
                drawnLines = frame.split('\n').length - 1;
              } else {
                const text = line(v, new Date());
                const key = text.slice(9);
                if (key !== lastLine) out.write(`${text}\n`);
                lastLine = key;
              }
            },
          });
          if (!options.json && !out.isTTY) out.write(render(view, c));
        } else {
          view = await read();
          if (!options.json) out.write(render(view, c));
        }
        const exit = view.verdict === 'failed' || view.verdict === 'none' ? EXIT_CHECK_FAILED : EXIT_OK;
        if (options.json) out.write(`${JSON.stringify({ ...view, passed: exit === EXIT_OK })}\n`);
        return exit;
      },
      { json: options.json, explain: (error) => explainAwsError(error, options) },
    ),
  );
}

async function defaultClients(aws: AwsCliOptions): Promise<Clients> {
  const [{ ECSClient }, { CloudWatchClient }] = await Promise.all([
    import('@aws-sdk/client-ecs'),
    import('@aws-sdk/client-cloudwatch'),
  ]);
  return { ecs: new ECSClient(awsClientConfig(aws)), cloudwatch: new CloudWatchClient(awsClientConfig(aws)) };
}
