/**
 * Where alarms and deployment events go: the stage's encrypted SNS topic, its key and topic policies, the e-mail
 * subscriptions, every alarm's ALARM and OK actions, and the readable ECS deployment messages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { DEPLOYMENT_EVENT, ROLLBACK_REASON_PATTERNS } from '../../lib/constructs/deployment-events';
import { alarms, TUNED, templates } from '../helpers/monitoring';
import { only, resourcesOf, type SynthResult, synthApp } from '../helpers/synth';

const prod = synthApp({ stage: 'prod' });
const dev = synthApp({ stage: 'dev' });
const tuned = synthApp(TUNED);

// ---------------------------------------------------------------------------------------------------------------

describe('notifications', () => {
  it('has one SNS topic per stage, encrypted with a customer-managed KMS key (not aws/sns)', () => {
    for (const result of [dev, prod]) {
      const topic = only(resourcesOf(result.service, 'AWS::SNS::Topic'), 'topic');
      assert.equal(topic.Properties['TopicName'], `softfactory-${result.config.stage}-alarms`);
      assert.deepEqual(topic.Properties['KmsMasterKeyId'], { 'Fn::GetAtt': [findKey(result), 'Arn'] });
      assert.doesNotMatch(JSON.stringify(topic.Properties), /alias\/aws\/sns/);
    }
    prod.service.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      Description: Match.stringLikeRegexp('softfactory-prod-alarms'),
    });
  });

  it('lets CloudWatch and EventBridge use the key to publish to the encrypted topic', () => {
    const key = resourcesOf(prod.service, 'AWS::KMS::Key')[findKey(prod)]!;
    const statements = (
      key.Properties['KeyPolicy'] as { Statement: { Principal?: { Service?: string }; Action: unknown }[] }
    ).Statement;
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      const grant = statements.find((s) => s.Principal?.Service === service);
      assert.ok(grant, `${service} in the key policy`);
      assert.deepEqual(grant.Action, ['kms:Decrypt', 'kms:GenerateDataKey*']);
    }
  });

  it('admits CloudWatch (only this account’s softfactory-<stage>- alarms) and EventBridge in the topic policy, TLS only', () => {
    const policy = JSON.stringify(only(resourcesOf(prod.service, 'AWS::SNS::TopicPolicy'), 'topic policy').Properties);
    assert.match(policy, /"Service":"cloudwatch.amazonaws.com"/);
    assert.match(policy, /:alarm:softfactory-prod-\*/);
    assert.match(policy, /"aws:SourceAccount"/);
    assert.match(policy, /"Service":"events.amazonaws.com"/);
    assert.match(policy, /"aws:SecureTransport":"false"/);
  });

  it('subscribes the configured e-mail addresses, and nobody by default', () => {
    const emails = (template: typeof dev.service) =>
      Object.values(resourcesOf(template, 'AWS::SNS::Subscription')).filter(
        (s) => s.Properties['Protocol'] === 'email',
      );
    assert.equal(emails(dev.service).length, 0);
    assert.equal(emails(tuned.service).length, 2);
    tuned.service.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^AlarmTopic') },
    });
  });

  it('sends every alarm’s ALARM and OK transitions to the stage topic, in every stack', () => {
    for (const result of [dev, prod]) {
      let count = 0;
      for (const template of templates(result)) {
        for (const alarm of Object.values(alarms(template))) {
          count += 1;
          for (const actions of [alarm.AlarmActions, alarm.OKActions]) {
            assert.deepEqual(actions, [{ Ref: topicId(result) }], alarm.AlarmName);
          }
        }
      }
      assert.ok(count >= 10);
    }
  });

  it('reports ECS deployment state changes of this service to the topic with readable messages', () => {
    const rules = Object.values(resourcesOf(prod.service, 'AWS::Events::Rule')).map(
      (r) =>
        r.Properties as {
          EventPattern: {
            source: string[];
            'detail-type': string[];
            resources: unknown[];
            detail: Record<string, unknown[]>;
          };
          Targets: {
            Arn: unknown;
            InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string };
          }[];
        },
    );
    assert.equal(rules.length, 3);
    const serviceId = Object.keys(resourcesOf(prod.service, 'AWS::ECS::Service'))[0];
    const events = new Set<string>();
    for (const rule of rules) {
      assert.deepEqual(rule.EventPattern.source, ['aws.ecs']);
      assert.deepEqual(rule.EventPattern['detail-type'], ['ECS Deployment State Change']);
      assert.deepEqual(rule.EventPattern.resources, [{ Ref: serviceId }]);
      for (const name of rule.EventPattern.detail['eventName'] as string[]) events.add(name);
      const [target] = rule.Targets;
      assert.ok(target);
      assert.deepEqual(target.Arn, { Ref: topicId(prod) });
      assert.equal(target.InputTransformer.InputPathsMap['detail-reason'], '$.detail.reason');
      assert.match(
        target.InputTransformer.InputTemplate,
        /^"\[softfactory-prod\] Deployment|^"\[softfactory-prod\] ROLLBACK/,
      );
      assert.match(target.InputTransformer.InputTemplate, /<detail-reason>/);
      assert.match(target.InputTransformer.InputTemplate, /<detail-deploymentId>/);
    }
    assert.deepEqual([...events].sort(), [DEPLOYMENT_EVENT.completed, DEPLOYMENT_EVENT.inProgress]);
    const headlines = rules.map((r) => r.Targets[0]?.InputTransformer.InputTemplate.split('\\n')[0]).join(' | ');
    for (const word of ['STARTED', 'ROLLBACK', 'COMPLETED']) assert.match(headlines, new RegExp(word));
  });

  it('tells a rollback from a start with complementary patterns on the reason, so each event sends one message', () => {
    const patterns = Object.values(resourcesOf(prod.service, 'AWS::Events::Rule'))
      .map((r) => (r.Properties['EventPattern'] as { detail: { reason?: unknown[] } }).detail.reason)
      .filter((reason) => reason !== undefined);
    assert.deepEqual(patterns, [
      [{ 'anything-but': { wildcard: ROLLBACK_REASON_PATTERNS } }],
      ROLLBACK_REASON_PATTERNS.map((wildcard) => ({ wildcard })),
    ]);
    const matches = (reason: string) =>
      ROLLBACK_REASON_PATTERNS.some((p) => new RegExp(`^${p.replaceAll('*', '.*')}$`).test(reason));
    // The documented reasons (Amazon ECS Developer Guide, service deployment state change events).
    assert.equal(matches('ECS deployment circuit breaker: rolling back to deploymentId deploymentID.'), true);
    assert.equal(matches('ECS deployment deploymentId in progress.'), false);
  });
});

function findKey(result: SynthResult): string {
  const id = Object.keys(resourcesOf(result.service, 'AWS::KMS::Key')).find((k) => k.startsWith('AlarmTopicKey'));
  assert.ok(id, 'alarm topic key');
  return id;
}

function topicId(result: SynthResult): string {
  const id = Object.keys(resourcesOf(result.service, 'AWS::SNS::Topic'))[0];
  assert.ok(id, 'topic');
  return id;
}
