/**
 * One stage, validated config, region and SDK clients: what preflight and deploy both start from. The region is
 * --region, else the config's, else the SDK's default chain (AWS_REGION, the profile); --region and a configured
 * region that disagree are a usage error (the stacks would deploy to the configured one).
 */
import type { Writable } from 'node:stream';
import type { Stage } from '../../shared/stages';
import { type AwsCliOptions, awsClientConfig } from '../cli/aws';
import { colours, renderTable, UsageError } from '../cli/support';
import type { CheckResult, PreflightClients, PreflightReport } from './checks';
import { loadStageSetup, PROJECT_DIR, type StageSetup } from './stage';

export type MakeClients = (aws: AwsCliOptions) => PreflightClients | Promise<PreflightClients>;

export interface SessionOptions extends AwsCliOptions {
  readonly stage: Stage;
  readonly context: readonly string[];
  readonly imageTag?: string | undefined;
}

export interface Session {
  readonly setup: StageSetup;
  readonly region: string;
  readonly clients: PreflightClients;
  readonly projectDir: string;
}

export async function openSession(
  options: SessionOptions,
  makeClients: MakeClients = defaultClients,
  projectDir: string = PROJECT_DIR,
): Promise<Session> {
  const setup = await loadStageSetup(options.stage, options.context, options.imageTag, projectDir);
  const configured = setup.config.region;
  if (options.region && configured && options.region !== configured) {
    throw new UsageError(
      `--region ${options.region} but the ${options.stage} config deploys to ${configured}: drop --region or change -c region`,
    );
  }
  const region = options.region ?? configured;
  const clients = await makeClients({ profile: options.profile, region });
  // Without --region or a configured one, the SDK's chain decides; its "Region is missing" becomes one line (exit 2).
  const resolved = region ?? (await clients.sts.config.region());
  return { setup, region: resolved, clients, projectDir };
}

export async function defaultClients(aws: AwsCliOptions): Promise<PreflightClients> {
  const [acm, cfn, ec2, ecr, ecs, lambda, secrets, quotas, sns, ssm, sts] = await Promise.all([
    import('@aws-sdk/client-acm'),
    import('@aws-sdk/client-cloudformation'),
    import('@aws-sdk/client-ec2'),
    import('@aws-sdk/client-ecr'),
    import('@aws-sdk/client-ecs'),
    import('@aws-sdk/client-lambda'),
    import('@aws-sdk/client-secrets-manager'),
    import('@aws-sdk/client-service-quotas'),
    import('@aws-sdk/client-sns'),
    import('@aws-sdk/client-ssm'),
    import('@aws-sdk/client-sts'),
  ]);
  const config = awsClientConfig(aws);
  return {
    acm: new acm.ACMClient(config),
    cloudformation: new cfn.CloudFormationClient(config),
    ec2: new ec2.EC2Client(config),
    ecr: new ecr.ECRClient(config),
    ecs: new ecs.ECSClient(config),
    lambda: new lambda.LambdaClient(config),
    secretsManager: new secrets.SecretsManagerClient(config),
    serviceQuotas: new quotas.ServiceQuotasClient(config),
    sns: new sns.SNSClient(config),
    ssm: new ssm.SSMClient(config),
    sts: new sts.STSClient(config),
  };
}

/** The preflight table: one row per check, the fix beside anything that did not pass. */
export function renderPreflight(report: PreflightReport, stream: Writable & { isTTY?: boolean }): string {
  const c = colours(stream);
  const shown = (r: CheckResult) =>
    r.status === 'pass' ? c.green('pass') : r.status === 'fail' ? c.red('fail') : c.yellow('skipped');
  const table = renderTable(
    ['check', 'result', 'detail', 'fix'],
    report.checks.map((r) => [r.id, shown(r), r.detail, r.status === 'pass' ? '' : (r.fix ?? '')]),
  );
  const failed = report.checks.filter((r) => r.status === 'fail').map((r) => r.id);
  const verdict = failed.length
    ? `preflight failed: ${failed.join(', ')}`
    : `preflight passed${report.firstDeploy ? ' (first deploy: checks of what the stacks create are skipped)' : ''}`;
  return `${table}\n${verdict}`;
}
