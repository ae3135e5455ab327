/**
 * Every Lambda function of the deploy path, loaded as Lambda loads it: from cdk.out, with only the files its asset
 * ships, then invoked with a documented event while every AWS endpoint is unreachable. Nothing may fail at load
 * (a missing module, a file the bundle lacks); each invocation ends in an answer ECS or SNS understands, or a clean
 * failure that names what it could not reach.
 *
 * Events: the ECS lifecycle hook payload (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html,
 * "Lambda function lifecycle hook payload") and an SNS notification of a CloudWatch alarm
 * (https://docs.aws.amazon.com/lambda/latest/dg/with-sns.html; https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html).
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { BundleSet, INIT_ERRORS, type Outcome } from '../helpers/lambda-bundle';
import { synthApp } from '../helpers/synth';

const REGION = 'xx-fake-1';
const SERVICE = `arn:aws:ecs:${REGION}:123456789012:service/softfactory-prod/softfactory-prod-web`;
const hookEvent = (lifecycleStage: string) => ({
  executionDetails: {
    testTrafficWeights: {},
    productionTrafficWeights: {},
    serviceArn: SERVICE,
    targetServiceRevisionArn: `arn:aws:ecs:${REGION}:123456789012:service-revision/softfactory-prod/softfactory-prod-web/4567890123456789012`,
  },
  executionId: 'muRkpkoxD7fQcpWxB1cGgXBJxZ8Bq9gDUhVQs4s3sZSBCwsqQw==',
  lifecycleStage,
  resourceArn: `arn:aws:ecs:${REGION}:123456789012:service-deployment/softfactory-prod/softfactory-prod-web/d4XLHfjmyrzEmMGlwSPAd`,
});
const alarmNotification = {
  Records: [
    {
      EventSource: 'aws:sns',
      EventVersion: '1.0',
      EventSubscriptionArn: `arn:aws:sns:${REGION}:123456789012:softfactory-prod-alarms:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`,
      Sns: {
        Type: 'Notification',
        MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
        TopicArn: `arn:aws:sns:${REGION}:123456789012:softfactory-prod-alarms`,
        Subject: 'ALARM: "softfactory-prod-error-rate" in XX Fake',
        Message: JSON.stringify({
          AlarmName: 'softfactory-prod-error-rate',
          AlarmDescription: 'error rate',
          AWSAccountId: '123456789012',
          NewStateValue: 'ALARM',
          NewStateReason: 'Threshold Crossed',
          StateChangeTime: '2026-12-02T10:00:00.000+0000',
          Region: 'XX Fake',
          AlarmArn: `arn:aws:cloudwatch:${REGION}:123456789012:alarm:softfactory-prod-error-rate`,
          OldStateValue: 'OK',
          Trigger: { MetricName: 'ErrorRate', Namespace: 'AWS/ApplicationELB', Period: 60, EvaluationPeriods: 3 },
        }),
        Timestamp: '2026-12-02T10:00:01.000Z',
        SignatureVersion: '1',
        Signature: 'EXAMPLE',
        SigningCertUrl: 'https://sns.xx-fake-1.amazonaws.com/SimpleNotificationService-0000.pem',
        UnsubscribeUrl: 'https://sns.xx-fake-1.amazonaws.com/?Action=Unsubscribe',
        MessageAttributes: {},
      },
    },
  ],
};

const bundles = new BundleSet();
let outdir = '';

before(() => {
  // With a release command, so its hook is among the bundles (it is off by default).
  const synth = synthApp({ stage: 'prod', releaseCommand: '["flask","db","upgrade"]' }, { bundle: true });
  outdir = synth.app.synth().directory;
  bundles.add(outdir, synth.stacks.service, (name) => name.startsWith('softfactory-prod-'));
});
after(() => {
  bundles.dispose();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

function assertClean(outcome: Outcome, what: string): void {
  assert.notEqual(outcome.phase, 'load', `${what} failed at load: ${JSON.stringify(outcome)}`);
  if (outcome.phase === 'invoke') assert.doesNotMatch(`${outcome.name} ${outcome.message}`, INIT_ERRORS, what);
}

function assertHookAnswer(outcome: Outcome, what: string): void {
  assertClean(outcome, what);
  if (outcome.phase === 'answer') {
    const status = (outcome.value as { hookStatus?: unknown } | null)?.hookStatus;
    assert.ok(['SUCCEEDED', 'FAILED', 'IN_PROGRESS'].includes(String(status)), `${what}: ${JSON.stringify(outcome)}`);
  }
}

describe('deploy-path Lambda bundles, loaded from cdk.out with only their own files', () => {
  it('finds the smoke hook, the pre-deploy snapshot hook, the release command hook and the rollback function', () => {
    for (const name of ['smoke', 'predeploy-snapshot', 'release-command', 'rollback']) {
      assert.ok(
        [...bundles.bundles.keys()].some((k) => k.includes(name)),
        `${name} among ${[...bundles.bundles.keys()].join(', ')}`,
      );
    }
  });

  it('the smoke hook loads and answers ECS at POST_TEST_TRAFFIC_SHIFT and POST_PRODUCTION_TRAFFIC_SHIFT', () => {
    const name = [...bundles.bundles.keys()].find((k) => k.includes('smoke'))!;
    for (const stage of ['POST_TEST_TRAFFIC_SHIFT', 'POST_PRODUCTION_TRAFFIC_SHIFT']) {
      assertHookAnswer(bundles.invoke(name, hookEvent(stage)), `smoke ${stage}`);
    }
  });

  it('the pre-deploy snapshot hook loads and answers ECS at PRE_SCALE_UP', () => {
    const name = [...bundles.bundles.keys()].find((k) => k.includes('predeploy-snapshot'))!;
    assertHookAnswer(bundles.invoke(name, hookEvent('PRE_SCALE_UP')), 'snapshot PRE_SCALE_UP');
  });

  it('the release command hook loads and answers ECS at PRE_SCALE_UP', () => {
    const name = [...bundles.bundles.keys()].find((k) => k.includes('release-command'))!;
    // DB_INSTANCE_ID is a cross-stack reference in the template (a token the harness turns into an ARN); at deploy time
    // it resolves to the instance identifier, which is what the function validates.
    const outcome = bundles.invoke(name, hookEvent('PRE_SCALE_UP'), { DB_INSTANCE_ID: 'softfactory-prod' });
    assertHookAnswer(outcome, 'release command PRE_SCALE_UP');
    // ECS unreachable: it cannot tell what the deployment changes yet, so it asks to be called again (never throws).
    assert.equal(outcome.phase, 'answer', JSON.stringify(outcome));
    assert.equal(
      (outcome as { value: { hookStatus: string } }).value.hookStatus,
      'IN_PROGRESS',
      JSON.stringify(outcome),
    );
  });

  it('the rollback function loads and handles an SNS alarm notification and a pipeline request without an init error', () => {
    const name = [...bundles.bundles.keys()].find((k) => k.includes('rollback'))!;
    assertClean(bundles.invoke(name, alarmNotification), 'rollback on an alarm');
    assertClean(bundles.invoke(name, { source: 'pipeline', reason: 'bundle-load test' }), 'rollback on a request');
  });
});
