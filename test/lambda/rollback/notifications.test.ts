/**
 * One notification per event on the stage's alarm topic. Every kind of message our stacks publish to the topic is
 * run through the rollback subscription's filter policy as synthesized (evaluated by SNS's documented matching rules,
 * ./sns-filter.ts); what passes is delivered to the real rollback handler, and whatever it publishes goes back through
 * the same filter. Only the rollback alarms' ALARM notifications may reach the function, and each produces exactly one
 * report; nothing else makes the function speak (no "invalid input" reports for deployment events or smoke reports,
 * none for OK transitions or other alarms, none for its own reports).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PublishCommand, type PublishCommandInput } from '@aws-sdk/client-sns';
import { createHandler } from '../../../lambda/rollback/handler';
import { renderReport } from '../../../lambda/rollback/report';
import { resourcesOf, synthApp } from '../../helpers/synth';
import { alarmMessage, ENV, SERVICE_ARN, snsEvent } from './fixtures';
import { type SnsMessage, snsFilterAccepts } from './sns-filter';
import { rollbackTestBed } from './test-bed';

type Resource = { Properties: Record<string, unknown> };
interface Published extends SnsMessage {
  readonly kind: string;
}

/** The documented "service deployment in progress" event (Amazon ECS Developer Guide, ecs_service_deployment_events). */
const DEPLOYMENT_EVENT = {
  version: '0',
  id: 'ddca6449-b258-46c0-8653-e0e3a6EXAMPLE',
  'detail-type': 'ECS Deployment State Change',
  source: 'aws.ecs',
  account: '123456789012',
  time: '2025-11-26T10:20:14Z',
  region: 'eu-west-1',
  resources: [SERVICE_ARN],
  detail: {
    eventType: 'INFO',
    eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS',
    deploymentId: 'ecs-svc/1234567890123456789',
    updatedAt: '2025-11-26T10:20:14Z',
    reason: 'ECS deployment ecs-svc/1234567890123456789 in progress.',
  },
};

function at(path: string, event: unknown): string {
  let value: unknown = event;
  for (const part of path
    .replace(/^\$\./, '')
    .split(/\.|\[(\d+)\]/)
    .filter(Boolean)) {
    value = (value as Record<string, unknown>)?.[part];
  }
  return String(value);
}

/** EventBridge input transformer: `<name>` → the value at InputPathsMap[name]; a JSON string template yields text. */
function render(transformer: { InputPathsMap: Record<string, string>; InputTemplate: string }, event: unknown): string {
  const text = transformer.InputTemplate.replace(/<([\w-]+)>/g, (_, name: string) =>
    at(transformer.InputPathsMap[name] ?? '', event),
  );
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'string' ? parsed : text;
  } catch {
    return text;
  }
}

describe('alarm topic: one notification per event', () => {
  const prod = synthApp({ stage: 'prod' });
  const topicId = Object.keys(resourcesOf(prod.service, 'AWS::SNS::Topic')).find((id) => id.startsWith('AlarmTopic'));
  const toTopic = (v: unknown) => JSON.stringify(v) === JSON.stringify({ Ref: topicId });
  const fnId = Object.entries(resourcesOf(prod.service, 'AWS::Lambda::Function')).find(
    ([, f]) => f.Properties['FunctionName'] === 'softfactory-prod-rollback',
  )?.[0];
  const subscription = Object.values(resourcesOf(prod.service, 'AWS::SNS::Subscription')).find(
    (s) => JSON.stringify(s.Properties['Endpoint']) === JSON.stringify({ 'Fn::GetAtt': [fnId, 'Arn'] }),
  );
  const policy = subscription?.Properties['FilterPolicy'] as Record<string, unknown> | undefined;
  const scope = subscription?.Properties['FilterPolicyScope'] as string | undefined;
  const reachesFunction = (m: SnsMessage) => snsFilterAccepts(policy, scope, m);
  // The rollback alarms as the stack configures the function (its environment in the template).
  const fnEnv = (
    resourcesOf(prod.service, 'AWS::Lambda::Function')[fnId ?? '']!.Properties['Environment'] as {
      Variables: Record<string, unknown>;
    }
  ).Variables;
  const ROLLBACK_ALARMS = String(fnEnv['ROLLBACK_ALARM_NAMES']).split(',');
  const env = { ...ENV, ROLLBACK_ALARM_NAMES: ROLLBACK_ALARMS.join(',') };
  const rollbackAlarmKinds = ROLLBACK_ALARMS.map((name) => `${name} → ALARM`).sort();

  /** Every message our stacks publish to the topic, one of each kind. */
  function everyMessage(): Published[] {
    const messages: Published[] = [];
    for (const rule of Object.values(resourcesOf(prod.service, 'AWS::Events::Rule')) as Resource[]) {
      for (const target of rule.Properties['Targets'] as { Arn: unknown; InputTransformer?: never }[]) {
        if (!toTopic(target.Arn) || !target.InputTransformer) continue;
        messages.push({
          kind: `deployment event (${String(rule.Properties['Description'])})`,
          body: render(target.InputTransformer, DEPLOYMENT_EVENT),
        });
      }
    }
    for (const alarm of Object.values(resourcesOf(prod.service, 'AWS::CloudWatch::Alarm')) as Resource[]) {
      const name = alarm.Properties['AlarmName'];
      assert.equal(typeof name, 'string', 'alarms have fixed names');
      if ((alarm.Properties['AlarmActions'] as unknown[] | undefined)?.some(toTopic)) {
        messages.push({
          kind: `${String(name)} → ALARM`,
          body: JSON.stringify(alarmMessage({ name: String(name), newState: 'ALARM' })),
        });
      }
      if ((alarm.Properties['OKActions'] as unknown[] | undefined)?.some(toTopic)) {
        messages.push({
          kind: `${String(name)} → OK`,
          body: JSON.stringify(alarmMessage({ name: String(name), newState: 'OK' })),
        });
      }
    }
    // The smoke hook publishes a plain-text Subject and Message, no attributes (lambda/smoke/handler.ts, notify).
    messages.push({
      kind: 'smoke failure report',
      body: 'SoftFactory prod smoke suite FAILED at POST_TEST_TRAFFIC_SHIFT\n\n✗ GET /api/sns/posts → 500 (expected 200)',
    });
    const own = renderReport({
      stage: 'prod',
      serviceArn: SERVICE_ARN,
      trigger: { kind: 'invalid', source: 'SNS message' },
      outcome: 'invalid',
      error: 'probe',
      database: { note: 'not relevant to this decision' },
      runbookUrl: 'README.md',
      dbInstanceId: 'softfactory-prod-db',
    });
    messages.push({
      kind: 'rollback report',
      body: own.message,
      attributes: { 'softfactory:origin': { Type: 'String', Value: 'rollback-function' } },
    });
    return messages;
  }

  const bed = rollbackTestBed();

  it('delivers only the rollback alarms’ ALARM notifications to the rollback function', () => {
    const reaching = everyMessage()
      .filter(reachesFunction)
      .map((m) => m.kind);
    assert.equal(ROLLBACK_ALARMS.length, 3);
    assert.deepEqual(reaching.sort(), rollbackAlarmKinds);
  });

  it('makes the function publish one report per rollback-alarm event and nothing for every other message', async () => {
    bed.world.standardHistory({ finishedMinutesAgo: 10 });
    for (const name of ROLLBACK_ALARMS) bed.world.alarms.set(name, 'ALARM');
    const handler = createHandler({
      env,
      now: bed.clock.now,
      sleep: bed.clock.sleep,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });

    const notifications = new Map<string, number>();
    for (const message of everyMessage()) {
      let count = 1; // the message itself, to the e-mail subscriptions (no filter)
      if (reachesFunction(message)) {
        const before = bed.sns.commandCalls(PublishCommand).length;
        let body: Record<string, unknown> | string = message.body;
        try {
          body = JSON.parse(message.body) as Record<string, unknown>;
        } catch {}
        const attributes = Object.fromEntries(Object.entries(message.attributes ?? {}).map(([k, v]) => [k, v.Value]));
        await handler(snsEvent(body, { attributes }));
        const reports: PublishCommandInput[] = bed.sns
          .commandCalls(PublishCommand)
          .slice(before)
          .map((c) => c.args[0].input);
        for (const report of reports) {
          // A report goes back onto the topic: it reaches people, and must not reach the function again.
          const attrs = Object.fromEntries(
            Object.entries(report.MessageAttributes ?? {}).map(([k, v]) => [
              k,
              { Type: v.DataType ?? 'String', Value: v.StringValue ?? '' },
            ]),
          );
          assert.equal(reachesFunction({ body: report.Message ?? '', attributes: attrs }), false, 'own report loops');
        }
        count += reports.length;
        bed.clock.advance(20_000);
      }
      notifications.set(message.kind, count);
    }

    for (const [kind, count] of notifications) {
      assert.equal(count, rollbackAlarmKinds.includes(kind) ? 2 : 1, `${kind}: ${count} notifications`);
    }
    assert.ok(notifications.size >= 20, `every kind of message was tried (${notifications.size})`);
    assert.equal(bed.world.changes, 1, 'three rollback alarms, one rollback');
  });
});
