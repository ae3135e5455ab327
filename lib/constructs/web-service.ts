import {
  Annotations,
  Duration,
  aws_ec2 as ec2,
  aws_ecr as ecr,
  aws_ecs as ecs,
  aws_iam as iam,
  type aws_lambda as lambda,
  aws_logs as logs,
  RemovalPolicy,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ImageSource } from '../config/stage-config';
import type { Database } from './database';
import { APP_PORT, type LoadBalancer } from './load-balancer';
import { CONTAINER_NAME } from './web-container';

export interface WebServiceProps {
  readonly vpc: ec2.IVpc;
  readonly loadBalancer: LoadBalancer;
  readonly image: ImageSource;
  /** The app's start command; it runs after the entry point has assembled DATABASE_URL. */
  readonly command: readonly string[];
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly desiredCount: number;
  readonly minTasks: number;
  readonly maxTasks: number;
  readonly cpuTargetPercent: number;
  readonly requestsPerTarget: number;
  /** The database, which is told to admit this service's tasks. */
  readonly database: Database;
  readonly logRetentionDays: number;
  readonly bakeTimeMinutes: number;
  /** Alarms that roll a deployment back while it runs or bakes (fixed names, so there is no cycle). */
  readonly deploymentAlarmNames?: readonly string[];
  /** Used in physical names (cluster, log group). */
  readonly namePrefix: string;
}

export { CONTAINER_NAME } from './web-container';

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
  public readonly securityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: WebServiceProps) {
    super(scope, id);
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      clusterName: props.namePrefix,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
    });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/softfactory/${props.namePrefix}/app`,
      retention: props.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
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
    this.taskDefinition.addContainer(CONTAINER_NAME, {
      containerName: CONTAINER_NAME,
      image: containerImage(this, props.image),
      entryPoint: DATABASE_URL_ENTRYPOINT,
      command: [...props.command],
      // Non-root: the app listens on an unprivileged port and keeps its data in PostgreSQL.
      user: '1000:1000',
      portMappings: [{ containerPort: APP_PORT, protocol: ecs.Protocol.TCP, name: 'http' }],
      environment: { FLASK_ENV: 'production', APP_PORT: String(APP_PORT), DB_NAME: props.database.databaseName },
      secrets: {
        DB_USERNAME: secret('username'),
        DB_PASSWORD: secret('password'),
        DB_HOST: secret('host'),
        DB_PORT: secret('port'),
      },
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'web',
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
      }),
      stopTimeout: Duration.seconds(30),
    });

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
      desiredCount: props.desiredCount,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.securityGroup],
      assignPublicIp: false,
      deploymentStrategy: ecs.DeploymentStrategy.BLUE_GREEN,
      bakeTime: Duration.minutes(props.bakeTimeMinutes),
      minHealthyPercent: 100,
      healthCheckGracePeriod: Duration.seconds(60),
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
    // Blue/green moves traffic between the two target groups, so track requests per target on both: target
    // tracking scales out when either policy asks and scales in only when both agree.
    for (const [name, group] of [
      ['Blue', lb.blueTargetGroup],
      ['Green', lb.greenTargetGroup],
    ] as const) {
      scaling.scaleOnRequestCount(`Requests${name}`, {
        requestsPerTarget: props.requestsPerTarget,
        targetGroup: group,
        scaleOutCooldown: Duration.seconds(60),
        scaleInCooldown: Duration.minutes(5),
      });
    }
  }

  /**
   * Registers a Lambda function as a deployment lifecycle hook with a timeout (the ECS default is 24 hours;
   * on timeout ECS rolls back). aws-cdk-lib's L2 target has no timeout setting, hence the property override.
   */
  public addLifecycleHook(
    id: string,
    handler: lambda.IFunction,
    stages: readonly ecs.DeploymentLifecycleStage[],
    timeoutMinutes: number,
  ): void {
    // Our own role rather than the target's default, which also allows every version (`<arn>:*`).
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      description: `Lets ECS invoke the ${id} deployment lifecycle hook`,
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [handler.functionArn] }));
    this.service.addLifecycleHook(
      new ecs.DeploymentLifecycleLambdaTarget(handler, id, { lifecycleStages: [...stages], role }),
    );
    this.hookTimeouts.push(timeoutMinutes);
    const cfn = this.service.node.defaultChild as ecs.CfnService;
    this.hookTimeouts.forEach((minutes, index) => {
      cfn.addPropertyOverride(`DeploymentConfiguration.LifecycleHooks.${index}.TimeoutConfiguration`, {
        TimeoutInMinutes: minutes,
        Action: 'ROLLBACK',
      });
    });
  }

  private readonly hookTimeouts: number[] = [];
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
