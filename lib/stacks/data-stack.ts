import { aws_backup as backup, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { dbInstanceIdentifier } from '../../shared/names';
import type { StageConfig } from '../config/stage-config';
import { AppSecrets } from '../constructs/app-secrets';
import { Backup } from '../constructs/backup';
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
 * (termination-protected in prod): the database, its backup plan and the log-archive bucket.
 */
export class DataStack extends Stack {
  public readonly database: Database;
  public readonly logArchive: LogArchiveBucket;
  /** SoftFactory's own secrets (signing and encryption keys, third-party credentials): stateful, so here. */
  public readonly appSecrets: AppSecrets;
  /** The stage's AWS Backup plan (daily; the database here, the rollback lock table from the service stack). */
  public readonly backup: Backup;
  /** The SQLite → PostgreSQL migration runner, when `migrationSource` is configured. */
  public readonly migration?: MigrationRunner;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, { ...props, terminationProtection: props.config.stage === 'prod' });
    const { config } = props;
    this.database = new Database(this, 'Database', {
      stage: config.stage,
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
      credentialRotationDays: config.databaseCredentialRotationDays,
      monitoringIntervalSeconds: config.databaseMonitoringIntervalSeconds,
    });
    this.backup = new Backup(this, 'Backup', {
      stage: config.stage,
      retentionDays: config.backupRetentionDays,
      ...(config.backupCopyVaultArn ? { copyVaultArn: config.backupCopyVaultArn } : {}),
    });
    this.backup.protect(
      this.database,
      'Backup',
      [backup.BackupResource.fromRdsDatabaseInstance(this.database.instance)],
      {
        keys: [this.database.key],
      },
    );

    this.logArchive = new LogArchiveBucket(this, 'LogArchive', {
      bucketName: logArchiveBucketName(config.stage),
      expiryDays: config.logArchiveExpiryDays,
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
    new CfnOutput(this, 'BackupVaultName', { value: this.backup.vault.backupVaultName });
    new CfnOutput(this, 'LogArchiveBucketName', { value: this.logArchive.bucket.bucketName });
  }
}
