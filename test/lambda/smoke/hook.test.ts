import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRollback, type LifecycleHookEvent, lifecycleHookEventSchema } from '../../../lambda/shared/lifecycle-hook';
import type { CheckResult, FailureKind, SuiteResult } from '../../../lambda/smoke/engine';
import { classifySuite, decideHookOutcome, formatNotification, phaseOf, readAttempt } from '../../../lambda/smoke/hook';

function check(
  id: string,
  verdict: CheckResult['verdict'],
  kind: FailureKind | null = null,
  status: number | null = null,
) {
  return {
    id,
    title: id,
    method: 'GET',
    path: `/${id}`,
    tags: [],
    verdict,
    status,
    contentType: null,
    latencyMs: verdict === 'skipped' ? null : 12,
    reason: verdict === 'fail' ? `${id} broke` : verdict === 'skipped' ? 'needs a token' : null,
    excerpt: null,
    attempts: verdict === 'skipped' ? 0 : 1,
    failureKind: verdict === 'fail' ? kind : null,
    unreachable: null,
  } satisfies CheckResult;
}

const REVISION = 'arn:aws:ecs:eu-west-1:123456789012:service-revision/softfactory-prod/web/42';

function suite(...checks: CheckResult[]): SuiteResult {
  const ran = checks.filter((c) => c.verdict !== 'skipped');
  return {
    target: 'https://green.example.com/',
    connectedTo: null,
    passed: ran.length > 0 && ran.every((c) => c.verdict === 'pass'),
    durationMs: 420,
    checks,
    unreachable: null,
  };
}

describe('smoke hook decisions', () => {
  it('succeeds when every check that ran passed', () => {
    const decision = decideHookOutcome(suite(check('health', 'pass'), check('auth-me-token', 'skipped')), 1, 5);
    assert.deepEqual(decision.response, { hookStatus: 'SUCCEEDED' });
    assert.equal(decision.outcome, 'passed');
  });

  it('fails at once on an assertion failure, even on the first attempt', () => {
    const decision = decideHookOutcome(suite(check('health', 'fail', 'assertion', 200), check('sns', 'pass')), 1, 5);
    assert.deepEqual(decision.response, { hookStatus: 'FAILED' });
    assert.match(
      decision.summary,
      /^smoke suite failed: 1\/2 checks passed, 0 skipped, 420 ms; health \(health broke\)$/,
    );
  });

  it('fails at once when an assertion failure comes with network failures', () => {
    const result = suite(check('a', 'fail', 'network'), check('b', 'fail', 'assertion', 500));
    assert.equal(decideHookOutcome(result, 1, 5).response.hookStatus, 'FAILED');
  });

  it('asks to be called again, attempt + 1, when every failure is network-level', () => {
    const result = suite(check('a', 'fail', 'network'), check('b', 'fail', 'timeout'), check('c', 'pass'));
    const scope = { lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT', targetServiceRevisionArn: REVISION };
    const decision = decideHookOutcome(result, 2, 5, {
      callBackDelaySeconds: 45,
      hookDetails: { smokeAttempt: { ...scope, attempt: 2 }, static: 'x' },
      scope,
    });
    assert.deepEqual(decision.response, {
      hookStatus: 'IN_PROGRESS',
      callBackDelay: 45,
      hookDetails: { smokeAttempt: { ...scope, attempt: 3 }, static: 'x' },
    });
    assert.equal(decision.outcome, 'retry');
  });

  it('treats 502/503/504 across the board as not reachable yet', () => {
    const result = suite(
      check('a', 'fail', 'gateway', 503),
      check('b', 'fail', 'gateway', 502),
      check('c', 'fail', 'network'),
    );
    assert.equal(classifySuite(result), 'transient');
    assert.equal(decideHookOutcome(result, 1, 3).response.hookStatus, 'IN_PROGRESS');
  });

  it('treats a 503 from one endpoint while others pass as the service’s real answer', () => {
    const result = suite(check('a', 'fail', 'gateway', 503), check('b', 'pass'));
    assert.equal(classifySuite(result), 'definite');
    assert.equal(decideHookOutcome(result, 1, 3).response.hookStatus, 'FAILED');
  });

  it('fails a transient failure on the last attempt', () => {
    const result = suite(check('a', 'fail', 'network'));
    const decision = decideHookOutcome(result, 3, 3);
    assert.deepEqual(decision.response, { hookStatus: 'FAILED' });
    assert.match(decision.summary, /^target still unreachable after 3 attempts/);
  });

  it('fails a suite in which no check ran', () => {
    const decision = decideHookOutcome(suite(check('a', 'skipped')), 1, 5);
    assert.deepEqual(decision.response, { hookStatus: 'FAILED' });
    assert.match(decision.summary, /ran no check/);
  });

  it('defaults the callback delay to 30 s and starts counting attempts at 1', () => {
    const scope = { lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT', targetServiceRevisionArn: REVISION };
    const decision = decideHookOutcome(suite(check('a', 'fail', 'timeout')), readAttempt(undefined, scope), 5, {
      scope,
    });
    assert.deepEqual(decision.response, {
      hookStatus: 'IN_PROGRESS',
      callBackDelay: 30,
      hookDetails: { smokeAttempt: { ...scope, attempt: 2 } },
    });
    assert.equal(readAttempt(decision.response.hookDetails, scope), 2);
    assert.equal(readAttempt({ smokeAttempt: { ...scope, attempt: 4 } }, scope), 4);
    assert.equal(readAttempt({ smokeAttempt: { ...scope, attempt: '4' } }, scope), 1);
    assert.equal(readAttempt({ smokeAttempt: { ...scope, attempt: -1 } }, scope), 1);
    assert.equal(readAttempt(null, scope), 1);
  });

  it('keeps one attempt counter per lifecycle stage and target revision, beside the static hookDetails', () => {
    const test = { lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT', targetServiceRevisionArn: REVISION };
    const production = { ...test, lifecycleStage: 'POST_PRODUCTION_TRAFFIC_SHIFT' };
    const details = decideHookOutcome(suite(check('a', 'fail', 'network')), 3, 5, {
      scope: test,
      hookDetails: { owner: 'static' },
    }).response.hookDetails;
    assert.deepEqual(details, { owner: 'static', smokeAttempt: { ...test, attempt: 4 } });
    assert.equal(readAttempt(details, test), 4);
    // State carried (or not) into the next stage, or from an earlier deployment, never spends that stage's attempts.
    assert.equal(readAttempt(details, production), 1);
    assert.equal(readAttempt(details, { ...test, targetServiceRevisionArn: `${REVISION}-next` }), 1);
    // The counter of the previous release of this function (a bare `attempt`) counts as none.
    assert.equal(readAttempt({ attempt: 3 }, production), 1);
  });

  it('says in the summary which checks were skipped and why', () => {
    const result = suite(
      check('health', 'pass'),
      { ...check('auth-me-token', 'skipped'), reason: 'no usable smoke token: the secret is empty' },
      { ...check('sns-accounts-token', 'skipped'), reason: 'no usable smoke token: the secret is empty' },
      { ...check('sns-post-create', 'skipped'), reason: 'writes data' },
    );
    const decision = decideHookOutcome(result, 1, 3);
    assert.equal(decision.response.hookStatus, 'SUCCEEDED');
    assert.equal(
      decision.summary,
      'smoke suite passed: 1/1 checks passed, 3 skipped, 420 ms; skipped: ' +
        '2 (auth-me-token, sns-accounts-token): no usable smoke token: the secret is empty; 1 (sns-post-create): writes data',
    );
    assert.deepEqual(decision.skipped, [
      { reason: 'no usable smoke token: the secret is empty', ids: ['auth-me-token', 'sns-accounts-token'] },
      { reason: 'writes data', ids: ['sns-post-create'] },
    ]);
  });

  it('smokes green at POST_TEST_TRAFFIC_SHIFT and production at POST_PRODUCTION_TRAFFIC_SHIFT only', () => {
    assert.equal(phaseOf('POST_TEST_TRAFFIC_SHIFT'), 'test');
    assert.equal(phaseOf('POST_PRODUCTION_TRAFFIC_SHIFT'), 'production');
    assert.equal(phaseOf('PRE_SCALE_UP'), undefined);
    assert.equal(phaseOf('toString'), undefined);
  });

  it('writes a notification naming each failing check, under SNS subject limits', () => {
    const result = suite(check('health', 'fail', 'assertion', 503), check('sns-accounts', 'pass'));
    const decision = decideHookOutcome(result, 1, 5);
    const { subject, message } = formatNotification({
      result,
      decision,
      stage: 'prod',
      lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
      serviceArn: 'arn:aws:ecs:eu-west-1:123456789012:service/softfactory-prod/web',
      targetServiceRevisionArn: 'arn:aws:ecs:eu-west-1:123456789012:service-revision/softfactory-prod/web/42',
      attempt: 1,
      maxAttempts: 5,
    });
    assert.equal(subject, '[prod] web: smoke suite FAILED at POST_TEST_TRAFFIC_SHIFT (1 failing)');
    assert.ok(subject.length < 100 && /^[\x20-\x7e]+$/.test(subject));
    assert.match(message, /health\s+GET \/health\s+status 503 12 ms\s+health broke/);
    assert.doesNotMatch(message, /sns-accounts/);
    assert.match(message, /service-revision\/softfactory-prod\/web\/42/);
  });
});

describe('rollback detection (ECS re-invokes traffic-shift hooks while rolling back)', () => {
  const green = 'arn:aws:ecs:us-west-2:123456789012:service-revision/c/s/9313423515462893900';
  const blue = 'arn:aws:ecs:us-west-2:123456789012:service-revision/c/s/1920498462936580504';
  const event = (
    lifecycleStage: string,
    weights: { test?: Record<string, number>; production?: Record<string, number> },
  ): LifecycleHookEvent =>
    lifecycleHookEventSchema.parse({
      executionId: 'e8d5a28f',
      lifecycleStage,
      resourceArn: 'arn:aws:ecs:us-west-2:123456789012:service-deployment/c/s/x',
      executionDetails: {
        serviceArn: 'arn:aws:ecs:us-west-2:123456789012:service/c/s',
        targetServiceRevisionArn: green,
        testTrafficWeights: weights.test ?? {},
        productionTrafficWeights: weights.production ?? {},
      },
    });

  it('sees a rollback when production traffic shifts back to the old revision', () => {
    assert.equal(isRollback(event('PRODUCTION_TRAFFIC_SHIFT', { production: { [green]: 0, [blue]: 100 } })), true);
  });

  it('sees a rollback when test traffic shifts back', () => {
    assert.equal(isRollback(event('TEST_TRAFFIC_SHIFT', { test: { [green]: 0, [blue]: 100 } })), true);
  });

  it('sees a forward shift as a forward shift', () => {
    assert.equal(isRollback(event('PRODUCTION_TRAFFIC_SHIFT', { production: { [green]: 100, [blue]: 0 } })), false);
    assert.equal(isRollback(event('PRODUCTION_TRAFFIC_SHIFT', { production: { [green]: 10, [blue]: 90 } })), false);
  });

  it('does not mistake PRE_PRODUCTION_TRAFFIC_SHIFT (green still at 0 %) for a rollback', () => {
    assert.equal(isRollback(event('PRE_PRODUCTION_TRAFFIC_SHIFT', { production: { [green]: 0, [blue]: 100 } })), false);
  });

  it('judges the POST_* stages (empty weight maps) as forward', () => {
    assert.equal(isRollback(event('POST_TEST_TRAFFIC_SHIFT', {})), false);
    assert.equal(isRollback(event('POST_PRODUCTION_TRAFFIC_SHIFT', {})), false);
  });
});
