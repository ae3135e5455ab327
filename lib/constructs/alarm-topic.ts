import {
  ArnFormat,
  Aws,
  type aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  Duration,
  aws_iam as iam,
  aws_kms as kms,
  RemovalPolicy,
  Stack,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** Physical name of the topic, e.g. `softfactory-prod-alarms`. */
  readonly topicName: string;
  /**
   * Names of the alarms CloudWatch may publish for, as an ARN resource pattern (`softfactory-prod-*`). The topic
   * policy admits CloudWatch only for alarms of this account whose names match it (confused-deputy protection).
   */
  readonly alarmNamePattern: string;
  /**
   * E-mail addresses subscribed to the topic (each must confirm the subscription once).
   * @default - no subscriptions
   */
  readonly emails?: readonly string[];
}

/** Services that publish to the topic: alarm state changes (CloudWatch) and deployment events (EventBridge). */
const PUBLISHING_SERVICES = [
  { principal: 'cloudwatch.amazonaws.com', sid: 'AllowCloudWatchAlarmsToUseTheKey' },
  { principal: 'events.amazonaws.com', sid: 'AllowEventBridgeToUseTheKey' },
] as const;

/**
 * The stage's notification topic: SNS encrypted with a customer-managed KMS key whose policy lets CloudWatch and
 * EventBridge use it, e-mail subscriptions, and a topic policy that admits both services. Alarms send their ALARM
 * and OK transitions to `action`; functions that publish get `topic.grantPublish(fn)` (it grants the key too).
 */
export class AlarmTopic extends Construct {
  public readonly topic: sns.Topic;
  public readonly key: kms.Key;
  /** The alarm action that publishes to the topic. */
  public readonly action: cloudwatch.IAlarmAction;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id);
    const emails = props.emails ?? [];

    // With the AWS-managed aws/sns key, CloudWatch and EventBridge cannot encrypt what they publish: the publish is
    // dropped without an error anywhere. A customer-managed key can grant them kms:GenerateDataKey* and kms:Decrypt.
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the ${props.topicName} notification topic`,
      enableKeyRotation: true,
      // Nothing at rest depends on this key once SNS has delivered, and the service stack is replaceable.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    for (const { principal, sid } of PUBLISHING_SERVICES) {
      // No aws:SourceArn/SourceAccount conditions here: EventBridge's KMS requests do not carry them, and a
      // condition that never matches silently drops every notification. The topic policy below scopes CloudWatch.
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid,
          principals: [new iam.ServicePrincipal(principal)],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
    }

    this.topic = new sns.Topic(this, 'Topic', {
      topicName: props.topicName,
      displayName: props.topicName,
      masterKey: this.key,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one, so CloudWatch is admitted explicitly — only for our own alarms.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': Stack.of(this).formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: props.alarmNamePattern,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    emails.forEach((email) => {
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    });
    this.action = new cloudwatchActions.SnsAction(this.topic);
  }
}
