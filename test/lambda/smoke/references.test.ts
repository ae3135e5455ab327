/**
 * The API paths a page references (lambda/smoke/references.ts), pure: what is probed, what is built at run time, what
 * belongs to another origin, and the verdict over the probes' answers. The generated case's oracle is the page's own
 * recipe: the test writes the page from a list of routes and knows which of them a single GET can check.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type ExtractedReferences,
  extractReferences,
  judgeReferences,
  probeServed,
} from '../../../lambda/smoke/references';

const BASE = new URL('https://app.example.test');
const PAGE = new URL('https://app.example.test/web/sns-auto/create.html');
/** The checklist's Team B grep: every single-quoted '/api/sns/…' literal. */
const TEAM_B = "'(/api/sns/[^']*)'";

describe('extractReferences', () => {
  it('keeps every distinct static path, drops query and fragment, and sets aside templates, prefixes and other origins', () => {
    const page = [
      "fetch('/api/sns/posts', { method: 'POST' })",
      "fetch('/api/sns/posts?page=2')",
      "const ACCOUNTS = '/api/sns/accounts#list';",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the page's JavaScript, as served
      "fetch('/api/sns/posts/${id}')",
      "fetch('/api/sns/posts/' + id)",
      "fetch('/api/sns/posts/:id/publish')",
      "fetch('/api/sns/<int:id>')",
    ].join('\n');
    assert.deepEqual(extractReferences(page, TEAM_B, PAGE, BASE), {
      paths: ['/api/sns/accounts', '/api/sns/posts'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the page's JavaScript, as served
      dynamic: ['/api/sns/<int:id>', '/api/sns/posts/', '/api/sns/posts/${id}', '/api/sns/posts/:id/publish'],
      foreign: [],
    });
  });

  it('resolves against the page, keeps only the base origin, and strips the base URL’s path prefix', () => {
    const base = new URL('https://app.example.test/softfactory');
    const page = new URL('https://app.example.test/softfactory/web/review/aggregator.html');
    const text = "'../../api/review/listings' 'https://cdn.example.com/api/x' '/elsewhere/api' '/softfactory/api/a'";
    assert.deepEqual(extractReferences(text, "'([^']*)'", page, base), {
      paths: ['/api/a', '/api/review/listings'],
      dynamic: [],
      foreign: ['/elsewhere/api', 'https://cdn.example.com/api/x'],
    });
  });

  it('finds exactly the static routes a generated page calls, whatever surrounds them (property)', () => {
    const segment = fc.stringMatching(/^[a-z0-9_-]{1,8}$/);
    const route = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/api/sns/${parts.join('/')}`);
    const reference = fc.oneof(
      route.map((path) => ({ text: `'${path}'`, probed: path as string | null })),
      route.map((path) => ({ text: `'${path}?q=1'`, probed: path as string | null })),
      route.map((path) => ({ text: `'${path}/' + id`, probed: null })),
      route.map((path) => ({ text: `\`${path}/\${id}\``, probed: null })),
      route.map((path) => ({ text: `'https://cdn.example.com${path}'`, probed: null })),
    );
    // Text between references: anything without a single quote (which would open a literal of its own).
    const filler = fc.string({ maxLength: 20 }).map((t) => t.replace(/'/g, ''));
    fc.assert(
      fc.property(fc.array(fc.tuple(filler, reference), { maxLength: 12 }), filler, (parts, tail) => {
        const text = parts.map(([before, ref]) => `${before}fetch(${ref.text});`).join('\n') + tail;
        const expected = [...new Set(parts.flatMap(([, ref]) => (ref.probed ? [ref.probed] : [])))].sort();
        // Every single-quoted literal, so the other origin's URLs are captured too and must be set aside.
        assert.deepEqual(extractReferences(text, "'([^']*)'", PAGE, BASE).paths, expected);
      }),
      { numRuns: 300 },
    );
  });
});

describe('judgeReferences', () => {
  const found = (paths: string[], dynamic: string[] = []): ExtractedReferences => ({ paths, dynamic, foreign: [] });

  it('counts a 401, 403, 405 or redirect as a route, and 404, 410, 5xx or no answer as not served', () => {
    for (const status of [200, 204, 301, 308, 401, 403, 405])
      assert.ok(probeServed({ path: '/a', status }), `${status}`);
    for (const status of [404, 410, 500, 502, 503, 504]) assert.ok(!probeServed({ path: '/a', status }), `${status}`);
    assert.ok(!probeServed({ path: '/a', failure: 'failed: connection reset' }));
  });

  it('passes when every path is served and the page references enough of them', () => {
    const answers = [
      { path: '/api/a', status: 200 },
      { path: '/api/b', status: 405 },
    ];
    assert.equal(judgeReferences(found(['/api/a', '/api/b']), answers, 2, 'GET /p'), null);
  });

  it('fails naming each path not served, in order, with the total probed', () => {
    const answers = [
      { path: '/api/a', status: 404 },
      { path: '/api/b', status: 200 },
      { path: '/api/c', failure: 'failed: no response within 300 ms' },
    ];
    assert.equal(
      judgeReferences(found(['/api/a', '/api/b', '/api/c']), answers, 1, 'GET /p'),
      '2 of 3 API path(s) GET /p references not served: GET /api/a answered 404; GET /api/c failed: no response within 300 ms',
    );
  });

  it('fails a page with too few references, saying which were built at run time', () => {
    assert.equal(
      judgeReferences(found([], ['/api/sns/posts/']), [], 1, 'GET /p'),
      'GET /p references 0 API path(s), expected at least 1 (1 built at run time, not probed: /api/sns/posts/)',
    );
    assert.equal(judgeReferences(found([]), [], 0, 'GET /p'), null);
  });
});
