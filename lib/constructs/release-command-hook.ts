import {
  ArnFormat,
  Duration,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_iam as iam,
  type aws_kms as kms,
  type aws_rds as rds,
  Stack,
  type aws_sns as sns,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { type ReleaseCommandEnvironment, releaseCommandFunctionName } from '../../lambda/release-command/env';
import { clusterName } from '../../shared/names';
import type { Stage } from '../config/stage-config';
import { HouseFunction } from './house-function';
import { wildcardArnFinding, wildcardResourceFinding } from './nag';
import { grantReadThisServicesDeployments } from './service-deployment-access';
import { CONTAINER_NAME, type WebService } from './web-service';

export interface ReleaseCommandHookProps {
  /** The stage, in the function name and the snapshots' tags. */
  readonly stage: Stage;
  /** The command, run in place of the container's command (the DATABASE_URL entry point stays). */
  readonly command: readonly string[];
  /** The service whose deployments run the command (PRE_SCALE_UP), and whose task definition it runs. */
  readonly web: WebService;
  /** The VPC whose private subnets the task runs in when the target revision names none. */
  readonly vpc: ec2.IVpc;
  /** The instance whose pre-deploy snapshot of the deployment must be available before the command starts. */
  readonly database: rds.IDatabaseInstance;
  /** Identifier prefix of the pre-deploy snapshots (the snapshot hook's). */
  readonly snapshotPrefix: string;
  /** The snapshot hook's ECS timeout: how long this hook waits for the snapshot. */
  readonly snapshotWaitMinutes: number;
  /**
   * Minutes the command may run before it is stopped and the release rolls back.
   * @default 30
   */
  readonly commandTimeoutMinutes?: number;
  /** Where the failure notification (with the task's last log lines) goes. */
  readonly topic: sns.ITopic;
  /** The topic's KMS key, which the function needs to publish. */
  readonly topicKey: kms.IKey;
  /** Retention of the function's log group, in days. */
  readonly logRetentionDays: number;
}

/** Seconds between IN_PROGRESS re-invocations. */
const CALLBACK_DELAY_SECONDS = 30;
/** Time the ECS hook timeout keeps beyond the snapshot wait and the command, so the function answers first. */
const HOOK_MARGIN_MINUTES = 5;

/**
 * The release command (Fly's `release_command`, Copilot's pre-deployment): an ECS PRE_SCALE_UP hook that runs the
 * target revision's task definition once as a Fargate task with the command, after this deployment's pre-deploy
 * snapshot is available, and answers SUCCEEDED only when it exits 0. Anything else rolls the release back before any
 * task of the new revision starts.
 */
export class ReleaseCommandHook extends Construct {
  public readonly function: HouseFunction<ReleaseCommandEnvironment>;
  /** The ECS hook timeout: snapshot wait + command + margin. */
  public readonly hookTimeoutMinutes: number;

  constructor(scope: Construct, id: string, props: ReleaseCommandHookProps) {
    super(scope, id);
    const commandTimeoutMinutes = props.commandTimeoutMinutes ?? 30;
    if (props.command.length === 0 || props.command.some((part) => part.trim() === '')) {
      throw new Error('releaseCommand must be a non-empty list of non-empty strings, such as ["flask","db","upgrade"]');
    }
    this.hookTimeoutMinutes = props.snapshotWaitMinutes + commandTimeoutMinutes + HOOK_MARGIN_MINUTES;

    const stack = Stack.of(this);
    const web = props.web;
    const taskDefinition = web.taskDefinition;
    const environment: ReleaseCommandEnvironment = {
      STAGE: props.stage,
      CLUSTER: clusterName(props.stage),
      RELEASE_COMMAND: JSON.stringify(props.command),
      CONTAINER_NAME,
      LOG_GROUP_NAME: web.logGroup.logGroupName,
      LOG_STREAM_PREFIX: 'web',
      SUBNETS: props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds.join(','),
      SECURITY_GROUPS: web.securityGroup.securityGroupId,
      DB_INSTANCE_ID: props.database.instanceIdentifier,
      SNAPSHOT_PREFIX: props.snapshotPrefix,
      TOPIC_ARN: props.topic.topicArn,
      CALLBACK_DELAY_SECONDS: String(CALLBACK_DELAY_SECONDS),
      SNAPSHOT_WAIT_MINUTES: String(props.snapshotWaitMinutes),
      COMMAND_TIMEOUT_MINUTES: String(commandTimeoutMinutes),
    };
    this.function = new HouseFunction(this, 'Function', {
      entry: 'release-command',
      functionName: releaseCommandFunctionName(props.stage),
      description: 'ECS PRE_SCALE_UP hook: runs the release command as a task of the new revision, after the snapshot',
      environment,
      timeout: Duration.seconds(60),
      logRetentionDays: props.logRetentionDays,
      retryAttempts: 0,
    });
    const fn = this.function.function;

    // By the fixed cluster and service names: the service references this function as its hook, so a reference
    // back to the service (or the cluster resource it depends on) from the function's policy would be a cycle.
    const cluster = clusterName(props.stage);
    const clusterArn = stack.formatArn({ service: 'ecs', resource: 'cluster', resourceName: cluster });
    const family = stack.formatArn({
      service: 'ecs',
      resource: 'task-definition',
      resourceName: `${taskDefinition.family}:*`,
    });
    const clusterTasks = stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster}/*` });
    // RunTask on the task definition's family only, in this cluster only (ecs:cluster condition key:
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html).
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RunTheServicesTaskDefinitionInThisCluster',
        actions: ['ecs:RunTask'],
        resources: [family],
        conditions: { ArnEquals: { 'ecs:cluster': clusterArn } },
      }),
    );
    // RunTask hands the task its roles: PassRole for exactly those two, to ECS tasks only.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PassOnlyTheTaskRoles',
        actions: ['iam:PassRole'],
        resources: [taskDefinition.taskRole.roleArn, taskDefinition.obtainExecutionRole().roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WatchAndStopTasksOfThisCluster',
        actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
        resources: [clusterTasks],
      }),
    );
    // ListTasks is authorised on container instances with the ecs:cluster condition (no task-level resource).
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'FindOurTaskInThisCluster',
        actions: ['ecs:ListTasks'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': clusterArn } },
      }),
    );
    grantReadThisServicesDeployments(fn, props.stage);
    const instanceArn = stack.formatArn({
      service: 'rds',
      resource: 'db',
      resourceName: props.database.instanceIdentifier,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const snapshotsArn = stack.formatArn({
      service: 'rds',
      resource: 'snapshot',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SeeThePreDeploySnapshot',
        actions: ['rds:DescribeDBSnapshots'],
        resources: [instanceArn, snapshotsArn],
      }),
    );
    // The app log group's streams (the group ARN CloudFormation returns ends in `:*`).
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheTasksLog',
        actions: ['logs:GetLogEvents'],
        resources: [web.logGroup.logGroupArn],
      }),
    );
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.topic.topicArn] }));
    props.topicKey.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');

    const role = fn.role!;
    const acknowledge = (id: string, reason: string) => Validations.of(role).acknowledge({ id, reason });
    acknowledge(
      wildcardResourceFinding(this, family),
      'Every revision of the service’s own task definition family: the target revision is only known at deploy time.',
    );
    acknowledge(
      wildcardResourceFinding(this, clusterTasks),
      'Tasks of this one cluster: the release task’s id is assigned by ECS when it starts.',
    );
    acknowledge(
      'AwsSolutions-IAM5[Resource::*]',
      'ecs:ListTasks has no task-level resource; the ecs:cluster condition limits it to this cluster.',
    );
    acknowledge(
      wildcardArnFinding(stack, 'rds', 'snapshot:*'),
      'rds:DescribeDBSnapshots is read-only; the call filters by DBInstanceIdentifier.',
    );
    acknowledge(
      wildcardResourceFinding(this, web.logGroup.logGroupArn),
      'logs:GetLogEvents on the app log group: its streams are named per task at run time.',
    );

    web.addLifecycleHook(
      'ReleaseCommandHook',
      fn,
      [ecs.DeploymentLifecycleStage.PRE_SCALE_UP],
      this.hookTimeoutMinutes,
    );
  }
}
