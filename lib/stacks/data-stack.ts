import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { dbInstanceIdentifier } from '../../shared/names';
import type { StageConfig } from '../config/stage-config';
import { AppSecrets } from '../constructs/app-secrets';
import { Database } from '../constructs/database';
import { LogArchiveBucket, logArchiveBucketName } from '../constructs/log-archive-bucket';
import { MigrationRunner } from '../constructs/migration-runner';
import type { Network } from '../constructs/network';

export interface DataStackProps extends StackProps {
  readonly config: StageConfig;
  readonly network: Network;
}

/**
 * SoftFactory-<Stage>-Data: the stateful resources, kept out of the routinely replaced service stack
 * (termination-protected in prod): the database and the log-archive bucket.
 */
export class DataStack extends Stack {
  public readonly database: Database;
  public readonly logArchive: LogArchiveBucket;
  /** SoftFactory's own secrets (signing and encryption keys, third-party credentials): stateful, so here. */
  public readonly appSecrets: AppSecrets;
  /** The SQLite → PostgreSQL migration runner, when `migrationSource` is configured. */
  public readonly migration?: MigrationRunner;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, { ...props, terminationProtection: props.config.stage === 'prod' });
    const { config } = props;
    this.database = new Database(this, 'Database', {
      vpc: props.network.vpc,
      instanceIdentifier: dbInstanceIdentifier(config.stage),
      instanceClass: config.dbInstanceClass,
      allocatedStorageGiB: config.dbAllocatedStorageGiB,
      maxAllocatedStorageGiB: config.dbMaxAllocatedStorageGiB,
      multiAz: config.multiAz,
      backupRetentionDays: config.backupRetentionDays,
      deletionProtection: config.deletionProtection,
      slowQueryMs: config.slowQueryMs,
      logRetentionDays: config.logRetentionDays,
    });
    acknowledgeDatabaseFindings(this.database, config);

    this.logArchive = new LogArchiveBucket(this, 'LogArchive', {
      bucketName: logArchiveBucketName(config.stage),
      expiryDays: config.logArchiveExpiryDays,
    });
    Validations.of(this.logArchive.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'A log archive written by one Firehose role: server access logs would need yet another log bucket; reads are rare and CloudTrail S3 data events can audit them.',
    });

    this.appSecrets = new AppSecrets(this, 'AppSecrets', {
      externalKeys: config.appSecretKeys,
      ...(config.appSecretArn ? { importArn: config.appSecretArn } : {}),
    });
    new CfnOutput(this, 'AppSecretArn', {
      value: this.appSecrets.externalSecret.secretArn,
      description: 'Fill the external app secrets (OAuth, Stripe, Sentry, …) here',
    });

    if (config.migration) {
      this.migration = new MigrationRunner(this, 'Migration', {
        stage: config.stage,
        vpc: props.network.vpc,
        database: this.database,
        source: config.migration.source,
        schemaMode: config.migration.schemaMode,
        onError: config.migration.onError,
        logRetentionDays: config.logRetentionDays,
      });
      new CfnOutput(this, 'MigrationReportBucket', { value: this.migration.reports.bucketName });
    }

    new CfnOutput(this, 'DatabaseEndpoint', { value: this.database.instance.dbInstanceEndpointAddress });
    new CfnOutput(this, 'DatabaseSecretArn', { value: this.database.secret.secretArn });
    new CfnOutput(this, 'LogArchiveBucketName', { value: this.logArchive.bucket.bucketName });
  }
}

function acknowledgeDatabaseFindings(database: Database, config: StageConfig): void {
  const instance = Validations.of(database.instance);
  instance.acknowledge({
    id: 'AwsSolutions-RDS11',
    reason:
      'The default port is kept: only the database-clients security group can reach it, so a non-default port adds no protection.',
  });
  instance.acknowledge({
    id: 'AwsSolutions-RDS6',
    reason:
      'The app authenticates with the Secrets Manager password; IAM database auth would need app changes (token refresh) SoftFactory does not have.',
  });
  if (!config.multiAz) {
    instance.acknowledge({
      id: 'AwsSolutions-RDS3',
      reason: `Single-AZ by the ${config.stage} stage's configuration (multiAz=false); prod defaults to Multi-AZ.`,
    });
  }
  if (!config.deletionProtection) {
    instance.acknowledge({
      id: 'AwsSolutions-RDS10',
      reason: `Deletion protection off by the ${config.stage} stage's configuration; prod requires it (config validation).`,
    });
  }
  // instance.secret is the attachment; the finding is on the generated secret itself.
  Validations.of(database.instance.node.findChild('Secret')).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'Not rotated automatically: the password is composed into DATABASE_URL at task start, so rotation needs a coordinated service redeploy (README runbook).',
  });
}
