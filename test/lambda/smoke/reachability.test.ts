/**
 * Failures before any answer, told in plain words: TLS that does not verify (unknown CA, expired, name mismatch,
 * wrong protocol) against real HTTPS servers on 127.0.0.1 with certificates made by `openssl` at test time, and a
 * target that cannot be reached at all (closed port, unknown host), which the suite reports once.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CheckResult, type RunSuiteOptions, runSuite, type SuiteResult } from '../../../lambda/smoke/engine';
import { parseSpec, type SmokeSpecInput } from '../../../lambda/smoke/spec';
import {
  certificateAuthority,
  type Listening,
  listen,
  refusedPort,
  selfSignedCertificate,
} from '../../fixtures/smoke/servers';

type CheckInput = SmokeSpecInput['checks'][number];
const check = (id: string, extra: Partial<CheckInput> = {}): CheckInput => ({
  id,
  title: id,
  path: '/ok',
  expect: { status: [200] },
  ...extra,
});

function run(baseUrl: string, checks: CheckInput[], options: Partial<RunSuiteOptions> = {}): Promise<SuiteResult> {
  return runSuite({
    baseUrl,
    spec: parseSpec({ version: 1, checks }),
    checkTimeoutMs: 2_000,
    suiteTimeoutMs: 10_000,
    maxBodyBytes: 64 * 1024,
    ...options,
  });
}

const only = (result: SuiteResult): CheckResult => {
  assert.equal(result.checks.length, 1);
  return result.checks[0]!;
};

const ok = (_req: unknown, res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end('{"status":"ok"}');
};

/** A CA (trusted by the test through `ca`) and a leaf for 127.0.0.1 whose validity ended before it began. */
function expiredCertificate(): { ca: string; key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'smoke-expired-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe', cwd: dir });
  const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  try {
    openssl('req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Expiry Test CA');
    openssl('req', ...EC, '-keyout', 'key.pem', '-out', 'leaf.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    // -days -1: notAfter one day before notBefore (now), so the certificate is already expired.
    openssl(
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '-1',
      '-extfile',
      'ext.cnf',
      '-out',
      'cert.pem',
    );
    const read = (file: string) => readFileSync(join(dir, file), 'utf8');
    return { ca: read('ca.pem'), key: read('key.pem'), cert: read('cert.pem') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('TLS failures in plain words (real servers on 127.0.0.1)', () => {
  const servers: Listening[] = [];
  let selfSigned: Listening;
  let untrusted: Listening;
  let expired: Listening;
  let otherName: Listening;
  let plain: Listening;
  let ca: ReturnType<typeof certificateAuthority>;
  let expiredCa = '';
  let foreign: ReturnType<typeof certificateAuthority>;

  before(async () => {
    ca = certificateAuthority();
    const lapsed = expiredCertificate();
    expiredCa = lapsed.ca;
    foreign = certificateAuthority();
    [selfSigned, untrusted, expired, otherName, plain] = await Promise.all([
      listen(ok, selfSignedCertificate()),
      listen(ok, foreign.issue('app.example.test')),
      listen(ok, lapsed),
      listen(ok, ca.issue('other.example.test')),
      listen(ok),
    ]);
    servers.push(selfSigned, untrusted, expired, otherName, plain);
  });
  after(() => Promise.all(servers.map((s) => s.close())));

  const cases: {
    name: string;
    url: () => string;
    options?: () => Partial<RunSuiteOptions>;
    reason: RegExp | (() => string);
  }[] = [
    {
      name: 'an unknown CA: a self-signed certificate',
      url: () => selfSigned.url,
      reason:
        /^TLS: unknown CA: the certificate is self-signed, no trusted CA vouches for it; if you trust it, give its CA certificate \(sfdeploy smoke --ca <file>\)$/,
    },
    {
      name: 'an unknown CA: a certificate from a CA this machine does not trust',
      url: () => `https://app.example.test:${untrusted.port}`,
      options: () => ({ connectTo: '127.0.0.1' }),
      reason:
        /^TLS: unknown CA: the certificate cannot be traced to a trusted CA \(is the server missing its intermediate certificate\?\); if you trust it, give its CA certificate/,
    },
    {
      name: 'an expired certificate from a trusted CA',
      url: () => expired.url,
      options: () => ({ ca: expiredCa }),
      reason: /^TLS: the certificate has expired: the server must be given a renewed certificate$/,
    },
    {
      name: 'a name mismatch',
      url: () => `https://app.example.test:${otherName.port}`,
      options: () => ({ ca: ca.cert, connectTo: '127.0.0.1' }),
      reason: () =>
        'TLS: name mismatch: the certificate is not valid for app.example.test: it names other.example.test',
    },
    {
      name: 'the wrong protocol: https:// to a plain-HTTP port',
      url: () => `https://127.0.0.1:${plain.port}`,
      reason: () =>
        `TLS: wrong protocol: 127.0.0.1:${plain.port} did not answer in TLS (a plain-HTTP port?); use http:// or the HTTPS port`,
    },
  ];

  for (const { name, url, options, reason } of cases) {
    it(`fails on ${name}, saying so in one line, as an answer not an outage`, async () => {
      const result = await run(url(), [check('tls')], options?.() ?? {});
      const failed = only(result);
      assert.equal(failed.verdict, 'fail');
      if (typeof reason === 'function') assert.equal(failed.reason, reason());
      else assert.match(failed.reason ?? '', reason);
      assert.doesNotMatch(failed.reason ?? '', /\n|SSL routines|0A0/);
      assert.equal(failed.failureKind, 'assertion');
      // The server was reached: a TLS failure is not "cannot reach".
      assert.equal(failed.unreachable, null);
      assert.equal(result.unreachable, null);
    });
  }

  it('passes the unknown-CA server once its CA is given (the hint works)', async () => {
    const result = await run(`https://app.example.test:${untrusted.port}`, [check('tls')], {
      ca: foreign.cert,
      connectTo: '127.0.0.1',
    });
    assert.equal(result.passed, true, JSON.stringify(result.checks));
  });
});

describe('an unreachable target', () => {
  let live: Listening;
  before(async () => {
    live = await listen(ok);
  });
  after(() => live.close());

  it('says once that no check reached the closed port, naming the address and the cause', async () => {
    const port = await refusedPort();
    const result = await run(`http://127.0.0.1:${port}`, [check('a'), check('b', { path: '/b' })]);
    assert.equal(result.passed, false);
    assert.deepEqual(result.unreachable, {
      addresses: [`127.0.0.1:${port}`],
      causes: ['connection refused'],
      checks: 2,
    });
    for (const c of result.checks) {
      assert.equal(c.reason, `connection refused (127.0.0.1:${port})`);
      assert.deepEqual(c.unreachable, { address: `127.0.0.1:${port}`, cause: 'connection refused' });
    }
  });

  it('names the host that does not resolve', async () => {
    const result = await run('http://smoke-check.invalid', [check('a')]);
    assert.deepEqual(result.unreachable, { addresses: ['smoke-check.invalid'], causes: ['host not found'], checks: 1 });
  });

  it('lists the base address first when the plain-HTTP check tried another port', async () => {
    const [base, http] = [await refusedPort(), await refusedPort()];
    const result = await run(
      `http://127.0.0.1:${base}`,
      [check('redirect', { plainHttp: true, expect: { status: [301] } }), check('a')],
      { httpPort: http },
    );
    assert.deepEqual(result.unreachable?.addresses, [`127.0.0.1:${base}`, `127.0.0.1:${http}`]);
  });

  it('is not claimed when one check got an answer', async () => {
    const port = await refusedPort();
    const result = await run(
      `http://127.0.0.1:${port}`,
      [check('redirect', { plainHttp: true, expect: { status: [301] } }), check('a')],
      { httpPort: live.port },
    );
    assert.equal(result.passed, false);
    assert.equal(result.unreachable, null);
    assert.equal(result.checks.find((c) => c.id === 'redirect')?.reason, 'expected status 301, got 200');
  });

  it('is not claimed when no check ran', async () => {
    const port = await refusedPort();
    const result = await run(`http://127.0.0.1:${port}`, [check('a', { auth: 'bearer' })]);
    assert.equal(result.checks[0]?.verdict, 'skipped');
    assert.equal(result.unreachable, null);
  });
});
