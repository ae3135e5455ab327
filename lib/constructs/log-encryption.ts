import {
  Aspects,
  Aws,
  type IAspect,
  aws_iam as iam,
  aws_kms as kms,
  aws_logs as logs,
  RemovalPolicy,
  Stack,
} from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';

/** The CloudWatch Logs actions AWS documents for a key that encrypts log groups (and nothing else). */
export const LOGS_KEY_ACTIONS = [
  'kms:Encrypt*',
  'kms:Decrypt*',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
  'kms:Describe*',
] as const;

/**
 * Sets `KmsKeyId` on every `AWS::Logs::LogGroup` in its scope that has none. An Aspect, so a log group added later
 * (by any construct, ours or aws-cdk-lib's) cannot be missed; a group that names its own key keeps it.
 */
export class EncryptLogGroups implements IAspect {
  constructor(private readonly key: kms.IKey) {}

  visit(node: IConstruct): void {
    if (node instanceof logs.CfnLogGroup && node.kmsKeyId === undefined) {
      node.kmsKeyId = this.key.keyArn;
    }
  }
}

/**
 * One customer-managed KMS key per stack for that stack's CloudWatch Logs log groups, with yearly rotation, and the
 * Aspect that encrypts every log group of the stack with it (cdk-nag NIST.800.53.R5-CloudWatchLogGroupEncrypted).
 * Retention is untouched.
 *
 * The key policy admits the regional CloudWatch Logs principal for this account's log groups only, through the
 * encryption context CloudWatch Logs sends (`kms:EncryptionContext:aws:logs:arn`), as AWS documents:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html. Readers need no KMS
 * permission: CloudWatch Logs decrypts for them.
 *
 * The key outlives the stack (RETAIN_ON_UPDATE_OR_DELETE): the app and exec log groups are retained, and a retained
 * group whose key is gone can no longer be read. Deleting a stage for good: schedule the key's deletion (README).
 */
export class LogEncryption extends Construct {
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the CloudWatch Logs log groups of ${stack.stackName}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: [...LOGS_KEY_ACTIONS],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
          },
        },
      }),
    );
    Aspects.of(stack).add(new EncryptLogGroups(this.key));
  }
}
