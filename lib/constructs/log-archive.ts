import {
  ArnFormat,
  Aws,
  Duration,
  aws_logs_destinations as destinations,
  aws_kinesisfirehose as firehose,
  aws_iam as iam,
  aws_logs as logs,
  RemovalPolicy,
  Size,
  Stack,
  type aws_s3 as s3,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { retentionDays } from './log-retention';
import { wildcardResourceFinding } from './nag';

export interface LogArchiveProps {
  /** The log group to archive and protect (the app's). */
  readonly logGroup: logs.LogGroup;
  /** The archive bucket (stateful, from the data stack). */
  readonly bucket: s3.IBucket;
  /** Key prefix in the bucket, e.g. `softfactory-prod/app/`; must end with `/`. */
  readonly prefix: string;
  /** Physical name of the delivery stream. */
  readonly deliveryStreamName: string;
  /** Retention of the delivery stream's own error log group. */
  readonly logRetentionDays: number;
  /**
   * How long Firehose buffers before writing an object.
   * @default Duration.minutes(5)
   */
  readonly bufferingInterval?: Duration;
}

/** Managed data identifiers for credentials (CloudWatch Logs data protection). */
export const CREDENTIAL_DATA_IDENTIFIERS = [
  'AwsSecretKey',
  'OpenSshPrivateKey',
  'PgpPrivateKey',
  'PkcsPrivateKey',
  'PuttyPrivateKey',
] as const;

/**
 * Custom data identifiers for tokens and passwords. CloudWatch Logs accepts at most 200 characters from a small set
 * (letters, digits, `_ # = @ / ; , -` space and `^ $ ? [ ] { } | \ * + .`): no parentheses, quotes or colons, so
 * `.` stands for the colon of `scheme://user:password@`.
 */
export const CUSTOM_DATA_IDENTIFIERS: Readonly<Record<string, string>> = {
  BearerToken: '[Bb]earer [A-Za-z0-9._+/=-]{8,}',
  JsonWebToken: 'eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}',
  UrlCredentials: '[A-Za-z][A-Za-z0-9+.-]*.//[^/@ ]+@',
  SecretAssignment: '[Pp]assword=[^ ,;]+|[Ss]ecret=[^ ,;]+|[Tt]oken=[^ ,;]+|[Aa]pi_?[Kk]ey=[^ ,;]+',
};

/**
 * Archives a log group to S3 and masks credentials in it:
 * - a data-protection policy that audits and masks credentials and tokens (readers without `logs:Unmask` see `****`);
 * - a subscription filter (all events) → Data Firehose, which decompresses the CloudWatch Logs envelope, keeps one
 *   message per line, compresses with GZIP and writes date-partitioned keys (`year=/month=/day=`) to the bucket.
 */
export class LogArchive extends Construct {
  public readonly deliveryStream: firehose.DeliveryStream;
  public readonly subscription: logs.SubscriptionFilter;
  /** The role Firehose writes with: only this prefix of the bucket, the bucket's key through S3, its error stream. */
  public readonly deliveryRole: iam.Role;
  /** The role's policy (its one wildcard is the object prefix). */
  public readonly deliveryPolicy: iam.Policy;

  constructor(scope: Construct, id: string, props: LogArchiveProps) {
    super(scope, id);
    if (!props.prefix.endsWith('/')) throw new Error(`LogArchive: prefix "${props.prefix}" must end with "/"`);
    const bufferingInterval = props.bufferingInterval ?? Duration.minutes(5);

    // The log group belongs to the web service construct; its data-protection policy is a property of the same
    // CloudFormation resource, so it is set here, where the archive's privacy concern lives.
    const cfnLogGroup = props.logGroup.node.defaultChild as logs.CfnLogGroup;
    cfnLogGroup.dataProtectionPolicy = dataProtectionPolicy(this, `${props.deliveryStreamName}-data-protection`);

    const errors = new logs.LogGroup(this, 'DeliveryErrors', {
      logGroupName: `/aws/kinesisfirehose/${props.deliveryStreamName}`,
      retention: retentionDays(props.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.deliveryRole = new iam.Role(this, 'DeliveryRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: `Writes ${props.deliveryStreamName} to ${props.prefix} in the log archive`,
    });
    this.deliveryPolicy = new iam.Policy(this, 'DeliveryAccess', {
      roles: [this.deliveryRole],
      statements: deliveryStatements(props),
    });

    const date = 'year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/';
    this.deliveryStream = new firehose.DeliveryStream(this, 'Stream', {
      deliveryStreamName: props.deliveryStreamName,
      encryption: firehose.StreamEncryption.awsOwnedKey(),
      destination: new firehose.S3Bucket(props.bucket, {
        // The destination would otherwise grant read-write on the whole bucket and key; our policy is narrower.
        role: this.deliveryRole.withoutPolicyUpdates(),
        // CloudWatch Logs sends gzip'd JSON envelopes; unpacked to one message per line, they compress again below.
        processors: [
          new firehose.DecompressionProcessor(),
          new firehose.CloudWatchLogProcessor({ dataMessageExtraction: true }),
          new firehose.AppendDelimiterToRecordProcessor(),
        ],
        compression: firehose.Compression.GZIP,
        fileExtension: '.log.gz',
        dataOutputPrefix: `${props.prefix}${date}`,
        errorOutputPrefix: `${props.prefix}errors/!{firehose:error-output-type}/${date}`,
        bufferingInterval,
        bufferingSize: Size.mebibytes(5),
        loggingConfig: new firehose.EnableLogging(errors),
      }),
    });
    // Firehose logs delivery errors to a stream its S3 destination created in our log group, with a name
    // CloudFormation generates: grant exactly that stream.
    const errorStream = errors.node.tryFindChild('S3Destination');
    if (!(errorStream instanceof logs.LogStream)) {
      throw new Error('LogArchive: expected the S3 destination to create log stream "S3Destination" for its errors');
    }
    // aws-cdk-lib retains log streams by default; this one lives and dies with its (destroyed) group. A retained
    // stream would survive a rolled-back first create and block the retry.
    errorStream.applyRemovalPolicy(RemovalPolicy.DESTROY);
    this.deliveryPolicy.addStatements(
      new iam.PolicyStatement({
        sid: 'ErrorLog',
        actions: ['logs:PutLogEvents'],
        resources: [
          Stack.of(this).formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `${errors.logGroupName}:log-stream:${errorStream.logStreamName}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    // Firehose checks its access when the stream is created.
    this.deliveryStream.node.addDependency(this.deliveryPolicy);

    this.subscription = new logs.SubscriptionFilter(this, 'Subscription', {
      logGroup: props.logGroup,
      destination: new destinations.FirehoseDestination(this.deliveryStream),
      filterPattern: logs.FilterPattern.allEvents(),
      filterName: 'archive-to-s3',
    });
    this.acknowledgeFindings(props);
  }

  /** The findings the Firehose delivery raises, each with why it holds here. */
  private acknowledgeFindings(props: LogArchiveProps): void {
    Validations.of(this.deliveryPolicy).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason:
        'The delivery role’s one policy (this prefix of the archive bucket, its key through S3, its error stream), attached to that role only; a managed policy would be the same statements with a second lifecycle.',
    });
    const subscriptionRole = this.subscription.node.tryFindChild('CloudWatchLogsCanPutRecords');
    if (subscriptionRole) {
      Validations.of(subscriptionRole.node.findChild('DefaultPolicy')).acknowledge({
        id: 'NIST.800.53.R5-IAMNoInlinePolicy',
        reason:
          "aws-cdk-lib's grant to the role CloudWatch Logs assumes to put records on this one delivery stream, kept with its only role.",
      });
    }
    Validations.of(Stack.of(this)).acknowledge({
      id: 'CloudFormation-Validate::W7001',
      reason:
        "aws-cdk-lib's DeliveryStream always adds its Firehose CIDR-block mapping (used only by VPC destinations such as Redshift); an unreferenced mapping is inert.",
    });
    Validations.of(this.deliveryPolicy).acknowledge({
      id: wildcardResourceFinding(this, `${props.bucket.bucketArn}/${props.prefix}*`),
      reason:
        'Firehose writes objects with generated names: the one wildcard is its own key prefix in the archive bucket; the bucket, the key (through S3 only) and the error stream are named exactly.',
    });
  }
}

/** What Firehose needs to deliver to S3 (Firehose developer guide, "access to an Amazon S3 destination"). */
function deliveryStatements(props: LogArchiveProps): iam.PolicyStatement[] {
  const bucketArn = props.bucket.bucketArn;
  const statements = [
    new iam.PolicyStatement({
      sid: 'Bucket',
      actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      resources: [bucketArn],
    }),
    new iam.PolicyStatement({
      sid: 'ArchivePrefix',
      actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
      resources: [`${bucketArn}/${props.prefix}*`],
    }),
  ];
  const key = props.bucket.encryptionKey;
  if (key) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'BucketKeyThroughS3',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` } },
      }),
    );
  }
  return statements;
}

/**
 * The CloudWatch Logs data-protection policy document: audit, then mask, the same identifiers
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/mask-sensitive-log-data-start.html). Used for the app log
 * group and the WAF log group (request URIs and query strings can carry tokens).
 */
export function dataProtectionPolicy(
  scope: Construct,
  name: string,
  description = 'Masks credentials and tokens in SoftFactory application logs',
): Record<string, unknown> {
  const managed = CREDENTIAL_DATA_IDENTIFIERS.map((identifier) =>
    Stack.of(scope).formatArn({
      service: 'dataprotection',
      region: '',
      account: 'aws',
      resource: 'data-identifier',
      resourceName: identifier,
    }),
  );
  const identifiers = [...managed, ...Object.keys(CUSTOM_DATA_IDENTIFIERS)];
  return {
    Name: name,
    Description: description,
    Version: '2021-06-01',
    Configuration: {
      CustomDataIdentifier: Object.entries(CUSTOM_DATA_IDENTIFIERS).map(([Name, Regex]) => ({ Name, Regex })),
    },
    Statement: [
      { Sid: 'audit', DataIdentifier: identifiers, Operation: { Audit: { FindingsDestination: {} } } },
      { Sid: 'mask', DataIdentifier: identifiers, Operation: { Deidentify: { MaskConfig: {} } } },
    ],
  };
}
