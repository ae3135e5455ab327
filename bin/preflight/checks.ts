/**
 * The preflight core: every precondition of a `cdk deploy` of one stage that AWS can tell us about before
 * CloudFormation finds out halfway through. Each check answers pass, fail or skipped, with what it saw and, unless it
 * passed, the one-line fix. A check whose resource the first deploy creates is skipped, saying so.
 *
 * Exit codes: 2 when the credentials are not for the configured account, or when a check could not run (access
 * denied, throttled, network) and none failed outright; 1 when any check failed; 0 otherwise.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
import { EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE } from '../cli/support';
import { expectedImage, resourceNames, stackNames } from './stage';

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

const pass = (id: string, detail: string): CheckResult => ({ id, status: 'pass', detail });
const fail = (id: string, detail: string, fix: string): CheckResult => ({ id, status: 'fail', detail, fix });
const skipped = (id: string, detail: string, fix?: string): CheckResult => ({
  id,
  status: 'skipped',
  detail,
  ...(fix ? { fix } : {}),
});

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A check that threw: AWS refused or did not answer. */
function couldNotRun(id: string, error: unknown, permission: string): CheckResult {
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
function isMissingStack(error: unknown): boolean {
  return errorName(error) === 'ValidationError' && /does not exist/.test(errorText(error));
}

async function describeStack(cfn: CloudFormationClient, stackName: string) {
  const { DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    return out.Stacks?.[0];
  } catch (error) {
    if (isMissingStack(error)) return undefined;
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// CDK bootstrap

/**
 * aws-cdk-lib's DefaultStackSynthesizer requires bootstrap version 6 to deploy (MIN_BOOTSTRAP_STACK_VERSION): every
 * template it synthesizes carries the CheckBootstrapVersion rule "CDK bootstrap stack version 6 required", and the
 * stack artifacts in cdk.out say `requiresBootstrapStackVersion: 6`. Used when no cloud assembly of this stage exists
 * yet (preflight before the first synth); an assembly, when present, is the authority.
 */
export const DEFAULT_REQUIRED_BOOTSTRAP_VERSION = 6;

export interface BootstrapRequirement {
  readonly version: number;
  readonly ssmParameter: string;
  readonly source: string;
}

interface ManifestArtifact {
  readonly type?: string;
  readonly properties?: { requiresBootstrapStackVersion?: number; bootstrapStackVersionSsmParameter?: string };
}

/**
 * The bootstrap version this stage's synthesized stacks and asset manifests require (cdk.out/manifest.json, the
 * cloud assembly schema's `requiresBootstrapStackVersion`), or the synthesizer's documented minimum when the assembly
 * does not hold this stage.
 */
export function requiredBootstrapVersion(
  stage: Stage,
  qualifier: string,
  assemblyDir: string | undefined,
): BootstrapRequirement {
  const fallback = {
    version: DEFAULT_REQUIRED_BOOTSTRAP_VERSION,
    ssmParameter: `/cdk-bootstrap/${qualifier}/version`,
    source: 'the CDK synthesizer’s minimum',
  };
  if (!assemblyDir) return fallback;
  let artifacts: Record<string, ManifestArtifact>;
  try {
    const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as {
      artifacts?: Record<string, ManifestArtifact>;
    };
    artifacts = manifest.artifacts ?? {};
  } catch {
    return fallback;
  }
  const names = Object.values(stackNames(stage)).flatMap((name) => [name, `${name}.assets`]);
  const found = names.map((name) => artifacts[name]?.properties).filter((p) => p !== undefined);
  const versions = found.map((p) => p.requiresBootstrapStackVersion ?? 0).filter((v) => v > 0);
  if (versions.length === 0) return fallback;
  return {
    version: Math.max(...versions),
    ssmParameter:
      found.find((p) => p.bootstrapStackVersionSsmParameter)?.bootstrapStackVersionSsmParameter ??
      fallback.ssmParameter,
    source: 'the synthesized cdk.out',
  };
}

async function checkBootstrap(c: PreflightClients, input: PreflightInput, account: string): Promise<CheckResult> {
  const id = 'bootstrap';
  const bootstrap = `npx cdk bootstrap aws://${account}/${input.region}`;
  const required = requiredBootstrapVersion(input.stage, input.bootstrapQualifier, input.assemblyDir);
  const stack = await describeStack(c.cloudformation, 'CDKToolkit');
  if (!stack) return fail(id, `no CDKToolkit stack in ${account}/${input.region}`, `run \`${bootstrap}\``);
  const status = stack.StackStatus ?? 'UNKNOWN';
  if (status.endsWith('_IN_PROGRESS')) {
    return fail(id, `CDKToolkit is ${status}`, 'wait for the bootstrap stack update to finish, then retry');
  }
  if (!['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE'].includes(status)) {
    return fail(
      id,
      `CDKToolkit is ${status}`,
      `read its events in the CloudFormation console, then run \`${bootstrap}\``,
    );
  }
  // The deploy reads the version from this SSM parameter (the template's BootstrapVersion parameter and the CLI's
  // check both do); the stack output is the same number for the default toolkit stack.
  const { GetParameterCommand } = await import('@aws-sdk/client-ssm');
  let version: number;
  try {
    const out = await c.ssm.send(new GetParameterCommand({ Name: required.ssmParameter }));
    version = Number(out.Parameter?.Value);
  } catch (error) {
    if (errorName(error) !== 'ParameterNotFound') throw error;
    return fail(
      id,
      `CDKToolkit exists but ${required.ssmParameter} does not (bootstrapped with another qualifier?)`,
      `run \`${bootstrap}\`${input.bootstrapQualifier === 'hnb659fds' ? '' : ` --qualifier ${input.bootstrapQualifier}`}`,
    );
  }
  const output = stack.Outputs?.find((o) => o.OutputKey === 'BootstrapVersion')?.OutputValue;
  if (!Number.isFinite(version)) version = Number(output);
  if (!Number.isFinite(version)) {
    return fail(id, `no readable bootstrap version in ${required.ssmParameter}`, `run \`${bootstrap}\``);
  }
  if (version < required.version) {
    return fail(
      id,
      `bootstrap version ${version}; this app needs at least ${required.version} (${required.source})`,
      `run \`${bootstrap}\` to upgrade it`,
    );
  }
  return pass(id, `CDKToolkit ${status}, version ${version} (needs ≥ ${required.version}, ${required.source})`);
}

// ---------------------------------------------------------------------------------------------------------------
// Certificate

/**
 * Whether a certificate name covers a host. ACM wildcard names cover exactly one label: `*.example.com` covers
 * `app.example.com`, not `example.com` nor `a.b.example.com`
 * (https://docs.aws.amazon.com/acm/latest/userguide/acm-certificate.html, "Wildcard names").
 */
export function nameCovers(certName: string, host: string): boolean {
  const name = certName.toLowerCase().replace(/\.$/, '');
  const target = host.toLowerCase().replace(/\.$/, '');
  if (!name.startsWith('*.')) return name === target;
  const dot = target.indexOf('.');
  return dot > 0 && target.slice(dot + 1) === name.slice(2);
}

/** ACM certificate statuses (DescribeCertificate `Status`) and what to do about each that is not ISSUED. */
const CERTIFICATE_FIX: Readonly<Record<string, string>> = {
  PENDING_VALIDATION: 'complete its validation (the DNS CNAME records ACM lists for it), then retry',
  INACTIVE: 'use an active certificate (an imported one may need re-importing)',
  EXPIRED: 'renew or re-import it, or request a new one and pass its ARN',
  VALIDATION_TIMED_OUT: 'request a new certificate and validate it within 72 hours',
  REVOKED: 'request a new certificate and pass its ARN',
  FAILED: 'request a new certificate (see its FailureReason) and pass its ARN',
};

/** arn:<partition>:acm:<region>:<account>:certificate/<id> → region. */
function arnRegion(arn: string): string {
  return arn.split(':')[3] ?? '';
}

async function checkCertificate(c: PreflightClients, input: PreflightInput): Promise<CheckResult> {
  const id = 'certificate';
  const cert = input.config.certificate;
  if (cert.kind === 'create') {
    return skipped(
      id,
      `the Service stack requests a DNS-validated certificate for ${cert.domainName} in zone ${cert.zoneName}`,
    );
  }
  if (cert.placeholder) {
    return fail(
      id,
      'no certificate configured: the placeholder ARN would fail the HTTPS listener',
      `pass -c certificateArn=arn:aws:acm:${input.region}:… -c domainName=<host>, or -c domainName -c hostedZoneId -c zoneName to create one`,
    );
  }
  const domain = input.config.domainName ?? '';
  const certRegion = arnRegion(cert.arn);
  if (certRegion !== input.region) {
    return fail(
      id,
      `the certificate is in ${certRegion}, the load balancer in ${input.region}: an ALB takes certificates of its own region only`,
      `request or import a certificate for ${domain} in ${input.region} and pass its ARN as -c certificateArn=…`,
    );
  }
  const { DescribeCertificateCommand } = await import('@aws-sdk/client-acm');
  let certificate: NonNullable<import('@aws-sdk/client-acm').DescribeCertificateCommandOutput['Certificate']>;
  try {
    const out = await c.acm.send(new DescribeCertificateCommand({ CertificateArn: cert.arn }));
    if (!out.Certificate) throw new Error('DescribeCertificate returned no certificate');
    certificate = out.Certificate;
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
    return fail(
      id,
      `no certificate ${cert.arn} in this account`,
      'check certificateArn and the AWS account (--profile)',
    );
  }
  const status = certificate.Status ?? 'UNKNOWN';
  if (status !== 'ISSUED') {
    const reason = certificate.FailureReason ? ` (${certificate.FailureReason})` : '';
    return fail(id, `the certificate is ${status}${reason}`, CERTIFICATE_FIX[status] ?? 'use an ISSUED certificate');
  }
  const names = [...new Set([certificate.DomainName, ...(certificate.SubjectAlternativeNames ?? [])])].filter(
    (n): n is string => typeof n === 'string',
  );
  if (!names.some((name) => nameCovers(name, domain))) {
    return fail(
      id,
      `the certificate names ${names.join(', ')}, none of which covers ${domain} (a wildcard covers one label)`,
      `use a certificate for ${domain} (or *.${domain.slice(domain.indexOf('.') + 1)}), or fix domainName`,
    );
  }
  const until = certificate.NotAfter ? `, valid until ${certificate.NotAfter.toISOString().slice(0, 10)}` : '';
  return pass(id, `ISSUED in ${input.region} for ${names.join(', ')}: covers ${domain}${until}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Image

async function checkImage(c: PreflightClients, input: PreflightInput, account: string): Promise<CheckResult> {
  const id = 'image';
  const image = input.config.image;
  if (image.kind === 'registry') {
    return skipped(id, `${image.name} is outside ECR: ECS pulls it during the deploy; not checked here`);
  }
  if (image.kind === 'directory') {
    const dockerfile = join(input.projectDir, image.path, 'Dockerfile');
    return existsSync(dockerfile)
      ? pass(id, `${join(image.path, 'Dockerfile')} found: cdk deploy builds and pushes it (Docker required)`)
      : fail(id, `no Dockerfile in ${image.path}`, 'set -c imageDirectory=<folder with SoftFactory’s Dockerfile>');
  }
  const uri = expectedImage(input.config, account, input.region) ?? image.tag;
  // DescribeImages with imageIds answers one detail per found image and ImageNotFoundException otherwise
  // (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html).
  const { DescribeImagesCommand } = await import('@aws-sdk/client-ecr');
  try {
    const out = await c.ecr.send(
      new DescribeImagesCommand({ repositoryName: image.repository, imageIds: [{ imageTag: image.tag }] }),
    );
    const detail = out.imageDetails?.[0];
    if (!detail)
      return fail(id, `${uri} is not in ECR`, `push it (docker push ${uri}), or pass --image-tag <pushed tag>`);
    const pushed = detail.imagePushedAt ? `, pushed ${detail.imagePushedAt.toISOString().slice(0, 10)}` : '';
    return pass(id, `${uri} (${detail.imageDigest?.slice(0, 19) ?? 'no digest'}…${pushed})`);
  } catch (error) {
    if (errorName(error) === 'ImageNotFoundException') {
      return fail(
        id,
        `tag ${image.tag} is not in repository ${image.repository}`,
        `push it (docker push ${uri}), or pass --image-tag <pushed tag>`,
      );
    }
    if (errorName(error) === 'RepositoryNotFoundException') {
      return fail(
        id,
        `no ECR repository ${image.repository} in ${account}/${input.region}`,
        `aws ecr create-repository --repository-name ${image.repository}, then push ${uri}`,
      );
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Smoke token

async function checkSmokeToken(c: PreflightClients, input: PreflightInput, firstDeploy: boolean): Promise<CheckResult> {
  const id = 'smoke-token';
  const configured = input.config.smokeTokenSecretArn;
  const secretId = configured ?? resourceNames(input.stage).smokeTokenSecret;
  const fill = `aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string '<smoke user token>'`;
  if (!configured && firstDeploy) {
    return skipped(
      id,
      `first deploy: the Service stack creates ${secretId} with a placeholder (authenticated smoke checks skip until it is filled)`,
      `after the deploy: ${fill}`,
    );
  }
  const [{ GetSecretValueCommand }, { tokenFromSecret }] = await Promise.all([
    import('@aws-sdk/client-secrets-manager'),
    import('../../lambda/smoke/handler'),
  ]);
  let secretString: string | undefined;
  try {
    // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
    const out = await c.secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (out.SecretString === undefined && out.SecretBinary !== undefined) {
      return fail(id, `${secretId} holds a binary value, not the token text`, fill);
    }
    secretString = out.SecretString;
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
    return fail(
      id,
      `no secret ${secretId}`,
      configured
        ? 'create it (aws secretsmanager create-secret) or fix smokeTokenSecretArn'
        : 'redeploy the Service stack, which creates it',
    );
  }
  const lookup = tokenFromSecret(secretString);
  if (lookup.problem !== undefined) return fail(id, `${secretId}: ${lookup.problem}`, fill);
  return pass(id, `${secretId} holds a usable token`);
}

// ---------------------------------------------------------------------------------------------------------------
// Alarm e-mail subscriptions

async function checkAlarmSubscriptions(
  c: PreflightClients,
  input: PreflightInput,
  account: string,
  partition: string,
  firstDeploy: boolean,
): Promise<CheckResult> {
  const id = 'alarm-subscriptions';
  const emails = input.config.alarmEmails;
  if (emails.length === 0) {
    return skipped(id, 'alarmEmails is empty: alarms reach nobody', 'set -c alarmEmails=oncall@example.com');
  }
  if (firstDeploy) {
    return skipped(
      id,
      `first deploy: the Service stack subscribes ${emails.join(', ')}`,
      'after the deploy, each address confirms the "AWS Notification - Subscription Confirmation" mail',
    );
  }
  const topicArn = `arn:${partition}:sns:${input.region}:${account}:${resourceNames(input.stage).alarmTopic}`;
  const { ListSubscriptionsByTopicCommand } = await import('@aws-sdk/client-sns');
  const subscriptions: { Endpoint?: string; Protocol?: string; SubscriptionArn?: string }[] = [];
  let nextToken: string | undefined;
  try {
    // Up to 100 per call, NextToken for more
    // (https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html).
    do {
      const page = await c.sns.send(
        new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, ...(nextToken ? { NextToken: nextToken } : {}) }),
      );
      subscriptions.push(...(page.Subscriptions ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
  } catch (error) {
    if (errorName(error) !== 'NotFoundException' && errorName(error) !== 'NotFound') throw error;
    return fail(
      id,
      `topic ${topicArn} not found although the Service stack exists`,
      'check the region and account (--profile/--region)',
    );
  }
  const pending: string[] = [];
  const absent: string[] = [];
  for (const email of emails) {
    const mine = subscriptions.filter(
      (s) =>
        (s.Protocol === 'email' || s.Protocol === 'email-json') && s.Endpoint?.toLowerCase() === email.toLowerCase(),
    );
    // A confirmed subscription has an ARN; an unconfirmed one shows "PendingConfirmation" instead
    // (https://docs.aws.amazon.com/sns/latest/api/API_Subscription.html).
    if (mine.some((s) => s.SubscriptionArn?.startsWith('arn:'))) continue;
    if (mine.length === 0) absent.push(email);
    else pending.push(email);
  }
  const later = absent.length ? `; ${absent.join(', ')} will be subscribed by this deploy (confirm afterwards)` : '';
  if (pending.length > 0) {
    return fail(
      id,
      `not confirmed (PendingConfirmation): ${pending.join(', ')}${later}`,
      `open the subscription confirmation mail sent to ${pending[0]} (to resend: aws sns subscribe --topic-arn ${topicArn} --protocol email --notification-endpoint ${pending[0]})`,
    );
  }
  return pass(id, `${emails.length - absent.length} of ${emails.length} confirmed${later}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Lambda concurrency

/**
 * Lambda keeps at least 100 unreserved concurrent executions for functions without a reservation: a reservation that
 * would leave fewer is refused, and the Service stack's update fails
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html: "You can reserve up to the Unreserved
 * account concurrency value minus 100").
 */
export const LAMBDA_MIN_UNRESERVED = 100;

async function checkLambdaConcurrency(c: PreflightClients, input: PreflightInput): Promise<CheckResult> {
  const id = 'lambda-concurrency';
  const { GetAccountSettingsCommand, GetFunctionConcurrencyCommand } = await import('@aws-sdk/client-lambda');
  // https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html (AccountLimit)
  const settings = await c.lambda.send(new GetAccountSettingsCommand({}));
  const unreserved = settings.AccountLimit?.UnreservedConcurrentExecutions ?? 0;
  const total = settings.AccountLimit?.ConcurrentExecutions;
  const wanted = input.config.rollbackReservedConcurrency ?? 0;
  if (wanted === 0) {
    return pass(id, `no reservation configured; ${unreserved} unreserved${total ? ` of ${total}` : ''}`);
  }
  const fn = resourceNames(input.stage).rollbackFunction;
  let existing = 0;
  try {
    const out = await c.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: fn }));
    existing = out.ReservedConcurrentExecutions ?? 0;
  } catch (error) {
    if (errorName(error) !== 'ResourceNotFoundException') throw error;
  }
  const after = unreserved - Math.max(0, wanted - existing);
  const sum = `${unreserved} unreserved − ${Math.max(0, wanted - existing)} more for ${fn} = ${after}`;
  if (after < LAMBDA_MIN_UNRESERVED) {
    return fail(
      id,
      `${sum}, below Lambda’s minimum of ${LAMBDA_MIN_UNRESERVED}`,
      'request a higher Lambda "Concurrent executions" quota (Service Quotas L-B99A9384), or lower/unset rollbackReservedConcurrency',
    );
  }
  return pass(id, `${sum} (≥ ${LAMBDA_MIN_UNRESERVED})`);
}

// ---------------------------------------------------------------------------------------------------------------
// Elastic IPs

/** Service Quotas code of "EC2-VPC Elastic IPs" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html#using-instance-addressing-limit). */
export const ELASTIC_IP_QUOTA_CODE = 'L-0263D0A3';

async function checkElasticIps(c: PreflightClients, input: PreflightInput): Promise<CheckResult> {
  const id = 'elastic-ips';
  const [{ GetServiceQuotaCommand, GetAWSDefaultServiceQuotaCommand }, { DescribeAddressesCommand }] =
    await Promise.all([import('@aws-sdk/client-service-quotas'), import('@aws-sdk/client-ec2')]);
  const request = { ServiceCode: 'ec2', QuotaCode: ELASTIC_IP_QUOTA_CODE };
  let quota: number | undefined;
  try {
    // https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html
    quota = (await c.serviceQuotas.send(new GetServiceQuotaCommand(request))).Quota?.Value;
  } catch (error) {
    // An account that never changed the quota may have no applied value: the AWS default applies.
    if (errorName(error) !== 'NoSuchResourceException') throw error;
  }
  quota ??= (await c.serviceQuotas.send(new GetAWSDefaultServiceQuotaCommand(request))).Quota?.Value ?? 5;
  // DescribeAddresses is not paginated: one answer lists every address of the region
  // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAddresses.html).
  const out = await c.ec2.send(new DescribeAddressesCommand({ Filters: [{ Name: 'domain', Values: ['vpc'] }] }));
  const addresses = out.Addresses ?? [];
  // The Network stack's NAT addresses carry the stack tags lib/app.ts applies (project, stage).
  const tag = (a: (typeof addresses)[number], key: string) => a.Tags?.find((t) => t.Key === key)?.Value;
  const ours = addresses.filter((a) => tag(a, 'project') === 'softfactory' && tag(a, 'stage') === input.stage).length;
  const needed = Math.max(0, input.config.natGateways - ours);
  const sum = `${addresses.length} in use of ${quota}; ${needed} more for ${input.config.natGateways} NAT gateway(s) (${ours} already this stage’s)`;
  if (addresses.length + needed > quota) {
    return fail(
      id,
      sum,
      `release unused Elastic IPs or request more (Service Quotas: ec2 ${ELASTIC_IP_QUOTA_CODE}), or lower natGateways`,
    );
  }
  return pass(id, sum);
}

// ---------------------------------------------------------------------------------------------------------------
// Service deployment in flight

/**
 * The pending and ongoing service deployment states
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-deployment.html): a new deployment while one
 * of these runs waits behind it or interrupts it.
 */
export const DEPLOYMENT_IN_FLIGHT = [
  'PENDING',
  'IN_PROGRESS',
  'STOP_REQUESTED',
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
] as const;

async function checkDeploymentInFlight(
  c: PreflightClients,
  input: PreflightInput,
  firstDeploy: boolean,
): Promise<CheckResult> {
  const id = 'deployment-in-flight';
  if (firstDeploy) return skipped(id, 'first deploy: the service does not exist yet');
  const { cluster, service } = resourceNames(input.stage);
  const { ListServiceDeploymentsCommand } = await import('@aws-sdk/client-ecs');
  const inFlight: { arn: string; status: string }[] = [];
  let nextToken: string | undefined;
  try {
    // Pages with nextToken, no documented order
    // (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html).
    do {
      const page = await c.ecs.send(
        new ListServiceDeploymentsCommand({
          cluster,
          service,
          status: [...DEPLOYMENT_IN_FLIGHT],
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      for (const d of page.serviceDeployments ?? []) {
        if ((DEPLOYMENT_IN_FLIGHT as readonly string[]).includes(d.status ?? '')) {
          inFlight.push({ arn: d.serviceDeploymentArn ?? '?', status: d.status ?? '?' });
        }
      }
      nextToken = page.nextToken;
    } while (nextToken);
  } catch (error) {
    if (errorName(error) === 'ServiceNotFoundException' || errorName(error) === 'ClusterNotFoundException') {
      return skipped(id, `${cluster}/${service} does not exist yet (the Service stack creates it)`);
    }
    throw error;
  }
  if (inFlight.length > 0) {
    const first = inFlight[0]!;
    return fail(
      id,
      `${inFlight.length} deployment(s) in flight: ${first.arn.split('/').pop()} is ${first.status}`,
      `wait for it (sfdeploy release-status --stage ${input.stage} --wait), or stop it in the ECS console`,
    );
  }
  return pass(id, `no deployment of ${cluster}/${service} in flight`);
}

// ---------------------------------------------------------------------------------------------------------------

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
