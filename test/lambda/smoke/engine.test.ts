import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { type CheckResult, type RunSuiteOptions, runSuite, type SuiteResult } from '../../../lambda/smoke/engine';
import { parseSpec, type SmokeSpecInput } from '../../../lambda/smoke/spec';
import {
  certificateAuthority,
  faultHandler,
  type Handler,
  type Listening,
  listen,
  refusedPort,
  selfSignedCertificate,
  type TestCertificateAuthority,
} from '../../fixtures/smoke/servers';

type CheckInput = SmokeSpecInput['checks'][number];

/** A check that passes against a healthy `{"status":"ok"}` answer within 1 s. */
const healthyCheck = (id: string, path: string, extra: Partial<CheckInput> = {}): CheckInput => ({
  id,
  title: id,
  path,
  expect: {
    status: [200],
    contentType: 'application/json',
    body: [{ kind: 'json-path', path: 'status', equals: 'ok' }],
  },
  latencyBudgetMs: 1_000,
  ...extra,
});

const CHECK_TIMEOUT_MS = 300;
/** Generous slack for a loaded CI machine; the point is "bounded", not "fast". */
const SLACK_MS = 700;

async function run(
  baseUrl: string,
  checks: CheckInput[],
  options: Partial<RunSuiteOptions> = {},
): Promise<{ result: SuiteResult; elapsedMs: number }> {
  const started = performance.now();
  const result = await runSuite({
    baseUrl,
    spec: parseSpec({ version: 1, checks }),
    checkTimeoutMs: CHECK_TIMEOUT_MS,
    suiteTimeoutMs: 5_000,
    maxBodyBytes: 256 * 1024,
    ...options,
  });
  return { result, elapsedMs: performance.now() - started };
}

const only = (result: SuiteResult): CheckResult => {
  assert.equal(result.checks.length, 1);
  return result.checks[0]!;
};

describe('smoke engine: count assertions and before requests', () => {
  let server: Listening;
  before(async () => {
    server = await listen((req, res) => {
      const pages: Record<string, [string, string]> = {
        '/app/index.html': ['text/html', '<link rel="stylesheet" href="css/site.css?v=2"><a href="x">x</a>'],
        '/app/css/site.css': ['text/css', 'body{}'],
        '/foreign.html': ['text/html', "<link href='https://cdn.example.com/site.css'>"],
        '/lib.js': [
          'text/javascript',
          'export function a() {}\nexport const b = 1;\n// export function in a comment\nfunction c() {}\n',
        ],
        '/listings': ['application/json', JSON.stringify({ data: [{ id: 'a b' }] })],
        '/empty': ['application/json', JSON.stringify({ data: [] })],
      };
      const url = req.url ?? '/';
      const page = pages[url.split('?')[0]!] ?? pages[url];
      if (url.startsWith('/apply/')) {
        res.writeHead(201, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify({ applied: url }));
      }
      res.writeHead(page ? 200 : 404, { 'content-type': page?.[0] ?? 'text/plain' });
      res.end(page?.[1] ?? 'nope');
    });
  });
  after(() => server.close());
  const plain = (id: string, path: string, extra: Partial<CheckInput>): CheckInput => ({
    id,
    title: id,
    path,
    expect: { status: [200] },
    ...extra,
  });

  it('counts matching lines like grep -c, failing below atLeast with the count found', async () => {
    const count = (atLeast: number) =>
      run(server.url, [
        plain('lib', '/lib.js', {
          expect: { status: [200], body: [{ kind: 'count', pattern: 'export function|export const', atLeast }] },
        }),
      ]);
    assert.equal(only((await count(3)).result).verdict, 'pass');
    const short = only((await count(4)).result);
    assert.equal(short.verdict, 'fail');
    assert.equal(short.reason, 'expected at least 4 lines matching /export function|export const/, found 3');
  });

  it('fetches what a page references, resolved against the page (query kept), and fails on another origin', async () => {
    const css = plain('css', '{before}', {
      before: { path: '/app/index.html', match: 'href="([^"]+\\.css[^"]*)"' },
      expect: { status: [200], contentType: 'text/css' },
    });
    const ok = only((await run(server.url, [css])).result);
    assert.equal(ok.verdict, 'pass');
    assert.equal(ok.path, '/app/css/site.css?v=2');
    const foreign = only(
      (await run(server.url, [{ ...css, before: { path: '/foreign.html', match: "href='([^']+)'" } }])).result,
    );
    assert.equal(foreign.verdict, 'fail');
    assert.equal(
      foreign.reason,
      'before: GET /foreign.html references https://cdn.example.com/site.css, another origin',
    );
  });

  it('fills {before} from JSON (URL-encoded), skips or fails when there is nothing, as the check says', async () => {
    const apply = (path: string, missing: 'skip' | 'fail') =>
      plain('apply', '/apply/{before}', {
        method: 'POST',
        writes: true,
        before: { path, json: 'items[0].id|data[0].id', missing },
        expect: { status: [201] },
      });
    const done = only((await run(server.url, [apply('/listings', 'skip')], { allowWrites: true })).result);
    assert.equal(done.verdict, 'pass');
    assert.equal(done.path, '/apply/a%20b');
    const none = only((await run(server.url, [apply('/empty', 'skip')], { allowWrites: true })).result);
    assert.equal(none.verdict, 'skipped');
    assert.equal(none.reason, 'nothing to check: GET /empty has no items[0].id|data[0].id');
    const failing = only((await run(server.url, [apply('/empty', 'fail')], { allowWrites: true })).result);
    assert.equal(failing.verdict, 'fail');
    const broken = only((await run(server.url, [apply('/missing', 'skip')], { allowWrites: true })).result);
    assert.equal(broken.verdict, 'fail');
    assert.equal(broken.reason, 'before: GET /missing answered 404, expected 200');
  });
});

describe('smoke engine: the API paths a page references (references)', () => {
  const TOKEN = 'probe-token';
  let server: Listening;
  /** Every request the app saw: method, path, and whether it carried the token. */
  const seen: { method: string; path: string; token: boolean }[] = [];
  const pages: Record<string, string> = {
    '/p/create.html':
      "<script>fetch('/api/posts', {method: 'POST'}); fetch('/api/accounts'); fetch('/api/accounts?x=1');\n" +
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the page's own JavaScript template literal, as served
      "fetch(`/api/posts/${id}`); fetch('/api/posts/' + id); fetch('https://cdn.example.com/api/x');</script>",
    '/p/missing.html': "<script>fetch('/api/accounts'); fetch('/api/drafts'); fetch('/api/crash');</script>",
    '/p/none.html': '<p>no script</p>',
    '/p/relative.html': "<script>fetch('../api/accounts')</script>",
  };
  before(async () => {
    server = await listen((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      const token = req.headers.authorization === `Bearer ${TOKEN}`;
      seen.push({ method: req.method ?? 'GET', path, token });
      const page = pages[path];
      if (page) {
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.end(page);
      }
      // Flask's routing: 405 to GET on a POST-only rule, 401 from a view without the token, 404 for no rule.
      const status =
        path === '/api/posts'
          ? 405
          : path === '/api/accounts'
            ? token
              ? 200
              : 401
            : path === '/api/crash'
              ? 500
              : 404;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  after(() => server.close());
  const pageCheck = (path: string, references: NonNullable<CheckInput['references']>): CheckInput => ({
    id: 'page',
    title: 'page',
    path,
    expect: { status: [200], contentType: 'text/html' },
    references,
  });
  const probes = () => seen.filter((r) => r.path.startsWith('/api/'));

  it('probes every distinct same-origin path once, with the token, and passes when each is a route (405 and 200)', async () => {
    seen.length = 0;
    const { result } = await run(server.url, [pageCheck('/p/create.html', { pattern: "fetch\\(['`]([^'`]+)['`]" })], {
      token: TOKEN,
    });
    assert.equal(only(result).verdict, 'pass', only(result).reason ?? '');
    // /api/accounts?x=1 is the same route; the template, the prefix and the CDN are not probed.
    assert.deepEqual(
      probes().sort((a, b) => a.path.localeCompare(b.path)),
      [
        { method: 'GET', path: '/api/accounts', token: true },
        { method: 'GET', path: '/api/posts', token: true },
      ],
    );
  });

  it('fails naming every path answered 404 or 5xx, and the count probed', async () => {
    const { result } = await run(server.url, [pageCheck('/p/missing.html', { pattern: "fetch\\('([^']+)'" })], {
      token: TOKEN,
    });
    const check = only(result);
    assert.equal(check.verdict, 'fail');
    assert.equal(check.failureKind, 'assertion');
    assert.equal(
      check.reason,
      '2 of 3 API path(s) GET /p/missing.html references not served: GET /api/crash answered 500; GET /api/drafts answered 404',
    );
  });

  it('fails a page that references fewer paths than atLeast, and passes atLeast 0 on a page that calls none', async () => {
    const pattern = "fetch\\('([^']+)'";
    const strict = only((await run(server.url, [pageCheck('/p/none.html', { pattern })], { token: TOKEN })).result);
    assert.equal(strict.verdict, 'fail');
    assert.equal(strict.reason, 'GET /p/none.html references 0 API path(s), expected at least 1');
    const lenient = only(
      (await run(server.url, [pageCheck('/p/none.html', { pattern, atLeast: 0 })], { token: TOKEN })).result,
    );
    assert.equal(lenient.verdict, 'pass');
  });

  it('resolves a relative reference (../api/…) against the page', async () => {
    seen.length = 0;
    const check = only(
      (await run(`${server.url}/`, [pageCheck('/p/relative.html', { pattern: "fetch\\('([^']+)'" })], { token: TOKEN }))
        .result,
    );
    assert.equal(check.verdict, 'pass', check.reason ?? '');
    assert.deepEqual(probes(), [{ method: 'GET', path: '/api/accounts', token: true }]);
  });

  it('is skipped without a token (a 401 before routing would prove nothing), and probes bare with auth none', async () => {
    seen.length = 0;
    const pattern = "fetch\\('([^']+)'";
    const skipped = only((await run(server.url, [pageCheck('/p/missing.html', { pattern })])).result);
    assert.equal(skipped.verdict, 'skipped');
    assert.deepEqual(seen, []);
    const bare = only(
      (await run(server.url, [pageCheck('/p/create.html', { pattern, auth: 'none' })], { token: TOKEN })).result,
    );
    assert.equal(bare.verdict, 'pass', bare.reason ?? '');
    assert.ok(probes().length > 0 && probes().every((r) => !r.token), JSON.stringify(probes()));
  });

  it('fails in time, as a timeout, when a probed path never answers', async () => {
    const hanging = await listen((req, res) => {
      if (req.url === '/page.html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.end("<script>fetch('/api/hang')</script>");
      }
      // Never answers.
    });
    try {
      const started = performance.now();
      const { result } = await run(hanging.url, [pageCheck('/page.html', { pattern: "fetch\\('([^']+)'" })], {
        token: TOKEN,
      });
      assert.equal(only(result).verdict, 'fail');
      assert.equal(only(result).failureKind, 'timeout');
      assert.match(only(result).reason ?? '', /GET \/api\/hang failed: no (?:response|connection) within 300 ms/);
      assert.ok(performance.now() - started < CHECK_TIMEOUT_MS + SLACK_MS);
    } finally {
      await hanging.close();
    }
  });
});

describe('smoke engine against injected faults', () => {
  let faults: Listening;
  let hits: Map<string, number>;
  let tls: Listening;
  let cert: string;

  before(async () => {
    const fault = faultHandler();
    hits = fault.hits;
    faults = await listen(fault.handler);
    const pair = selfSignedCertificate();
    cert = pair.cert;
    tls = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    }, pair);
  });
  after(async () => {
    await faults.close();
    await tls.close();
  });

  it('passes a healthy answer (the control for every fault below)', async () => {
    const { result } = await run(faults.url, [healthyCheck('ok', '/ok')]);
    assert.equal(only(result).verdict, 'pass');
    assert.equal(only(result).status, 200);
    assert.equal(only(result).reason, null);
    assert.equal(result.passed, true);
  });

  const cases: {
    name: string;
    path: string;
    base?: () => Promise<string> | string;
    check?: Partial<CheckInput>;
    reason: RegExp;
    kind: CheckResult['failureKind'];
  }[] = [
    {
      name: 'connection refused',
      path: '/ok',
      base: async () => `http://127.0.0.1:${await refusedPort()}`,
      reason: /^connection refused \(127\.0\.0\.1:\d+\)$/,
      kind: 'network',
    },
    { name: 'a hang past the deadline', path: '/hang', reason: /^no response within 300 ms$/, kind: 'timeout' },
    {
      name: 'a body that stops arriving',
      path: '/hang-body',
      reason: /^response body not complete within 300 ms$/,
      kind: 'timeout',
    },
    { name: 'a reset mid-body', path: '/reset', reason: /^connection reset mid-body$/, kind: 'network' },
    { name: 'a 500', path: '/500', reason: /^expected status 200, got 500$/, kind: 'assertion' },
    { name: 'a 503', path: '/503', reason: /^expected status 200, got 503$/, kind: 'gateway' },
    {
      name: 'a 404 (HTML)',
      path: '/404',
      reason: /^expected status 200, got 404 \(HTML error page\)$/,
      kind: 'assertion',
    },
    {
      name: 'an HTML error page on an API route with an accepted status',
      path: '/html-error',
      check: { expect: { status: [200, 401], contentType: 'application/json' } },
      reason: /^expected JSON but got text\/html \(HTML error page\)$/,
      kind: 'assertion',
    },
    { name: 'invalid JSON', path: '/invalid-json', reason: /^invalid JSON body \(.+\)$/, kind: 'assertion' },
    {
      name: 'a slow answer over budget',
      path: '/slow',
      check: { latencyBudgetMs: 50 },
      reason: /^latency \d+ ms over budget 50 ms \(alone; \d+ ms in the concurrent run\)$/,
      kind: 'assertion',
    },
    {
      name: 'a redirect loop (following redirects)',
      path: '/loop',
      check: { followRedirects: 5 },
      reason: /^redirect loop: \/loop -> \/loop/,
      kind: 'assertion',
    },
    {
      name: 'a redirect (not followed by default)',
      path: '/loop',
      reason: /^expected status 200, got 302 \(redirect to \/loop\)$/,
      kind: 'assertion',
    },
    {
      name: 'an endless redirect chain',
      path: '/chain/0',
      check: { followRedirects: 3 },
      reason: /^more than 3 redirect\(s\)/,
      kind: 'assertion',
    },
    { name: 'an endless body', path: '/huge', reason: /^response body over the 262144-byte limit$/, kind: 'assertion' },
    {
      name: 'an oversized declared body',
      path: '/huge-declared',
      reason: /^response body of 52428800 bytes is over the 262144-byte limit$/,
      kind: 'assertion',
    },
    {
      name: 'a self-signed certificate',
      path: '/ok',
      base: () => tls.url,
      reason: /^TLS: unknown CA: the certificate is self-signed, no trusted CA vouches for it; /,
      kind: 'assertion',
    },
    {
      name: 'an unresolvable host',
      path: '/ok',
      base: () => 'http://smoke-check.invalid',
      reason: /^host not found \(smoke-check\.invalid\)$/,
      kind: 'assertion',
    },
  ];

  for (const fault of cases) {
    it(`fails on ${fault.name}, within the check deadline`, async () => {
      const base = fault.base ? await fault.base() : faults.url;
      const { result, elapsedMs } = await run(base, [healthyCheck('target', fault.path, fault.check)]);
      const check = only(result);
      assert.equal(check.verdict, 'fail', `${fault.name} must not pass`);
      assert.match(check.reason ?? '', fault.reason);
      assert.equal(check.failureKind, fault.kind);
      assert.equal(result.passed, false);
      assert.ok(elapsedMs < CHECK_TIMEOUT_MS + SLACK_MS, `took ${Math.round(elapsedMs)} ms`);
      assert.ok(result.durationMs <= elapsedMs + 1);
    });
  }

  it('keeps evidence of a wrong answer: status, content type and a body excerpt', async () => {
    const { result } = await run(faults.url, [healthyCheck('target', '/404')]);
    const check = only(result);
    assert.equal(check.status, 404);
    assert.match(check.contentType ?? '', /^text\/html/);
    assert.match(check.excerpt ?? '', /404 Not Found/);
    assert.ok(check.latencyMs !== null && check.latencyMs >= 0);
  });

  it('trusts a certificate only when its CA is given explicitly', async () => {
    const { result } = await run(tls.url, [healthyCheck('tls', '/ok')], { ca: cert });
    assert.equal(only(result).verdict, 'pass');
  });

  it('fails every check still running at the suite deadline with "suite deadline exceeded"', async () => {
    const checks = ['a', 'b', 'c', 'd'].map((id) => healthyCheck(`hang-${id}`, '/hang'));
    const { result, elapsedMs } = await run(faults.url, checks, { checkTimeoutMs: 5_000, suiteTimeoutMs: 300 });
    assert.deepEqual(
      result.checks.map((c) => [c.verdict, c.reason]),
      checks.map(() => ['fail', 'suite deadline exceeded']),
    );
    assert.equal(result.passed, false);
    assert.ok(elapsedMs < 300 + SLACK_MS, `took ${Math.round(elapsedMs)} ms`);
  });

  it('fails checks that never got to start before the suite deadline', async () => {
    const checks = ['a', 'b', 'c'].map((id) => healthyCheck(`hang-${id}`, '/hang'));
    const { result, elapsedMs } = await run(faults.url, checks, {
      checkTimeoutMs: 200,
      suiteTimeoutMs: 300,
      concurrency: 1,
    });
    assert.deepEqual(
      result.checks.map((c) => c.reason),
      ['no response within 200 ms', 'suite deadline exceeded', 'suite deadline exceeded before the check started'],
    );
    assert.ok(result.checks.every((c) => c.verdict === 'fail'));
    assert.ok(elapsedMs < 300 + SLACK_MS, `took ${Math.round(elapsedMs)} ms`);
  });

  it('stops when the caller aborts, like a suite deadline', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const { result, elapsedMs } = await run(faults.url, [healthyCheck('hang', '/hang')], {
      checkTimeoutMs: 5_000,
      signal: controller.signal,
    });
    assert.equal(only(result).reason, 'suite deadline exceeded');
    assert.ok(elapsedMs < 100 + SLACK_MS);
  });

  it('retries only as often as the check says', async () => {
    const { result: once } = await run(faults.url, [healthyCheck('flaky', '/flaky/no-retry/2')]);
    assert.equal(only(once).verdict, 'fail');
    assert.equal(only(once).attempts, 1);
    assert.equal(hits.get('/flaky/no-retry/2'), 1);

    const { result: retried } = await run(faults.url, [healthyCheck('flaky', '/flaky/retry/2', { retries: 2 })], {
      checkTimeoutMs: 2_000,
    });
    assert.equal(only(retried).verdict, 'pass');
    assert.equal(only(retried).attempts, 3);
    assert.equal(hits.get('/flaky/retry/2'), 3);
  });

  it('does not let retries outlive the check deadline', async () => {
    const { result, elapsedMs } = await run(faults.url, [healthyCheck('hang', '/hang', { retries: 5 })]);
    assert.equal(only(result).verdict, 'fail');
    assert.equal(only(result).attempts, 1);
    assert.ok(elapsedMs < CHECK_TIMEOUT_MS + SLACK_MS);
  });

  it('judges latency budgets on a request made alone, not on queueing behind its own burst', async () => {
    // Like a Flask app with one worker: requests are served one at a time, 30 ms each.
    const queue: (() => void)[] = [];
    let busy = false;
    const next = () => {
      const job = queue.shift();
      busy = job !== undefined;
      job?.();
    };
    const server = await listen((_req, res) => {
      queue.push(() =>
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"status":"ok"}');
          next();
        }, 30),
      );
      if (!busy) next();
    });
    try {
      const checks = Array.from({ length: 8 }, (_, i) => healthyCheck(`queued-${i}`, '/ok', { latencyBudgetMs: 100 }));
      const { result } = await run(server.url, checks, { checkTimeoutMs: 2_000 });
      assert.equal(result.passed, true, JSON.stringify(result.checks.map((c) => c.reason)));
      assert.ok(
        result.checks.some((c) => c.attempts === 2),
        'no check was re-measured',
      );
      assert.ok(result.checks.every((c) => (c.latencyMs ?? 0) <= 100));
    } finally {
      await server.close();
    }
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const server = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
    });
    try {
      const checks = Array.from({ length: 8 }, (_, i) => healthyCheck(`ok-${i}`, '/ok'));
      const { result } = await run(server.url, checks, { concurrency: 1 });
      assert.equal(result.passed, true);
      assert.equal(server.connections(), 1);
    } finally {
      await server.close();
    }
  });
});

describe('smoke engine verdicts and credentials', () => {
  let server: Listening;
  const seen: { path: string; authorization: string | undefined }[] = [];

  before(async () => {
    server = await listen((req, res) => {
      seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
      const authorized = req.headers.authorization === 'Bearer s3cret-token';
      res.writeHead(authorized || req.url === '/public' ? 200 : 401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(authorized ? { status: 'ok', echo: 's3cret-token', user: 'x' } : { error: 'Invalid token' }),
      );
    });
  });
  after(() => server.close());

  const publicCheck = healthyCheck('public', '/public', { expect: { status: [200] } });
  const bearerCheck = healthyCheck('bearer', '/me', { auth: 'bearer' });
  const writeCheck = healthyCheck('write', '/write', { method: 'POST', body: { a: 1 }, writes: true, auth: 'none' });
  const invalidCheck = healthyCheck('invalid', '/invalid', {
    auth: 'invalid-token',
    expect: { status: [401], contentType: 'application/json' },
  });

  it('skips bearer checks without a token and write checks without allowWrites, never reporting them passed', async () => {
    const { result } = await run(server.url, [publicCheck, bearerCheck, writeCheck]);
    assert.deepEqual(
      result.checks.map((c) => [c.id, c.verdict]),
      [
        ['public', 'pass'],
        ['bearer', 'skipped'],
        ['write', 'skipped'],
      ],
    );
    assert.match(result.checks[1]!.reason ?? '', /needs a token/);
    assert.match(result.checks[2]!.reason ?? '', /writes data/);
    assert.equal(result.passed, true);
  });

  it('is not passed when every check was skipped', async () => {
    const { result } = await run(server.url, [bearerCheck, writeCheck]);
    assert.ok(result.checks.every((c) => c.verdict === 'skipped'));
    assert.equal(result.passed, false);
  });

  it('sends the token only to bearer checks and a fixed invalid token to invalid-token checks', async () => {
    seen.length = 0;
    const { result } = await run(server.url, [publicCheck, bearerCheck, invalidCheck], { token: 's3cret-token' });
    assert.equal(result.passed, true, JSON.stringify(result.checks));
    const byPath = new Map(seen.map((s) => [s.path, s.authorization]));
    assert.equal(byPath.get('/public'), undefined);
    assert.equal(byPath.get('/me'), 'Bearer s3cret-token');
    assert.equal(byPath.get('/invalid'), 'Bearer invalid_token');
  });

  it('runs write checks only when allowed', async () => {
    seen.length = 0;
    const check = { ...writeCheck, expect: { status: [401] } };
    const { result } = await run(server.url, [check], { allowWrites: true });
    assert.equal(only(result).verdict, 'pass');
    assert.deepEqual(
      seen.map((s) => s.path),
      ['/write'],
    );
  });

  it('redacts the token from body excerpts', async () => {
    const failing = healthyCheck('echo', '/me', {
      auth: 'bearer',
      expect: { status: [200], body: [{ kind: 'contains', anyOf: ['absent'] }] },
    });
    const { result } = await run(server.url, [failing], { token: 's3cret-token' });
    assert.equal(only(result).verdict, 'fail');
    assert.doesNotMatch(only(result).excerpt ?? '', /s3cret-token/);
    assert.match(only(result).excerpt ?? '', /\[token\]/);
  });

  it('runs only the checks carrying a requested tag', async () => {
    const tagged = { ...publicCheck, tags: ['health'] };
    const { result } = await run(server.url, [tagged, { ...bearerCheck, tags: ['auth'] }], { tags: ['health'] });
    assert.deepEqual(
      result.checks.map((c) => c.id),
      ['public'],
    );
  });

  it('sends SoftFactory’s shared test tokens for demo-token and test-token checks, without a smoke token', async () => {
    seen.length = 0;
    const refused = { status: [401] };
    await run(server.url, [
      healthyCheck('demo', '/demo', { auth: 'demo-token', expect: refused }),
      healthyCheck('test', '/test', { auth: 'test-token', expect: refused }),
    ]);
    const byPath = new Map(seen.map((s) => [s.path, s.authorization]));
    assert.equal(byPath.get('/demo'), 'Bearer demo_token');
    assert.equal(byPath.get('/test'), 'Bearer test_token');
  });

  it('runs an app-mode check only against that mode, and says why it skipped the others', async () => {
    const checks = [
      publicCheck,
      { ...publicCheck, id: 'prod-only', appMode: 'production' as const },
      { ...publicCheck, id: 'test-only', appMode: 'test' as const },
    ];
    const unknown = (await run(server.url, checks)).result.checks;
    assert.deepEqual(
      unknown.map((c) => [c.id, c.verdict, c.reason]),
      [
        ['public', 'pass', null],
        ['prod-only', 'skipped', 'checks production mode: runs when the app mode is given (--app-mode production)'],
        ['test-only', 'skipped', 'checks test mode: runs when the app mode is given (--app-mode test)'],
      ],
    );
    const production = (await run(server.url, checks, { appMode: 'production' })).result.checks;
    assert.deepEqual(
      production.map((c) => [c.id, c.verdict, c.reason]),
      [
        ['public', 'pass', null],
        ['prod-only', 'pass', null],
        ['test-only', 'skipped', 'checks test mode; this target runs the app in production mode'],
      ],
    );
  });

  it('sends a plainHttp check over HTTP to the base URL’s host on the HTTP port, and a missing optional field passes', async () => {
    const ca = certificateAuthority();
    const secure = await listen((_req, res) => res.end('{}'), ca.issue('localhost'));
    const http = await listen((req, res) => {
      res.writeHead(301, { location: `https://localhost${req.url}`, 'content-type': 'application/json' });
      res.end('{"moved":true}');
    });
    try {
      const redirect = healthyCheck('redirect', '/health', {
        plainHttp: true,
        expect: {
          status: [301],
          headers: [{ name: 'Location', matches: '^https://' }],
          body: [{ kind: 'json-path', path: 'mock_mode', equals: false, optional: true }],
        },
      });
      const { result } = await run(`https://localhost:${secure.port}`, [redirect], {
        ca: ca.cert,
        httpPort: http.port,
      });
      assert.equal(only(result).verdict, 'pass', only(result).reason ?? '');
      assert.equal(http.connections(), 1);
      assert.equal(secure.connections(), 0);
    } finally {
      await secure.close();
      await http.close();
    }
  });

  it('rejects a base URL it cannot use', async () => {
    await assert.rejects(run('ftp://example.com', [publicCheck]), /http:\/\/ or https:\/\//);
    await assert.rejects(run('not a url', [publicCheck]), /not a valid URL/);
  });
});

/**
 * The deploy hook connects to the stage's load balancer by its DNS name while the URL names the configured domain:
 * the TLS server name (SNI), the certificate check and the Host header must all be the domain. Real HTTPS servers on
 * 127.0.0.1 with certificates from a throwaway CA stand in for the ALB's listeners.
 */
describe('smoke engine connecting to one address while naming another host', () => {
  const DOMAIN = 'app.example.test';
  let ca: TestCertificateAuthority;
  let right: Listening;
  let wrong: Listening;
  let plain: Listening;
  const seen: { host: string | undefined; servername: string | undefined }[] = [];
  const record: Handler = (req, res) => {
    const socket = req.socket as TLSSocket;
    seen.push({ host: req.headers.host, servername: socket.encrypted ? (socket.servername as string) : undefined });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
  };

  before(async () => {
    ca = certificateAuthority();
    right = await listen(record, ca.issue(DOMAIN));
    wrong = await listen(record, ca.issue('other.example.test'));
    plain = await listen(record);
  });
  after(async () => {
    await right.close();
    await wrong.close();
    await plain.close();
  });

  it('sends the domain as TLS server name and Host header to the address it connects to, and verifies the certificate for the domain', async () => {
    seen.length = 0;
    const { result } = await run(`https://${DOMAIN}:${right.port}`, [healthyCheck('health', '/ok')], {
      ca: ca.cert,
      connectTo: '127.0.0.1',
    });
    assert.equal(only(result).verdict, 'pass', only(result).reason ?? '');
    assert.deepEqual(seen, [{ host: `${DOMAIN}:${right.port}`, servername: DOMAIN }]);
    assert.equal(result.target, `https://${DOMAIN}:${right.port}/`);
    assert.equal(result.connectedTo, '127.0.0.1');
  });

  it('fails, in plain words, when the address answers with a certificate for another name', async () => {
    const { result } = await run(`https://${DOMAIN}:${wrong.port}`, [healthyCheck('health', '/ok')], {
      ca: ca.cert,
      connectTo: '127.0.0.1',
    });
    assert.equal(only(result).verdict, 'fail');
    assert.equal(only(result).failureKind, 'assertion');
    assert.equal(
      only(result).reason,
      `TLS: name mismatch: the certificate is not valid for ${DOMAIN}: it names other.example.test`,
    );
  });

  it('redirects the connection for plain HTTP too, keeping the Host header', async () => {
    seen.length = 0;
    const { result } = await run(`http://${DOMAIN}:${plain.port}`, [healthyCheck('health', '/ok')], {
      connectTo: 'localhost',
    });
    assert.equal(only(result).verdict, 'pass', only(result).reason ?? '');
    assert.deepEqual(seen, [{ host: `${DOMAIN}:${plain.port}`, servername: undefined }]);
  });

  it('without connectTo resolves the URL host itself (which does not exist here)', async () => {
    const { result } = await run(`https://${DOMAIN}:${right.port}`, [healthyCheck('health', '/ok')], { ca: ca.cert });
    assert.equal(only(result).verdict, 'fail');
    assert.match(only(result).reason ?? '', /host not found|DNS lookup failed/);
  });

  it('names the connect address when that is what does not resolve', async () => {
    const { result } = await run(`https://${DOMAIN}:${right.port}`, [healthyCheck('health', '/ok')], {
      ca: ca.cert,
      connectTo: 'no-such-alb.invalid',
    });
    assert.equal(only(result).verdict, 'fail');
    assert.match(only(result).reason ?? '', /no-such-alb\.invalid/);
  });

  it('refuses connectTo with an IP address in the URL (there is no host name to send)', async () => {
    await assert.rejects(
      run(`https://127.0.0.1:${right.port}`, [healthyCheck('health', '/ok')], { connectTo: '127.0.0.1' }),
      /connectTo needs a host name in the URL/,
    );
  });
});
