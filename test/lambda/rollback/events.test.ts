/** Parsing at the boundary: SNS alarm notifications and pipeline payloads, never throwing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAlarmTime, parseInvocation, parseRecord } from '../../../lambda/rollback/events';
import { ACCOUNT, alarmArn, alarmMessage, ERROR_RATE, pipelineRequest, revisionArn, snsEvent } from './fixtures';

describe('event parsing', () => {
  it('turns a CloudWatch alarm notification into an alarm trigger', () => {
    const parsed = parseInvocation(
      snsEvent(alarmMessage({ at: Date.parse('2025-11-26T10:44:12.345Z') }), {
        messageId: 'f1e2d3c4-b5a6-5978-8a9b-0c1d2e3f4a5b',
      }),
    );
    assert.equal(parsed.kind, 'sns');
    assert.ok(parsed.kind === 'sns');
    assert.deepEqual(parsed.records[0], {
      kind: 'alarm',
      trigger: {
        kind: 'alarm',
        alarmName: ERROR_RATE,
        alarmArn: alarmArn(ERROR_RATE),
        accountId: ACCOUNT,
        newState: 'ALARM',
        oldState: 'OK',
        stateChangeTime: new Date('2025-11-26T10:44:12.345Z'),
        stateReason: alarmMessage()['NewStateReason'],
        messageId: 'f1e2d3c4-b5a6-5978-8a9b-0c1d2e3f4a5b',
      },
    });
  });

  it("reads CloudWatch's +0000 timestamps", () => {
    assert.equal(parseAlarmTime('2025-11-26T10:44:12.345+0000')?.toISOString(), '2025-11-26T10:44:12.345Z');
    assert.equal(parseAlarmTime('2025-11-26T11:44:12.345+0100')?.toISOString(), '2025-11-26T10:44:12.345Z');
    assert.equal(parseAlarmTime('yesterday'), undefined);
  });

  it('keeps a notification without AlarmArn parseable (decide refuses it later)', () => {
    const record = parseInvocation(snsEvent(alarmMessage({ withArn: false })));
    assert.ok(record.kind === 'sns' && record.records[0]?.kind === 'alarm');
    assert.equal(record.records[0].trigger.alarmArn, undefined);
  });

  it('recognises its own reports by their message attribute', () => {
    const parsed = parseInvocation(
      snsEvent('report', { messageId: 'own-1', attributes: { 'softfactory:origin': 'rollback-function' } }),
    );
    assert.deepEqual(parsed, { kind: 'sns', records: [{ kind: 'own-message', messageId: 'own-1' }] });
  });

  it('reports non-JSON messages, non-alarm JSON and non-SNS records as invalid', () => {
    assert.match(JSON.stringify(parseInvocation(snsEvent('ALARM!'))), /is not JSON/);
    assert.match(JSON.stringify(parseInvocation(snsEvent({ hello: 'world' }))), /AlarmName/);
    assert.match(JSON.stringify(parseInvocation(snsEvent(alarmMessage({ account: '12345' })))), /12-digit/);
    assert.equal(parseRecord({ EventSource: 'aws:sqs', body: '{}' }).kind, 'invalid');
    assert.deepEqual(parseInvocation({ Records: [] }), { kind: 'unknown', problem: 'event has no Records' });
  });

  it('validates pipeline payloads strictly', () => {
    assert.deepEqual(parseInvocation(pipelineRequest()), {
      kind: 'pipeline',
      request: {
        action: 'rollback',
        reason: 'checkout 500s after release 2025.11.26',
        requestedBy: 'ci:deploy-pipeline#1842',
        dryRun: false,
      },
    });
    const typo = parseInvocation(pipelineRequest({ torevision: revisionArn('1') }));
    assert.equal(typo.kind, 'invalid-pipeline');
    const bad = parseInvocation(
      pipelineRequest({
        toRevision: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/softfactory-prod-web:40',
        reason: 'x',
      }),
    );
    assert.ok(bad.kind === 'invalid-pipeline');
    assert.deepEqual(
      bad.issues.map((i) => i.split(':')[0]),
      ['reason', 'toRevision'],
    );
    assert.equal(parseInvocation({ action: 'deploy' }).kind, 'invalid-pipeline');
  });

  it('calls anything else unknown', () => {
    assert.equal(parseInvocation('rollback please').kind, 'unknown');
    assert.equal(parseInvocation(null).kind, 'unknown');
    assert.equal(parseInvocation({ detail: {} }).kind, 'unknown');
  });
});
