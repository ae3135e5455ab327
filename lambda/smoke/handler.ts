/**
 * ECS lifecycle hook (POST_TEST_TRAFFIC_SHIFT, PRE_PRODUCTION_TRAFFIC_SHIFT for canary/linear releases,
 * POST_PRODUCTION_TRAFFIC_SHIFT): runs the smoke suite against green
 * (through the test listener rule) or the public URL and answers SUCCEEDED / IN_PROGRESS / FAILED.
 * Thin adapter: validate event and environment, read the token, call the engine, let `hook.ts` decide, report.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { isRollback, type LifecycleHookResponse, lifecycleHookEventSchema } from '../shared/lifecycle-hook';
import { runSuite, type SuiteResult } from './engine';
import { parseSmokeEnv, SMOKE_METRICS, type SmokeEnv } from './env';
import {
  decideHookOutcome,
  formatNotification,
  formatSkipNotice,
  type HookDecision,
  phaseOf,
  readAttempt,
} from './hook';
import { defaultSpec } from './spec';
import { type TokenLookup, tokenFromSecret } from './token';

/** Kept here too: the token rule moved to token.ts, shared with `sfdeploy smoke --token-secret`. */
export { type TokenLookup, tokenFromSecret } from './token';

const SERVICE_NAME = 'softfactory-smoke';
/** Re-read the token after this long, so a rotated secret is picked up without a cold start. */
const TOKEN_TTL_MS = 5 * 60_000;
/**
 * Every AWS SDK call of this function ends on its own: at most SDK_MAX_ATTEMPTS × (connection + request timeout)
 * plus the retry back-off, about 9 s, well inside the function's timeout (suite + 30 s) and the hook's (minutes).
 * The SDK's defaults are no timeout at all, and since @smithy/node-http-handler 4.4 an exceeded requestTimeout only
 * logs a warning unless throwOnRequestTimeout is set (NodeHttpHandlerOptions in @smithy/types;
 * https://docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/Package/-smithy-node-http-handler).
 */
export const SDK_CLIENT_CONFIG = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000, throwOnRequestTimeout: true },
} as const;
/** Time kept back from the Lambda timeout for the notification (one bounded SDK call) and the answer to ECS. */
const RESERVE_MS = 10_000;

export interface SmokeHandlerDeps {
  readonly logger?: Logger;
  /** A fresh Metrics per invocation: dimensions differ per phase and publishing clears them. */
  readonly createMetrics?: (namespace: string) => Metrics;
  readonly secrets?: SecretsManagerClient;
  readonly sns?: SNSClient;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export type SmokeHandler = (
  event: unknown,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<LifecycleHookResponse>;

export function createHandler(deps: SmokeHandlerDeps = {}): SmokeHandler {
  const logger = deps.logger ?? new Logger({ serviceName: SERVICE_NAME });
  const createMetrics =
    deps.createMetrics ?? ((namespace: string) => new Metrics({ namespace, serviceName: SERVICE_NAME }));
  // Clients live as long as the container: connection reuse across warm invocations.
  const secrets = deps.secrets ?? new SecretsManagerClient(SDK_CLIENT_CONFIG);
  const sns = deps.sns ?? new SNSClient(SDK_CLIENT_CONFIG);
  const tokenCache = new Map<string, { token: string; expires: number }>();

  /** A usable token, or why there is none. Only usable tokens are cached: a filled-in secret counts at once. */
  async function readToken(secretArn: string): Promise<TokenLookup> {
    const cached = tokenCache.get(secretArn);
    if (cached && cached.expires > Date.now()) return { token: cached.token };
    let secretString: string | undefined;
    try {
      secretString = (await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
    } catch (error) {
      return { problem: `the secret cannot be read (${errorMessage(error)})` };
    }
    const lookup = tokenFromSecret(secretString);
    if (lookup.token !== undefined)
      tokenCache.set(secretArn, { token: lookup.token, expires: Date.now() + TOKEN_TTL_MS });
    return lookup;
  }

  async function notify(env: SmokeEnv, subject: string, message: string): Promise<void> {
    if (!env.TOPIC_ARN) return;
    try {
      await sns.send(new PublishCommand({ TopicArn: env.TOPIC_ARN, Subject: subject, Message: message }));
    } catch (error) {
      // The verdict stands whether or not anyone hears about it; a lost notification must not flip it.
      logger.error('could not publish the failure notification', { error: errorMessage(error) });
    }
  }

  return async (rawEvent, context) => {
    const parsed = lifecycleHookEventSchema.safeParse(rawEvent);
    if (!parsed.success) {
      // FAILED rather than a throw: both roll back, but this way the reason is in our log, not only ECS's.
      logger.error('malformed lifecycle hook event: answering FAILED', {
        issues: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
      });
      return { hookStatus: 'FAILED' };
    }
    const event = parsed.data;
    logger.appendKeys({ executionId: event.executionId, lifecycleStage: event.lifecycleStage });
    try {
      if (isRollback(event)) {
        logger.info('rollback in progress: answering SUCCEEDED without running the suite');
        return { hookStatus: 'SUCCEEDED' };
      }
      const phase = phaseOf(event.lifecycleStage);
      if (phase === undefined) {
        // SUCCEEDED, not FAILED: this function gates on smoke results at the two stages it is registered for.
        // Being invoked elsewhere means a stage AWS added or re-invokes (rollbacks re-invoke traffic-shift
        // hooks) or a registration slip, none of which is evidence the new revision is broken; failing would
        // roll back a healthy deployment. The registration itself is asserted by the construct's tests.
        logger.warn('invoked for a lifecycle stage this hook does not own: answering SUCCEEDED');
        return { hookStatus: 'SUCCEEDED' };
      }

      let env: SmokeEnv;
      try {
        env = parseSmokeEnv(deps.env ?? process.env);
      } catch (error) {
        logger.error('answering FAILED: the function is misconfigured', { error: errorMessage(error) });
        return { hookStatus: 'FAILED' };
      }

      const scope = {
        lifecycleStage: event.lifecycleStage,
        targetServiceRevisionArn: event.executionDetails.targetServiceRevisionArn,
      };
      const attempt = readAttempt(event.hookDetails, scope);
      const baseUrl = phase === 'test' ? env.TEST_URL : env.PRODUCTION_URL;
      logger.appendKeys({
        stage: env.STAGE,
        phase,
        attempt,
        target: baseUrl,
        connectTo: env.CONNECT_TO,
        appMode: env.APP_MODE,
      });

      // No usable token is not a broken release: the authenticated checks are skipped with the reason (a skipped
      // check never counts as passed), the rest of the suite still gates, and the summary and a notice say so.
      let token: string | undefined;
      let tokenUnavailableReason: string;
      if (env.TOKEN_SECRET_ARN) {
        const lookup = await readToken(env.TOKEN_SECRET_ARN);
        token = lookup.token;
        tokenUnavailableReason = `no usable smoke token: ${lookup.problem ?? ''} (${env.TOKEN_SECRET_ARN})`;
        if (lookup.problem !== undefined) logger.warn(`authenticated checks are skipped: ${tokenUnavailableReason}`);
      } else {
        tokenUnavailableReason = 'no usable smoke token: no token secret is configured (TOKEN_SECRET_ARN)';
        logger.warn('TOKEN_SECRET_ARN is not set: authenticated checks are skipped');
      }

      const remaining = context?.getRemainingTimeInMillis?.() ?? Number.POSITIVE_INFINITY;
      const suiteTimeoutMs = Math.max(1_000, Math.min(env.SUITE_TIMEOUT_MS, remaining - RESERVE_MS));
      const result = await runSuite({
        baseUrl,
        ...(env.CONNECT_TO ? { connectTo: env.CONNECT_TO } : {}),
        spec: defaultSpec(),
        token,
        tokenUnavailableReason,
        appMode: env.APP_MODE,
        ...(env.CORS_ALLOWED_ORIGINS ? { allowedOrigins: env.CORS_ALLOWED_ORIGINS } : {}),
        // Green behind the test listener carries no user traffic yet: the gate whose failure costs nobody anything, so
        // the writes that undo themselves run there (SMOKE_WRITES), and never once production traffic has moved.
        allowWrites: phase === 'test' && env.SMOKE_WRITES ? 'unattended' : false,
        checkTimeoutMs: env.CHECK_TIMEOUT_MS,
        suiteTimeoutMs,
        maxBodyBytes: env.MAX_BODY_BYTES,
      });
      const decision = decideHookOutcome(result, attempt, env.MAX_ATTEMPTS, {
        callBackDelaySeconds: env.CALLBACK_DELAY_SECONDS,
        hookDetails: event.hookDetails,
        scope,
      });

      publishMetrics(createMetrics(env.METRICS_NAMESPACE), env.STAGE, phase, result);
      report(logger, decision, result);
      if (decision.outcome === 'failed') {
        const { subject, message } = formatNotification({
          result,
          decision,
          stage: env.STAGE,
          lifecycleStage: event.lifecycleStage,
          serviceArn: event.executionDetails.serviceArn,
          targetServiceRevisionArn: event.executionDetails.targetServiceRevisionArn,
          attempt,
          maxAttempts: env.MAX_ATTEMPTS,
        });
        await notify(env, subject, message);
      }
      // Once per deployment, at the last gate: the release is through, but its authenticated checks never ran.
      const tokenSkipped = decision.skipped.find((g) => g.reason === tokenUnavailableReason);
      if (decision.outcome === 'passed' && phase === 'production' && tokenSkipped) {
        const { subject, message } = formatSkipNotice({
          result,
          decision,
          stage: env.STAGE,
          lifecycleStage: event.lifecycleStage,
          serviceArn: event.executionDetails.serviceArn,
          group: tokenSkipped,
        });
        await notify(env, subject, `${message}\n\n${TOKEN_HOWTO}`);
      }
      return decision.response;
    } catch (error) {
      logger.error('unexpected error: answering FAILED', { error: errorMessage(error) });
      return { hookStatus: 'FAILED' };
    } finally {
      logger.resetKeys();
    }
  };
}

function publishMetrics(metrics: Metrics, stage: string, phase: string, result: SuiteResult): void {
  // Only Stage and Phase: alarms select on exactly this dimension set, so the default `service` goes.
  metrics.clearDefaultDimensions();
  metrics.addDimensions({ [SMOKE_METRICS.dimensions[0]]: stage, [SMOKE_METRICS.dimensions[1]]: phase });
  metrics.addMetric(
    SMOKE_METRICS.checksFailed,
    MetricUnit.Count,
    result.checks.filter((c) => c.verdict === 'fail').length,
  );
  metrics.addMetric(SMOKE_METRICS.suiteDurationMs, MetricUnit.Milliseconds, result.durationMs);
  metrics.publishStoredMetrics();
}

function report(logger: Logger, decision: HookDecision, result: SuiteResult): void {
  const failures = decision.failures.map((c) => ({
    id: c.id,
    method: c.method,
    path: c.path,
    status: c.status,
    latencyMs: c.latencyMs,
    reason: c.reason,
    excerpt: c.excerpt,
  }));
  const attributes = { hookStatus: decision.response.hookStatus, durationMs: result.durationMs, failures };
  if (decision.outcome === 'passed') logger.info(decision.summary, attributes);
  else if (decision.outcome === 'retry') logger.warn(decision.summary, attributes);
  else logger.error(decision.summary, attributes);
}

const TOKEN_HOWTO =
  "Put the smoke user's bearer token into the secret (README: Rotating the smoke token): " +
  "aws secretsmanager put-secret-value --secret-id <secret> --secret-string '<token>'. The next run uses it.";

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export const handler: SmokeHandler = createHandler();
