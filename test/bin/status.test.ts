/**
 * `sfdeploy status`: the view built from ECS and CloudWatch answers in their documented shapes
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html, API_ServiceDeployment.html,
 * API_ServiceRevisionSummary.html, API_DeploymentLifecycleHookDetail.html, API_ListServiceDeployments.html;
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html), in process with
 * aws-sdk-client-mock and through the real entry point against a fake endpoint.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  type ServiceDeployment,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { line, readStatus, watch } from '../../bin/commands/status';
import { awsError, cli, type FakeAws, ok, startFakeAws } from '../helpers/fake-aws';

const ACCOUNT = '123456789012';
const CLUSTER_ARN = `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/softfactory-prod`;
const SERVICE_ARN = `arn:aws:ecs:eu-west-1:${ACCOUNT}:service/softfactory-prod/softfactory-prod-web`;
const IMAGE = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/softfactory`;
const deploymentArn = (id: string) =>
  `arn:aws:ecs:eu-west-1:${ACCOUNT}:service-deployment/softfactory-prod/softfactory-prod-web/${id}`;
const revisionArn = (id: string) =>
  `arn:aws:ecs:eu-west-1:${ACCOUNT}:service-revision/softfactory-prod/softfactory-prod-web/${id}`;
const fnArn = (name: string) => `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:${name}`;
const ALARMS = ['softfactory-prod-error-rate', 'softfactory-prod-latency', 'softfactory-prod-unhealthy-hosts'];
const NOW = Date.parse('2026-12-03T10:30:00Z');
const target = { stage: 'prod', cluster: 'softfactory-prod', service: 'softfactory-prod-web' };

const HOOKS = [
  {
    hookTargetArn: fnArn('softfactory-prod-predeploy-snapshot'),
    roleArn: 'arn:aws:iam::123456789012:role/a',
    lifecycleStages: ['PRE_SCALE_UP' as const],
  },
  {
    hookTargetArn: fnArn('softfactory-prod-release-command'),
    roleArn: 'arn:aws:iam::123456789012:role/b',
    lifecycleStages: ['PRE_SCALE_UP' as const],
  },
  {
    hookTargetArn: fnArn('softfactory-prod-smoke'),
    roleArn: 'arn:aws:iam::123456789012:role/c',
    lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT' as const, 'POST_PRODUCTION_TRAFFIC_SHIFT' as const],
  },
];

/** A blue/green deployment from r40 to r41 at `stage`, with the weights ECS requested for each revision. */
function deployment(o: {
  id?: string;
  status?: ServiceDeployment['status'];
  stage?: string;
  weights?: { from: [number, number]; to: [number, number] };
  active?: ServiceDeployment['lifecycleHookDetails'];
  triggered?: string[];
  updatedAt?: Date;
}): ServiceDeployment {
  const w = o.weights ?? { from: [100, 0], to: [0, 100] };
  return {
    serviceDeploymentArn: deploymentArn(o.id ?? 'd41'),
    serviceArn: SERVICE_ARN,
    clusterArn: CLUSTER_ARN,
    createdAt: new Date(NOW - 20 * 60_000),
    startedAt: new Date(NOW - 20 * 60_000),
    updatedAt: o.updatedAt ?? new Date(NOW - 60_000),
    status: o.status ?? 'IN_PROGRESS',
    lifecycleStage: o.stage as ServiceDeployment['lifecycleStage'],
    ...(o.status === 'SUCCESSFUL' || o.status?.startsWith('ROLLBACK_S') ? { finishedAt: new Date(NOW) } : {}),
    ...(o.status?.startsWith('ROLLBACK')
      ? {
          rollback: {
            reason: 'Lifecycle hook softfactory-prod-smoke FAILED',
            startedAt: new Date(NOW - 120_000),
            serviceRevisionArn: revisionArn('40'),
          },
        }
      : {}),
    sourceServiceRevisions: [
      {
        arn: revisionArn('40'),
        requestedTaskCount: 2,
        runningTaskCount: 2,
        pendingTaskCount: 0,
        requestedProductionTrafficWeight: w.from[0],
        requestedTestTrafficWeight: w.from[1],
      },
    ],
    targetServiceRevision: {
      arn: revisionArn('41'),
      requestedTaskCount: 2,
      runningTaskCount: 2,
      pendingTaskCount: 0,
      requestedProductionTrafficWeight: w.to[0],
      requestedTestTrafficWeight: w.to[1],
    },
    lifecycleHookDetails: o.active ?? [],
    deploymentConfiguration: {
      strategy: 'BLUE_GREEN',
      bakeTimeInMinutes: 5,
      maximumPercent: 200,
      minimumHealthyPercent: 100,
      lifecycleHooks: HOOKS,
      alarms: { alarmNames: ALARMS, enable: true, rollback: true },
    },
    alarms: { status: 'MONITORING', alarmNames: ALARMS, ...(o.triggered ? { triggeredAlarmNames: o.triggered } : {}) },
  };
}

const revisions = [40, 41].map((n) => ({
  serviceRevisionArn: revisionArn(String(n)),
  serviceArn: SERVICE_ARN,
  clusterArn: CLUSTER_ARN,
  taskDefinition: `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/SoftFactoryProdServiceWebTask:${n}`,
  launchType: 'FARGATE' as const,
  containerImages: [
    { containerName: 'web', image: `${IMAGE}:v2.${n - 40}`, imageDigest: `sha256:${String(n).repeat(32)}` },
  ],
  createdAt: new Date(NOW - 30 * 60_000),
}));

describe('sfdeploy status: the view (aws-sdk-client-mock)', () => {
  const ecs = mockClient(ECSClient);
  const cloudwatch = mockClient(CloudWatchClient);
  afterEach(() => {
    ecs.reset();
    cloudwatch.reset();
  });
  after(() => {
    ecs.restore();
    cloudwatch.restore();
  });
  const clients = () => ({
    ecs: new ECSClient({ region: 'eu-west-1' }),
    cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }),
  });

  function answer(d: ServiceDeployment, current = true): void {
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        {
          serviceArn: SERVICE_ARN,
          serviceName: 'softfactory-prod-web',
          clusterArn: CLUSTER_ARN,
          status: 'ACTIVE',
          deploymentController: { type: 'ECS' },
          ...(current ? { currentServiceDeployment: d.serviceDeploymentArn } : {}),
        },
      ],
      failures: [],
    });
    ecs.on(DescribeServiceDeploymentsCommand).resolves({ serviceDeployments: [d], failures: [] });
    ecs.on(DescribeServiceRevisionsCommand).resolves({ serviceRevisions: revisions, failures: [] });
    // Two pages, as DescribeAlarms may answer (NextToken).
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolvesOnce({
        MetricAlarms: [
          { AlarmName: ALARMS[0], StateValue: 'OK' },
          { AlarmName: ALARMS[1], StateValue: 'ALARM' },
        ],
        CompositeAlarms: [],
        NextToken: 'page-2',
      })
      .resolves({ MetricAlarms: [{ AlarmName: ALARMS[2], StateValue: 'INSUFFICIENT_DATA' }], CompositeAlarms: [] });
  }

  it('at POST_TEST_TRAFFIC_SHIFT: weights per revision, the active smoke hook as ECS reports it, earlier hooks passed, alarm states, from/to tags', async () => {
    answer(
      deployment({
        stage: 'POST_TEST_TRAFFIC_SHIFT',
        active: [
          {
            hookId: 'h-1',
            targetType: 'AWS_LAMBDA',
            targetArn: fnArn('softfactory-prod-smoke'),
            status: 'IN_PROGRESS',
            timeoutAction: 'ROLLBACK',
            expiresAt: new Date(NOW + 1_800_000),
          },
        ],
        triggered: [],
      }),
    );
    const view = await readStatus(clients(), target, () => NOW);
    assert.equal(view.verdict, 'in-flight');
    assert.equal(view.strategy, 'BLUE_GREEN');
    assert.equal(view.lifecycleStage, 'POST_TEST_TRAFFIC_SHIFT');
    assert.deepEqual(
      view.from.map((r) => [r.tag, r.productionWeight, r.testWeight]),
      [['v2.0', 100, 0]],
    );
    assert.deepEqual([view.to?.tag, view.to?.productionWeight, view.to?.testWeight], ['v2.1', 0, 100]);
    assert.deepEqual(
      view.hooks.map((h) => [h.name, h.result, h.inferred]),
      [
        ['softfactory-prod-predeploy-snapshot', 'passed', true],
        ['softfactory-prod-release-command', 'passed', true],
        ['softfactory-prod-smoke', 'IN_PROGRESS', false],
      ],
    );
    assert.deepEqual(
      view.alarms.map((a) => [a.name, a.state]),
      [
        [ALARMS[0], 'OK'],
        [ALARMS[1], 'ALARM'],
        [ALARMS[2], 'INSUFFICIENT_DATA'],
      ],
    );
    assert.equal(view.bake?.minutes, 5);
    assert.equal(view.bake?.leftMinutes, undefined, 'not baking yet');
    assert.equal(cloudwatch.commandCalls(DescribeAlarmsCommand).length, 2, 'followed NextToken');
    assert.equal(cloudwatch.commandCalls(DescribeAlarmsCommand)[1]?.args[0].input.NextToken, 'page-2');
  });

  it('in the bake: about the configured bake time minus the time since the last update is left', async () => {
    answer(
      deployment({
        stage: 'BAKE_TIME',
        weights: { from: [0, 0], to: [100, 100] },
        updatedAt: new Date(NOW - 2 * 60_000),
      }),
    );
    const view = await readStatus(clients(), target, () => NOW);
    assert.deepEqual(view.bake, { minutes: 5, leftMinutes: 3 });
    assert.ok(view.hooks.every((h) => h.result === 'passed'));
    assert.match(line(view, new Date(NOW)), /BAKE_TIME {2}production 100% {2}test 100% {2}bake 3 min left/);
  });

  it('a rolled-back deployment is failed, with ECS’s reason and the alarm it triggered', async () => {
    answer(deployment({ status: 'ROLLBACK_SUCCESSFUL', stage: 'CLEAN_UP', triggered: [ALARMS[1]!] }));
    const view = await readStatus(clients(), target, () => NOW);
    assert.equal(view.verdict, 'failed');
    assert.equal(view.ended, true);
    assert.match(view.reason, /rolled back \(ROLLBACK_SUCCESSFUL\): Lifecycle hook softfactory-prod-smoke FAILED/);
    assert.equal(view.alarms.find((a) => a.triggered)?.name, ALARMS[1]);
    assert.ok(
      view.hooks.every((h) => h.result === 'unknown'),
      'ECS does not say which hook passed before a rollback',
    );
  });

  it('without a current deployment on the service: the newest of every ListServiceDeployments page (no order promised)', async () => {
    const newest = deployment({ id: 'newest', status: 'SUCCESSFUL', stage: 'CLEAN_UP' });
    answer(newest, false);
    const brief = (id: string, minutesAgo: number) => ({
      serviceDeploymentArn: deploymentArn(id),
      serviceArn: SERVICE_ARN,
      clusterArn: CLUSTER_ARN,
      status: 'SUCCESSFUL' as const,
      createdAt: new Date(NOW - minutesAgo * 60_000),
      targetServiceRevisionArn: revisionArn('41'),
    });
    ecs
      .on(ListServiceDeploymentsCommand)
      .resolvesOnce({ serviceDeployments: [brief('older', 900), brief('newest', 20)], nextToken: 't2' })
      .resolves({ serviceDeployments: [brief('oldest', 5000)] });
    ecs
      .on(DescribeServiceDeploymentsCommand, { serviceDeploymentArns: [deploymentArn('newest')] })
      .resolves({ serviceDeployments: [newest] });
    const view = await readStatus(clients(), target, () => NOW);
    assert.equal(view.deploymentArn, deploymentArn('newest'));
    assert.equal(view.verdict, 'succeeded');
    assert.equal(ecs.commandCalls(ListServiceDeploymentsCommand).length, 2);
  });

  it('--watch logic: reads until the deployment ends; still in flight at the timeout is a failure', async () => {
    const views = ['in-flight', 'in-flight', 'failed'].map((verdict, i) => ({
      ...target,
      verdict: verdict as 'in-flight' | 'failed',
      ended: i === 2,
      reason: verdict,
      from: [],
      hooks: [],
      alarms: [],
    }));
    let t = 0;
    let reads = 0;
    const seen: string[] = [];
    const end = await watch(async () => views[Math.min(reads++, 2)]!, {
      intervalMs: 10_000,
      timeoutMs: 60_000,
      now: () => t,
      sleep: async (ms) => {
        t += ms;
      },
      onView: (v) => seen.push(v.verdict),
    });
    assert.equal(end.verdict, 'failed');
    assert.deepEqual(seen, ['in-flight', 'in-flight', 'failed']);
    t = 0;
    const timedOut = await watch(async () => views[0]!, {
      intervalMs: 10_000,
      timeoutMs: 25_000,
      now: () => t,
      sleep: async (ms) => {
        t += ms;
      },
    });
    assert.equal(timedOut.verdict, 'failed');
    assert.match(timedOut.reason, /when the watch ended after 25 s/);
  });
});

describe('sfdeploy status: through the entry point', () => {
  let fake: FakeAws;
  before(async () => {
    fake = await startFakeAws();
  });
  after(() => fake.close());
  const run = (args: string[]) =>
    cli(['status', ...args], { endpoint: fake.endpoint, env: { AWS_ENDPOINT_URL_CLOUDWATCH: fake.endpoint } });
  /** The JSON protocol puts timestamps on the wire as epoch seconds. */
  const wire = (value: unknown) =>
    JSON.parse(
      JSON.stringify(value, (_k, v: unknown) =>
        typeof v === 'string' && /^\d{4}-\d\d-\d\dT.*Z$/.test(v) ? Date.parse(v) / 1000 : v,
      ),
    );

  function serve(sequence: ServiceDeployment[]): void {
    let n = 0;
    fake.answer = (operation) => {
      const d = sequence[Math.min(n, sequence.length - 1)]!;
      switch (operation) {
        case 'DescribeServices':
          return ok({
            services: [
              {
                serviceArn: SERVICE_ARN,
                serviceName: 'softfactory-prod-web',
                status: 'ACTIVE',
                currentServiceDeployment: d.serviceDeploymentArn,
              },
            ],
            failures: [],
          });
        case 'DescribeServiceDeployments':
          n++;
          return ok(wire({ serviceDeployments: [d], failures: [] }));
        case 'DescribeServiceRevisions':
          return ok(wire({ serviceRevisions: revisions, failures: [] }));
        case 'DescribeAlarms':
          return ok({
            MetricAlarms: ALARMS.map((AlarmName) => ({ AlarmName, StateValue: 'OK' })),
            CompositeAlarms: [],
          });
        default:
          return awsError('UnknownOperationException', operation);
      }
    };
  }

  it('--json: one document, exit 0 for a successful deployment; only Describe/List operations are called', async () => {
    serve([deployment({ status: 'SUCCESSFUL', stage: 'CLEAN_UP', weights: { from: [0, 0], to: [100, 100] } })]);
    fake.seen.length = 0;
    const r = await run(['--stage', 'prod', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { verdict: string; passed: boolean; to: { tag: string }; alarms: unknown[] };
    assert.equal(doc.verdict, 'succeeded');
    assert.equal(doc.passed, true);
    assert.equal(doc.to.tag, 'v2.1');
    assert.equal(doc.alarms.length, 3);
    assert.ok(
      fake.seen.every((s) => /^(Describe|List)/.test(s.operation)),
      fake.seen.map((s) => s.operation).join(','),
    );
    assert.deepEqual(fake.seen.find((s) => s.operation === 'DescribeServices')?.input['services'], [
      'softfactory-prod-web',
    ]);
  });

  it('a rolled-back deployment: the table and exit 1', async () => {
    serve([deployment({ status: 'ROLLBACK_SUCCESSFUL', stage: 'CLEAN_UP' })]);
    const r = await run(['--stage', 'prod']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /verdict\s+failed/);
    assert.match(r.stdout, /production traffic\s+v2\.0 100% \/ v2\.1 0%/);
    assert.match(r.stdout, /hook softfactory-prod-release-command\s+unknown at PRE_SCALE_UP/);
  });

  it('--watch without a terminal: one line per change until the deployment ends, then the table; exit per the outcome', async () => {
    serve([
      deployment({
        stage: 'PRE_SCALE_UP',
        weights: { from: [100, 0], to: [0, 0] },
        active: [
          {
            hookId: 'h1',
            targetType: 'AWS_LAMBDA',
            targetArn: fnArn('softfactory-prod-release-command'),
            status: 'IN_PROGRESS',
          },
        ],
      }),
      deployment({
        stage: 'PRE_SCALE_UP',
        weights: { from: [100, 0], to: [0, 0] },
        active: [
          {
            hookId: 'h1',
            targetType: 'AWS_LAMBDA',
            targetArn: fnArn('softfactory-prod-release-command'),
            status: 'IN_PROGRESS',
          },
        ],
      }),
      deployment({ status: 'ROLLBACK_SUCCESSFUL', stage: 'CLEAN_UP' }),
    ]);
    const r = await run(['--stage', 'prod', '--watch', '--interval', '1']);
    assert.equal(r.status, 1, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d /.test(l));
    assert.equal(lines.length, 2, `a line per change, not per read:\n${r.stdout}`);
    assert.match(
      lines[0]!,
      /IN_PROGRESS {2}PRE_SCALE_UP {2}production 0% {2}test 0% {2}hooks softfactory-prod-release-command=IN_PROGRESS$/,
    );
    assert.match(lines[1]!, /ROLLBACK_SUCCESSFUL/);
    assert.match(r.stdout, /verdict\s+failed/);
  });

  it('usage mistakes are one line and exit 2; --help ends with examples', async () => {
    const bad = await run(['--stage', 'qa']);
    assert.equal(bad.status, 2);
    assert.equal(bad.errors, 'sfdeploy: --stage must be one of dev, staging, prod, got "qa"');
    const interval = await run(['--stage', 'prod', '--watch', '--interval', '0']);
    assert.equal(interval.status, 2);
    assert.match(interval.errors, /--interval must be a whole number of seconds/);
    const help = await run(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Examples:\n {2}sfdeploy status --stage prod\n/);
  });

  it('access denied is one line and exit 2 (with --json also a JSON error document)', async () => {
    fake.answer = () => awsError('AccessDeniedException', 'User is not authorized to perform: ecs:DescribeServices');
    const r = await run(['--stage', 'prod', '--json']);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.errors.split('\n').length, 1);
    assert.equal((JSON.parse(r.stdout) as { ok: boolean }).ok, false);
  });
});
