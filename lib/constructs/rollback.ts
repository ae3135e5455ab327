import {
  ArnFormat,
  type CfnElement,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cwActions,
  Duration,
  aws_lambda_destinations as destinations,
  aws_dynamodb as dynamodb,
  aws_iam as iam,
  type aws_kms as kms,
  RemovalPolicy,
  type aws_rds as rds,
  Stack,
  aws_sns as sns,
  aws_sqs as sqs,
  aws_sns_subscriptions as subscriptions,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { alarmSubscriptionFilterPolicy, rollbackFunctionName } from '../../lambda/rollback/contract';
import { ROLLBACK_FUNCTION_TIMEOUT_SECONDS, rollbackEnvironment } from '../../lambda/rollback/env';
import { rollbackLockTableName } from '../../shared/names';
import type { Stage } from '../config/stage-config';
import { HouseFunction } from './house-function';
import { addAlarm } from './monitoring/alarm-factory';
import { anyInPeriod } from './monitoring/alarm-kinds';
import { ROLLBACK_DEAD_LETTERS_RUNBOOK } from './monitoring/runbooks';
import { wildcardArnFinding } from './nag';
import type { WebService } from './web-service';

export interface RollbackProps {
  /** The stage, in the function, table and alarm names. */
  readonly stage: Stage;
  /** The service the function rolls back. */
  readonly web: WebService;
  /** The stage's notification topic: the function listens to its alarm notifications and reports there. */
  readonly topic: sns.ITopic;
  /** The topic's customer-managed key (publishing needs it). */
  readonly topicKey: kms.IKey;
  /** Alarms whose ALARM transition may roll back a completed deployment. */
  readonly rollbackAlarmNames: readonly string[];
  /** The instance whose newest pre-deploy snapshot a notification names (read-only). */
  readonly database: rds.IDatabaseInstance;
  /** The pre-deploy snapshots' identifier prefix (shared/names.ts snapshotPrefix). */
  readonly snapshotPrefix: string;
  /** Minutes after a deployment completes during which an alarm may still roll it back. */
  readonly watchWindowMinutes: number;
  /** Minutes after a rollback during which no second automatic rollback starts. */
  readonly cooldownMinutes: number;
  /** Retention of the function's log group, in days. */
  readonly logRetentionDays: number;
  /**
   * Reserved concurrency of the function (`config.rollbackReservedConcurrency`).
   * @default - none: the function draws on the account's unreserved pool
   */
  readonly reservedConcurrency?: number | undefined;
}

/**
 * Automated rollback after a deployment completed: a function subscribed to the alarm topic (and invocable by a
 * pipeline or `sfdeploy rollback`) that returns the service to its previous revision, at most once per incident.
 * Owns its lock table, its dead-letter queues and the alarm on them. Its IAM is scoped to this stage's cluster,
 * service, task roles, alarms, table and topic.
 */
export class Rollback extends Construct {
  public readonly function: HouseFunction;
  public readonly lockTable: dynamodb.Table;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RollbackProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { service, cluster, taskDefinition } = props.web;

    this.lockTable = new dynamodb.Table(this, 'Locks', {
      tableName: rollbackLockTableName(props.stage),
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Failed asynchronous invocations (after Lambda's own retries) and undeliverable SNS messages land here.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the rollback function and its subscription.',
    });

    this.function = new HouseFunction(this, 'Function', {
      entry: 'rollback',
      functionName: rollbackFunctionName(props.stage),
      description: 'Rolls the service back on rollback-alarm notifications or a pipeline request, once per incident',
      environment: rollbackEnvironment({
        stage: props.stage,
        clusterArn: cluster.clusterArn,
        serviceArn: service.serviceArn,
        taskFamily: taskDefinition.family,
        rollbackAlarmNames: [...props.rollbackAlarmNames],
        lockTableName: this.lockTable.tableName,
        topicArn: props.topic.topicArn,
        dbInstanceId: props.database.instanceIdentifier,
        snapshotPrefix: props.snapshotPrefix,
        watchWindowMinutes: props.watchWindowMinutes,
        cooldownMinutes: props.cooldownMinutes,
      }),
      timeout: Duration.seconds(ROLLBACK_FUNCTION_TIMEOUT_SECONDS),
      logRetentionDays: props.logRetentionDays,
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
      // No reservation by default: the DynamoDB lock and the per-incident claim already make one incident one ECS
      // change, and Lambda refuses a reservation that would leave the account's unreserved concurrency below its
      // minimum (100), which new accounts with a limit of 10-50 always would
      // (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html). Opt in via config.
      ...(props.reservedConcurrency === undefined ? {} : { reservedConcurrentExecutions: props.reservedConcurrency }),
    });
    const fn = this.function.function;

    props.topic.addSubscription(
      new subscriptions.LambdaSubscription(fn, {
        // Only the rollback alarms' ALARM notifications (see alarmSubscriptionFilterPolicy): one decision per event,
        // no "invalid input" reports for the deployment events, smoke reports and other alarms on the same topic.
        filterPolicyWithMessageBody: Object.fromEntries(
          Object.entries(alarmSubscriptionFilterPolicy(props.rollbackAlarmNames)).map(([key, values]) => [
            key,
            sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ allowlist: [...values] })),
          ]),
        ),
        deadLetterQueue: this.deadLetterQueue,
      }),
    );

    this.lockTable.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    // Not topic.grantPublish: for an encrypted topic it also grants kms:GenerateDataKey*; these two suffice.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.topic.topicArn] }));
    // Publishing to a topic encrypted with a customer-managed key needs these two on the key.
    props.topicKey.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');

    const ecsArn = (resource: string, name: string) =>
      stack.formatArn({ service: 'ecs', resource, resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const path = `${cluster.clusterName}/${service.serviceName}`;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadThisServicesDeployments',
        actions: [
          'ecs:ListServiceDeployments',
          'ecs:DescribeServiceDeployments',
          'ecs:DescribeServiceRevisions',
          'ecs:DescribeServices',
        ],
        resources: [
          service.serviceArn,
          ecsArn('service-deployment', `${path}/*`),
          ecsArn('service-revision', `${path}/*`),
        ],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StopThisServicesDeployments',
        actions: ['ecs:StopServiceDeployment'],
        resources: [service.serviceArn, ecsArn('service-deployment', `${path}/*`)],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'UpdateThisServiceToItsOwnFamily',
        actions: ['ecs:UpdateService'],
        resources: [service.serviceArn],
        conditions: {
          ArnLike: { 'ecs:task-definition': ecsArn('task-definition', `${taskDefinition.family}:*`) },
        },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PassOnlyThisServicesTaskRoles',
        actions: ['iam:PassRole'],
        resources: [taskDefinition.taskRole.roleArn, taskDefinition.obtainExecutionRole().roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadOnlyTheRollbackAlarms',
        actions: ['cloudwatch:DescribeAlarms'],
        resources: props.rollbackAlarmNames.map((name) =>
          stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: name,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'FindThePreDeploySnapshot',
        actions: ['rds:DescribeDBSnapshots'],
        resources: [
          stack.formatArn({
            service: 'rds',
            resource: 'db',
            resourceName: props.database.instanceIdentifier,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
          stack.formatArn({
            service: 'rds',
            resource: 'snapshot',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    const logicalId = (construct: Construct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
    for (const kind of ['service-deployment', 'service-revision']) {
      Validations.of(fn.role!).acknowledge({
        id: wildcardArnFinding(stack, 'ecs', `${kind}/<${logicalId(cluster)}>/<${logicalId(service)}.Name>/*`),
        reason: `Every ${kind} of this one service: their ids are created by ECS at deploy time.`,
      });
    }
    Validations.of(fn.role!).acknowledge({
      id: wildcardArnFinding(stack, 'rds', 'snapshot:*'),
      reason: 'rds:DescribeDBSnapshots is read-only; filtering by instance happens in the call (DBInstanceIdentifier).',
    });

    this.deadLetterAlarm = addAlarm(this, {
      stage: props.stage,
      signal: 'rollback-dead-letters',
      id: 'DeadLetterAlarm',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      rule: anyInPeriod(),
      description: ROLLBACK_DEAD_LETTERS_RUNBOOK,
      action: new cwActions.SnsAction(props.topic),
    });
  }
}
