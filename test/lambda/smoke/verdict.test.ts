// The smoke verdict without a server: a check from a spec document, an observed answer (or network failure) built by
// hand, and the row judgeCheck makes of them. engine.test.ts proves the same rules end to end against fault servers;
// these tables pin each rule and its exact reason.
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { describeRequestError } from '../../../lambda/smoke/network-errors';
import type { CheckResult } from '../../../lambda/smoke/result';
import { type Check, parseSpec, type SmokeSpecInput } from '../../../lambda/smoke/spec';
import type { Exchange } from '../../../lambda/smoke/transport';
import {
  excerptOf,
  judgeCheck,
  lateResult,
  type RunConditions,
  remeasured,
  skippedResult,
  skipReason,
  suitePassed,
  summariseUnreachable,
} from '../../../lambda/smoke/verdict';

type CheckInput = SmokeSpecInput['checks'][number];

function check(fields: Partial<CheckInput> = {}): Check {
  const input: CheckInput = { id: 'health', title: 'Health', path: '/health', expect: { status: [200] }, ...fields };
  return parseSpec({ version: 1, checks: [input] }).checks[0]!;
}

function answer(
  status: number,
  body = '',
  headers: IncomingHttpHeaders = {},
  extra: { latencyMs?: number; redirectedTo?: string } = {},
): Exchange {
  return { ok: true, status, headers, body: Buffer.from(body), latencyMs: extra.latencyMs ?? 12.4, ...extra };
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** What the transport records for a socket error: the same function turns Node's error into the failure. */
function networkFailure(code: string, fields: Record<string, unknown>, target = 'app.example.com:443'): Exchange {
  const error = Object.assign(new Error(`${code} (test)`), { code, ...fields }) as NodeJS.ErrnoException;
  return { ...describeRequestError(error, target, false), ok: false, latencyMs: 3 };
}

const CONDITIONS: RunConditions = {
  appMode: 'production',
  allowWrites: false,
  token: 'secret-token-123',
  tokenUnavailableReason: 'needs a token (--token / --token-env)',
};

describe('smoke verdict: whether a check runs', () => {
  it('skips a check of the other app mode, and says which mode the target runs', () => {
    assert.equal(
      skipReason(check({ appMode: 'test' }), CONDITIONS),
      'checks test mode; this target runs the app in production mode',
    );
  });

  it('skips a mode-specific check when the mode is unknown, and says how to give it', () => {
    assert.equal(
      skipReason(check({ appMode: 'production' }), { ...CONDITIONS, appMode: undefined }),
      'checks production mode: runs when the app mode is given (--app-mode production)',
    );
  });

  it('runs a check of the mode the target runs, and a check for every mode', () => {
    assert.equal(skipReason(check({ appMode: 'production' }), CONDITIONS), null);
    assert.equal(skipReason(check(), { ...CONDITIONS, appMode: undefined }), null);
  });

  it('skips a writing check unless writes are allowed', () => {
    const writes = check({ method: 'POST', writes: true });
    assert.equal(skipReason(writes, CONDITIONS), 'writes data: runs only when writes are allowed (--allow-writes)');
    assert.equal(skipReason(writes, { ...CONDITIONS, allowWrites: true }), null);
  });

  it('at a deploy gate (unattended writes) runs only the writes marked unattended, and says why it skips the others', () => {
    const gate = { ...CONDITIONS, allowWrites: 'unattended' as const };
    assert.equal(skipReason(check({ method: 'POST', writes: true, unattended: true }), gate), null);
    assert.equal(
      skipReason(check({ method: 'POST', writes: true }), gate),
      'writes data nothing takes back: runs only when a person allows writes (sfdeploy smoke --allow-writes)',
    );
    assert.equal(
      skipReason(check({ method: 'POST', writes: true, unattended: true }), CONDITIONS),
      'writes data: runs only when writes are allowed (--allow-writes)',
    );
  });

  it('skips a check naming {allowedOrigin} when the run has no origin to fill in', () => {
    const cors = check({ headers: { Origin: '{allowedOrigin}' } });
    assert.equal(
      skipReason(cors, CONDITIONS),
      'needs the allowed CORS origin (corsAllowedOrigins), which the run was not given',
    );
  });

  it('skips a bearer check without a token (an empty one too) with the caller’s reason', () => {
    const bearer = check({ auth: 'bearer' });
    const reason = 'the smoke token secret could not be read';
    assert.equal(skipReason(bearer, { ...CONDITIONS, token: undefined, tokenUnavailableReason: reason }), reason);
    assert.equal(skipReason(bearer, { ...CONDITIONS, token: '' }), CONDITIONS.tokenUnavailableReason);
    assert.equal(skipReason(bearer, CONDITIONS), null);
  });

  it('writes a skipped row with no evidence and no attempts, and a late check as a timeout failure', () => {
    const skipped = skippedResult(check({ tags: ['core'] }), 'because');
    assert.deepEqual(skipped, {
      id: 'health',
      title: 'Health',
      method: 'GET',
      path: '/health',
      tags: ['core'],
      verdict: 'skipped',
      status: null,
      contentType: null,
      latencyMs: null,
      reason: 'because',
      excerpt: null,
      attempts: 0,
      failureKind: null,
      unreachable: null,
    });
    const late = lateResult(check());
    assert.equal(late.verdict, 'fail');
    assert.equal(late.failureKind, 'timeout');
    assert.equal(late.reason, 'suite deadline exceeded before the check started');
  });
});

describe('smoke verdict: an answer against the check', () => {
  it('passes a right answer with its evidence and no reason', () => {
    const { result, latencyOnly } = judgeCheck(check({ expect: { status: [200], contentType: 'application/json' } }), {
      exchange: answer(200, '{"status":"healthy"}', JSON_TYPE),
      attempts: 1,
    });
    assert.equal(result.verdict, 'pass');
    assert.equal(result.reason, null);
    assert.equal(result.failureKind, null);
    assert.equal(result.excerpt, null);
    assert.equal(result.status, 200);
    assert.equal(result.contentType, 'application/json; charset=utf-8');
    assert.equal(result.latencyMs, 12);
    assert.equal(latencyOnly, false);
  });

  it('fails a status mismatch, names an HTML error page, and shows the start of the body', () => {
    const { result } = judgeCheck(check(), {
      exchange: answer(500, '<!DOCTYPE html>\n<html>\n  <h1>Internal   Server Error</h1>', {
        'content-type': 'text/html',
      }),
      attempts: 1,
    });
    assert.equal(result.verdict, 'fail');
    assert.equal(result.reason, 'expected status 200, got 500 (HTML error page)');
    assert.equal(result.failureKind, 'assertion');
    assert.equal(result.excerpt, '<!DOCTYPE html> <html> <h1>Internal Server Error</h1>');
  });

  it('calls a 502, 503 or 504 a gateway failure (the target group has no healthy task yet)', () => {
    for (const status of [502, 503, 504]) {
      const { result } = judgeCheck(check({ expect: { status: [200, 204] } }), {
        exchange: answer(status),
        attempts: 1,
      });
      assert.equal(result.failureKind, 'gateway', `status ${status}`);
      assert.equal(result.reason, `expected status 200/204, got ${status}`);
    }
  });

  it('names the Location of an unexpected redirect', () => {
    const { result } = judgeCheck(check(), {
      exchange: answer(302, '', { location: '/login' }, { redirectedTo: '/login' }),
      attempts: 1,
    });
    assert.equal(result.reason, 'expected status 200, got 302 (redirect to /login)');
  });

  it('fails a JSON field with the wrong value, and a missing field unless it is optional', () => {
    const fields = check({
      expect: {
        status: [200],
        body: [
          { kind: 'json-path', path: 'status', equals: 'healthy' },
          { kind: 'json-path', path: 'database.ok', equals: true },
          { kind: 'json-path', path: 'mock_mode', equals: false, optional: true },
        ],
      },
    });
    const wrong = judgeCheck(fields, {
      exchange: answer(200, '{"status":"degraded","database":{}}', JSON_TYPE),
      attempts: 1,
    });
    assert.equal(
      wrong.result.reason,
      'expected JSON field status = "healthy", got "degraded"; JSON field database.ok is missing',
    );
    assert.equal(wrong.result.failureKind, 'assertion');
    const right = judgeCheck(fields, {
      exchange: answer(200, '{"status":"healthy","database":{"ok":true}}', JSON_TYPE),
      attempts: 1,
    });
    assert.equal(right.result.verdict, 'pass');
  });

  it('fails an HTML page where JSON was expected', () => {
    const { result } = judgeCheck(check({ expect: { status: [200], contentType: 'application/json' } }), {
      exchange: answer(200, '<html><body>login</body></html>', { 'content-type': 'text/html; charset=utf-8' }),
      attempts: 1,
    });
    assert.equal(result.reason, 'expected JSON but got text/html (HTML error page)');
  });

  it('checks response headers: missing, forbidden, wrong value, and a forbidden prefix', () => {
    const headers = check({
      expect: {
        status: [200],
        headers: [
          { name: 'Strict-Transport-Security' },
          { name: 'X-Powered-By', present: false },
          { name: 'X-Frame-Options', equals: 'DENY' },
          { name: 'Access-Control-*', present: false },
        ],
      },
    });
    const { result } = judgeCheck(headers, {
      exchange: answer(200, 'ok', {
        'x-powered-by': 'Werkzeug',
        'x-frame-options': 'SAMEORIGIN',
        'access-control-allow-origin': '*',
      }),
      attempts: 1,
    });
    assert.equal(
      result.reason,
      [
        'missing response header Strict-Transport-Security',
        'unexpected response header x-powered-by',
        'header x-frame-options: got "SAMEORIGIN", expected "DENY"',
        'unexpected response header access-control-allow-origin',
      ].join('; '),
    );
    const clean = judgeCheck(headers, {
      exchange: answer(200, 'ok', { 'strict-transport-security': 'max-age=31536000', 'x-frame-options': 'DENY' }),
      attempts: 1,
    });
    assert.equal(clean.result.verdict, 'pass');
  });

  it('marks a failure on the latency budget alone as a candidate for re-measurement, not one with other faults', () => {
    const timed = check({
      latencyBudgetMs: 500,
      expect: { status: [200], body: [{ kind: 'contains', anyOf: ['ok'] }] },
    });
    const slow = judgeCheck(timed, { exchange: answer(200, 'ok', {}, { latencyMs: 812.3 }), attempts: 1 });
    assert.equal(slow.result.reason, 'latency 812 ms over budget 500 ms');
    assert.equal(slow.latencyOnly, true);
    const slowAndWrong = judgeCheck(timed, { exchange: answer(200, 'nope', {}, { latencyMs: 812.3 }), attempts: 1 });
    assert.equal(slowAndWrong.latencyOnly, false);
    assert.match(slowAndWrong.result.reason ?? '', /^body contains none of "ok"; latency 812 ms/);
  });

  it('fails a passing check whose cleanup failed, and adds the cleanup to a failing one', () => {
    const creates: Partial<CheckInput> = { method: 'POST', writes: true, cleanup: { path: '/api/posts/{json:id}' } };
    const created = check(creates);
    const problem = 'cleanup DELETE /api/posts/7 failed: expected status 200/202/204/404, got 500';
    const passed = judgeCheck(created, { exchange: answer(200, '{"id":7}'), attempts: 1, cleanupProblem: problem });
    assert.equal(passed.result.verdict, 'fail');
    assert.equal(passed.result.reason, problem);
    assert.equal(passed.result.failureKind, 'assertion');
    assert.equal(passed.latencyOnly, false);
    const failed = judgeCheck(created, { exchange: answer(503, '{"id":7}'), attempts: 1, cleanupProblem: problem });
    assert.equal(failed.result.reason, `expected status 200, got 503; ${problem}`);
    assert.equal(failed.result.failureKind, 'gateway');
    // Slow and then a failed cleanup: not re-measured (a second create is not free, and the cleanup is a fault).
    const slow = judgeCheck(check({ ...creates, latencyBudgetMs: 100 }), {
      exchange: answer(200, '{"id":7}', {}, { latencyMs: 400 }),
      attempts: 1,
      cleanupProblem: problem,
    });
    assert.equal(slow.result.reason, `latency 400 ms over budget 100 ms; ${problem}`);
    assert.equal(slow.latencyOnly, false);
  });

  it('redacts the token from the excerpt and cuts it at 200 characters', () => {
    const token = CONDITIONS.token!;
    const body = `token ${token} echoed   back\n${'x'.repeat(400)}`;
    const { result } = judgeCheck(check(), { exchange: answer(401, body), attempts: 2, token });
    assert.equal(result.attempts, 2);
    assert.ok(!result.excerpt!.includes(token));
    assert.ok(result.excerpt!.startsWith('token [token] echoed back x'));
    assert.equal(result.excerpt!.length, 200);
    assert.ok(result.excerpt!.endsWith('…'));
    assert.equal(excerptOf(Buffer.from('  short  '), undefined), 'short');
  });
});

describe('smoke verdict: no answer', () => {
  it('fails a refused connection as unreachable, with the address tried and no evidence', () => {
    const { result } = judgeCheck(check(), {
      exchange: networkFailure('ECONNREFUSED', { address: '203.0.113.9', port: 443 }),
      attempts: 1,
    });
    assert.equal(result.verdict, 'fail');
    assert.equal(result.failureKind, 'network');
    assert.equal(result.reason, 'connection refused (203.0.113.9:443)');
    assert.deepEqual(result.unreachable, { address: '203.0.113.9:443', cause: 'connection refused' });
    assert.equal(result.status, null);
    assert.equal(result.contentType, null);
    assert.equal(result.excerpt, null);
    assert.equal(result.latencyMs, 3);
  });

  it('calls an unknown host unreachable but an assertion failure (retrying will not create the DNS record)', () => {
    const { result } = judgeCheck(check(), {
      exchange: networkFailure('ENOTFOUND', { hostname: 'app.example.com' }),
      attempts: 1,
    });
    assert.equal(result.failureKind, 'assertion');
    assert.deepEqual(result.unreachable, { address: 'app.example.com', cause: 'host not found' });
  });

  it('keeps the status of an answer cut short, and does not call a server that answered unreachable', () => {
    const cut: Exchange = {
      ok: false,
      kind: 'timeout',
      reason: 'response body not complete within 5000 ms',
      status: 200,
      headers: { 'content-type': 'text/html' },
      body: Buffer.from('<html>'),
      latencyMs: 5000,
    };
    const { result } = judgeCheck(check(), { exchange: cut, attempts: 1 });
    assert.equal(result.failureKind, 'timeout');
    assert.equal(result.status, 200);
    assert.equal(result.contentType, 'text/html');
    assert.equal(result.unreachable, null);
    assert.equal(result.excerpt, '<html>');
  });
});

describe('smoke verdict: the suite', () => {
  const row = (verdict: CheckResult['verdict'], unreachable: CheckResult['unreachable'] = null): CheckResult => ({
    ...skippedResult(check(), 'x'),
    verdict,
    reason: verdict === 'pass' ? null : 'x',
    unreachable,
  });

  it('passes only when a check ran and every check that ran passed', () => {
    assert.equal(suitePassed([row('pass'), row('skipped')]), true);
    assert.equal(suitePassed([row('pass'), row('fail')]), false);
    assert.equal(suitePassed([row('skipped'), row('skipped')]), false);
    assert.equal(suitePassed([]), false);
  });

  it('summarises a run where nothing was reached, the base URL’s address first, skipped checks not counted', () => {
    const plain = { address: '203.0.113.9:80', cause: 'connection refused' };
    const tls = { address: '203.0.113.9:443', cause: 'connection refused' };
    const timedOut = { address: '203.0.113.9:443', cause: 'connection timed out' };
    assert.deepEqual(
      summariseUnreachable([row('fail', plain), row('skipped'), row('fail', tls), row('fail', timedOut)], tls.address),
      {
        addresses: ['203.0.113.9:443', '203.0.113.9:80'],
        causes: ['connection refused', 'connection timed out'],
        checks: 3,
      },
    );
    assert.equal(summariseUnreachable([row('fail', tls), row('fail')], tls.address), null);
    assert.equal(summariseUnreachable([row('skipped')], tls.address), null);
  });

  it('judges a latency failure on its lone re-measurement, counting both runs’ attempts', () => {
    const first = { ...row('fail'), attempts: 1, latencyMs: 640, reason: 'latency 640 ms over budget 500 ms' };
    const fast = remeasured(first, { result: { ...row('pass'), attempts: 1, latencyMs: 90 }, latencyOnly: false });
    assert.equal(fast.verdict, 'pass');
    assert.equal(fast.attempts, 2);
    assert.equal(fast.latencyMs, 90);
    const stillSlow = remeasured(first, {
      result: { ...row('fail'), attempts: 1, latencyMs: 610, reason: 'latency 610 ms over budget 500 ms' },
      latencyOnly: true,
    });
    assert.equal(stillSlow.reason, 'latency 610 ms over budget 500 ms (alone; 640 ms in the concurrent run)');
    const broken = remeasured(first, {
      result: { ...row('fail'), attempts: 1, reason: 'expected status 200, got 500' },
      latencyOnly: false,
    });
    assert.equal(broken.reason, 'expected status 200, got 500');
  });
});
