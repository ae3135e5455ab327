/**
 * The JUnit report, read back by an independent strict XML reader (./xml.ts): the structure CI systems read
 * (testsuites > testsuite > testcase > failure | skipped) with counts that add up, and any text a server may send
 * surviving escaping. Property cases use a fixed seed (printed in the test name; fast-check prints the
 * counterexample on failure).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { CheckResult, SuiteResult } from '../../../lambda/smoke/engine';
import { renderJunit } from '../../../lambda/smoke/junit';
import { childrenNamed, parseXml, type XmlElement } from './xml';

function check(id: string, verdict: CheckResult['verdict'], overrides: Partial<CheckResult> = {}): CheckResult {
  return {
    id,
    title: `Title of ${id}`,
    method: 'GET',
    path: `/${id}`,
    tags: [],
    verdict,
    status: verdict === 'skipped' ? null : 200,
    contentType: verdict === 'skipped' ? null : 'application/json',
    latencyMs: verdict === 'skipped' ? null : 42,
    reason: verdict === 'pass' ? null : `${id} reason`,
    excerpt: null,
    attempts: verdict === 'skipped' ? 0 : 1,
    failureKind: verdict === 'fail' ? 'assertion' : null,
    unreachable: null,
    ...overrides,
  };
}

function suite(checks: CheckResult[]): SuiteResult {
  return {
    target: 'https://app.example.test/',
    connectedTo: null,
    passed: checks.every((c) => c.verdict !== 'fail'),
    durationMs: 1234,
    checks,
    unreachable: null,
  };
}

const TIMESTAMP = new Date('2026-12-02T10:11:12.345Z');

function only(element: XmlElement, name: string): XmlElement {
  const found = childrenNamed(element, name);
  assert.equal(found.length, 1, `one <${name}> in <${element.name}>`);
  return found[0]!;
}

describe('JUnit XML report', () => {
  it('has one testsuite with a testcase per check, a failure or skipped element inside, and counts that add up', () => {
    const xml = renderJunit(
      suite([
        check('health', 'pass'),
        check('auth-me', 'fail', {
          status: 502,
          reason: 'expected status 200, got 502',
          failureKind: 'gateway',
          excerpt: '<html>Bad Gateway</html>',
        }),
        check('auth-me-token', 'skipped', { reason: 'needs a token (--token / --token-env)' }),
      ]),
      { timestamp: TIMESTAMP },
    );
    const root = parseXml(xml);
    assert.equal(root.name, 'testsuites');
    assert.deepEqual(
      { ...root.attributes },
      { name: 'sfdeploy smoke', tests: '3', failures: '1', errors: '0', skipped: '1', time: '1.234' },
    );
    const testsuite = only(root, 'testsuite');
    assert.equal(testsuite.attributes['name'], 'sfdeploy smoke https://app.example.test/');
    assert.equal(testsuite.attributes['tests'], '3');
    assert.equal(testsuite.attributes['failures'], '1');
    assert.equal(testsuite.attributes['skipped'], '1');
    assert.equal(testsuite.attributes['timestamp'], '2026-12-02T10:11:12');
    const target = childrenNamed(only(testsuite, 'properties'), 'property').find(
      (p) => p.attributes['name'] === 'target',
    );
    assert.equal(target?.attributes['value'], 'https://app.example.test/');

    const cases = childrenNamed(testsuite, 'testcase');
    assert.deepEqual(
      cases.map((c) => [c.attributes['classname'], c.attributes['name'], c.attributes['time']]),
      [
        ['sfdeploy.smoke', 'health: GET /health', '0.042'],
        ['sfdeploy.smoke', 'auth-me: GET /auth-me', '0.042'],
        ['sfdeploy.smoke', 'auth-me-token: GET /auth-me-token', '0.000'],
      ],
    );
    assert.deepEqual(cases[0]!.children, []);
    const failure = only(cases[1]!, 'failure');
    assert.equal(failure.attributes['message'], 'expected status 200, got 502');
    assert.equal(failure.attributes['type'], 'gateway');
    assert.match(failure.text, /^Title of auth-me\nGET \/auth-me\nstatus: 502\n/);
    assert.match(failure.text, /\nbody: <html>Bad Gateway<\/html>$/);
    assert.equal(childrenNamed(cases[1]!, 'skipped').length, 0);
    assert.equal(only(cases[2]!, 'skipped').attributes['message'], 'needs a token (--token / --token-env)');
  });

  it('names the connect-to address as a property when the suite used one', () => {
    const xml = renderJunit(
      { ...suite([check('health', 'pass')]), connectedTo: 'alb.example.test' },
      { timestamp: TIMESTAMP },
    );
    const properties = childrenNamed(only(only(parseXml(xml), 'testsuite'), 'properties'), 'property');
    assert.deepEqual(
      properties.map((p) => [p.attributes['name'], p.attributes['value']]),
      [
        ['target', 'https://app.example.test/'],
        ['connectTo', 'alb.example.test'],
      ],
    );
  });

  const seed = Number(process.env['SFDEPLOY_FUZZ_SEED'] ?? 20261203);
  it(`keeps any reason, title, path and body text a server may produce readable and well-formed (seed ${seed})`, () => {
    // XML 1.0 cannot carry C0 controls (but tab, LF, CR), lone surrogates, U+FFFE/U+FFFF: the report replaces them.
    const representable = (s: string) =>
      s.replace(
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the oracle names the forbidden characters itself
        /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
        '\uFFFD',
      );
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({
        unit: fc.constantFrom('<', '>', '&', '"', "'", ';', '\t', '\n', '\r', ']]>', 'a', '\u0000', '\uD800'),
        maxLength: 20,
      }),
    );
    fc.assert(
      fc.property(text, text, text, text, (reason, title, path, excerpt) => {
        const failing = check('x', 'fail', { reason, title, path, excerpt });
        const skipped = check('y', 'skipped', { reason });
        const root = parseXml(renderJunit(suite([failing, skipped]), { timestamp: TIMESTAMP }));
        const [failed, skip] = childrenNamed(only(root, 'testsuite'), 'testcase');
        assert.equal(only(failed!, 'failure').attributes['message'], representable(reason));
        assert.equal(failed!.attributes['name'], `x: GET ${representable(path)}`);
        const detail = only(failed!, 'failure').text;
        assert.ok(detail.startsWith(`${representable(title)}\n`), detail);
        if (excerpt) assert.ok(detail.endsWith(`\nbody: ${representable(excerpt)}`), detail);
        assert.equal(only(skip!, 'skipped').attributes['message'], representable(reason));
      }),
      { seed, numRuns: 300 },
    );
  });
});

describe('the XML reader used to judge the report', () => {
  // The oracle must itself reject what a real parser rejects, or the tests above prove nothing.
  for (const [name, xml] of [
    ['a raw ampersand', '<a>x & y</a>'],
    ['a raw < in an attribute', '<a b="<"/>'],
    ['an unknown entity', '<a>&nbsp;</a>'],
    ['mismatched tags', '<a><b></a></b>'],
    ['an unclosed element', '<a><b/>'],
    ['a duplicate attribute', '<a b="1" b="2"/>'],
    ['an unquoted attribute', '<a b=1/>'],
    ['a NUL character', '<a>\u0000</a>'],
    ['two roots', '<a/><b/>'],
  ] as const) {
    it(`rejects ${name}`, () => assert.throws(() => parseXml(xml), /^Error: XML: /));
  }

  it('decodes entities and character references', () => {
    assert.equal(parseXml('<a t="&quot;&#10;&#x41;">&lt;&amp;&gt;&apos;</a>').text, "<&>'");
    assert.equal(parseXml('<a t="&quot;&#10;&#x41;"/>').attributes['t'], '"\nA');
  });
});
