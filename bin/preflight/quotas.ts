/**
 * The account quotas a deploy can run into halfway: unreserved Lambda concurrency (the functions' reservations) and
 * Elastic IP addresses (one per NAT gateway).
 * One concern of the preflight (checks.ts runs them all).
 */
import { type CheckResult, errorName, fail, type PreflightClients, type PreflightInput, pass } from './common';
import { resourceNames } from './stage';

/**
 * Lambda keeps at least 100 unreserved concurrent executions for functions without a reservation: a reservation that
 * would leave fewer is refused, and the Service stack's update fails
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html: "You can reserve up to the Unreserved
 * account concurrency value minus 100").
 */
export const LAMBDA_MIN_UNRESERVED = 100;

export async function checkLambdaConcurrency(c: PreflightClients, input: PreflightInput): Promise<CheckResult> {
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

/** Service Quotas code of "EC2-VPC Elastic IPs" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/elastic-ip-addresses-eip.html#using-instance-addressing-limit). */
export const ELASTIC_IP_QUOTA_CODE = 'L-0263D0A3';

export async function checkElasticIps(c: PreflightClients, input: PreflightInput): Promise<CheckResult> {
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
