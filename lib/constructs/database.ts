import {
  type CfnResource,
  Duration,
  aws_ec2 as ec2,
  Fn,
  aws_kms as kms,
  aws_logs as logs,
  RemovalPolicy,
  aws_rds as rds,
  aws_secretsmanager as secretsmanager,
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
  /** Days between Secrets Manager rotations of the master password (Secrets Manager allows 1–1000). */
  readonly credentialRotationDays: number;
  /** Enhanced monitoring interval, in seconds (0, 1, 5, 10, 15, 30 or 60); 0 turns it off. */
  readonly monitoringIntervalSeconds: number;
}

/** Characters excluded from the generated password: every one that would need escaping in a URL. */
export const URL_UNSAFE_PASSWORD_CHARACTERS = ' !"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** PostgreSQL log types exported to CloudWatch Logs. */
const LOG_EXPORTS = ['postgresql', 'upgrade'];

/**
 * The instance's daily automated-backup window and weekly maintenance window (UTC), pinned rather than left to RDS's
 * random pick from the region's 8-hour block, so the AWS Backup plan (lib/constructs/backup.ts) can open clear of both.
 */
export const DATABASE_BACKUP_WINDOW = '00:00-00:30';
export const DATABASE_MAINTENANCE_WINDOW = 'Sun:22:00-Sun:22:30';

/** The enhanced-monitoring intervals RDS accepts (`MonitoringInterval`, seconds; 0 = off). */
const MONITORING_INTERVALS = [0, 1, 5, 10, 15, 30, 60];

/**
 * RDS PostgreSQL 17 in isolated subnets: KMS-encrypted storage, TLS enforced (`rds.force_ssl=1`), slow statements
 * logged and exported to CloudWatch Logs, Performance Insights, automated backups in a pinned window, enhanced
 * monitoring (by config), IAM database authentication, and the master password rotated by Secrets Manager. Clients
 * reach it only through the security groups passed to `admit` (the service, the migration runner) and the rotation
 * function's own.
 */
export class Database extends Construct {
  public readonly instance: rds.DatabaseInstance;
  public readonly secret: secretsmanager.ISecret;
  public readonly key: kms.Key;
  /** The database's security group: it admits nobody until `admit` names a client. */
  public readonly securityGroup: ec2.SecurityGroup;
  public readonly databaseName = 'softfactory';

  /** The Secrets Manager rotation of the master password (single user: the app's own user). */
  public readonly rotation: secretsmanager.SecretRotation;
  /**
   * The Secrets Manager interface endpoint in the isolated subnets, for the rotation function (those subnets have no
   * route out). Private DNS off: only the rotation function, given the endpoint's own name, uses it.
   */
  public readonly secretsManagerEndpoint: ec2.InterfaceVpcEndpoint;

  constructor(scope: Construct, id: string, props: DatabaseProps) {
    super(scope, id);
    if (!MONITORING_INTERVALS.includes(props.monitoringIntervalSeconds)) {
      throw new Error(
        `Database: monitoringIntervalSeconds must be one of ${MONITORING_INTERVALS.join(', ')} (got ${props.monitoringIntervalSeconds})`,
      );
    }
    if (
      !Number.isInteger(props.credentialRotationDays) ||
      props.credentialRotationDays < 1 ||
      props.credentialRotationDays > 1000
    ) {
      throw new Error(`Database: credentialRotationDays must be 1–1000 days (got ${props.credentialRotationDays})`);
    }
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
      // Lets an operator sign in with an IAM token (rds-db:connect) without the password; the app keeps its password.
      iamAuthentication: true,
      ...(props.monitoringIntervalSeconds > 0
        ? { monitoringInterval: Duration.seconds(props.monitoringIntervalSeconds) }
        : {}),
      preferredBackupWindow: DATABASE_BACKUP_WINDOW,
      preferredMaintenanceWindow: DATABASE_MAINTENANCE_WINDOW,
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      publiclyAccessible: false,
    });
    for (const group of logGroups) this.instance.node.addDependency(group);
    this.secret = this.instance.secret!;

    this.secretsManagerEndpoint = new ec2.InterfaceVpcEndpoint(this, 'SecretsManagerEndpoint', {
      vpc: props.vpc,
      service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      // Private DNS would send every VPC client's Secrets Manager calls here (and need their egress to allow it).
      privateDnsEnabled: false,
      // Admits only the rotation function (SecretRotation adds the rule), not the whole VPC CIDR.
      open: false,
    });
    const rotationSecurityGroup = new ec2.SecurityGroup(this, 'RotationSecurityGroup', {
      vpc: props.vpc,
      description: 'Secrets Manager rotation function: only to the database and the Secrets Manager endpoint',
      allowAllOutbound: false,
    });
    // Single-user rotation (AWS's PostgreSQL single-user function from the Serverless Application Repository) in the
    // isolated subnets: it sets a new password on the instance, tests it and makes it AWSCURRENT.
    // https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotating-secrets_strategies.html#rotating-secrets-one-user-one-password
    this.rotation = new secretsmanager.SecretRotation(this, 'Rotation', {
      application: secretsmanager.SecretRotationApplication.POSTGRES_ROTATION_SINGLE_USER,
      secret: this.secret,
      // The instance's own connections carry its port as a GetAtt token, which the ingress rule would inherit (and
      // cdk-nag could not read); the port is fixed (5432, as in `admit`), so the rule names it.
      target: {
        connections: new ec2.Connections({ securityGroups: [securityGroup], defaultPort: ec2.Port.tcp(5432) }),
      },
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      automaticallyAfter: Duration.days(props.credentialRotationDays),
      // The rotated password goes into DATABASE_URL as well: the same URL-safe alphabet as the generated one.
      excludeCharacters: URL_UNSAFE_PASSWORD_CHARACTERS,
      endpoint: this.secretsManagerEndpoint,
      securityGroup: rotationSecurityGroup,
      // No rotation at deploy time: running tasks hold the password they started with, so a rotation is scheduled
      // (and followed by a service redeploy, README "Rotating the database password"), never a side effect of a deploy.
      rotateImmediatelyOnUpdate: false,
    });
    // SecretRotation names the endpoint as `https://<endpoint id>.secretsmanager.<region>.<suffix>`, which is not one of
    // the names an interface endpoint answers on, and admits nothing to it: give the function the endpoint's own
    // regional DNS name (DnsEntries[0] is `<hosted zone>:<name>`) and let it through the endpoint's security group.
    // https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html#interface-endpoint-dns-hostnames
    const endpointName = Fn.select(1, Fn.split(':', Fn.select(0, this.secretsManagerEndpoint.vpcEndpointDnsEntries)));
    (this.rotation.node.findChild('Resource') as CfnResource).addPropertyOverride(
      'Parameters.endpoint',
      Fn.join('', ['https://', endpointName]),
    );
    this.secretsManagerEndpoint.connections.allowDefaultPortFrom(
      rotationSecurityGroup,
      'HTTPS from the Secrets Manager rotation function',
    );
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
    if (!props.multiAz) {
      const reason = `Single-AZ by the ${props.stage} stage's configuration (multiAz=false); prod defaults to Multi-AZ.`;
      instance.acknowledge({ id: 'AwsSolutions-RDS3', reason });
      instance.acknowledge({ id: 'NIST.800.53.R5-RDSMultiAZSupport', reason });
    }
    if (!props.deletionProtection) {
      const reason = `Deletion protection off by the ${props.stage} stage's configuration, so the stage can be torn down (cdk destroy); prod requires it (config validation).`;
      instance.acknowledge({ id: 'AwsSolutions-RDS10', reason });
      instance.acknowledge({ id: 'NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled', reason });
    }
    // instance.secret is the attachment; the finding is on the generated secret itself.
    Validations.of(this.instance.node.findChild('Secret')).acknowledge({
      id: 'NIST.800.53.R5-SecretsManagerUsingKMSKey',
      reason:
        'The master secret uses the aws/secretsmanager key: a key of this stack would need the service-stack readers (task execution role) in its key policy, and the data stack would then depend on the service stack (a cycle).',
    });
    if (props.monitoringIntervalSeconds > 0) {
      Validations.of(this.instance.node.findChild('MonitoringRole')).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole]',
        reason:
          'The AWS-managed policy RDS documents for the enhanced-monitoring role (it only writes the RDSOSMetrics log group).',
      });
    } else {
      instance.acknowledge({
        id: 'NIST.800.53.R5-RDSEnhancedMonitoringEnabled',
        reason: `Enhanced monitoring off by the ${props.stage} stage's configuration (databaseMonitoringIntervalSeconds=0); staging and prod default to 60 s.`,
      });
    }
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
