import {
  Duration,
  aws_ec2 as ec2,
  aws_kms as kms,
  aws_logs as logs,
  RemovalPolicy,
  aws_rds as rds,
  type aws_secretsmanager as secretsmanager,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { retentionDays } from './log-retention';

export interface DatabaseProps {
  /** The stage, named in the reasons of the findings its configuration explains (single-AZ, no deletion protection). */
  readonly stage: string;
  /** The VPC; the instance goes into its isolated subnets. */
  readonly vpc: ec2.IVpc;
  /** Physical instance identifier; fixed so its log groups can be created (with retention) before it exists. */
  readonly instanceIdentifier: string;
  /** RDS instance class, e.g. `db.t4g.small`. */
  readonly instanceClass: string;
  /** Initial storage, in GiB. */
  readonly allocatedStorageGiB: number;
  /** Storage autoscaling ceiling, in GiB. */
  readonly maxAllocatedStorageGiB: number;
  /** A standby in a second Availability Zone. */
  readonly multiAz: boolean;
  /** Automated backup retention, in days (RDS allows 0–35). */
  readonly backupRetentionDays: number;
  /** RDS deletion protection; also chooses the removal policy (on: snapshot on delete, off: destroy). */
  readonly deletionProtection: boolean;
  /** `log_min_duration_statement` in milliseconds. */
  readonly slowQueryMs: number;
  /** Retention of the exported PostgreSQL log groups, in days (a CloudWatch Logs retention period). */
  readonly logRetentionDays: number;
}

/** Characters excluded from the generated password: every one that would need escaping in a URL. */
export const URL_UNSAFE_PASSWORD_CHARACTERS = ' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** PostgreSQL log types exported to CloudWatch Logs. */
const LOG_EXPORTS = ['postgresql', 'upgrade'];

/**
 * RDS PostgreSQL 17 in isolated subnets: KMS-encrypted storage, TLS enforced (`rds.force_ssl=1`), slow statements
 * logged and exported to CloudWatch Logs, Performance Insights, automated backups. Clients reach it only through
 * the security groups passed to `admit` (the service, the migration runner).
 */
export class Database extends Construct {
  public readonly instance: rds.DatabaseInstance;
  public readonly secret: secretsmanager.ISecret;
  public readonly key: kms.Key;
  /** The database's security group: it admits nobody until `admit` names a client. */
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly databaseName = 'softfactory';

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts ${props.instanceIdentifier}: storage, snapshots, Performance Insights`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'PostgreSQL: admits only the clients named with Database.admit',
      allowAllOutbound: false,
    });
    this.securityGroup = securityGroup;

    const engine = rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17_9 });
    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine,
      description: 'SoftFactory: TLS only, slow-statement logging',
      parameters: {
        'rds.force_ssl': '1',
        log_min_duration_statement: String(props.slowQueryMs),
      },
    });

    // Created here (not through cloudwatchLogsRetention) so retention needs no custom-resource Lambda.
    const logGroups = LOG_EXPORTS.map(
      (type) =>
        new logs.LogGroup(this, `Logs-${type}`, {
          logGroupName: `/aws/rds/instance/${props.instanceIdentifier}/${type}`,
          retention: retentionDays(props.logRetentionDays),
          removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        }),
    );

    this.instance = new rds.DatabaseInstance(this, 'Instance', {
      instanceIdentifier: props.instanceIdentifier,
      engine,
      instanceType: new ec2.InstanceType(props.instanceClass.replace(/^db\./, '')),
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [securityGroup],
      databaseName: this.databaseName,
      // The secret uses the account's aws/secretsmanager key: a customer-managed key here would put the readers'
      // role ARNs (in the service stack) into this stack's key policy and create a cross-stack cycle.
      credentials: rds.Credentials.fromGeneratedSecret('softfactory', {
        excludeCharacters: URL_UNSAFE_PASSWORD_CHARACTERS,
      }),
      parameterGroup,
      storageEncrypted: true,
      storageEncryptionKey: this.key,
      storageType: rds.StorageType.GP3,
      allocatedStorage: props.allocatedStorageGiB,
      maxAllocatedStorage: props.maxAllocatedStorageGiB,
      multiAz: props.multiAz,
      backupRetention: Duration.days(props.backupRetentionDays),
      deletionProtection: props.deletionProtection,
      removalPolicy: props.deletionProtection ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      enablePerformanceInsights: true,
      performanceInsightEncryptionKey: this.key,
      cloudwatchLogsExports: LOG_EXPORTS,
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      publiclyAccessible: false,
    });
    for (const group of logGroups) this.instance.node.addDependency(group);
    this.secret = this.instance.secret!;
    this.acknowledgeFindings(props);
  }

  /** The cdk-nag findings this construct's choices raise, each with why it holds here. */
  private acknowledgeFindings(props: DatabaseProps): void {
    const instance = Validations.of(this.instance);
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
    if (!props.multiAz) {
      instance.acknowledge({
        id: 'AwsSolutions-RDS3',
        reason: `Single-AZ by the ${props.stage} stage's configuration (multiAz=false); prod defaults to Multi-AZ.`,
      });
    }
    if (!props.deletionProtection) {
      instance.acknowledge({
        id: 'AwsSolutions-RDS10',
        reason: `Deletion protection off by the ${props.stage} stage's configuration; prod requires it (config validation).`,
      });
    }
    // instance.secret is the attachment; the finding is on the generated secret itself.
    Validations.of(this.instance.node.findChild('Secret')).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Not rotated automatically: the password is composed into DATABASE_URL at task start, so rotation needs a coordinated service redeploy (README runbook).',
    });
  }

  /**
   * Admits one client security group on the PostgreSQL port. The rule is created in `scope` (the client's stack):
   * a rule in this stateful stack that named a service-stack group would make the two stacks depend on each other.
   */
  public admit(scope: Construct, id: string, client: ec2.ISecurityGroup, description: string): void {
    new ec2.CfnSecurityGroupIngress(scope, id, {
      groupId: this.securityGroup.securityGroupId,
      sourceSecurityGroupId: client.securityGroupId,
      ipProtocol: 'tcp',
      fromPort: 5432,
      toPort: 5432,
      description,
    });
  }
}
