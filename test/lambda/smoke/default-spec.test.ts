/**
 * The default spec against a fake SoftFactory written from the checklist: a healthy one passes, and each
 * checklist violation is caught by the check that encodes it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RunSuiteOptions, runSuite, type SuiteResult } from '../../../lambda/smoke/engine';
import { type AppMode, defaultSpec, needsToken } from '../../../lambda/smoke/spec';
import {
  broken,
  type FakeOptions,
  type FakeSoftFactory,
  FakeStartupError,
  fakeSoftFactory,
  type RunningFakeSoftFactory,
  startFakeSoftFactory,
} from '../../fixtures/smoke/fake-softfactory';
import { certificateAuthority, type Handler, listen } from '../../fixtures/smoke/servers';

const TOKEN = 'smoke-token-123';
/** The stage's configured CORS origin: the fake allows it (CORS_ORIGINS), the suite is told it (allowedOrigins). */
const ORIGIN = 'https://app.example.test';

async function against(
  fakeOptions: FakeOptions,
  runOptions: Partial<RunSuiteOptions> = {},
): Promise<{ result: SuiteResult; fake: FakeSoftFactory; elapsedMs: number }> {
  const fake = fakeSoftFactory({ token: TOKEN, env: { CORS_ORIGINS: ORIGIN }, ...fakeOptions });
  const server = await listen(fake.handler);
  try {
    const started = performance.now();
    const result = await runSuite({
      baseUrl: server.url,
      spec: defaultSpec(),
      allowedOrigins: [ORIGIN],
      checkTimeoutMs: 2_000,
      suiteTimeoutMs: 10_000,
      maxBodyBytes: 1_048_576,
      ...runOptions,
    });
    return { result, fake, elapsedMs: performance.now() - started };
  } finally {
    await server.close();
  }
}

const verdicts = (result: SuiteResult) => new Map(result.checks.map((c) => [c.id, c.verdict]));
const failing = (result: SuiteResult) => result.checks.filter((c) => c.verdict === 'fail').map((c) => c.id);

describe('default spec against a healthy SoftFactory', () => {
  it('passes without a token, skipping exactly the checks that need one, write data or need the app mode', async () => {
    const { result } = await against({});
    assert.deepEqual(failing(result), [], JSON.stringify(result.checks.filter((c) => c.verdict === 'fail')));
    const skipped = result.checks.filter((c) => c.verdict === 'skipped');
    const spec = defaultSpec();
    assert.deepEqual(
      skipped.map((c) => c.id).sort(),
      spec.checks
        .filter((c) => needsToken(c) || c.writes || c.appMode !== undefined)
        .map((c) => c.id)
        .sort(),
    );
    assert.equal(result.passed, true);
  });

  it('with a token also passes the authenticated checks, /api/auth/me returning user data', async () => {
    const { result, fake } = await against({}, { token: TOKEN, appMode: 'test' });
    assert.deepEqual(failing(result), []);
    assert.equal(verdicts(result).get('auth-me-token'), 'pass');
    assert.equal(verdicts(result).get('demo-token-accepted'), 'pass');
    assert.deepEqual(
      result.checks.filter((c) => c.verdict === 'skipped' && c.reason?.startsWith('writes data')).map((c) => c.id),
      ['sns-post-create', 'review-scrape-now', 'review-listing-apply'],
    );
    assert.deepEqual(
      result.checks.filter((c) => c.verdict === 'skipped' && !c.reason?.startsWith('writes data')).map((c) => c.id),
      defaultSpec()
        .checks.filter((c) => c.appMode === 'production')
        .map((c) => c.id),
    );
    // The token goes only where a check asks for it.
    const leaked = fake.requests.filter((r) => r.authorization === `Bearer ${TOKEN}` && r.path.startsWith('/web/'));
    assert.deepEqual(leaked, []);
    assert.ok(fake.requests.some((r) => r.path === '/health' && r.origin === ORIGIN));
  });

  it('with writes allowed creates a post and deletes it again', async () => {
    const { result, fake } = await against({}, { token: TOKEN, allowWrites: true, appMode: 'test' });
    assert.deepEqual(failing(result), []);
    const productionMode = new Set(
      defaultSpec()
        .checks.filter((c) => c.appMode === 'production')
        .map((c) => c.id),
    );
    assert.ok(result.checks.every((c) => c.verdict === 'pass' || productionMode.has(c.id)));
    assert.ok(fake.requests.some((r) => r.method === 'POST' && r.path === '/api/sns/posts'));
    assert.ok(fake.requests.some((r) => r.method === 'DELETE' && r.path === '/api/sns/posts/100'));
    assert.equal(fake.posts.size, 0, 'the smoke post was left behind');
    assert.ok(fake.requests.some((r) => r.method === 'POST' && r.path === '/api/review/scrape/now'));
    // The listing the app listed, not a guessed id.
    assert.deepEqual(fake.applications, [7]);
    assert.equal(result.checks.find((c) => c.id === 'review-listing-apply')?.path, '/api/review/listings/7/apply');
  });

  it('fails a write check whose cleanup fails, naming the leftover', async () => {
    const { result, fake } = await against(
      { overrides: { 'DELETE /api/sns/posts/100': broken.json(500, { error: 'boom' }) } },
      { token: TOKEN, allowWrites: true },
    );
    assert.deepEqual(failing(result), ['sns-post-create']);
    const check = result.checks.find((c) => c.id === 'sns-post-create')!;
    assert.equal(check.reason, 'cleanup DELETE /api/sns/posts/100 failed: expected status 200/202/204/404, got 500');
    assert.equal(fake.posts.size, 1);
  });

  it('runs the whole suite concurrently: far less time than the sum of its latencies', async () => {
    const { result, elapsedMs } = await against({ delayMs: 40 }, { token: TOKEN });
    const ran = result.checks.filter((c) => c.verdict !== 'skipped');
    assert.equal(result.passed, true);
    assert.ok(ran.length >= 30);
    // Against the checks' own measured latencies, so a loaded machine slows both sides alike: run one after another,
    // the suite would take at least their sum.
    const sum = ran.reduce((total, c) => total + (c.latencyMs ?? 0), 0);
    assert.ok(sum >= 40 * ran.length, `each check waited for the 40 ms delay (sum ${sum} ms)`);
    assert.ok(
      elapsedMs < sum * 0.5,
      `took ${Math.round(elapsedMs)} ms for ${ran.length} checks whose latencies sum to ${sum} ms`,
    );
  });
});

describe('default spec: the routes with the smoke token (issue 18, audit C4)', () => {
  const snsRoutes = [
    'accounts',
    'posts',
    'templates',
    'workflows',
    'automate',
    'ai/generate',
    'linkinbio',
    'linkinbio/stats',
    'trending',
    'competitor',
  ];
  const reviewRoutes = ['listings', 'campaigns', 'accounts', 'applications', 'auto-apply', 'rules'];
  const routes = [...snsRoutes.map((r) => `/api/sns/${r}`), ...reviewRoutes.map((r) => `/api/review/${r}`)];
  /** Which pages of the fake call which route (read off its create.html and review pages), by their probe checks. */
  const PAGES_CALLING: Record<string, string[]> = {
    '/api/sns/posts': ['page-sns-create-api-paths', 'frontend-apis-sns-create'],
    '/api/review/listings': ['frontend-apis-review-aggregator'],
    '/api/review/campaigns': ['frontend-apis-review-aggregator'],
    '/api/review/applications': ['frontend-apis-review-applications'],
    '/api/review/accounts': ['frontend-apis-review-accounts'],
    '/api/review/auto-apply': ['frontend-apis-review-auto-apply'],
    '/api/review/rules': ['frontend-apis-review-auto-apply'],
  };
  const tokenCheckOf = (route: string) =>
    defaultSpec().checks.find((c) => c.path === route && c.method === 'GET' && c.auth === 'bearer')!.id;

  for (const route of routes) {
    it(`catches ${route} missing behind an app-level before_request auth (401 without a token, 404 with it)`, async () => {
      const { result } = await against(
        { authBeforeRouting: true, unregistered: [`GET ${route}`] },
        { token: TOKEN, appMode: 'test' },
      );
      // The unauthenticated check cannot tell (401 either way); the check with the token can (and so can the test-mode
      // demo_token check, which reads /api/sns/accounts).
      const alsoDemo = route === '/api/sns/accounts' ? ['demo-token-accepted'] : [];
      // So can the checks probing the API paths a page calls, for the pages that call this route.
      const alsoPages = PAGES_CALLING[route] ?? [];
      assert.deepEqual(failing(result).sort(), [tokenCheckOf(route), ...alsoDemo, ...alsoPages].sort());
      assert.match(result.checks.find((c) => c.id === tokenCheckOf(route))!.reason ?? '', /got 404/);
    });
  }

  it('passes a healthy app that authenticates before routing, every route answering with the token', async () => {
    const { result } = await against({ authBeforeRouting: true }, { token: TOKEN, appMode: 'test' });
    assert.deepEqual(failing(result), []);
    for (const route of routes) assert.equal(verdicts(result).get(tokenCheckOf(route)), 'pass', route);
  });

  it('without a token the same hole passes: the route checks with the token are skipped, never passed', async () => {
    const { result } = await against({ authBeforeRouting: true, unregistered: ['GET /api/sns/trending'] });
    assert.equal(result.passed, true, 'the unauthenticated checks cannot see it');
    assert.equal(verdicts(result).get('sns-trending-token'), 'skipped');
  });
});

describe('default spec: CORS, the database, the pages and assets (issue 18)', () => {
  const cases: {
    item: string;
    fake: FakeOptions;
    run?: Partial<RunSuiteOptions>;
    fails: string[];
  }[] = [
    {
      item: 'CORS left at Flask-CORS’s default Access-Control-Allow-Origin: * (no CORS_ORIGINS)',
      fake: { env: {} },
      fails: ['cors-health', 'cors-foreign-origin'],
    },
    {
      item: 'CORS echoing every origin',
      fake: {
        overrides: {
          'GET /health': (req, res) => {
            res.writeHead(200, {
              'content-type': 'application/json',
              'access-control-allow-origin': String(req.headers.origin),
            });
            res.end('{"status":"ok"}');
          },
        },
      },
      fails: ['cors-foreign-origin'],
    },
    {
      item: 'CORS allowing another origin than the configured one',
      fake: { env: { CORS_ORIGINS: 'https://old.example.test' } },
      fails: ['cors-health'],
    },
    {
      item: 'a database the app cannot reach (/ready 503)',
      fake: { databaseReachable: false },
      fails: ['ready-database'],
    },
    {
      item: '/ready answering 200 while naming its database unreachable',
      fake: { overrides: { 'GET /ready': broken.json(200, { status: 'ready', database: 'unreachable' }) } },
      fails: ['ready-database'],
    },
    {
      item: 'create.html without localStorage token handling',
      fake: { files: { '/web/sns-auto/create.html': '<!DOCTYPE html><html><body>Create</body></html>' } },
      // A page stripped of its script also calls no API any more.
      fails: ['page-sns-create-localstorage', 'page-sns-create-api-paths', 'frontend-apis-sns-create'],
    },
    {
      item: 'monetize.html without ApexCharts',
      fake: { files: { '/web/sns-auto/monetize.html': '<!DOCTYPE html><html><body>Monetize</body></html>' } },
      fails: ['page-monetize-apexcharts'],
    },
    {
      item: 'a review page that calls no review API',
      fake: { files: { '/web/review/accounts.html': '<!DOCTYPE html><html><body>Accounts</body></html>' } },
      fails: ['page-review-accounts-api', 'frontend-apis-review-accounts'],
    },
    {
      item: 'the aggregator page without auth headers',
      fake: {
        files: {
          '/web/review/aggregator.html':
            "<!DOCTYPE html><html><body><script>fetch('/api/review/listings')</script></body></html>",
        },
      },
      fails: ['page-review-aggregator-auth'],
    },
    {
      item: 'create.html calling an /api/sns/ path the backend does not serve (Team B)',
      fake: {
        files: {
          '/web/sns-auto/create.html':
            "<!DOCTYPE html><html><body><script>const token = localStorage.getItem('token');\n" +
            "fetch('/api/sns/posts', { method: 'POST' });\nfetch('/api/sns/drafts');</script></body></html>",
        },
      },
      fails: ['page-sns-create-api-paths', 'frontend-apis-sns-create'],
    },
    {
      item: 'create.html naming an /api/sns/ path outside fetch() that the backend does not serve (the grep of Team B)',
      fake: {
        files: {
          '/web/sns-auto/create.html':
            "<!DOCTYPE html><html><body><script>const token = localStorage.getItem('token');\n" +
            "const DRAFTS = '/api/sns/drafts';\nfetch('/api/sns/posts', { method: 'POST' });</script></body></html>",
        },
      },
      fails: ['page-sns-create-api-paths'],
    },
    {
      item: 'a page with no API calls of its own calling a route that answers 500 (frontend APIs match backend)',
      fake: {
        files: {
          '/web/sns-auto/viral.html':
            "<!DOCTYPE html><html><body><script>fetch('/api/sns/trending')</script></body></html>",
        },
        overrides: { 'GET /api/sns/trending': broken.json(500, { error: 'boom' }) },
      },
      fails: ['frontend-apis-viral', 'sns-trending', 'sns-trending-token'],
    },
    {
      item: 'the stylesheet the index references answering 404',
      fake: { overrides: { 'GET /web/platform/style.css': broken.html(404) } },
      fails: ['asset-index-css'],
    },
    {
      item: 'an index page that references no stylesheet',
      fake: {
        files: {
          '/web/platform/index.html':
            '<!DOCTYPE html><html><body><script src="/web/platform/api.js"></script></body></html>',
        },
      },
      fails: ['asset-index-css'],
    },
    {
      item: 'api.js missing (Flask’s HTML 404)',
      fake: { overrides: { 'GET /web/platform/api.js': broken.html(404) } },
      fails: [
        'asset-index-js',
        'api-js-functions',
        'api-js-oauth',
        'api-js-sns',
        'api-js-review',
        'api-js-error-handling',
      ],
    },
    {
      item: 'api.js served as HTML',
      fake: { overrides: { 'GET /web/platform/api.js': broken.html(200, 'export function a() {}') } },
      fails: [
        'asset-index-js',
        'api-js-functions',
        'api-js-oauth',
        'api-js-sns',
        'api-js-review',
        'api-js-error-handling',
      ],
    },
    {
      item: 'api.js with 47 exported functions',
      fake: {
        files: {
          '/web/platform/api.js': `${Array.from({ length: 47 }, (_, i) => `export function f${i}() { return fetch('/api/sns/x').catch(console.error); } // review listing loginWithGoogle`).join('\n')}\n`,
        },
      },
      fails: ['api-js-functions'],
    },
    {
      item: 'api.js without OAuth, SNS, review functions or error handling',
      fake: {
        files: {
          '/web/platform/api.js': `${Array.from({ length: 48 }, (_, i) => `export function f${i}() { return 1; }`).join('\n')}\n`,
        },
      },
      fails: ['api-js-oauth', 'api-js-sns', 'api-js-review', 'api-js-error-handling'],
    },
  ];
  for (const { item, fake, run, fails } of cases) {
    it(`catches ${item}`, async () => {
      const { result } = await against(fake, { token: TOKEN, appMode: 'test', ...run });
      assert.deepEqual(failing(result).sort(), [...fails].sort());
    });
  }

  it('names the path a page calls that the backend does not serve, and probes only with the token', async () => {
    const { result, fake } = await against(
      {
        files: {
          '/web/sns-auto/create.html':
            "<!DOCTYPE html><html><body><script>localStorage.getItem('token');\n" +
            "fetch('/api/sns/posts', { method: 'POST' });\nfetch('/api/sns/drafts');</script></body></html>",
        },
      },
      { token: TOKEN, appMode: 'test' },
    );
    assert.equal(
      result.checks.find((c) => c.id === 'page-sns-create-api-paths')!.reason,
      '1 of 2 API path(s) GET /web/sns-auto/create.html references not served: GET /api/sns/drafts answered 404',
    );
    const probes = fake.requests.filter((r) => r.path === '/api/sns/drafts');
    assert.ok(probes.length > 0 && probes.every((r) => r.method === 'GET' && r.authorization === `Bearer ${TOKEN}`));
  });

  it('fails the page whose fetch() names a route the app does not register, naming it (frontend APIs match backend)', async () => {
    const { result } = await against(
      { authBeforeRouting: true, unregistered: ['GET /api/review/campaigns'] },
      { token: TOKEN, appMode: 'test' },
    );
    assert.equal(
      result.checks.find((c) => c.id === 'frontend-apis-review-aggregator')!.reason,
      '1 of 2 API path(s) GET /web/review/aggregator.html references not served: GET /api/review/campaigns answered 404',
    );
    // The other pages call other routes, and pass.
    assert.equal(verdicts(result).get('frontend-apis-review-accounts'), 'pass');
  });

  it('asserts every configured origin, one check each', async () => {
    const { result } = await against(
      { env: { CORS_ORIGINS: `${ORIGIN},https://admin.example.test` } },
      { allowedOrigins: [ORIGIN, 'https://admin.example.test', 'https://gone.example.test'] },
    );
    assert.equal(verdicts(result).get('cors-health'), 'pass');
    assert.equal(verdicts(result).get('cors-health-2'), 'pass');
    assert.equal(verdicts(result).get('cors-health-3'), 'fail');
  });
});

describe('default spec: the review listing flow applies to a listing that exists', () => {
  it('skips the application, saying why, when the app has no listing', async () => {
    const { result, fake } = await against({ listings: [] }, { token: TOKEN, allowWrites: true, appMode: 'test' });
    const check = result.checks.find((c) => c.id === 'review-listing-apply')!;
    assert.equal(check.verdict, 'skipped');
    assert.match(check.reason ?? '', /^nothing to check: GET \/api\/review\/listings has no items\[0\]\.id/);
    assert.deepEqual(fake.applications, []);
  });

  it('fails on "already applied" (409) and on "no such listing" (404), which the old check passed', async () => {
    for (const status of [404, 409]) {
      const { result } = await against(
        { overrides: { 'POST /api/review/listings/7/apply': broken.json(status, { error: 'no' }) } },
        { token: TOKEN, allowWrites: true, appMode: 'test' },
      );
      assert.deepEqual(failing(result), ['review-listing-apply'], String(status));
    }
  });
});

describe('default spec against a SoftFactory that breaks a checklist item', () => {
  const variants: { item: string; overrides: Record<string, Handler>; fails: string[]; token?: boolean }[] = [
    {
      item: 'health endpoint not ok',
      overrides: { 'GET /health': broken.json(200, { status: 'degraded' }) },
      fails: ['health'],
    },
    {
      item: 'an SNS endpoint crashing (500 is not "anything but 404")',
      overrides: { 'GET /api/sns/trending': broken.json(500, { error: 'boom' }) },
      fails: ['sns-trending'],
    },
    {
      item: 'a review blueprint not registered (Flask HTML 404)',
      overrides: { 'GET /api/review/rules': broken.html(404) },
      fails: ['review-rules'],
    },
    {
      item: 'a POST-only route answering GET with Flask’s HTML 405',
      overrides: { 'GET /api/sns/ai/generate': broken.html(405) },
      fails: ['sns-ai-generate'],
    },
    {
      item: 'HTML error pages for an invalid token',
      overrides: { 'GET /api/sns/accounts': broken.html(401) },
      fails: ['sns-accounts', 'invalid-token'],
    },
    {
      item: 'no CORS header',
      overrides: { 'GET /health': broken.json(200, { status: 'ok' }, false) },
      fails: ['cors-health'],
    },
    {
      item: 'an OAuth endpoint without auth_url',
      overrides: { 'GET /api/auth/oauth/kakao/url': broken.json(200, { error: 'not configured' }) },
      fails: ['oauth-kakao-url'],
    },
    {
      item: '/api/auth/me answering user data without a token',
      overrides: { 'GET /api/auth/me': broken.json(200, { id: 1, email: 'demo@softfactory.test' }) },
      fails: ['auth-me'],
    },
    {
      item: 'the auth endpoint slower than 100 ms',
      overrides: { 'GET /api/auth/me': broken.slow(150, broken.json(200, { id: 1 })) },
      fails: ['auth-me', 'auth-me-token'],
      token: true,
    },
    {
      item: 'a login page without the OAuth buttons',
      overrides: { 'GET /web/platform/login.html': broken.html(200, '<!DOCTYPE html><html><body>Login</body></html>') },
      fails: ['page-login'],
    },
    {
      item: 'a page served without a DOCTYPE',
      overrides: { 'GET /web/review/aggregator.html': broken.html(200, '<p>Aggregator</p>') },
      // The page's content checks fail with it: '<p>Aggregator</p>' has no fetch of api/review, no auth header.
      fails: ['page-review-aggregator', 'page-review-aggregator-api', 'page-review-aggregator-auth'],
    },
    {
      item: 'cache stats answering HTML',
      overrides: { 'GET /api/cache/stats': broken.html(200, '<html>stats</html>') },
      fails: ['cache-stats'],
    },
  ];

  for (const variant of variants) {
    it(`catches ${variant.item}`, async () => {
      const { result } = await against({ overrides: variant.overrides }, variant.token ? { token: TOKEN } : {});
      assert.deepEqual(failing(result).sort(), [...variant.fails].sort());
      assert.equal(result.passed, false);
    });
  }

  it('catches missing input validation, and still deletes the post it created by mistake', async () => {
    const accepting: Handler = (_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 100 }));
    };
    const fake = fakeSoftFactory({ token: TOKEN, overrides: { 'POST /api/sns/posts': accepting } });
    // Pretend the faulty create really stored something, so the cleanup has something to remove.
    fake.posts.set(100, { platform: '', content: '' });
    const server = await listen(fake.handler);
    try {
      const result = await runSuite({
        baseUrl: server.url,
        spec: defaultSpec(),
        token: TOKEN,
        checkTimeoutMs: 2_000,
        suiteTimeoutMs: 10_000,
        maxBodyBytes: 1_048_576,
      });
      const check = result.checks.find((c) => c.id === 'input-validation')!;
      assert.equal(check.verdict, 'fail');
      assert.match(check.reason ?? '', /^expected status 400\/422, got 201/);
      assert.equal(fake.posts.size, 0);
    } finally {
      await server.close();
    }
  });
});

/**
 * The production-mode checks against a fake SoftFactory started from an environment, as the app starts: production
 * mode (ENVIRONMENT=production, TESTING=false, its secrets set) passes them, the test-mode variant (the environment
 * our task definition gave it before issue 16: neither variable set) fails every one of them. The fake serves HTTPS
 * itself with a certificate for the domain (its requests are then secure, as behind the ALB with
 * X-Forwarded-Proto: https) and plain HTTP for the redirect check; the engine connects to 127.0.0.1 naming the domain.
 */
describe('default spec: the app’s production mode', () => {
  const DOMAIN = 'app.example.test';
  const PRODUCTION_ENV = {
    ENVIRONMENT: 'production',
    TESTING: 'false',
    PLATFORM_SECRET_KEY: 'platform-secret',
    JWT_SECRET: 'jwt-secret',
    FLASK_ENV: 'production',
    APP_PORT: '8000',
    CORS_ORIGINS: ORIGIN,
  };
  const TEST_MODE_ENV = { FLASK_ENV: 'production', APP_PORT: '8000', CORS_ORIGINS: ORIGIN };
  const ca = certificateAuthority();
  const tls = ca.issue(DOMAIN);
  const production = () => defaultSpec().checks.filter((c) => c.appMode === 'production');

  async function suiteAgainst(running: RunningFakeSoftFactory, appMode: AppMode): Promise<SuiteResult> {
    return runSuite({
      baseUrl: `https://${DOMAIN}:${running.https!.port}`,
      connectTo: '127.0.0.1',
      httpPort: running.http.port,
      ca: ca.cert,
      spec: defaultSpec(),
      allowedOrigins: [ORIGIN],
      token: TOKEN,
      appMode,
      checkTimeoutMs: 2_000,
      suiteTimeoutMs: 10_000,
      maxBodyBytes: 1_048_576,
    });
  }

  it('decides its mode from the environment as start_platform.py does, and refuses to start without its secrets', async () => {
    assert.equal(fakeSoftFactory({ env: {} }).mode, 'test');
    assert.equal(fakeSoftFactory({ env: TEST_MODE_ENV }).mode, 'test');
    assert.equal(fakeSoftFactory({ env: { ENVIRONMENT: 'production' } }).mode, 'test');
    assert.equal(fakeSoftFactory({ env: PRODUCTION_ENV }).mode, 'production');
    const { PLATFORM_SECRET_KEY: _p, ...noPlatformKey } = PRODUCTION_ENV;
    const { JWT_SECRET: _j, ...noJwt } = PRODUCTION_ENV;
    await assert.rejects(
      startFakeSoftFactory({ env: noPlatformKey }),
      (error: unknown) =>
        error instanceof FakeStartupError && error.message === 'PLATFORM_SECRET_KEY must be set in production',
    );
    await assert.rejects(
      startFakeSoftFactory({ env: noJwt }),
      (error: unknown) =>
        error instanceof FakeStartupError &&
        error.message === 'Missing required production environment variables: JWT_SECRET',
    );
  });

  it('in production mode redirects header-less plain HTTP (even /health), honours X-Forwarded-Proto and reports its database on /ready', async () => {
    const running = await startFakeSoftFactory({ env: PRODUCTION_ENV, token: TOKEN });
    try {
      const get = (path: string, headers: Record<string, string> = {}) =>
        fetch(`${running.http.url}${path}`, { headers, redirect: 'manual' });
      const bare = await get('/health');
      assert.equal(bare.status, 301);
      assert.equal(bare.headers.get('location'), `https://127.0.0.1:${running.http.port}/health`);
      const forwarded = await get('/health', { 'x-forwarded-proto': 'https' });
      assert.equal(forwarded.status, 200);
      assert.match(forwarded.headers.get('strict-transport-security') ?? '', /^max-age=\d+/);
      assert.equal((await get('/ready')).status, 301);
      assert.equal((await get('/ready', { 'x-forwarded-proto': 'https' })).status, 200);
      running.fake.setDatabaseReachable(false);
      assert.equal((await get('/ready', { 'x-forwarded-proto': 'https' })).status, 503);
    } finally {
      await running.close();
    }
  });

  it('passes every production-mode check against a production-mode SoftFactory', async () => {
    const running = await startFakeSoftFactory({ env: PRODUCTION_ENV, token: TOKEN, tls });
    try {
      const result = await suiteAgainst(running, 'production');
      assert.equal(production().length, 7, 'refusals of both shared tokens, three live OAuth checks, HSTS, the 301');
      assert.deepEqual(failing(result), [], JSON.stringify(result.checks.filter((c) => c.verdict === 'fail')));
      for (const check of production()) assert.equal(verdicts(result).get(check.id), 'pass', check.id);
      assert.equal(verdicts(result).get('demo-token-accepted'), 'skipped');
      assert.equal(result.passed, true);
    } finally {
      await running.close();
    }
  });

  it('fails every production-mode check against the test-mode variant (the environment without ENVIRONMENT/TESTING)', async () => {
    const running = await startFakeSoftFactory({ env: TEST_MODE_ENV, token: TOKEN, tls });
    try {
      const result = await suiteAgainst(running, 'production');
      // Every production-mode check fails; the mode-agnostic ones hold in both modes (only a latency budget on an
      // overloaded machine could add to this list, so it is not asserted to be exact).
      for (const check of production()) assert.equal(verdicts(result).get(check.id), 'fail', check.id);
      const reason = (id: string) => result.checks.find((c) => c.id === id)?.reason;
      assert.equal(reason('demo-token-refused'), 'expected status 401, got 200');
      assert.equal(reason('test-token-refused'), 'expected status 401, got 200');
      assert.match(
        reason('oauth-google-live') ?? '',
        /auth_url to match \/\^https:\/\/\/.*; expected JSON field mock_mode = false, got true/,
      );
      assert.equal(reason('hsts'), 'missing response header Strict-Transport-Security');
      assert.equal(reason('http-redirect'), 'expected status 301, got 200');
      assert.equal(result.passed, false);
    } finally {
      await running.close();
    }
  });

  it('runs the test-mode check (demo_token accepted) against the test-mode variant, as dev does', async () => {
    const running = await startFakeSoftFactory({ env: TEST_MODE_ENV, token: TOKEN, tls });
    try {
      const result = await suiteAgainst(running, 'test');
      assert.deepEqual(failing(result), []);
      assert.equal(verdicts(result).get('demo-token-accepted'), 'pass');
      for (const check of production()) {
        assert.equal(verdicts(result).get(check.id), 'skipped');
        assert.equal(
          result.checks.find((c) => c.id === check.id)?.reason,
          'checks production mode; this target runs the app in test mode',
        );
      }
    } finally {
      await running.close();
    }
  });
});
