/** Realistic identifiers and event builders shared by the rollback tests (prod stage in eu-west-1). */
import type { SNSEvent } from 'aws-lambda';
import { alarmName } from '../../../lib/constructs/monitoring/alarm-naming';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const CLUSTER = 'softfactory-prod';
export const SERVICE = 'softfactory-prod-web';
export const FAMILY = 'softfactory-prod-web';
export const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${CLUSTER}`;
export const SERVICE_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`;
export const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:softfactory-prod-alarms`;
export const TABLE = 'softfactory-prod-rollback-locks';
export const DB_INSTANCE = 'softfactory-prod-db';

// The alarms the prod app really creates, named by the app's own function (test/lib/monitoring-alarms.test.ts checks
// them against the synthesized template): three rollback alarms and one that is not.
export const ERROR_RATE = alarmName('prod', 'error-rate');
export const LATENCY = alarmName('prod', 'latency');
export const UNHEALTHY = alarmName('prod', 'unhealthy-hosts');
export const CPU = alarmName('prod', 'cpu');

export const td = (revision: number) => `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${FAMILY}:${revision}`;
export const revisionArn = (id: string) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:service-revision/${CLUSTER}/${SERVICE}/${id}`;
export const deploymentArn = (id: string) =>
  `arn:aws:ecs:${REGION}:${ACCOUNT}:service-deployment/${CLUSTER}/${SERVICE}/${id}`;
export const alarmArn = (name: string, region = REGION) => `arn:aws:cloudwatch:${region}:${ACCOUNT}:alarm:${name}`;

/** The function's environment as the CDK construct would set it. */
export const ENV: Record<string, string> = {
  STAGE: 'prod',
  CLUSTER_ARN,
  SERVICE_ARN,
  TASK_FAMILY: FAMILY,
  ROLLBACK_ALARM_NAMES: `${ERROR_RATE},${LATENCY},${UNHEALTHY}`,
  WATCH_WINDOW_MINUTES: '60',
  COOLDOWN_MINUTES: '30',
  LOCK_TABLE_NAME: TABLE,
  LOCK_TTL_SECONDS: '90',
  LOCK_WAIT_SECONDS: '20',
  ACTING_GRACE_SECONDS: '120',
  TOPIC_ARN,
  DB_INSTANCE_ID: DB_INSTANCE,
};

/** 2025-11-26 10:45:00 UTC, a Wednesday morning release. */
export const T0 = Date.parse('2025-11-26T10:45:00.000Z');

export class FakeClock {
  constructor(public t: number = T0) {}
  readonly now = (): Date => new Date(this.t);
  advance(ms: number): void {
    this.t += ms;
  }
  /** Sleep for the lock loop: advances time and yields, so a concurrent invocation can finish. */
  readonly sleep = async (ms: number): Promise<void> => {
    this.t += ms;
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
}

/** CloudWatch's own format: `2025-11-26T10:44:12.345+0000`. */
export function cloudwatchTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}

export interface AlarmOptions {
  name?: string;
  newState?: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';
  oldState?: string;
  at?: number;
  account?: string;
  region?: string;
  withArn?: boolean;
}

/** A CloudWatch alarm notification, as CloudWatch publishes it to SNS. */
export function alarmMessage(o: AlarmOptions = {}): Record<string, unknown> {
  const name = o.name ?? ERROR_RATE;
  const newState = o.newState ?? 'ALARM';
  const region = o.region ?? REGION;
  const message: Record<string, unknown> = {
    AlarmName: name,
    AlarmDescription: 'HTTP 5xx above 1 % of requests for 3 minutes. Runbook: README.md#alarms',
    AWSAccountId: o.account ?? ACCOUNT,
    AlarmConfigurationUpdatedTimestamp: '2025-11-20T09:12:41.105+0000',
    NewStateValue: newState,
    NewStateReason:
      newState === 'ALARM'
        ? 'Threshold Crossed: 3 out of the last 3 datapoints [2.41 (26/11/25 10:43:00), 1.87 (26/11/25 10:42:00), 1.35 (26/11/25 10:41:00)] were greater than the threshold (1.0) (minimum 3 datapoints for OK -> ALARM transition).'
        : 'Threshold Crossed: 3 out of the last 3 datapoints [0.12 (26/11/25 11:03:00)] were not greater than the threshold (1.0) (minimum 3 datapoints for ALARM -> OK transition).',
    StateChangeTime: cloudwatchTime(o.at ?? T0 - 30_000),
    Region: region === 'eu-west-1' ? 'EU (Ireland)' : 'US East (N. Virginia)',
    OldStateValue: o.oldState ?? (newState === 'ALARM' ? 'OK' : 'ALARM'),
    OKActions: [TOPIC_ARN],
    AlarmActions: [TOPIC_ARN],
    InsufficientDataActions: [],
    Trigger: {
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 1.0,
      TreatMissingData: 'notBreaching',
      EvaluateLowSampleCountPercentile: '',
      Metrics: [{ Id: 'errorRate', Expression: '100 * (m5xx / requests)', Label: 'Error rate (%)', ReturnData: true }],
    },
  };
  if (o.withArn !== false) message['AlarmArn'] = alarmArn(name, region);
  return message;
}

let messageSeq = 0;

/** The SNS → Lambda event around one message (a string is passed through as-is). */
export function snsEvent(
  message: Record<string, unknown> | string,
  options: { messageId?: string; attributes?: Record<string, string> } = {},
): SNSEvent {
  const messageId = options.messageId ?? `9c0e4d8e-1b2f-5a6c-8d7e-${String(++messageSeq).padStart(12, '0')}`;
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${TOPIC_ARN}:6f3c2a8e-7b1d-4c5e-9f0a-2d4b6c8e0f1a`,
        Sns: {
          Type: 'Notification',
          MessageId: messageId,
          TopicArn: TOPIC_ARN,
          Subject: typeof message === 'string' ? undefined : `ALARM: "${String(message['AlarmName'])}" in EU (Ireland)`,
          Message: typeof message === 'string' ? message : JSON.stringify(message),
          Timestamp: new Date(T0).toISOString(),
          SignatureVersion: '1',
          Signature:
            'EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=',
          SigningCertUrl: `https://sns.${REGION}.amazonaws.com/SimpleNotificationService-01d088a6f77103d0fe307c0069e40ed6.pem`,
          UnsubscribeUrl: `https://sns.${REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC_ARN}:6f3c2a8e`,
          MessageAttributes: Object.fromEntries(
            Object.entries(options.attributes ?? {}).map(([k, v]) => [k, { Type: 'String', Value: v }]),
          ),
        },
      },
    ],
  };
}

/** A pipeline's direct-invoke payload. */
export function pipelineRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action: 'rollback',
    reason: 'checkout 500s after release 2025.11.26',
    requestedBy: 'ci:deploy-pipeline#1842',
    ...overrides,
  };
}
