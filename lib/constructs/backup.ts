import {
  aws_backup as backup,
  Duration,
  aws_events as events,
  Fn,
  aws_iam as iam,
  aws_kms as kms,
  RemovalPolicy,
  Stack,
  Token,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface BackupProps {
  /** The stage: the vault's name starts with `softfactory-<stage>-backups`. */
  readonly stage: string;
  /** Days each daily recovery point (and its copy) is kept. */
  readonly retentionDays: number;
  /**
   * A vault in another region the daily recovery points are copied to, kept as long as the originals.
   * @default no copy
   */
  readonly copyVaultArn?: string;
}

/**
 * The daily rule opens at 03:00 UTC and starts a job within an hour: clear of the database's pinned windows
 * (DATABASE_BACKUP_WINDOW 00:00–00:30, maintenance Sunday 22:00–22:30), since AWS Backup does not start a database
 * backup within an hour before or during a maintenance window, and an RDS snapshot waits for a running one
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html).
 */
export const BACKUP_START_HOUR_UTC = 3;
const START_WINDOW = Duration.hours(1);
/** A job not finished within this is cancelled; a 500 GiB snapshot of a gp3 volume takes far less after the first. */
const COMPLETION_WINDOW = Duration.hours(4);

/**
 * The stage's AWS Backup plan: one daily rule into a vault encrypted with its own customer-managed key, optionally
 * copied to a vault in another region. `protect` puts resources into the plan — the database from this stack, the
 * rollback lock table from the service stack (with the selection in that stack, as cdk-nag's
 * RDSInBackupPlan/DynamoDBInBackupPlan rules look for a selection naming the resource in the resource's own stack).
 */
export class Backup extends Construct {
  public readonly plan: backup.BackupPlan;
  public readonly vault: backup.BackupVault;
  /** Encrypts the vault's recovery points (those AWS Backup encrypts itself; RDS snapshots keep the database's key). */
  public readonly key: kms.Key;
  /** The role AWS Backup assumes for every selection of this plan. */
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: BackupProps) {
    super(scope, id);
    if (
      !Token.isUnresolved(props.retentionDays) &&
      (!Number.isInteger(props.retentionDays) || props.retentionDays < 1)
    ) {
      throw new Error(`Backup: retentionDays must be a whole number of days, at least 1 (got ${props.retentionDays})`);
    }
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the AWS Backup vault of softfactory-${props.stage}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });

    // CloudFormation requires a vault name, and a vault holding recovery points cannot be deleted, so the vault is
    // retained. The name ends with the first group of this stack's id (a UUID): a stack re-created after `cdk destroy`
    // gets a new vault instead of colliding with the retained one, and RetainExceptOnCreate removes the (still empty)
    // vault of a rolled-back first create, so a retry does not collide either.
    const stackUuid = Fn.select(2, Fn.split('/', Stack.of(this).stackId));
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: Fn.join('-', [`softfactory-${props.stage}-backups`, Fn.select(0, Fn.split('-', stackUuid))]),
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: `AWS Backup: takes the daily recovery points of softfactory-${props.stage}`,
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSBackupServiceRolePolicyForBackup')],
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
      reason:
        'The AWS-managed policy AWS Backup documents for its service role; AWS maintains it as Backup supports new resource types.',
    });
    this.allowKeyUse(this.key);

    const retention = Duration.days(props.retentionDays);
    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: `softfactory-${props.stage}`,
      backupVault: this.vault,
    });
    this.plan.addRule(
      new backup.BackupPlanRule({
        ruleName: 'daily',
        scheduleExpression: events.Schedule.cron({ hour: String(BACKUP_START_HOUR_UTC), minute: '0' }),
        startWindow: START_WINDOW,
        completionWindow: COMPLETION_WINDOW,
        deleteAfter: retention,
        ...(props.copyVaultArn
          ? {
              copyActions: [
                {
                  destinationBackupVault: backup.BackupVault.fromBackupVaultArn(this, 'CopyVault', props.copyVaultArn),
                  deleteAfter: retention,
                },
              ],
            }
          : {}),
      }),
    );
  }

  /**
   * Puts `resources` into the daily plan with a selection created in `scope` (the resources' stack): a selection in
   * this stack that named a service-stack table would make the two stacks depend on each other.
   */
  public protect(
    scope: Construct,
    id: string,
    resources: backup.BackupResource[],
    options: { readonly keys?: readonly kms.Key[] } = {},
  ): backup.BackupSelection {
    for (const key of options.keys ?? []) this.allowKeyUse(key);
    return new backup.BackupSelection(scope, id, {
      backupPlan: this.plan,
      resources,
      role: this.role,
      // The role already carries the backup policy; the selection would otherwise add it again from the other stack.
      disableDefaultBackupPolicy: true,
    });
  }

  /**
   * Lets the backup role use `key` — the vault's, or the key a protected resource is encrypted with (an RDS snapshot
   * and its cross-region copy are encrypted by RDS with the instance's key). In the key policy, not an IAM policy on
   * the role: the key is this stack's, and a statement there scopes the grant to that one key
   * (https://docs.aws.amazon.com/aws-backup/latest/devguide/encryption.html).
   */
  private allowKeyUse(key: kms.Key): void {
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AwsBackupRoleUsesTheKey',
        principals: [this.role],
        actions: [
          'kms:Decrypt',
          'kms:Encrypt',
          'kms:GenerateDataKey',
          'kms:ReEncryptFrom',
          'kms:ReEncryptTo',
          'kms:DescribeKey',
        ],
        resources: ['*'],
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AwsBackupRoleGrantsToAwsServices',
        principals: [this.role],
        actions: ['kms:CreateGrant'],
        resources: ['*'],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    );
  }
}
