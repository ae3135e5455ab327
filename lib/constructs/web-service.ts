import {
  Annotations,
  Aws,
  type aws_applicationautoscaling as appscaling,
  Duration,
  aws_ec2 as ec2,
  aws_ecr as ecr,
  aws_ecs as ecs,
  aws_iam as iam,
  type aws_lambda as lambda,
  aws_logs as logs,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { DeploymentStrategyName, StrategySettings } from '../config/deployment-strategy';
import type { ImageSource } from '../config/stage-config';
import type { Database } from './database';
import { APP_PORT, type LoadBalancer } from './load-balancer';
import { retentionDays } from './log-retention';
import { wildcardResourceFinding } from './nag';
import { addWritableMounts } from './read-only-root';
import { appLogGroupName, CONTAINER_NAME, execLogGroupName, VOLUME_INIT_CONTAINER_NAME } from './web-container';

export interface WebServiceProps {
  /** The VPC; tasks run in its private subnets. */
  readonly vpc: ec2.IVpc;
  /** The load balancer whose two target groups the blue/green deployments shift between. */
  readonly loadBalancer: LoadBalancer;
  /** The container image: an ECR repository and tag, a registry name, or a local directory to build. */
  readonly image: ImageSource;
  /**
   * The app's start command; it runs after the entry point has assembled DATABASE_URL.
   * @default - gunicorn serving `start_platform:app` (gunicornCommand)
   */
  readonly command?: readonly string[];
  /** Fargate CPU units (1024 = 1 vCPU). */
  readonly cpu: number;
  /** Task memory, in MiB (a Fargate combination with `cpu`). */
  readonly memoryMiB: number;
  /** SoftFactory's ENVIRONMENT and TESTING (both set explicitly: the app defaults to test mode when they are unset). */
  readonly appEnvironment: 'production' | 'development';
  /** SoftFactory's `TESTING` flag (test mode accepts `Bearer demo_token`; only dev sets it). */
  readonly appTesting: boolean;
  /** The app's own secrets (PLATFORM_SECRET_KEY, JWT_SECRET, …) as container secrets, by variable name. */
  readonly appSecrets: Readonly<Record<string, ecs.Secret>>;
  /**
   * The public base URL (PLATFORM_BASE_URL: OAuth redirects, links in mail).
   * @default - not set
   */
  readonly publicBaseUrl?: string;
  /**
   * The origins the app allows cross-origin requests from, as CORS_ORIGINS (comma-separated).
   * @default - not set (the app's own default)
   */
  readonly corsAllowedOrigins?: readonly string[];
  /** Fewest tasks autoscaling keeps. */
  readonly minTasks: number;
  /** Most tasks autoscaling starts. */
  readonly maxTasks: number;
  /** Autoscaling target for average service CPU, in percent. */
  readonly cpuTargetPercent: number;
  /** Autoscaling target: requests per running task, over both target groups' RequestCount (metric math below). */
  readonly requestsPerTarget: number;
  /** The database, which is told to admit this service's tasks. */
  readonly database: Database;
  /** Retention of the app and exec log groups, in days. */
  readonly logRetentionDays: number;
  /** Minutes ECS waits after the production traffic shift before the deployment completes (alarms can roll back). */
  readonly bakeTimeMinutes: number;
  /** Alarms that roll a deployment back while it runs or bakes (fixed names, so there is no cycle). */
  readonly deploymentAlarmNames?: readonly string[];
  /** Used in physical names (cluster, log group). */
  readonly namePrefix: string;
  /**
   * How a release moves production traffic: blue/green (all at once), canary or linear, with the canary share or the
   * linear step and their bakes (validated by the stage config: lib/config/deployment-strategy.ts).
   * @default - blue/green
   */
  readonly release?: ReleaseStrategy;
}

/** The strategy settings the service renders (the deployment bake is `bakeTimeMinutes`). */
export type ReleaseStrategy = Omit<StrategySettings, 'bakeTimeMinutes'>;

/**
 * The lifecycle stage ECS runs before every production traffic step of a canary or linear deployment (once, before the
 * shift, for blue/green): "Occurs before production traffic shift. For linear and canary deployments, this stage is
 * invoked before every traffic shift step" (DeploymentLifecycleHook.lifecycleStages,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html). aws-cdk-lib 2.276's
 * DeploymentLifecycleStage has no member for it, so hooks at this stage are written through the L1 (below).
 */
export const PRE_PRODUCTION_TRAFFIC_SHIFT = 'PRE_PRODUCTION_TRAFFIC_SHIFT';
export type HookStage = ecs.DeploymentLifecycleStage | typeof PRE_PRODUCTION_TRAFFIC_SHIFT;

/** One entry of the service's LifecycleHooks, in the order the L2 renders them. */
interface RegisteredHook {
  readonly id: string;
  readonly kind: 'lambda' | 'pause';
  readonly stages: readonly string[];
  readonly timeoutMinutes: number;
}

export { appLogGroupName, CONTAINER_NAME, execLogGroupName } from './web-container';

/** The ALB's idle timeout (its default, which we keep), in seconds. */
export const ALB_IDLE_TIMEOUT_SECONDS = 60;

/** SoftFactory in production mode: ENVIRONMENT=production and TESTING=false (anything else is its test mode). */
export function isProductionMode(environment: string, testing: boolean): boolean {
  return environment === 'production' && !testing;
}

/**
 * gunicorn as SoftFactory's Dockerfile.prod runs it: `start_platform:app` on the app port, (2 × vCPUs) + 1 workers
 * (gunicorn's own guidance, https://docs.gunicorn.org/en/stable/design.html#how-many-workers), a worker timeout below
 * the ALB idle timeout, and keep-alive above it: ELB documents that the target's keep-alive should exceed the load
 * balancer's idle timeout, or the target closes connections the ALB still reuses (502s)
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-load-balancer-attributes.html#connection-idle-timeout).
 */
export function gunicornCommand(cpuUnits: number): string[] {
  const workers = Math.max(2, Math.floor((2 * cpuUnits) / 1024) + 1);
  return [
    'gunicorn',
    '--bind',
    `0.0.0.0:${APP_PORT}`,
    '--workers',
    String(workers),
    '--timeout',
    String(ALB_IDLE_TIMEOUT_SECONDS - 5),
    '--graceful-timeout',
    '25',
    '--keep-alive',
    String(ALB_IDLE_TIMEOUT_SECONDS + 5),
    '--access-logfile',
    '-',
    '--error-logfile',
    '-',
    'start_platform:app',
  ];
}

/**
 * The container health check: `/ready` (SoftFactory's readiness endpoint, which checks its database) with
 * `X-Forwarded-Proto: https`, because in production mode the app redirects every request that is neither TLS nor
 * forwarded from TLS. urllib follows that redirect to https://127.0.0.1, which fails, so a missing header cannot pass
 * by accident; any non-2xx raises. ECS replaces a task whose essential container turns UNHEALTHY
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/healthcheck.html).
 */
export const READY_CHECK_COMMAND = [
  'CMD',
  'python',
  '-c',
  'import sys, urllib.request; ' +
    `r = urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:${APP_PORT}/ready', ` +
    "headers={'X-Forwarded-Proto': 'https'}), timeout=4); sys.exit(0 if r.status == 200 else 1)",
];

/**
 * The entry point assembles DATABASE_URL from the secret's fields at container start, so no password is in the
 * template, in a plain environment variable or in a log line; the generated password is URL-safe by construction.
 */
export const DATABASE_URL_ENTRYPOINT = [
  '/bin/sh',
  '-c',
  'export DATABASE_URL="postgresql://$DB_USERNAME:$DB_PASSWORD@$DB_HOST:$DB_PORT/$DB_NAME?sslmode=require"; ' +
    'unset DB_PASSWORD; exec "$@"',
  'softfactory-entrypoint',
];

/**
 * The SoftFactory Fargate service: an ECS cluster with enhanced Container Insights, a task with container `web` on
 * port 8000, logs with retention, least-privilege roles, and the ECS native blue/green deployment strategy over the
 * load balancer's blue and green target groups. Autoscaling follows CPU and requests per target.
 */
export class WebService extends Construct {
  public readonly cluster: ecs.Cluster;
  public readonly service: ecs.FargateService;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly logGroup: logs.LogGroup;
  /** Where ECS Exec writes each command session's commands and output (`sfdeploy exec`). */
  public readonly execLogGroup: logs.LogGroup;
  public readonly securityGroup: ec2.SecurityGroup;
  /** The release strategy this service deploys with. */
  public readonly strategy: DeploymentStrategyName;

  constructor(scope: Construct, id: string, props: WebServiceProps) {
    super(scope, id);
    const release = props.release ?? DEFAULT_RELEASE;
    this.strategy = release.deploymentStrategy;
    // ECS Exec sessions are audited: who ran a session is in CloudTrail (ExecuteCommand), what they ran and saw is
    // written here by the SSM agent in the container (logging OVERRIDE), kept as long as the app's logs
    // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html#ecs-exec-logging). Like every log
    // group here it is encrypted with the stack's KMS key (lib/constructs/log-encryption.ts); cloudWatchEncryptionEnabled,
    // the agent's own check that the group is encrypted, stays off: the Aspect already guarantees it at deploy.
    this.execLogGroup = new logs.LogGroup(this, 'ExecLogs', {
      logGroupName: execLogGroupName(props.namePrefix),
      retention: retentionDays(props.logRetentionDays),
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      clusterName: props.namePrefix,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
      executeCommandConfiguration: {
        logging: ecs.ExecuteCommandLogging.OVERRIDE,
        logConfiguration: { cloudWatchLogGroup: this.execLogGroup, cloudWatchEncryptionEnabled: false },
      },
    });

    // Fixed name, so RETAIN_ON_UPDATE_OR_DELETE: a plain Retain would keep the group after a rolled-back first
    // create and the retry would fail with "already exists" (AWS documents RetainExceptOnCreate for this,
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html).
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: appLogGroupName(props.namePrefix),
      retention: retentionDays(props.logRetentionDays),
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    const secret = (field: string) => ecs.Secret.fromSecretsManager(props.database.secret, field);
    const web = this.taskDefinition.addContainer(CONTAINER_NAME, {
      containerName: CONTAINER_NAME,
      // Writable only where the app (and ECS Exec) writes: lib/constructs/read-only-root.ts.
      readonlyRootFilesystem: true,
      image: containerImage(this, props.image),
      entryPoint: DATABASE_URL_ENTRYPOINT,
      command: [...(props.command ?? gunicornCommand(props.cpu))],
      // Non-root: the app listens on an unprivileged port and keeps its data in PostgreSQL.
      user: '1000:1000',
      portMappings: [{ containerPort: APP_PORT, protocol: ecs.Protocol.TCP, name: 'http' }],
      environment: {
        ENVIRONMENT: props.appEnvironment,
        TESTING: String(props.appTesting),
        APP_PORT: String(APP_PORT),
        DB_NAME: props.database.databaseName,
        ...(props.publicBaseUrl ? { PLATFORM_BASE_URL: props.publicBaseUrl } : {}),
        ...(props.corsAllowedOrigins ? { CORS_ORIGINS: props.corsAllowedOrigins.join(',') } : {}),
      },
      secrets: {
        ...props.appSecrets,
        DB_USERNAME: secret('username'),
        DB_PASSWORD: secret('password'),
        DB_HOST: secret('host'),
        DB_PORT: secret('port'),
      },
      healthCheck: {
        command: READY_CHECK_COMMAND,
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        // gunicorn's workers import the app and connect before they answer.
        startPeriod: Duration.seconds(60),
      },
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'web',
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
      }),
      stopTimeout: Duration.seconds(30),
      // An init process as PID 1 reaps the processes ECS Exec sessions leave behind; the ECS Exec guide recommends
      // it (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html).
      linuxParameters: new ecs.LinuxParameters(this, 'LinuxParameters', { initProcessEnabled: true }),
    });
    addWritableMounts(
      this.taskDefinition,
      web,
      ecs.LogDrivers.awsLogs({ logGroup: this.logGroup, streamPrefix: VOLUME_INIT_CONTAINER_NAME }),
    );

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'SoftFactory tasks: port 8000 from the load balancer only',
      allowAllOutbound: true,
    });
    for (const albGroup of props.loadBalancer.alb.connections.securityGroups) {
      this.securityGroup.addIngressRule(albGroup, ec2.Port.tcp(APP_PORT), 'App port from the load balancer');
      albGroup.addEgressRule(this.securityGroup, ec2.Port.tcp(APP_PORT), 'To SoftFactory tasks');
    }
    props.database.admit(this, 'DatabaseIngress', this.securityGroup, 'PostgreSQL from SoftFactory tasks');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      serviceName: `${props.namePrefix}-web`,
      taskDefinition: this.taskDefinition,
      // No DesiredCount in the template: with one, every stack update resets the autoscaled count to it
      // (aws/aws-cdk#3919). CloudFormation creates a service without one at 1 task and leaves the count alone on
      // update (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-service.html#cfn-ecs-service-desiredcount);
      // registering the scalable target then raises it to minTasks: "it changes the resource's current capacity to
      // a value that is inside of this range" (https://docs.aws.amazon.com/autoscaling/application/APIReference/API_RegisterScalableTarget.html).
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
      assignPublicIp: false,
      ...trafficShift(release),
      bakeTime: Duration.minutes(props.bakeTimeMinutes),
      minHealthyPercent: 100,
      healthCheckGracePeriod: Duration.seconds(60),
      // ECS Exec (`sfdeploy exec`, `sfdeploy db-tunnel`): the L2 gives the task role the four ssmmessages actions the
      // SSM agent needs, and write access to the cluster's exec log group. Break-glass access stays an IAM decision:
      // a person also needs ecs:ExecuteCommand (or ssm:StartSession) on these tasks.
      enableExecuteCommand: true,
      ...(props.deploymentAlarmNames?.length
        ? {
            deploymentAlarms: {
              alarmNames: [...props.deploymentAlarmNames],
              behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM,
            },
          }
        : {}),
    });
    Annotations.of(this.service).acknowledgeWarning(
      '@aws-cdk/aws-ecs:shouldUseCircuitBreaker',
      'The circuit breaker applies to rolling updates; blue/green fails fast through lifecycle hooks and deployment alarms.',
    );
    this.acknowledgeExecFindings();
    const lb = props.loadBalancer;
    const target = this.service.loadBalancerTarget({
      containerName: CONTAINER_NAME,
      containerPort: APP_PORT,
      alternateTarget: new ecs.AlternateTarget('AlternateTarget', {
        alternateTargetGroup: lb.greenTargetGroup,
        productionListener: ecs.ListenerRuleConfiguration.applicationListenerRule(lb.productionRule),
        testListener: ecs.ListenerRuleConfiguration.applicationListenerRule(lb.testRule),
      }),
    });
    target.attachToApplicationTargetGroup(lb.blueTargetGroup);

    const scaling = this.service.autoScaleTaskCount({ minCapacity: props.minTasks, maxCapacity: props.maxTasks });
    scaling.scaleOnCpuUtilization('Cpu', {
      targetUtilizationPercent: props.cpuTargetPercent,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.minutes(5),
    });
    this.scaleOnRequestsOfBothGroups(scaling, props);
    this.acknowledgeFindings();
    this.overrideStepPercent(release);
  }

  /**
   * aws-cdk-lib checks "a multiple of 0.1" as `Number.isInteger(stepPercent * 10)`, which binary floating point fails
   * for valid values such as 0.3 (0.3 × 10 = 3.0000000000000004); `trafficShift` leaves those out of the L2 and they
   * are written here, as the ECS API documents them ("multiples of 0.1", CanaryConfiguration / LinearConfiguration).
   */
  private overrideStepPercent(release: ReleaseStrategy): void {
    const cfn = this.service.node.defaultChild as ecs.CfnService;
    if (release.deploymentStrategy === 'canary' && !l2AcceptsTenths(release.canaryPercent)) {
      cfn.addPropertyOverride('DeploymentConfiguration.CanaryConfiguration.CanaryPercent', release.canaryPercent);
    }
    if (release.deploymentStrategy === 'linear' && !l2AcceptsTenths(release.linearStepPercent)) {
      cfn.addPropertyOverride('DeploymentConfiguration.LinearConfiguration.StepPercent', release.linearStepPercent);
    }
  }

  /** The findings the service's roles and task definition raise, each with why it holds here. */
  private acknowledgeFindings(): void {
    Validations.of(this.taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions (AWS service authorization reference); every other action is scoped.',
    });
    Validations.of(this.service.node.findChild('AlternateTargetRole')).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers]',
      reason:
        'The AWS-maintained policy ECS blue/green needs to shift listener-rule weights; AWS updates it with the feature.',
    });
    for (const role of [this.taskDefinition.obtainExecutionRole(), this.taskDefinition.taskRole]) {
      Validations.of(role).acknowledge({
        id: 'NIST.800.53.R5-IAMNoInlinePolicy',
        reason:
          "aws-cdk-lib's grants for this task definition (image pull, its secrets, logs, ECS Exec), in the role's own DefaultPolicy; a managed policy would be the same statements with a second lifecycle.",
      });
    }
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'Only non-secret values are plain environment variables (FLASK_ENV, APP_PORT, DB_NAME); credentials come from Secrets Manager.',
    });
  }

  /**
   * One request-count policy over both target groups. Blue/green leaves one group idle between releases, and an idle
   * group has no RequestCountPerTarget data; with one policy per group, the idle one would never agree to scale in
   * ("Application Auto Scaling scales in only when all policies agree", and insufficient data never scales in:
   * https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html#target-tracking-multiple-policies).
   * So: requests of both groups (missing data as 0) divided by the service's running tasks, with metric math, which
   * CloudFormation supports (TargetTrackingMetricDataQuery, https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-applicationautoscaling-scalingpolicy-targettrackingmetricdataquery.html)
   * and the L2 does not ("Only direct metrics are supported for Target Tracking") — hence the property override.
   */
  private scaleOnRequestsOfBothGroups(scaling: ecs.ScalableTaskCount, props: WebServiceProps): void {
    const lb = props.loadBalancer;
    const requests = (group: typeof lb.blueTargetGroup) => ({
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'RequestCount',
      Dimensions: [
        { Name: 'TargetGroup', Value: group.targetGroupFullName },
        { Name: 'LoadBalancer', Value: lb.alb.loadBalancerFullName },
      ],
    });
    scaling.scaleToTrackCustomMetric('Requests', {
      // Replaced below by the metric-math query; the L2 needs a direct metric to render.
      metric: lb.blueTargetGroup.metrics.requestCount(),
      targetValue: props.requestsPerTarget,
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.minutes(5),
    });
    const cfn = scaling.node
      .findChild('Target')
      .node.findChild('Requests')
      .node.findChild('Resource') as appscaling.CfnScalingPolicy;
    const path = 'TargetTrackingScalingPolicyConfiguration.CustomizedMetricSpecification';
    for (const field of ['MetricName', 'Namespace', 'Dimensions', 'Statistic', 'Unit']) {
      cfn.addPropertyDeletionOverride(`${path}.${field}`);
    }
    cfn.addPropertyOverride(`${path}.Metrics`, [
      { Id: 'blue', MetricStat: { Metric: requests(lb.blueTargetGroup), Stat: 'Sum' }, ReturnData: false },
      { Id: 'green', MetricStat: { Metric: requests(lb.greenTargetGroup), Stat: 'Sum' }, ReturnData: false },
      {
        Id: 'tasks',
        MetricStat: {
          Metric: {
            Namespace: 'ECS/ContainerInsights',
            MetricName: 'RunningTaskCount',
            Dimensions: [
              { Name: 'ClusterName', Value: this.cluster.clusterName },
              { Name: 'ServiceName', Value: this.service.serviceName },
            ],
          },
          Stat: 'Average',
        },
        ReturnData: false,
      },
      {
        Id: 'requestsPerTask',
        Expression: '(FILL(blue, 0) + FILL(green, 0)) / tasks',
        Label: 'Requests per running task, both target groups',
        ReturnData: true,
      },
    ]);
  }

  /**
   * Registers a Lambda function as a deployment lifecycle hook with a timeout (the ECS default is 24 hours;
   * on timeout ECS rolls back). aws-cdk-lib's L2 target has no timeout setting, hence the property override.
   * `PRE_PRODUCTION_TRAFFIC_SHIFT` may be among the stages: it is written through the L1 (see the constant).
   */
  public addLifecycleHook(
    id: string,
    handler: lambda.IFunction,
    stages: readonly HookStage[],
    timeoutMinutes: number,
  ): void {
    // Our own role rather than the target's default, which also allows every version (`<arn>:*`).
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      description: `Lets ECS invoke the ${id} deployment lifecycle hook`,
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [handler.functionArn] }));
    Validations.of(role).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason: 'One statement (invoke this hook function), on the one role ECS assumes for it.',
    });
    // ECS reads the function's returned hookStatus, so the invocation is synchronous: a dead-letter queue only ever
    // receives failed asynchronous invocations, and a failed hook already rolls the deployment back
    // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html).
    Validations.of(handler).acknowledge({
      id: 'NIST.800.53.R5-LambdaDLQ',
      reason:
        'A deployment lifecycle hook: ECS invokes it synchronously and reads its hookStatus; a failure rolls the deployment back, and a DLQ would never receive anything.',
    });
    // The grant is the role's DefaultPolicy, a resource of its own: without this dependency CloudFormation may create
    // the service (whose first deployment already runs the hooks) before the policy exists.
    this.service.node.addDependency(role);
    const l2Stages = stages.filter((s): s is ecs.DeploymentLifecycleStage => s !== PRE_PRODUCTION_TRAFFIC_SHIFT);
    this.service.addLifecycleHook(
      new ecs.DeploymentLifecycleLambdaTarget(handler, id, { lifecycleStages: l2Stages, role }),
    );
    this.registerHook({ id, kind: 'lambda', stages, timeoutMinutes });
  }

  /**
   * A PAUSE lifecycle hook: ECS stops the deployment at `stages` until someone calls ContinueServiceDeployment with
   * CONTINUE or ROLLBACK (`sfdeploy promote` / `sfdeploy abort`), and rolls back when `timeoutMinutes` pass first
   * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html: targetType PAUSE, stages
   * RECONCILE_SERVICE, PRE_SCALE_UP, POST_SCALE_UP, POST_TEST_TRAFFIC_SHIFT, PRE_PRODUCTION_TRAFFIC_SHIFT,
   * POST_PRODUCTION_TRAFFIC_SHIFT — not the two traffic-shift stages; timeout 1–20160 minutes, action ROLLBACK).
   * aws-cdk-lib 2.276 has no PAUSE target: the hook is registered through the L2 so it keeps its place in the list,
   * and the L1 override (`registerHook`) turns it into TargetType PAUSE without a target ARN or role, which the API
   * says are for AWS_LAMBDA hooks only (DeploymentLifecycleHook,
   * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html).
   */
  public addPauseHook(id: string, stages: readonly HookStage[], timeoutMinutes: number): void {
    const refused = stages.filter((s) => !PAUSE_STAGES.has(s));
    if (refused.length > 0) {
      throw new Error(`${id}: ECS does not allow a PAUSE hook at ${refused.join(', ')}`);
    }
    const l2Stages = stages.filter((s): s is ecs.DeploymentLifecycleStage => s !== PRE_PRODUCTION_TRAFFIC_SHIFT);
    this.service.addLifecycleHook({
      // The L2 renders `targetArn` and `role.roleArn` for every target; both are deleted by the override.
      bind: () => ({
        targetArn: Aws.NO_VALUE,
        role: { roleArn: Aws.NO_VALUE } as iam.IRole,
        lifecycleStages: l2Stages,
      }),
    });
    this.registerHook({ id, kind: 'pause', stages, timeoutMinutes });
  }

  /** The lifecycle hooks registered so far, in template order (what each is, at which stages). */
  public get lifecycleHooks(): readonly { id: string; kind: 'lambda' | 'pause'; stages: readonly string[] }[] {
    return this.hooks.map(({ id, kind, stages }) => ({ id, kind, stages }));
  }

  /**
   * Rewrites every hook's L1 overrides, by its index in the rendered LifecycleHooks (the L2 renders them in
   * registration order): the timeout and its action, the stage list when it names a stage the L2 enum lacks, and a
   * PAUSE hook's type.
   */
  private registerHook(hook: RegisteredHook): void {
    this.hooks.push(hook);
    const cfn = this.service.node.defaultChild as ecs.CfnService;
    this.hooks.forEach((h, index) => {
      const at = `DeploymentConfiguration.LifecycleHooks.${index}`;
      cfn.addPropertyOverride(`${at}.TimeoutConfiguration`, { TimeoutInMinutes: h.timeoutMinutes, Action: 'ROLLBACK' });
      if (h.stages.includes(PRE_PRODUCTION_TRAFFIC_SHIFT))
        cfn.addPropertyOverride(`${at}.LifecycleStages`, [...h.stages]);
      if (h.kind === 'pause') {
        cfn.addPropertyOverride(`${at}.TargetType`, 'PAUSE');
        cfn.addPropertyDeletionOverride(`${at}.HookTargetArn`);
        cfn.addPropertyDeletionOverride(`${at}.RoleArn`);
      }
    });
  }

  private readonly hooks: RegisteredHook[] = [];

  /**
   * ECS Exec's task-role grants, as aws-cdk-lib writes them: ssmmessages:Create/Open Control/Data Channel and
   * logs:DescribeLogGroups support no resource-level permissions (Service Authorization Reference: Amazon Session
   * Manager Message Gateway Service, Amazon CloudWatch Logs), hence `*`; the log-stream actions are scoped to the
   * exec log group (`:*` is its streams).
   */
  private acknowledgeExecFindings(): void {
    const role = this.taskDefinition.taskRole;
    const stack = Stack.of(this);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ECS Exec: the ssmmessages channel actions and logs:DescribeLogGroups have no resource-level permissions (AWS service authorization reference).',
    });
    Validations.of(role).acknowledge({
      // The ARN exactly as aws-cdk-lib writes it into the policy (the group's name by reference).
      id: wildcardResourceFinding(
        this,
        `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${this.execLogGroup.logGroupName}:*`,
      ),
      reason: 'ECS Exec writes session logs as streams of the exec log group; the wildcard is that group’s streams.',
    });
  }
}

const DEFAULT_RELEASE: ReleaseStrategy = {
  deploymentStrategy: 'blue_green',
  canaryPercent: 5,
  canaryBakeMinutes: 10,
  linearStepPercent: 10,
  linearStepBakeMinutes: 6,
};

/** The stages the pause-hooks guide lists for targetType PAUSE. */
const PAUSE_STAGES: ReadonlySet<string> = new Set([
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'POST_SCALE_UP',
  'POST_TEST_TRAFFIC_SHIFT',
  PRE_PRODUCTION_TRAFFIC_SHIFT,
  'POST_PRODUCTION_TRAFFIC_SHIFT',
]);

/** Whether aws-cdk-lib's own check (`Number.isInteger(p * 10)`) passes for a valid tenth. */
function l2AcceptsTenths(percent: number): boolean {
  return Number.isInteger(percent * 10);
}

/**
 * The L2 deployment strategy and its traffic-shift configuration (DeploymentConfiguration.Strategy,
 * CanaryConfiguration, LinearConfiguration: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html).
 * All three shift traffic between the same two target groups behind the production and test listener rules.
 */
function trafficShift(release: ReleaseStrategy): Partial<ecs.FargateServiceProps> {
  switch (release.deploymentStrategy) {
    case 'blue_green':
      return { deploymentStrategy: ecs.DeploymentStrategy.BLUE_GREEN };
    case 'canary':
      return {
        deploymentStrategy: ecs.DeploymentStrategy.CANARY,
        canaryConfiguration: {
          ...(l2AcceptsTenths(release.canaryPercent) ? { stepPercent: release.canaryPercent } : {}),
          stepBakeTime: Duration.minutes(release.canaryBakeMinutes),
        },
      };
    case 'linear':
      return {
        deploymentStrategy: ecs.DeploymentStrategy.LINEAR,
        linearConfiguration: {
          ...(l2AcceptsTenths(release.linearStepPercent) ? { stepPercent: release.linearStepPercent } : {}),
          stepBakeTime: Duration.minutes(release.linearStepBakeMinutes),
        },
      };
  }
}

function containerImage(scope: Construct, image: ImageSource): ecs.ContainerImage {
  switch (image.kind) {
    case 'ecr':
      return ecs.ContainerImage.fromEcrRepository(
        ecr.Repository.fromRepositoryName(scope, 'Repository', image.repository),
        image.tag,
      );
    case 'registry':
      return ecs.ContainerImage.fromRegistry(image.name);
    case 'directory':
      // Staged at synth (no Docker needed); `cdk deploy` builds and pushes it as an image asset.
      return ecs.ContainerImage.fromAsset(image.path);
  }
}
