/**
 * A small, stateful ECS + CloudWatch world behind aws-sdk-client-mock: the mocked commands answer with
 * realistic shapes from this state, and the mutating ones change it (UpdateService starts a new IN_PROGRESS
 * deployment, StopServiceDeployment moves one to ROLLBACK_REQUESTED), so a second invocation sees what the
 * first one did, as it would in AWS.
 */
import { CloudWatchClient, DescribeAlarmsCommand, type DescribeAlarmsCommandInput } from '@aws-sdk/client-cloudwatch';
import {
  ConflictException,
  DescribeServiceDeploymentsCommand,
  type DescribeServiceDeploymentsCommandInput,
  DescribeServiceRevisionsCommand,
  type DescribeServiceRevisionsCommandInput,
  DescribeServicesCommand,
  ECSClient,
  InvalidParameterException,
  ListServiceDeploymentsCommand,
  type ListServiceDeploymentsCommandInput,
  type ServiceDeployment,
  type ServiceDeploymentStatus,
  StopServiceDeploymentCommand,
  type StopServiceDeploymentCommandInput,
  UpdateServiceCommand,
  type UpdateServiceCommandInput,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import {
  alarmArn,
  CLUSTER_ARN,
  deploymentArn,
  ERROR_RATE,
  type FakeClock,
  LATENCY,
  revisionArn,
  SERVICE,
  SERVICE_ARN,
  td,
  UNHEALTHY,
} from './fixtures';

export interface WorldDeployment {
  arn: string;
  status: ServiceDeploymentStatus;
  createdAt: Date;
  startedAt: Date;
  finishedAt?: Date | undefined;
  lifecycleStage?: ServiceDeployment['lifecycleStage'];
  targetRevision: string;
  sourceRevisions: string[];
}

const MIN = 60_000;

/** The web image a revision of task definition `…:<n>` runs in this world: `…/softfactory:r<n>`. */
export function imageOf(taskDefinition: string): string {
  return `123456789012.dkr.ecr.eu-west-1.amazonaws.com/softfactory:r${/:(\d+)$/.exec(taskDefinition)?.[1] ?? '0'}`;
}
export function imageDigestOf(taskDefinition: string): string {
  const n = /:(\d+)$/.exec(taskDefinition)?.[1] ?? '0';
  return `sha256:${n.padStart(4, '0').repeat(16)}`;
}
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export class EcsWorld {
  readonly ecs = mockClient(ECSClient);
  readonly cloudwatch = mockClient(CloudWatchClient);
  readonly revisions = new Map<string, { arn: string; taskDefinition: string; createdAt: Date }>();
  readonly deployments: WorldDeployment[] = [];
  readonly alarms = new Map<string, 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'>();
  /** Every UpdateService call received. */
  readonly updateCalls: UpdateServiceCommandInput[] = [];
  /** UpdateService calls ECS applied (a new deployment exists for each). */
  readonly updates: UpdateServiceCommandInput[] = [];
  readonly stopCalls: StopServiceDeploymentCommandInput[] = [];
  /** StopServiceDeployment calls ECS applied. */
  readonly stops: StopServiceDeploymentCommandInput[] = [];
  runningTaskDefinition: string | undefined;
  currentServiceDeployment: string | undefined;
  /** One-shot failure of the next UpdateService; `applyFirst` = ECS did it, the answer was lost. */
  failNextUpdate: { error: Error; applyFirst: boolean } | undefined;
  /** The order ListServiceDeployments answers in (ECS documents none): creation order unless a test says otherwise. */
  listOrder: (deployments: WorldDeployment[]) => WorldDeployment[] = (d) => d;
  /** ECS may return fewer than `maxResults` per page (and a nextToken); tests lower this to force paging. */
  pageSizeCap = 100;
  /** Every ListServiceDeployments request received. */
  readonly listCalls: ListServiceDeploymentsCommandInput[] = [];
  /** Runs when StopServiceDeployment arrives, before ECS handles it (to stage races). */
  beforeStop: (() => void) | undefined;
  private seq = 0;

  constructor(readonly clock: FakeClock) {
    this.install();
  }

  restore(): void {
    this.ecs.restore();
    this.cloudwatch.restore();
  }

  private nextId(kind: 'revision' | 'deployment'): string {
    this.seq++;
    if (kind === 'revision') return `49803064663735${String(77095 + this.seq * 7919).padStart(5, '0')}`;
    let id = '';
    let n = this.seq * 2654435761;
    for (let i = 0; i < 22; i++) {
      id += BASE64URL[n % 64];
      n = Math.floor(n / 7) + i * 31;
    }
    return id;
  }

  /** A service revision running task definition `softfactory-prod-web:<n>`. */
  revision(taskDefinitionRevision: number, createdAt = new Date(this.clock.t - 3 * 24 * 60 * MIN)): string {
    const arn = revisionArn(this.nextId('revision'));
    this.revisions.set(arn, { arn, taskDefinition: td(taskDefinitionRevision), createdAt });
    return arn;
  }

  /** Adds a deployment that started/finished the given number of minutes before the clock's now. */
  deploy(o: {
    td: number;
    status?: ServiceDeploymentStatus;
    startedMinutesAgo: number;
    finishedMinutesAgo?: number;
    from?: string[];
    stage?: ServiceDeployment['lifecycleStage'];
  }): WorldDeployment {
    const started = new Date(this.clock.t - o.startedMinutesAgo * MIN);
    const d: WorldDeployment = {
      arn: deploymentArn(this.nextId('deployment')),
      status: o.status ?? 'SUCCESSFUL',
      createdAt: new Date(started.getTime() - 2_000),
      startedAt: started,
      finishedAt: o.finishedMinutesAgo === undefined ? undefined : new Date(this.clock.t - o.finishedMinutesAgo * MIN),
      lifecycleStage: o.stage ?? (o.status === undefined || o.status === 'SUCCESSFUL' ? 'CLEAN_UP' : undefined),
      targetRevision: this.revision(o.td, started),
      sourceRevisions: o.from ?? [],
    };
    this.deployments.push(d);
    if (d.status === 'SUCCESSFUL' || d.status === 'IN_PROGRESS' || d.status === 'PENDING') {
      this.runningTaskDefinition = td(o.td);
      this.currentServiceDeployment = d.arn;
    }
    return d;
  }

  /** The usual history: the first deployment (td 40, two days ago) and a release (td 41). */
  standardHistory(
    o: {
      finishedMinutesAgo?: number;
      status?: ServiceDeploymentStatus;
      stage?: ServiceDeployment['lifecycleStage'];
    } = {},
  ) {
    const first = this.deploy({ td: 40, startedMinutesAgo: 2 * 24 * 60 + 20, finishedMinutesAgo: 2 * 24 * 60 });
    const release = this.deploy({
      td: 41,
      status: o.status,
      startedMinutesAgo: (o.finishedMinutesAgo ?? 10) + 18,
      finishedMinutesAgo: o.status && o.status !== 'SUCCESSFUL' ? undefined : (o.finishedMinutesAgo ?? 10),
      from: [first.targetRevision],
      stage: o.stage,
    });
    if (o.status && !['SUCCESSFUL', 'IN_PROGRESS', 'PENDING'].includes(o.status)) {
      this.runningTaskDefinition = td(o.status.startsWith('ROLLBACK') ? 40 : 41);
    }
    return { first, release };
  }

  private brief(d: WorldDeployment) {
    return {
      serviceDeploymentArn: d.arn,
      serviceArn: SERVICE_ARN,
      clusterArn: CLUSTER_ARN,
      createdAt: d.createdAt,
      startedAt: d.startedAt,
      finishedAt: d.finishedAt,
      targetServiceRevisionArn: d.targetRevision,
      status: d.status,
      statusReason: d.status.startsWith('ROLLBACK') ? `Alarm ${ERROR_RATE} in ALARM state` : undefined,
    };
  }

  private detail(d: WorldDeployment): ServiceDeployment {
    return {
      serviceDeploymentArn: d.arn,
      serviceArn: SERVICE_ARN,
      clusterArn: CLUSTER_ARN,
      createdAt: d.createdAt,
      startedAt: d.startedAt,
      finishedAt: d.finishedAt,
      updatedAt: d.finishedAt ?? this.clock.now(),
      sourceServiceRevisions: d.sourceRevisions.map((arn) => ({
        arn,
        requestedTaskCount: 0,
        runningTaskCount: 0,
        pendingTaskCount: 0,
      })),
      targetServiceRevision: { arn: d.targetRevision, requestedTaskCount: 2, runningTaskCount: 2, pendingTaskCount: 0 },
      status: d.status,
      lifecycleStage: d.lifecycleStage,
      deploymentConfiguration: {
        strategy: 'BLUE_GREEN',
        bakeTimeInMinutes: 5,
        maximumPercent: 200,
        minimumHealthyPercent: 100,
        alarms: {
          alarmNames: [ERROR_RATE, LATENCY, UNHEALTHY],
          enable: true,
          rollback: true,
        },
      },
      alarms: {
        status: 'MONITORING_COMPLETE',
        alarmNames: [ERROR_RATE, LATENCY, UNHEALTHY],
      },
    };
  }

  private latestTargetRevision(): string | undefined {
    return [...this.deployments]
      .filter((d) => d.status === 'SUCCESSFUL' || d.status === 'IN_PROGRESS')
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0]?.targetRevision;
  }

  private install(): void {
    this.ecs.on(DescribeServicesCommand).callsFake(async () => ({
      services: [
        {
          serviceArn: SERVICE_ARN,
          serviceName: SERVICE,
          clusterArn: CLUSTER_ARN,
          status: 'ACTIVE',
          desiredCount: 2,
          runningCount: 2,
          pendingCount: 0,
          launchType: 'FARGATE',
          platformVersion: '1.4.0',
          taskDefinition: this.runningTaskDefinition,
          deploymentController: { type: 'ECS' },
          currentServiceDeployment: this.currentServiceDeployment,
        },
      ],
      failures: [],
    }));

    // ListServiceDeployments as the API reference allows it to behave
    // (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html): filters by status
    // and createdAt {after, before}, pages of `maxResults` (1-100, default 20) continued by an opaque `nextToken`, and
    // no documented order: this fake answers in `listOrder` (oldest first by default), never newest first on purpose.
    this.ecs.on(ListServiceDeploymentsCommand).callsFake(async (input: ListServiceDeploymentsCommandInput) => {
      this.listCalls.push(input);
      if (input.service !== SERVICE_ARN || input.cluster !== CLUSTER_ARN)
        throw new Error(`unexpected service ${input.service}`);
      const size = Math.min(input.maxResults ?? 20, this.pageSizeCap);
      if ((input.maxResults ?? 20) < 1 || (input.maxResults ?? 20) > 100) {
        throw new InvalidParameterException({
          message: 'maxResults must be between 1 and 100',
          $metadata: { httpStatusCode: 400 },
        });
      }
      const after = input.createdAt?.after?.getTime() ?? Number.NEGATIVE_INFINITY;
      const before = input.createdAt?.before?.getTime() ?? Number.POSITIVE_INFINITY;
      const matching = this.listOrder([...this.deployments]).filter(
        (d) =>
          (!input.status || input.status.includes(d.status)) &&
          d.createdAt.getTime() >= after &&
          d.createdAt.getTime() <= before,
      );
      const offset = input.nextToken ? Number(Buffer.from(input.nextToken, 'base64url').toString('utf8')) : 0;
      const page = matching.slice(offset, offset + size);
      const next =
        offset + size < matching.length ? Buffer.from(String(offset + size)).toString('base64url') : undefined;
      return { serviceDeployments: page.map((d) => this.brief(d)), ...(next ? { nextToken: next } : {}) };
    });

    this.ecs.on(DescribeServiceDeploymentsCommand).callsFake(async (input: DescribeServiceDeploymentsCommandInput) => {
      const arns = input.serviceDeploymentArns ?? [];
      if (arns.length > 20) throw new Error('DescribeServiceDeployments takes at most 20 ARNs');
      const found = arns.flatMap((arn) => this.deployments.filter((d) => d.arn === arn));
      return {
        serviceDeployments: found.map((d) => this.detail(d)),
        failures: arns.filter((a) => !found.some((d) => d.arn === a)).map((arn) => ({ arn, reason: 'MISSING' })),
      };
    });

    this.ecs.on(DescribeServiceRevisionsCommand).callsFake(async (input: DescribeServiceRevisionsCommandInput) => {
      const arns = input.serviceRevisionArns ?? [];
      if (arns.length > 20) throw new Error('DescribeServiceRevisions takes at most 20 ARNs');
      const found = arns.flatMap((arn) => {
        const r = this.revisions.get(arn);
        return r ? [r] : [];
      });
      return {
        serviceRevisions: found.map((r) => ({
          serviceRevisionArn: r.arn,
          serviceArn: SERVICE_ARN,
          clusterArn: CLUSTER_ARN,
          taskDefinition: r.taskDefinition,
          launchType: 'FARGATE' as const,
          platformVersion: '1.4.0',
          platformFamily: 'Linux',
          createdAt: r.createdAt,
          containerImages: [
            {
              containerName: 'web',
              imageDigest: imageDigestOf(r.taskDefinition),
              image: imageOf(r.taskDefinition),
            },
          ],
        })),
        failures: arns.filter((a) => !this.revisions.has(a)).map((arn) => ({ arn, reason: 'MISSING' })),
      };
    });

    this.ecs.on(UpdateServiceCommand).callsFake(async (input: UpdateServiceCommandInput) => {
      this.updateCalls.push(input);
      const failure = this.failNextUpdate;
      this.failNextUpdate = undefined;
      if (failure && !failure.applyFirst) throw failure.error;
      this.updates.push(input);
      const n = Number(/:(\d+)$/.exec(input.taskDefinition ?? '')?.[1]);
      const source = this.latestTargetRevision();
      const now = this.clock.now();
      const d: WorldDeployment = {
        arn: deploymentArn(this.nextId('deployment')),
        status: 'IN_PROGRESS',
        createdAt: now,
        startedAt: now,
        lifecycleStage: 'PRE_SCALE_UP',
        targetRevision: this.revision(n, now),
        sourceRevisions: source ? [source] : [],
      };
      this.deployments.push(d);
      this.runningTaskDefinition = input.taskDefinition;
      this.currentServiceDeployment = d.arn;
      if (failure) throw failure.error;
      return {
        service: {
          serviceArn: SERVICE_ARN,
          serviceName: SERVICE,
          clusterArn: CLUSTER_ARN,
          status: 'ACTIVE',
          taskDefinition: input.taskDefinition,
          currentServiceDeployment: d.arn,
          deploymentController: { type: 'ECS' },
        },
      };
    });

    this.ecs.on(StopServiceDeploymentCommand).callsFake(async (input: StopServiceDeploymentCommandInput) => {
      this.stopCalls.push(input);
      this.beforeStop?.();
      const d = this.deployments.find((x) => x.arn === input.serviceDeploymentArn);
      if (!d || (d.status !== 'IN_PROGRESS' && d.status !== 'PENDING')) {
        throw new ConflictException({
          message: `The service deployment ${input.serviceDeploymentArn} cannot be stopped in its current state.`,
          $metadata: { httpStatusCode: 400 },
        });
      }
      d.status = 'ROLLBACK_REQUESTED';
      this.stops.push(input);
      return { serviceDeploymentArn: d.arn };
    });

    this.cloudwatch.on(DescribeAlarmsCommand).callsFake(async (input: DescribeAlarmsCommandInput) => ({
      MetricAlarms: (input.AlarmNames ?? []).flatMap((name) => {
        const state = this.alarms.get(name);
        return state
          ? [
              {
                AlarmName: name,
                AlarmArn: alarmArn(name),
                StateValue: state,
                StateReason: 'Threshold Crossed',
                StateUpdatedTimestamp: new Date(this.clock.t - 30_000),
                ActionsEnabled: true,
              },
            ]
          : [];
      }),
      CompositeAlarms: [],
    }));
  }

  /** Changes ECS applied, for "exactly one change" assertions. */
  get changes(): number {
    return this.updates.length + this.stops.length;
  }

  /** Finishes a deployment the way ECS would after its bake time. */
  complete(arn: string | undefined, minutesAgo = 0): void {
    const d = this.deployments.find((x) => x.arn === arn);
    if (!d) throw new Error(`no deployment ${arn}`);
    d.status = 'SUCCESSFUL';
    d.lifecycleStage = 'CLEAN_UP';
    d.finishedAt = new Date(this.clock.t - minutesAgo * MIN);
  }
}
