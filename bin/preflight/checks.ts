/**
 * The preflight core: every precondition of a `cdk deploy` of one stage that AWS can tell us about before
 * CloudFormation finds out halfway through. Each check answers pass, fail or skipped, with what it saw and, unless it
 * passed, the one-line fix. A check whose resource the first deploy creates is skipped, saying so.
 *
 * Exit codes: 2 when the credentials are not for the configured account, or when a check could not run (access
 * denied, throttled, network) and none failed outright; 1 when any check failed; 0 otherwise.
 */
import { EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE } from '../cli/support';
import { checkBootstrap } from './bootstrap';
import { checkCertificate } from './certificate';
import {
  type CheckResult,
  couldNotRun,
  describeStack,
  fail,
  type PreflightClients,
  type PreflightInput,
  type PreflightReport,
  pass,
  skipped,
} from './common';
import { checkImage } from './image';
import { checkElasticIps, checkLambdaConcurrency } from './quotas';
import { checkAlarmSubscriptions, checkDeploymentInFlight, checkSmokeToken } from './service-state';
import { stackNames } from './stage';

export { type BootstrapRequirement, DEFAULT_REQUIRED_BOOTSTRAP_VERSION, requiredBootstrapVersion } from './bootstrap';
export { nameCovers } from './certificate';
export type { CheckResult, CheckStatus, PreflightClients, PreflightInput, PreflightReport } from './common';
export { ELASTIC_IP_QUOTA_CODE, LAMBDA_MIN_UNRESERVED } from './quotas';
export { DEPLOYMENT_IN_FLIGHT } from './service-state';

/** The check ids, in the order they are shown. */
export const CHECK_IDS = [
  'credentials',
  'bootstrap',
  'certificate',
  'image',
  'smoke-token',
  'alarm-subscriptions',
  'lambda-concurrency',
  'elastic-ips',
  'deployment-in-flight',
] as const;

/** The exit code for a set of results (module comment). */
export function preflightExitCode(checks: readonly CheckResult[]): number {
  if (checks.some((c) => c.id === 'credentials' && c.status === 'fail')) return EXIT_USAGE;
  if (checks.some((c) => c.status === 'fail' && !c.couldNotRun)) return EXIT_CHECK_FAILED;
  if (checks.some((c) => c.couldNotRun)) return EXIT_USAGE;
  return EXIT_OK;
}

/**
 * Runs every check. Credentials come first: without them nothing can run (the error propagates, exit 2 through
 * runAction), and with another account's credentials every other check would look at the wrong account.
 */
export async function runPreflight(c: PreflightClients, input: PreflightInput): Promise<PreflightReport> {
  const { GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  // https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
  const identity = await c.sts.send(new GetCallerIdentityCommand({}));
  const account = identity.Account ?? '';
  const partition = identity.Arn?.split(':')[1] ?? 'aws';
  const expected = input.config.account;
  if (expected && expected !== account) {
    const checks: CheckResult[] = [
      fail(
        'credentials',
        `${identity.Arn} is account ${account}, the ${input.stage} config deploys to ${expected}`,
        `use credentials for ${expected} (--profile <name>), or fix -c account`,
      ),
      ...CHECK_IDS.slice(1).map((id) => skipped(id, `not checked: the credentials are for another account`)),
    ];
    return {
      stage: input.stage,
      account,
      region: input.region,
      firstDeploy: false,
      checks,
      exitCode: preflightExitCode(checks),
    };
  }
  const credentials = pass(
    'credentials',
    `${identity.Arn} in ${account}/${input.region}${expected ? '' : ' (the config names no account: deploying there)'}`,
  );
  const serviceStack = await describeStack(c.cloudformation, stackNames(input.stage).service);
  const firstDeploy = serviceStack === undefined || serviceStack.StackStatus === 'DELETE_COMPLETE';
  const guard = (id: string, permission: string, run: () => Promise<CheckResult>) =>
    run().catch((error: unknown) => couldNotRun(id, error, permission));
  const checks = await Promise.all([
    guard('bootstrap', 'cloudformation:DescribeStacks and ssm:GetParameter', () => checkBootstrap(c, input, account)),
    guard('certificate', 'acm:DescribeCertificate', () => checkCertificate(c, input)),
    guard('image', 'ecr:DescribeImages', () => checkImage(c, input, account)),
    guard('smoke-token', 'secretsmanager:GetSecretValue (and kms:Decrypt)', () =>
      checkSmokeToken(c, input, firstDeploy),
    ),
    guard('alarm-subscriptions', 'sns:ListSubscriptionsByTopic', () =>
      checkAlarmSubscriptions(c, input, account, partition, firstDeploy),
    ),
    guard('lambda-concurrency', 'lambda:GetAccountSettings and lambda:GetFunctionConcurrency', () =>
      checkLambdaConcurrency(c, input),
    ),
    guard('elastic-ips', 'servicequotas:GetServiceQuota and ec2:DescribeAddresses', () => checkElasticIps(c, input)),
    guard('deployment-in-flight', 'ecs:ListServiceDeployments', () => checkDeploymentInFlight(c, input, firstDeploy)),
  ]);
  const all = [credentials, ...checks];
  return {
    stage: input.stage,
    account,
    region: input.region,
    firstDeploy,
    checks: all,
    exitCode: preflightExitCode(all),
  };
}
