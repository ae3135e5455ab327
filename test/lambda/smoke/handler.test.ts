/**
 * The smoke hook handler end to end: real HTTP servers for the target, aws-sdk-client-mock only at the AWS API
 * boundary (Secrets Manager, SNS). Metrics are Powertools EMF lines (no CloudWatch API call) and logs are
 * Powertools JSON; both are read from the console, where Powertools writes them in dev mode.
 */
import assert from 'node:assert/strict';
import { type AddressInfo, createServer } from 'node:net';
import { after, before, beforeEach, describe, it, type TestContext } from 'node:test';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { SMOKE_TOKEN_PLACEHOLDER } from '../../../lambda/smoke/env';
import { createHandler, type SmokeHandler, tokenFromSecret } from '../../../lambda/smoke/handler';
import { defaultSpec, needsToken } from '../../../lambda/smoke/spec';
import { broken, type FakeSoftFactory, fakeSoftFactory } from '../../fixtures/smoke/fake-softfactory';
import { type Listening, listen, refusedPort } from '../../fixtures/smoke/servers';

const TOKEN = 'token-from-secrets-manager';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:smoke-token-AbCdEf';
const TOPIC_ARN = 'arn:aws:sns:eu-west-1:123456789012:softfactory-prod-alarms';
const GREEN = 'arn:aws:ecs:eu-west-1:123456789012:service-revision/softfactory-prod/web/222';
const BLUE = 'arn:aws:ecs:eu-west-1:123456789012:service-revision/softfactory-prod/web/111';
/** The stage's allowed CORS origin: the task's CORS_ORIGINS and the hook's CORS_ALLOWED_ORIGINS, as the stack sets both. */
const ORIGIN = 'https://app.example.test';
const APP_ENV = { CORS_ORIGINS: ORIGIN };
/** The checks that need the smoke token, in spec order (skipped together when there is none). */
const BEARER = defaultSpec()
  .checks.filter((c) => needsToken(c) && !c.writes)
  .map((c) => c.id);

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
    healthyFake = fakeSoftFactory({ token: TOKEN, env: APP_ENV });
    healthy = await listen(healthyFake.handler);
    brokenHealth = await listen(
      fakeSoftFactory({
        token: TOKEN,
        env: APP_ENV,
        overrides: { 'GET /health': broken.json(200, { status: 'degraded' }) },
      }).handler,
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
        // The fakes here run in SoftFactory's default (test) mode; production mode has its own tests below.
        APP_MODE: 'test',
        MAX_ATTEMPTS: '3',
        CALLBACK_DELAY_SECONDS: '20',
        CHECK_TIMEOUT_MS: '2000',
        SUITE_TIMEOUT_MS: '10000',
        CORS_ALLOWED_ORIGINS: ORIGIN,
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
    const counter = (attempt: number) => ({
      smokeAttempt: { lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT', targetServiceRevisionArn: GREEN, attempt },
    });
    const first = await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT'));
    assert.deepEqual(first, { hookStatus: 'IN_PROGRESS', callBackDelay: 20, hookDetails: counter(2) });
    const second = await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT', { hookDetails: first.hookDetails }));
    assert.deepEqual(second, { hookStatus: 'IN_PROGRESS', callBackDelay: 20, hookDetails: counter(3) });
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

  it('skips the authenticated checks, saying why, when the token secret cannot be read, and still gates on the rest', async (t) => {
    const h = harness(t);
    h.secrets.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException: not allowed'));
    assert.deepEqual(await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT')), { hookStatus: 'SUCCEEDED' });
    assert.ok(!healthyFake.requests.some((r) => r.authorization === `Bearer ${TOKEN}`));
    const summary = h.logs.find((l) => /^smoke suite passed/.test(String(l['message'])));
    assert.match(
      String(summary?.['message']),
      new RegExp(
        `\\b${BEARER.length} \\(${BEARER.join(', ')}\\): no usable smoke token: the secret cannot be read \\(Error: AccessDeniedException: not allowed\\)`,
      ),
    );
    // The rest still gates: a broken health endpoint fails the deployment with no token at all.
    const broken = harness(t, { TEST_URL: brokenHealth.url });
    broken.secrets.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException: not allowed'));
    assert.deepEqual(await broken.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT')), { hookStatus: 'FAILED' });
    const message = broken.sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    assert.match(
      message,
      /Skipped checks \(not verified\):\n(?:.*\n)* {2}no usable smoke token: the secret cannot be read/,
    );
  });

  for (const [what, secretString, reason] of [
    ['the placeholder the stack created', SMOKE_TOKEN_PLACEHOLDER, /still holds the placeholder the stack created/],
    ['an empty value', '   ', /the secret is empty/],
    ['JSON without a token', '{"token":""}', /JSON without a non-empty "token" field/],
    ['SoftFactory’s shared demo_token', 'demo_token', /shared test-mode token demo_token/],
  ] as const) {
    it(`passes a new stage whose secret holds ${what}, with the authenticated checks skipped and a notice at the last gate`, async (t) => {
      const h = harness(t);
      h.secrets.on(GetSecretValueCommand).resolves({ SecretString: secretString });
      assert.deepEqual(await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT')), { hookStatus: 'SUCCEEDED' });
      assert.equal(h.sns.commandCalls(PublishCommand).length, 0, 'no notice before the last gate');
      assert.deepEqual(await h.handler(hookEvent('POST_PRODUCTION_TRAFFIC_SHIFT')), { hookStatus: 'SUCCEEDED' });
      const published = h.sns.commandCalls(PublishCommand);
      assert.equal(published.length, 1);
      const input = published[0]!.args[0].input;
      assert.equal(
        input.Subject,
        `[prod] web: smoke passed at POST_PRODUCTION_TRAFFIC_SHIFT, ${BEARER.length} checks skipped`,
      );
      assert.ok((input.Message ?? '').includes(BEARER.join(', ')));
      assert.match(input.Message ?? '', reason);
      assert.match(input.Message ?? '', new RegExp(SECRET_ARN));
      assert.ok(
        !healthyFake.requests.some((r) => r.authorization?.startsWith('Bearer ') && r.path !== '/api/sns/accounts'),
      );
      // A token filled in afterwards counts at the next invocation (unusable answers are not cached).
      h.secrets.on(GetSecretValueCommand).resolves({ SecretString: TOKEN });
      assert.deepEqual(await h.handler(hookEvent('POST_PRODUCTION_TRAFFIC_SHIFT')), { hookStatus: 'SUCCEEDED' });
      assert.ok(healthyFake.requests.some((r) => r.authorization === `Bearer ${TOKEN}`));
      assert.equal(h.sns.commandCalls(PublishCommand).length, 1);
    });
  }

  it('gives each lifecycle stage its own attempts, whatever hookDetails ECS carries over from the test stage', async (t) => {
    const h = harness(t, { TEST_URL: refused, PRODUCTION_URL: refused });
    let details: Record<string, unknown> | undefined;
    for (let i = 0; i < 2; i++) {
      const answer = await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT', { hookDetails: details }));
      assert.equal(answer.hookStatus, 'IN_PROGRESS');
      details = answer.hookDetails;
    }
    // The test stage used 2 of its 3 attempts; the production stage starts at attempt 1 even if handed that state.
    const production = await h.handler(hookEvent('POST_PRODUCTION_TRAFFIC_SHIFT', { hookDetails: details }));
    assert.equal(production.hookStatus, 'IN_PROGRESS');
    assert.deepEqual((production.hookDetails as Record<string, { attempt: number }>)['smokeAttempt']?.attempt, 2);
  });

  it('on a production-mode stage fails a release whose app runs in test mode, naming the shared token it accepted', async (t) => {
    const h = harness(t, { APP_MODE: 'production' });
    assert.deepEqual(await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT')), { hookStatus: 'FAILED' });
    const message = h.sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
    assert.match(
      message,
      /demo-token-refused\s+GET \/api\/sns\/accounts\s+status 200 \d+ ms\s+expected status 401, got 200/,
    );
    assert.match(message, /oauth-google-live/);
    assert.match(
      message,
      /Skipped checks \(not verified\):\n.*checks test mode; this target runs the app in production mode: demo-token-accepted/,
    );
  });

  it('connects to CONNECT_TO (the ALB) while sending the URL’s host (the domain) as Host header', async (t) => {
    const h = harness(t, { TEST_URL: `http://app.example.test:${healthy.port}`, CONNECT_TO: '127.0.0.1' });
    assert.deepEqual(await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT')), { hookStatus: 'SUCCEEDED' });
    assert.ok(healthyFake.requests.length > 10);
    assert.ok(healthyFake.requests.every((r) => r.host === `app.example.test:${healthy.port}`));
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

  it('makes the unattended writes at the test-traffic gate with SMOKE_WRITES, leaving nothing behind, and none at the production gate', async (t) => {
    const h = harness(t, { SMOKE_WRITES: 'true' });
    const scrapes = healthyFake.scrapes;
    assert.deepEqual(await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT')), { hookStatus: 'SUCCEEDED' });
    const writes = (method: string, path: string) =>
      healthyFake.requests.filter((r) => r.method === method && r.path === path).length;
    assert.equal(writes('POST', '/api/sns/posts'), 2, 'the smoke post and the input-validation probe');
    assert.equal(writes('DELETE', '/api/sns/posts/100'), 1);
    assert.equal(healthyFake.posts.size, 0, 'the smoke post was deleted again');
    assert.equal(healthyFake.scrapes, scrapes + 1);
    // Applying to a listing is not taken back by anything: never at a gate.
    assert.equal(writes('POST', '/api/review/listings/7/apply'), 0);
    assert.deepEqual(healthyFake.applications, []);

    healthyFake.requests.length = 0;
    assert.deepEqual(await h.handler(hookEvent('POST_PRODUCTION_TRAFFIC_SHIFT')), { hookStatus: 'SUCCEEDED' });
    assert.equal(writes('POST', '/api/sns/posts'), 1, 'only the input-validation probe');
    assert.equal(writes('POST', '/api/review/scrape/now'), 0);
  });

  it('fails the test-traffic gate when an unattended write fails (a post that cannot be created)', async (t) => {
    const fake = fakeSoftFactory({
      token: TOKEN,
      env: APP_ENV,
      overrides: { 'POST /api/review/scrape/now': broken.json(500, { error: 'scheduler down' }) },
    });
    const server = await listen(fake.handler);
    try {
      const h = harness(t, { SMOKE_WRITES: 'true', TEST_URL: server.url });
      assert.deepEqual(await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT')), { hookStatus: 'FAILED' });
      assert.match(h.sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '', /review-scrape-now/);
      // Without SMOKE_WRITES the same release passes: the write check is skipped, not run.
      const quiet = harness(t, { TEST_URL: server.url });
      assert.deepEqual(await quiet.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT')), { hookStatus: 'SUCCEEDED' });
    } finally {
      await server.close();
    }
  });

  it('asserts the configured CORS origins: a task left at Access-Control-Allow-Origin: * fails the gate', async (t) => {
    const fake = fakeSoftFactory({ token: TOKEN });
    const server = await listen(fake.handler);
    try {
      const h = harness(t, { TEST_URL: server.url });
      assert.deepEqual(await h.handler(hookEvent('POST_TEST_TRAFFIC_SHIFT')), { hookStatus: 'FAILED' });
      const message = h.sns.commandCalls(PublishCommand)[0]?.args[0].input.Message ?? '';
      assert.match(
        message,
        /cors-health .*header access-control-allow-origin: got "\*", expected "https:\/\/app\.example\.test"/,
      );
      assert.match(message, /cors-foreign-origin/);
    } finally {
      await server.close();
    }
  });
});

describe('smoke token secret format', () => {
  it('accepts the token itself or JSON with a token field', () => {
    assert.deepEqual(tokenFromSecret('  abc  '), { token: 'abc' });
    assert.deepEqual(tokenFromSecret('{"token":"xyz","rotated":"2026-01-01"}'), { token: 'xyz' });
  });

  it('calls an empty secret, the placeholder, JSON without a token and the shared test tokens unusable, saying why', () => {
    assert.deepEqual(tokenFromSecret(undefined), { problem: 'the secret is empty' });
    assert.deepEqual(tokenFromSecret('{"user":"x"}'), {
      problem: 'the secret is JSON without a non-empty "token" field',
    });
    assert.deepEqual(tokenFromSecret('{oops'), { problem: 'the secret looks like JSON but does not parse' });
    assert.deepEqual(tokenFromSecret(SMOKE_TOKEN_PLACEHOLDER), {
      problem: 'the secret still holds the placeholder the stack created',
    });
    assert.match(tokenFromSecret('{"token":"test_token"}').problem ?? '', /shared test-mode token test_token/);
  });
});

/**
 * The clients the handler ships with (no injected ones), against a local endpoint that accepts connections and never
 * answers: the SDK's own defaults would wait forever, so this proves the timeouts are really configured.
 */
describe('smoke hook handler AWS calls', () => {
  it('bounds every AWS SDK call: a Secrets Manager that never answers costs seconds, not the hook', async (t) => {
    const sockets = new Set<import('node:net').Socket>();
    const hung = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const app = fakeSoftFactory({ token: TOKEN, env: APP_ENV });
    const target = await listen(app.handler);
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(hung.address() as AddressInfo).port}`,
      POWERTOOLS_DEV: 'true',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) t.mock.method(console, method, () => {});
    try {
      const handler = createHandler({
        env: {
          TEST_URL: target.url,
          PRODUCTION_URL: target.url,
          TOKEN_SECRET_ARN: SECRET_ARN,
          STAGE: 'dev',
          APP_MODE: 'test',
          CORS_ALLOWED_ORIGINS: ORIGIN,
        },
      });
      const started = performance.now();
      const answer = await handler(hookEvent('POST_TEST_TRAFFIC_SHIFT'));
      const elapsed = performance.now() - started;
      assert.deepEqual(answer, { hookStatus: 'SUCCEEDED' });
      assert.ok(elapsed < 15_000, `took ${Math.round(elapsed)} ms`);
      assert.ok(sockets.size >= 1, 'the client really called the hung endpoint');
      assert.ok(!app.requests.some((r) => r.authorization === `Bearer ${TOKEN}`));
    } finally {
      process.env = saved;
      for (const socket of sockets) socket.destroy();
      hung.close();
      await target.close();
    }
  });
});
