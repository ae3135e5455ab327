/**
 * The smoke hook handler end to end: real HTTP servers for the target, aws-sdk-client-mock only at the AWS API
 * boundary (Secrets Manager, SNS). Metrics are Powertools EMF lines (no CloudWatch API call) and logs are
 * Powertools JSON; both are read from the console, where Powertools writes them in dev mode.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it, type TestContext } from 'node:test';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler, type SmokeHandler, tokenFromSecret } from '../../../lambda/smoke/handler';
import { broken, type FakeSoftFactory, fakeSoftFactory } from '../../fixtures/smoke/fake-softfactory';
import { type Listening, listen, refusedPort } from '../../fixtures/smoke/servers';

const TOKEN = 'token-from-secrets-manager';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:smoke-token-AbCdEf';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:softfactory-prod-alarms';
const GREEN = 'arn:aws:ecs:eu-west-1:123456789012:service-revision/softfactory-prod/web/222';
const BLUE = 'arn:aws:ecs:eu-west-1:123456789012:service-revision/softfactory-prod/web/111';

function hookEvent(lifecycleStage: string, extra: Record<string, unknown> = {}) {
  return {
    executionId: 'f4fcae0f-9bec-41c6-ba87-0eaa0cef8af5',
    lifecycleStage,
    resourceArn: 'arn:aws:ecs:eu-west-1:123456789012:service-deployment/softfactory-prod/web/EZe5RNVLH6PPzHXINuP28',
    executionDetails: {
      serviceArn: 'arn:aws:ecs:eu-west-1:123456789012:service/softfactory-prod/web',
      targetServiceRevisionArn: GREEN,
      testTrafficWeights: {},
      productionTrafficWeights: {},
    },
    ...extra,
  };
}

const mockSecrets = (client: SecretsManagerClient) => mockClient(client);
const mockSns = (client: SNSClient) => mockClient(client);

interface Harness {
  readonly handler: SmokeHandler;
  readonly logs: Record<string, unknown>[];
  readonly emf: Record<string, unknown>[];
  readonly secrets: ReturnType<typeof mockSecrets>;
  readonly sns: ReturnType<typeof mockSns>;
}

describe('smoke lifecycle hook handler', () => {
  let healthy: Listening;
  let healthyFake: FakeSoftFactory;
  let brokenHealth: Listening;
  let refused: string;

  before(async () => {
    // Powertools writes through the global console in dev mode, which lets the test read logs and EMF; dev mode
    // would also switch metrics off unless told otherwise.
    process.env['POWERTOOLS_DEV'] = 'true';
    process.env['POWERTOOLS_METRICS_DISABLED'] = 'false';
    healthyFake = fakeSoftFactory({ token: TOKEN });
    healthy = await listen(healthyFake.handler);
    brokenHealth = await listen(
      fakeSoftFactory({ token: TOKEN, overrides: { 'GET /health': broken.json(200, { status: 'degraded' }) } }).handler,
    );
    refused = `http://127.0.0.1:${await refusedPort()}`;
  });
  after(async () => {
    delete process.env['POWERTOOLS_DEV'];
    delete process.env['POWERTOOLS_METRICS_DISABLED'];
    await healthy.close();
    await brokenHealth.close();
  });
  beforeEach(() => {
    healthyFake.requests.length = 0;
  });

  function harness(t: TestContext, env: Record<string, string | undefined> = {}): Harness {
    const logs: Record<string, unknown>[] = [];
    const emf: Record<string, unknown>[] = [];
    const capture = (line: unknown) => {
      const parsed = JSON.parse(String(line)) as Record<string, unknown>;
      if ('_aws' in parsed) emf.push(parsed);
      else logs.push(parsed);
    };
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) t.mock.method(console, method, capture);

    const secretsClient = new SecretsManagerClient({ region: 'eu-west-1' });
    const snsClient = new SNSClient({ region: 'eu-west-1' });
    const secrets = mockSecrets(secretsClient);
    const sns = mockSns(snsClient);
    secrets.on(GetSecretValueCommand).resolves({ SecretString: TOKEN });
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const handler = createHandler({
      logger: new Logger({ serviceName: 'softfactory-smoke' }),
      createMetrics: (namespace) => new Metrics({ namespace, serviceName: 'softfactory-smoke' }),
      secrets: secretsClient,
      sns: snsClient,
      env: {
        TEST_URL: healthy.url,
        PRODUCTION_URL: healthy.url,
        TOKEN_SECRET_ARN: SECRET_ARN,
        TOPIC_ARN,
        STAGE: 'prod',
        MAX_ATTEMPTS: '3',
        CALLBACK_DELAY_SECONDS: '20',
        CHECK_TIMEOUT_MS: '2000',
        SUITE_TIMEOUT_MS: '10000',
        ...env,
      },
    });
    return { handler, logs, emf, secrets, sns };
  }

  it('answers SUCCEEDED when the suite passes against green, with the token from Secrets Manager', async (t) => {
    const h = harness(t, { PRODUCTION_URL: refused });
    const response = await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT'));
    assert.deepEqual(response, { hookStatus: 'SUCCEEDED' });
    const me = healthyFake.requests.find((r) => r.path === '/api/auth/me' && r.authorization !== undefined);
    assert.equal(me?.authorization, `Bearer ${TOKEN}`);
    assert.equal(h.secrets.commandCalls(GetSecretValueCommand)[0]?.args[0].input.SecretId, SECRET_ARN);
    assert.equal(h.sns.commandCalls(PublishCommand).length, 0);
    // Writing checks never run from the hook (the only POST is the input-validation probe, which stores nothing).
    assert.deepEqual(
      healthyFake.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`),
      ['POST /api/sns/posts'],
    );
    assert.equal(healthyFake.posts.size, 0);
  });

  it('emits ChecksFailed and SuiteDurationMs with exactly the Stage and Phase dimensions', async (t) => {
    const h = harness(t);
    await h.handler(hookEvent('POST_PRODUCTION_TRAFFIC_SHIFT'));
    assert.equal(h.emf.length, 1);
    const line = h.emf[0]!;
    const directive = (
      line['_aws'] as {
        CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
      }
    ).CloudWatchMetrics[0]!;
    assert.equal(directive.Namespace, 'SoftFactory/Smoke');
    assert.deepEqual(directive.Dimensions, [['Stage', 'Phase']]);
    assert.deepEqual(directive.Metrics.map((m) => [m.Name, m.Unit]).sort(), [
      ['ChecksFailed', 'Count'],
      ['SuiteDurationMs', 'Milliseconds'],
    ]);
    assert.equal(line['Stage'], 'prod');
    assert.equal(line['Phase'], 'production');
    assert.equal(line['ChecksFailed'], 0);
    assert.equal(typeof line['SuiteDurationMs'], 'number');
  });

  it('reads the token once per container, not once per invocation', async (t) => {
    const h = harness(t);
    await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT'));
    await h.handler(hookEvent('POST_PRODUCTION_TRAFFIC_SHIFT'));
    assert.equal(h.secrets.commandCalls(GetSecretValueCommand).length, 1);
  });

  it('smokes PRODUCTION_URL after the production shift and TEST_URL after the test shift', async (t) => {
    const h = harness(t, { TEST_URL: refused });
    assert.equal((await h.handler(hookEvent('POST_PRODUCTION_TRAFFIC_SHIFT'))).hookStatus, 'SUCCEEDED');
    assert.equal((await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT'))).hookStatus, 'IN_PROGRESS');
  });

  it('answers FAILED at once on an assertion failure and notifies the topic with the failing check', async (t) => {
    const h = harness(t, { TEST_URL: brokenHealth.url });
    const response = await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT'));
    assert.deepEqual(response, { hookStatus: 'FAILED' });
    const published = h.sns.commandCalls(PublishCommand);
    assert.equal(published.length, 1);
    const input = published[0]!.args[0].input;
    assert.equal(input.TopicArn, TOPIC_ARN);
    assert.equal(input.Subject, '[prod] web: smoke suite FAILED at POST_TEST_TRAFFIC_SHIFT (1 failing)');
    assert.match(
      input.Message ?? '',
      /health\s+GET \/health\s+status 200 \d+ ms\s+expected JSON field status = "ok", got "degraded"/,
    );
    assert.equal(h.emf[0]?.['ChecksFailed'], 1);
    assert.ok(h.logs.some((l) => l['level'] === 'ERROR' && /^smoke suite failed/.test(String(l['message']))));
  });

  it('answers IN_PROGRESS with attempt + 1 while the target is unreachable, then FAILED at MAX_ATTEMPTS', async (t) => {
    const h = harness(t, { TEST_URL: refused });
    const first = await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT'));
    assert.deepEqual(first, { hookStatus: 'IN_PROGRESS', callBackDelay: 20, hookDetails: { attempt: 2 } });
    const second = await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT', { hookDetails: first.hookDetails }));
    assert.deepEqual(second, { hookStatus: 'IN_PROGRESS', callBackDelay: 20, hookDetails: { attempt: 3 } });
    assert.equal(h.sns.commandCalls(PublishCommand).length, 0);
    const last = await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT', { hookDetails: second.hookDetails }));
    assert.deepEqual(last, { hookStatus: 'FAILED' });
    assert.equal(h.sns.commandCalls(PublishCommand).length, 1);
    assert.match(h.sns.commandCalls(PublishCommand)[0]!.args[0].input.Message ?? '', /Attempt:\s+3 of 3/);
  });

  it('answers SUCCEEDED during a rollback without sending a single request', async (t) => {
    const h = harness(t);
    const rollback = hookEvent('PRODUCTION_TRAFFIC_SHIFT', {
      executionDetails: {
        serviceArn: 'arn:aws:ecs:eu-west-1:123456789012:service/softfactory-prod/web',
        targetServiceRevisionArn: GREEN,
        testTrafficWeights: {},
        productionTrafficWeights: { [GREEN]: 0, [BLUE]: 100 },
      },
    });
    assert.deepEqual(await h.handler(rollback), { hookStatus: 'SUCCEEDED' });
    assert.equal(healthyFake.requests.length, 0);
    assert.equal(h.secrets.commandCalls(GetSecretValueCommand).length, 0);
  });

  it('answers FAILED with a logged reason for a malformed event', async (t) => {
    const h = harness(t);
    assert.deepEqual(await h.handler({ lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT' }), { hookStatus: 'FAILED' });
    const logged = h.logs.find((l) => l['level'] === 'ERROR');
    assert.match(String(logged?.['message']), /^malformed lifecycle hook event/);
    assert.ok(JSON.stringify(logged?.['issues']).includes('executionDetails'));
    assert.equal(healthyFake.requests.length, 0);
  });

  it('answers SUCCEEDED, with a warning, for a stage it does not own', async (t) => {
    const h = harness(t);
    assert.deepEqual(await h.handler(hookEvent('PRE_SCALE_UP')), { hookStatus: 'SUCCEEDED' });
    assert.ok(h.logs.some((l) => l['level'] === 'WARN' && /does not own/.test(String(l['message']))));
    assert.equal(healthyFake.requests.length, 0);
  });

  it('answers FAILED when its environment is invalid', async (t) => {
    const h = harness(t, { TEST_URL: 'not-a-url', MAX_ATTEMPTS: 'many' });
    assert.deepEqual(await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT')), { hookStatus: 'FAILED' });
    const logged = h.logs.find((l) => l['level'] === 'ERROR');
    assert.match(String(logged?.['error']), /TEST_URL must be an http\(s\) URL; MAX_ATTEMPTS must be a whole number/);
  });

  it('answers FAILED (fail closed) and notifies when the token cannot be read', async (t) => {
    const h = harness(t);
    h.secrets.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException: not allowed'));
    assert.deepEqual(await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT')), { hookStatus: 'FAILED' });
    assert.equal(healthyFake.requests.length, 0);
    const input = h.sns.commandCalls(PublishCommand)[0]?.args[0].input;
    assert.match(input?.Subject ?? '', /token unavailable/);
    assert.match(input?.Message ?? '', /AccessDeniedException/);
  });

  it('keeps the FAILED verdict when the notification cannot be published', async (t) => {
    const h = harness(t, { TEST_URL: brokenHealth.url });
    h.sns.on(PublishCommand).rejects(new Error('throttled'));
    assert.deepEqual(await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT')), { hookStatus: 'FAILED' });
    assert.ok(h.logs.some((l) => /could not publish/.test(String(l['message']))));
  });

  it('runs without a token when no secret is configured, skipping the authenticated checks', async (t) => {
    const h = harness(t, { TOKEN_SECRET_ARN: undefined });
    assert.deepEqual(await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT')), { hookStatus: 'SUCCEEDED' });
    assert.equal(h.secrets.commandCalls(GetSecretValueCommand).length, 0);
    assert.ok(!healthyFake.requests.some((r) => r.authorization === `Bearer ${TOKEN}`));
    assert.ok(h.logs.some((l) => l['level'] === 'WARN' && /TOKEN_SECRET_ARN/.test(String(l['message']))));
  });
});

describe('smoke token secret format', () => {
  it('accepts the token itself or JSON with a token field', () => {
    assert.equal(tokenFromSecret('  abc  '), 'abc');
    assert.equal(tokenFromSecret('{"token":"xyz","rotated":"2026-01-01"}'), 'xyz');
  });

  it('refuses an empty secret or JSON without a token', () => {
    assert.throws(() => tokenFromSecret(undefined), /no SecretString/);
    assert.throws(() => tokenFromSecret('{"user":"x"}'), /without a non-empty "token"/);
    assert.throws(() => tokenFromSecret('{oops'), /does not parse/);
  });
});
