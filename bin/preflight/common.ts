/**
 * What every preflight check shares: the result and input types, the pass/fail/skipped constructors, the "could not run"
 * result of a check AWS refused, and the one CloudFormation read several checks make (DescribeStacks, missing = undefined).
 */
import type { ACMClient } from '@aws-sdk/client-acm';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ECRClient } from '@aws-sdk/client-ecr';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { STSClient } from '@aws-sdk/client-sts';
import type { StageConfig } from '../../lib/config/stage-config';
import type { Stage } from '../../shared/stages';
import { explainAwsError } from '../cli/aws';

export type CheckStatus = 'pass' | 'fail' | 'skipped';

export interface CheckResult {
  readonly id: string;
  readonly status: CheckStatus;
  /** What the check saw (or why it was skipped), one line. */
  readonly detail: string;
  /** The one-line fix, for a check that did not pass. */
  readonly fix?: string;
  /** The check could not run (AWS refused or did not answer): nothing is known, exit 2 rather than 1. */
  readonly couldNotRun?: boolean;
}

export interface PreflightClients {
  readonly sts: STSClient;
  readonly cloudformation: CloudFormationClient;
  readonly ssm: SSMClient;
  readonly acm: ACMClient;
  readonly ecr: ECRClient;
  readonly secretsManager: SecretsManagerClient;
  readonly sns: SNSClient;
  readonly lambda: LambdaClient;
  readonly serviceQuotas: ServiceQuotasClient;
  readonly ec2: EC2Client;
  readonly ecs: ECSClient;
}

export interface PreflightInput {
  readonly stage: Stage;
  readonly config: StageConfig;
  /** The region the stage deploys to (config, --region, or the SDK's default chain). */
  readonly region: string;
  readonly bootstrapQualifier: string;
  /** Where `imageDirectory` is resolved (the CDK app's working directory). */
  readonly projectDir: string;
  /** The cloud assembly (`cdk.out`) to read the required bootstrap version from, when it holds this stage. */
  readonly assemblyDir?: string;
}

export interface PreflightReport {
  readonly stage: Stage;
  readonly account: string;
  readonly region: string;
  /** The Service stack does not exist yet: checks of what it creates are skipped. */
  readonly firstDeploy: boolean;
  readonly checks: readonly CheckResult[];
  readonly exitCode: number;
}

export const pass = (id: string, detail: string): CheckResult => ({ id, status: 'pass', detail });
export const fail = (id: string, detail: string, fix: string): CheckResult => ({ id, status: 'fail', detail, fix });
export const skipped = (id: string, detail: string, fix?: string): CheckResult => ({
  id,
  status: 'skipped',
  detail,
  ...(fix ? { fix } : {}),
});

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A check that threw: AWS refused or did not answer. */
export function couldNotRun(id: string, error: unknown, permission: string): CheckResult {
  const why = explainAwsError(error) ?? `${errorName(error) || 'Error'}: ${errorText(error).replace(/\s+/g, ' ')}`;
  return {
    id,
    status: 'fail',
    detail: `could not run: ${why}`,
    fix: `allow ${permission} for these credentials, or retry if AWS throttled or the network failed`,
    couldNotRun: true,
  };
}

/**
 * DescribeStacks answers a missing stack with a ValidationError "Stack with id X does not exist"
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html).
 */
export function isMissingStack(error: unknown): boolean {
  return errorName(error) === 'ValidationError' && /does not exist/.test(errorText(error));
}

export async function describeStack(cfn: CloudFormationClient, stackName: string) {
  const { DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    return out.Stacks?.[0];
  } catch (error) {
    if (isMissingStack(error)) return undefined;
    throw error;
  }
}
