import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  defaultSpec,
  fillPlaceholders,
  parseSpec,
  parseSpecText,
  resolveJsonPath,
  SpecError,
} from '../../../lambda/smoke/spec';

const validCheck = () => ({
  id: 'health',
  title: 'Health',
  path: '/health',
  expect: {
    status: [200],
    contentType: 'application/json',
    body: [{ kind: 'json-path', path: 'status', equals: 'ok' }],
  },
});

/** A spec with one check, the check changed by `mutate`. */
function specWith(mutate: (check: Record<string, unknown>) => void): unknown {
  const check: Record<string, unknown> = validCheck();
  mutate(check);
  return { version: 1, checks: [check] };
}

function messageOf(value: unknown): string {
  try {
    parseSpec(value);
  } catch (error) {
    assert.ok(error instanceof SpecError, `expected a SpecError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('the spec was accepted');
}

describe('check spec validation', () => {
  it('accepts a minimal check and fills the defaults', () => {
    const spec = parseSpec({ version: 1, checks: [validCheck()] });
    const check = spec.checks[0]!;
    assert.equal(check.method, 'GET');
    assert.equal(check.auth, 'none');
    assert.equal(check.writes, false);
    assert.equal(check.retries, 0);
    assert.equal(check.followRedirects, 0);
    assert.deepEqual(check.tags, []);
  });

  const cases: { name: string; spec: unknown; message: string | RegExp }[] = [
    {
      name: 'a status that is not a list',
      spec: specWith((c) => {
        c['expect'] = { status: 200 };
      }),
      message: 'checks[0].expect.status (check "health"): expected an array of HTTP status codes',
    },
    {
      name: 'a status code out of range',
      spec: specWith((c) => {
        c['expect'] = { status: [200, 99] };
      }),
      message: 'checks[0].expect.status[1] (check "health"): expected an HTTP status code (an integer 100-599)',
    },
    {
      name: 'an empty status list',
      spec: specWith((c) => {
        c['expect'] = { status: [] };
      }),
      message: 'checks[0].expect.status (check "health"): expected an array of HTTP status codes',
    },
    {
      name: 'a missing id (named by index)',
      spec: specWith((c) => {
        delete c['id'];
      }),
      message: 'checks[0].id: expected a short kebab-case id',
    },
    {
      name: 'an id that is not kebab-case',
      spec: specWith((c) => {
        c['id'] = 'Health Check';
      }),
      message: 'checks[0].id: expected a short kebab-case id such as "sns-accounts"',
    },
    {
      name: 'a duplicate id',
      spec: { version: 1, checks: [validCheck(), validCheck()] },
      message: 'checks[1].id (check "health"): duplicate id (checks[0] has it too)',
    },
    {
      name: 'an unknown auth mode',
      spec: specWith((c) => {
        c['auth'] = 'basic';
      }),
      message:
        'checks[0].auth (check "health"): expected "none", "bearer", "invalid-token", "demo-token" or "test-token"',
    },
    {
      name: 'an unknown app mode',
      spec: specWith((c) => {
        c['appMode'] = 'staging';
      }),
      message: 'checks[0].appMode (check "health"): expected "production" or "test"',
    },
    {
      name: 'the smoke token on a plain-HTTP check',
      spec: specWith((c) => {
        c['plainHttp'] = true;
        c['auth'] = 'bearer';
      }),
      message:
        'checks[0].auth (check "health"): a plainHttp check never carries the smoke token (it would cross the network in clear text)',
    },
    {
      name: 'an unknown method',
      spec: specWith((c) => {
        c['method'] = 'FETCH';
      }),
      message: 'checks[0].method (check "health"): expected one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
    },
    {
      name: 'a misspelt field',
      spec: specWith((c) => {
        c['expcet'] = {};
      }),
      message: 'checks[0].expcet (check "health"): unknown field',
    },
    {
      name: 'an unknown body assertion kind',
      spec: specWith((c) => {
        c['expect'] = { status: [200], body: [{ kind: 'xpath' }] };
      }),
      message: /^checks\[0\]\.expect\.body\[0\]\.kind \(check "health"\): /,
    },
    {
      name: 'an invalid regular expression',
      spec: specWith((c) => {
        c['expect'] = { status: [200], body: [{ kind: 'json-path', path: 'auth_url', matches: '(' }] };
      }),
      message: 'checks[0].expect.body[0].matches (check "health"): not a valid regular expression',
    },
    {
      name: 'a body on a GET',
      spec: specWith((c) => {
        c['body'] = { a: 1 };
      }),
      message: 'checks[0].body (check "health"): a GET request cannot carry a body',
    },
    {
      name: 'credentials in the headers',
      spec: specWith((c) => {
        c['headers'] = { Authorization: 'Bearer demo_token' };
      }),
      message:
        'checks[0].headers (check "health"): set credentials with "auth", never an Authorization header in the spec',
    },
    {
      name: 'too many retries',
      spec: specWith((c) => {
        c['retries'] = 9;
      }),
      message: 'checks[0].retries (check "health"): expected at most 5',
    },
    {
      name: 'a writing check with retries',
      spec: specWith((c) => {
        c['method'] = 'POST';
        c['writes'] = true;
        c['retries'] = 1;
      }),
      message:
        'checks[0].retries (check "health"): a check that writes is not retried (every attempt would create data again)',
    },
    {
      name: 'a negative latency budget',
      spec: specWith((c) => {
        c['latencyBudgetMs'] = -5;
      }),
      message: 'checks[0].latencyBudgetMs (check "health"): expected a positive number of milliseconds',
    },
    {
      name: 'a path without a leading slash',
      spec: specWith((c) => {
        c['path'] = 'health';
      }),
      message: 'checks[0].path (check "health"): expected a path starting with "/" (no spaces, no fragment)',
    },
    {
      name: 'a malformed cleanup placeholder',
      spec: specWith((c) => {
        c['cleanup'] = { path: '/api/sns/posts/{json:a..b}' };
      }),
      message: 'checks[0].cleanup.path (check "health"): placeholders look like {json:id} or {json:id|post.id}',
    },
    {
      name: 'a count assertion with an invalid pattern',
      spec: specWith((c) => {
        c['expect'] = { status: [200], body: [{ kind: 'count', pattern: 'export (function', atLeast: 48 }] };
      }),
      message: 'checks[0].expect.body[0].pattern (check "health"): not a valid regular expression',
    },
    {
      name: 'a count assertion that asks for no line',
      spec: specWith((c) => {
        c['expect'] = { status: [200], body: [{ kind: 'count', pattern: 'sns', atLeast: 0 }] };
      }),
      message: 'checks[0].expect.body[0].atLeast (check "health"): expected at least 1',
    },
    {
      name: 'an unattended check that does not write',
      spec: specWith((c) => {
        c['unattended'] = true;
      }),
      message: 'checks[0].unattended (check "health"): only a check that writes can be unattended',
    },
    {
      name: 'a before request without {before} in the path',
      spec: specWith((c) => {
        c['before'] = { path: '/web/platform/index.html', match: 'href="([^"]+)"' };
      }),
      message: 'checks[0].path (check "health"): a check with "before" puts {before} in its path',
    },
    {
      name: '{before} in the path without a before request',
      spec: specWith((c) => {
        c['path'] = '{before}';
      }),
      message: 'checks[0].before (check "health"): {before} in the path needs a "before" request',
    },
    {
      name: 'a before request with neither json nor match',
      spec: specWith((c) => {
        c['path'] = '{before}';
        c['before'] = { path: '/web/platform/index.html' };
      }),
      message: 'checks[0].before (check "health"): give exactly one of "json" and "match"',
    },
    {
      name: 'a before match without a capturing group',
      spec: specWith((c) => {
        c['path'] = '{before}';
        c['before'] = { path: '/web/platform/index.html', match: 'href="[^"]+"' };
      }),
      message: 'checks[0].before.match (check "health"): expected a regular expression with a capturing group',
    },
    {
      name: 'references without a capturing group',
      spec: specWith((c) => {
        c['references'] = { pattern: "'/api/sns/[^']*'" };
      }),
      message: 'checks[0].references.pattern (check "health"): expected a regular expression with a capturing group',
    },
    {
      name: 'references on a check that writes',
      spec: specWith((c) => {
        c['method'] = 'POST';
        c['writes'] = true;
        c['references'] = { pattern: "'(/api/sns/[^']*)'" };
      }),
      message:
        'checks[0].references (check "health"): references are read from a page: only a GET check that neither writes nor uses plainHttp',
    },
    {
      name: 'references asking for a negative number of paths',
      spec: specWith((c) => {
        c['references'] = { pattern: "'(/api/[^']*)'", atLeast: -1 };
      }),
      message: 'checks[0].references.atLeast (check "health"): expected 0 or more',
    },
    {
      name: 'another version',
      spec: { version: 2, checks: [validCheck()] },
      message: 'version: expected 1 (the only spec version this tool reads)',
    },
    {
      name: 'no checks',
      spec: { version: 1, checks: [] },
      message: 'checks: expected at least one check',
    },
  ];

  for (const { name, spec, message } of cases) {
    it(`names the field by its path, and the check, for ${name}`, () => {
      const actual = messageOf(spec);
      if (typeof message === 'string') assert.equal(actual, message);
      else assert.match(actual, message);
    });
  }

  it('counts the further problems after the first', () => {
    const spec = specWith((c) => {
      c['retries'] = 9;
      c['auth'] = 'basic';
    });
    assert.match(messageOf(spec), /\(and 1 more problem\)$/);
  });

  it('lists every problem, one line each with its path, in document order', () => {
    const spec = {
      version: 1,
      checks: [
        validCheck(),
        { ...validCheck(), id: 'second', expect: { status: [700] }, retries: 9, colour: 'red', shade: 'dark' },
        { ...validCheck(), id: 'Bad Id' },
      ],
    };
    try {
      parseSpec(spec);
      assert.fail('the spec was accepted');
    } catch (error) {
      assert.ok(error instanceof SpecError);
      assert.deepEqual([...error.problems].sort(), [
        'checks[1].colour (check "second"): unknown field',
        'checks[1].expect.status[0] (check "second"): expected an HTTP status code (an integer 100-599)',
        'checks[1].retries (check "second"): expected at most 5',
        'checks[1].shade (check "second"): unknown field',
        'checks[2].id: expected a short kebab-case id such as "sns-accounts"',
      ]);
      for (const problem of error.problems) assert.doesNotMatch(problem, /\n/);
      assert.match(error.message, /\(and 4 more problems\)$/);
    }
  });

  it('reports text that is not JSON', () => {
    assert.throws(
      () => parseSpecText('{"version": 1,'),
      (error: unknown) => {
        assert.ok(error instanceof SpecError);
        assert.match(error.message, /^not valid JSON \(/);
        return true;
      },
    );
  });
});

describe('default spec (the checklist, encoded)', () => {
  const spec = defaultSpec();
  const byId = new Map(spec.checks.map((c) => [c.id, c]));
  const reads = spec.checks.filter((c) => !c.writes);

  it('is version 1 with short, unique kebab-case ids', () => {
    assert.equal(spec.version, 1);
    assert.equal(byId.size, spec.checks.length);
    for (const check of spec.checks) assert.match(check.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  it('checks every endpoint and page the checklist names', () => {
    const paths = new Set(spec.checks.map((c) => `${c.method} ${c.path}`));
    const expected = [
      'GET /health',
      ...[
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
      ].map((e) => `GET /api/sns/${e}`),
      ...['listings', 'campaigns', 'accounts', 'applications', 'auto-apply', 'rules'].map(
        (e) => `GET /api/review/${e}`,
      ),
      'GET /api/auth/me',
      ...['google', 'facebook', 'kakao'].map((p) => `GET /api/auth/oauth/${p}/url`),
      'GET /api/cache/stats',
      'POST /api/sns/posts',
      'POST /api/review/scrape/now',
      // "Apply to listing (if ID exists)": the first listing the app returns, not a guessed id 1.
      'POST /api/review/listings/{before}/apply',
      'GET /ready',
      'GET /web/platform/api.js',
      ...[
        'platform/login.html',
        'platform/index.html',
        'sns-auto/create.html',
        'sns-auto/link-in-bio.html',
        'sns-auto/monetize.html',
        'sns-auto/viral.html',
        'sns-auto/competitor.html',
        'review/aggregator.html',
        'review/applications.html',
        'review/accounts.html',
        'review/auto-apply.html',
      ].map((p) => `GET /web/${p}`),
    ];
    for (const path of expected) assert.ok(paths.has(path), `missing ${path}`);
  });

  it('never accepts a 5xx and always demands JSON from /api/ routes', () => {
    for (const check of spec.checks.filter((c) => c.path.startsWith('/api/'))) {
      assert.ok(
        check.expect.status.every((s) => s < 500),
        `${check.id} accepts a 5xx`,
      );
      assert.equal(check.expect.contentType, 'application/json', `${check.id} does not demand JSON`);
    }
  });

  it('sends the smoke token to every API route the checklist names, expecting 200 (405 for a POST-only route to GET)', () => {
    // The routes as the checklist text names them: its curl lines and its `for endpoint in …` loops, expanded.
    const text = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'production-deployment-checklist.md'), 'utf8');
    const routes = new Set<string>();
    for (const [, list, prefix] of text.matchAll(
      /for endpoint in ([^;]+);[\s\S]*?localhost:8000(\/api\/[\w/-]+\/)\$endpoint/g,
    )) {
      for (const name of list!.trim().split(/\s+/)) routes.add(`${prefix}${name}`);
    }
    for (const line of text.split('\n').filter((l) => /curl /.test(l) && !/-X POST/.test(l))) {
      for (const [, route] of line.matchAll(/localhost:8000(\/api\/[\w/-]+)(?![\w/$-])/g)) routes.add(route!);
    }
    const sns = [...routes].filter((r) => r.startsWith('/api/sns/'));
    const review = [...routes].filter((r) => r.startsWith('/api/review/'));
    // The checklist's "SNS endpoints (29)" and "Review endpoints (26)" name 10 and 6 GET routes in its text.
    assert.equal(sns.length, 10, sns.join(' '));
    assert.equal(review.length, 6, review.join(' '));
    const postOnly = new Set(['/api/sns/automate', '/api/sns/ai/generate']);
    for (const route of [...sns, ...review, '/api/auth/me']) {
      const withToken = spec.checks.filter((c) => c.path === route && c.method === 'GET' && c.auth === 'bearer');
      assert.equal(withToken.length, 1, `${route}: one check with the smoke token`);
      assert.deepEqual(withToken[0]!.expect.status, postOnly.has(route) ? [405] : [200], route);
      assert.equal(withToken[0]!.expect.contentType, 'application/json', route);
    }
  });

  it('never accepts a 404 from a read-only route check', () => {
    for (const check of reads) assert.ok(!check.expect.status.includes(404), `${check.id} accepts 404`);
  });

  it('holds API reads to the checklist latency budgets: auth 100 ms, SNS 200 ms, review 300 ms', () => {
    const budgets: [string, number][] = [
      ['/api/auth/', 100],
      ['/api/sns/', 200],
      ['/api/review/', 300],
    ];
    for (const check of reads.filter((c) => c.method === 'GET')) {
      const budget = budgets.find(([prefix]) => check.path.startsWith(prefix));
      if (budget) assert.equal(check.latencyBudgetMs, budget[1], `${check.id} budget`);
    }
  });

  it('checks the app’s production mode on production stages and demo_token on the test stage', () => {
    const byId = new Map(defaultSpec().checks.map((c) => [c.id, c]));
    for (const [id, auth] of [
      ['demo-token-refused', 'demo-token'],
      ['test-token-refused', 'test-token'],
    ] as const) {
      const check = byId.get(id)!;
      assert.equal(check.appMode, 'production');
      assert.equal(check.auth, auth);
      assert.deepEqual(check.expect.status, [401]);
      assert.ok(check.path.startsWith('/api/sns/'), 'an endpoint the shared tokens would open in test mode');
    }
    for (const provider of ['google', 'facebook', 'kakao']) {
      const check = byId.get(`oauth-${provider}-live`)!;
      assert.equal(check.appMode, 'production');
      assert.deepEqual(check.expect.body, [
        { kind: 'json-path', path: 'auth_url', type: 'string', matches: '^https://', optional: false },
        { kind: 'json-path', path: 'mock_mode', equals: false, optional: true },
      ]);
    }
    assert.equal(byId.get('hsts')?.expect.headers[0]?.name, 'Strict-Transport-Security');
    assert.equal(byId.get('http-redirect')?.plainHttp, true);
    assert.deepEqual(byId.get('http-redirect')?.expect.status, [301]);
    assert.equal(byId.get('demo-token-accepted')?.appMode, 'test');
    assert.deepEqual(
      defaultSpec()
        .checks.filter((c) => c.appMode !== undefined && c.auth === 'bearer')
        .map((c) => c.id),
      [],
      'a mode check needs no smoke token: it runs on a stage before one exists',
    );
  });

  it('makes the authenticated /api/auth/me check need a token and return a JSON object', () => {
    const check = byId.get('auth-me-token')!;
    assert.equal(check.auth, 'bearer');
    assert.deepEqual(check.expect.status, [200]);
    assert.deepEqual(check.expect.body, [{ kind: 'json', type: 'object' }]);
  });

  it('keeps data-writing checks opt-in, and cleans up the post it creates', () => {
    const writers = spec.checks.filter((c) => c.writes).map((c) => c.id);
    assert.deepEqual(writers.sort(), ['review-listing-apply', 'review-scrape-now', 'sns-post-create']);
    // Unattended (run by the test-traffic gate): the post it deletes again, the scrape the scheduler also runs; never
    // the listing application, which nothing takes back.
    assert.deepEqual(
      spec.checks
        .filter((c) => c.unattended)
        .map((c) => c.id)
        .sort(),
      ['review-scrape-now', 'sns-post-create'],
    );
    assert.deepEqual(byId.get('review-listing-apply')!.expect.status, [200, 201]);
    for (const check of spec.checks) {
      if (check.method !== 'GET' && check.id !== 'input-validation') assert.ok(check.writes, `${check.id} writes`);
    }
    assert.match(byId.get('sns-post-create')!.cleanup?.path ?? '', /^\/api\/sns\/posts\/\{json:id/);
  });

  it('checks CORS with the configured allowed origin, exactly, and invalid tokens with a JSON error', () => {
    assert.deepEqual(byId.get('cors-health')!.headers, { Origin: '{allowedOrigin}' });
    assert.deepEqual(byId.get('cors-health')!.expect.headers, [
      { name: 'Access-Control-Allow-Origin', present: true, equals: '{allowedOrigin}' },
    ]);
    assert.deepEqual(byId.get('cors-foreign-origin')!.expect.headers, [
      { name: 'Access-Control-Allow-Origin', present: false },
    ]);
    assert.equal(byId.get('invalid-token')!.auth, 'invalid-token');
    assert.equal(byId.get('invalid-token')!.path, '/api/sns/accounts');
  });
});

describe('JSON paths and cleanup placeholders', () => {
  const document = { status: 'ok', post: { id: 7 }, items: [{ id: 'a' }, { id: 'b' }] };

  it('resolves dotted and indexed paths, and $ for the document', () => {
    assert.deepEqual(resolveJsonPath(document, 'status'), { found: true, value: 'ok' });
    assert.deepEqual(resolveJsonPath(document, 'items[1].id'), { found: true, value: 'b' });
    assert.deepEqual(resolveJsonPath(document, '$'), { found: true, value: document });
    assert.deepEqual(resolveJsonPath(document, 'items[5].id'), { found: false });
    assert.deepEqual(resolveJsonPath(document, 'status.length'), { found: false });
  });

  it('fills the first alternative that resolves, and refuses to guess', () => {
    assert.equal(fillPlaceholders('/api/sns/posts/{json:id|post.id}', document), '/api/sns/posts/7');
    assert.equal(fillPlaceholders('/x/{json:missing}', document), undefined);
    assert.equal(fillPlaceholders('/x/{json:id}', { id: '../admin' }), '/x/..%2Fadmin');
  });
});
