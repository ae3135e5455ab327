import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { didYouMean, listChecks, SelectionError, selectChecks } from '../../../lambda/smoke/selection';
import { defaultSpec, parseSpec } from '../../../lambda/smoke/spec';

const check = (id: string, tags: string[], extra: Record<string, unknown> = {}) => ({
  id,
  title: id,
  path: `/${id}`,
  tags,
  expect: { status: [200] },
  ...extra,
});
const spec = parseSpec({
  version: 1,
  checks: [
    check('health', ['health']),
    check('auth-me', ['auth']),
    check('auth-me-token', ['auth'], { auth: 'bearer' }),
    check('sns-create', ['sns'], { method: 'POST', writes: true, body: {} }),
    check('hsts', ['security'], { appMode: 'production' }),
  ],
});
const ids = (selected: { checks: readonly { id: string }[] }) => selected.checks.map((c) => c.id);
const problem = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SelectionError, String(error));
    assert.doesNotMatch(error.message, /\n/);
    return error.message;
  }
  assert.fail('the selection was accepted');
};

describe('check selection (--tag, --only, --skip)', () => {
  it('keeps every check, in spec order, when nothing is asked', () => {
    assert.deepEqual(ids(selectChecks(spec, {})), ['health', 'auth-me', 'auth-me-token', 'sns-create', 'hsts']);
  });

  it('intersects --tag with --only, then takes --skip away', () => {
    assert.deepEqual(ids(selectChecks(spec, { only: ['hsts', 'health'] })), ['health', 'hsts']);
    assert.deepEqual(ids(selectChecks(spec, { tags: ['auth'], skip: ['auth-me'] })), ['auth-me-token']);
    assert.deepEqual(ids(selectChecks(spec, { tags: ['auth'], only: ['auth-me', 'health'] })), ['auth-me']);
  });

  it('names an unknown --only id with the nearest real one', () => {
    assert.equal(
      problem(() => selectChecks(spec, { only: ['helth'] })),
      '--only: no check "helth" (did you mean "health"?) in the spec; `sfdeploy smoke --list` shows the ids',
    );
  });

  it('names every unknown --skip id, guessing only where one is near', () => {
    assert.equal(
      problem(() => selectChecks(spec, { skip: ['auth-me-tokn', 'zzzzzzzz'] })),
      '--skip: no check "auth-me-tokn" (did you mean "auth-me-token"?), "zzzzzzzz" in the spec; `sfdeploy smoke --list` shows the ids',
    );
  });

  it('refuses a selection that leaves nothing to run, saying which options did it', () => {
    assert.equal(
      problem(() => selectChecks(spec, { tags: ['health'], skip: ['health'] })),
      '--tag health with --skip health leaves no check to run',
    );
  });

  it('refuses a tag no check carries, listing the tags there are', () => {
    assert.equal(
      problem(() => selectChecks(spec, { tags: ['nope'] })),
      '--tag nope matches no check (tags in the spec: auth, health, security, sns)',
    );
  });

  it('guesses near slips and prefixes, and nothing for a word far from every id', () => {
    const all = defaultSpec().checks.map((c) => c.id);
    assert.equal(didYouMean('helht', all), 'health');
    assert.equal(didYouMean('oauth-googel-url', all), 'oauth-google-url');
    assert.equal(didYouMean('page-log', all), 'page-login');
    assert.equal(didYouMean('xyzzy', all), undefined);
  });
});

describe('--list rows', () => {
  it('say whether each check needs a token, writes data, or runs in one app mode only', () => {
    const byId = new Map(listChecks(spec).map((c) => [c.id, c]));
    assert.equal(byId.get('auth-me-token')?.needsToken, true);
    assert.equal(byId.get('auth-me')?.needsToken, false);
    assert.equal(byId.get('sns-create')?.writes, true);
    assert.equal(byId.get('sns-create')?.method, 'POST');
    assert.equal(byId.get('hsts')?.appMode, 'production');
    assert.equal(byId.get('health')?.appMode, null);
  });
});
