/**
 * The checks of what the existing Service stack holds: the smoke token secret is filled in, the alarm topic's e-mail
 * subscriptions are confirmed, and no ECS service deployment is in flight. Each is skipped on a first deploy, which
 * creates what it would look at.
 * One concern of the preflight (checks.ts runs them all).
 */
import { type CheckResult, errorName, fail, type PreflightClients, type PreflightInput, pass, skipped } from './common';
import { resourceNames } from './stage';

export async function checkSmokeToken(
  c: PreflightClients,
  input: PreflightInput,
  firstDeploy: boolean,
): Promise<CheckResult> {
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

export async function checkAlarmSubscriptions(
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

export async function checkDeploymentInFlight(
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
