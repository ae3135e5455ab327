/**
 * Progressive delivery as synthesized (issue 14 points 2 and 3): the strategy and its traffic-shift configuration on
 * the ECS service, the smoke hook at PRE_PRODUCTION_TRAFFIC_SHIFT for canary and linear releases, and the PAUSE hook
 * with its timeout and notice. Shapes from the API reference: DeploymentConfiguration
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html), DeploymentLifecycleHook
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html), the pause-hooks guide
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html), and checked against the
 * CloudFormation resource specification (test/helpers/cfn-schema.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aws_ecs as ecs, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { HOOK_AWAITING_ACTION_EVENT } from '../../lib/constructs/approval-gate';
import { checkTemplateAgainstSpec } from '../helpers/cfn-schema';
import { buildApp, only, resourcesOf, synthApp } from '../helpers/synth';

type Template = ReturnType<typeof synthApp>['service'];
interface Hook {
  HookTargetArn?: unknown;
  RoleArn?: unknown;
  TargetType?: string;
  LifecycleStages: string[];
  TimeoutConfiguration: { TimeoutInMinutes: number; Action: string };
}

function deploymentConfiguration(template: Template): Record<string, unknown> & { LifecycleHooks: Hook[] } {
  const service = only(resourcesOf(template, 'AWS::ECS::Service'), 'ECS service');
  return service.Properties['DeploymentConfiguration'] as Record<string, unknown> & { LifecycleHooks: Hook[] };
}

/** The hook whose target is the function named `…-<suffix>`, found through the template's own reference. */
function hookOf(template: Template, suffix: string): Hook {
  const fns = resourcesOf(template, 'AWS::Lambda::Function');
  const id = Object.keys(fns).find((k) => String(fns[k]?.Properties['FunctionName']).endsWith(`-${suffix}`));
  assert.ok(id, `function ${suffix}`);
  const hook = deploymentConfiguration(template).LifecycleHooks.find((h) =>
    String(JSON.stringify(h.HookTargetArn)).includes(`"${id}"`),
  );
  assert.ok(hook, `hook of ${suffix}`);
  return hook;
}

const pauses = (template: Template) =>
  deploymentConfiguration(template).LifecycleHooks.filter((h) => h.TargetType === 'PAUSE');

const blueGreen = synthApp({ stage: 'prod' });
const canary = synthApp({ stage: 'prod', deploymentStrategy: 'canary', canaryPercent: '2.5', canaryBakeMinutes: '20' });
const linear = synthApp({
  stage: 'staging',
  deploymentStrategy: 'linear',
  linearStepPercent: '20',
  linearStepBakeMinutes: '4',
  bakeTimeMinutes: '15',
});
const approval = synthApp({
  stage: 'prod',
  deploymentStrategy: 'linear',
  approvalBeforeProduction: 'true',
  approvalTimeoutMinutes: '90',
});

describe('progressive delivery: strategy', () => {
  it('blue_green (the default): strategy BLUE_GREEN, no canary or linear configuration', () => {
    const config = deploymentConfiguration(blueGreen.service);
    assert.equal(config['Strategy'], 'BLUE_GREEN');
    assert.equal(config['BakeTimeInMinutes'], 5);
    assert.equal(config['CanaryConfiguration'], undefined);
    assert.equal(config['LinearConfiguration'], undefined);
  });

  it('canary: strategy CANARY with CanaryPercent and CanaryBakeTimeInMinutes from the config', () => {
    const config = deploymentConfiguration(canary.service);
    assert.equal(config['Strategy'], 'CANARY');
    assert.deepEqual(config['CanaryConfiguration'], { CanaryPercent: 2.5, CanaryBakeTimeInMinutes: 20 });
    assert.equal(config['LinearConfiguration'], undefined);
  });

  it('linear: strategy LINEAR with StepPercent and StepBakeTimeInMinutes, and the deployment bake after the last step', () => {
    const config = deploymentConfiguration(linear.service);
    assert.equal(config['Strategy'], 'LINEAR');
    assert.deepEqual(config['LinearConfiguration'], { StepPercent: 20, StepBakeTimeInMinutes: 4 });
    assert.equal(config['BakeTimeInMinutes'], 15);
    assert.equal(config['CanaryConfiguration'], undefined);
  });

  it('writes a tenth that aws-cdk-lib’s float check refuses (0.3 × 10 ≠ 3) through the L1, as ECS documents it', () => {
    const { service } = synthApp({
      stage: 'dev',
      deploymentStrategy: 'canary',
      canaryPercent: '0.3',
      canaryBakeMinutes: '0',
    });
    assert.deepEqual(deploymentConfiguration(service)['CanaryConfiguration'], {
      CanaryPercent: 0.3,
      CanaryBakeTimeInMinutes: 0,
    });
  });

  it('keeps the deployment alarms (rollback on alarm) for every strategy: they watch every step’s bake', () => {
    for (const { service } of [blueGreen, canary, linear]) {
      const alarms = deploymentConfiguration(service)['Alarms'] as {
        Enable: boolean;
        Rollback: boolean;
        AlarmNames: string[];
      };
      assert.equal(alarms.Enable, true);
      assert.equal(alarms.Rollback, true);
      assert.ok(alarms.AlarmNames.length >= 1);
    }
  });

  it('every strategy’s service matches the CloudFormation resource specification (TargetType included)', () => {
    for (const { service } of [blueGreen, canary, linear, approval]) {
      assert.deepEqual(checkTemplateAgainstSpec(service.toJSON()), []);
    }
  });
});

describe('progressive delivery: smoke at every step', () => {
  it('blue_green smokes at POST_TEST_TRAFFIC_SHIFT and POST_PRODUCTION_TRAFFIC_SHIFT only', () => {
    assert.deepEqual(hookOf(blueGreen.service, 'smoke').LifecycleStages, [
      'POST_TEST_TRAFFIC_SHIFT',
      'POST_PRODUCTION_TRAFFIC_SHIFT',
    ]);
  });

  for (const [name, synth] of [
    ['canary', canary],
    ['linear', linear],
  ] as const) {
    it(`${name} also smokes at PRE_PRODUCTION_TRAFFIC_SHIFT (before every production traffic step), with the same timeout and ROLLBACK`, () => {
      const hook = hookOf(synth.service, 'smoke');
      assert.deepEqual(hook.LifecycleStages, [
        'POST_TEST_TRAFFIC_SHIFT',
        'PRE_PRODUCTION_TRAFFIC_SHIFT',
        'POST_PRODUCTION_TRAFFIC_SHIFT',
      ]);
      assert.deepEqual(hook.TimeoutConfiguration, {
        TimeoutInMinutes: synth.config.hookTimeoutMinutes,
        Action: 'ROLLBACK',
      });
    });
  }

  it('leaves the snapshot hook at PRE_SCALE_UP with its own timeout, whatever the strategy', () => {
    for (const synth of [blueGreen, linear, approval]) {
      const hook = hookOf(synth.service, 'predeploy-snapshot');
      assert.deepEqual(hook.LifecycleStages, ['PRE_SCALE_UP']);
      assert.equal(hook.TimeoutConfiguration.TimeoutInMinutes, synth.config.snapshotTimeoutMinutes);
    }
  });
});

describe('progressive delivery: manual promotion', () => {
  it('without approvalBeforeProduction there is no PAUSE hook and no pause notice', () => {
    for (const { service } of [blueGreen, canary, linear]) {
      assert.equal(pauses(service).length, 0);
      service.resourcePropertiesCountIs(
        'AWS::Events::Rule',
        { EventPattern: Match.objectLike({ 'detail-type': [HOOK_AWAITING_ACTION_EVENT.detailType] }) },
        0,
      );
    }
  });

  it('pauses at POST_TEST_TRAFFIC_SHIFT: TargetType PAUSE, no target or role, timeout approvalTimeoutMinutes with ROLLBACK', () => {
    const [pause, ...more] = pauses(approval.service);
    assert.equal(more.length, 0);
    assert.deepEqual(pause, {
      TargetType: 'PAUSE',
      LifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'],
      TimeoutConfiguration: { TimeoutInMinutes: 90, Action: 'ROLLBACK' },
    });
  });

  it('keeps every Lambda hook’s own target, role and timeout when a pause is added (overrides land on the right index)', () => {
    const hooks = deploymentConfiguration(approval.service).LifecycleHooks;
    const lambdas = hooks.filter((h) => h.TargetType !== 'PAUSE');
    assert.equal(lambdas.length, hooks.length - 1);
    for (const hook of lambdas) {
      assert.ok(hook.HookTargetArn, 'a target');
      assert.ok(hook.RoleArn, 'a role');
    }
    assert.equal(
      hookOf(approval.service, 'smoke').TimeoutConfiguration.TimeoutInMinutes,
      approval.config.hookTimeoutMinutes,
    );
    assert.equal(
      hookOf(approval.service, 'predeploy-snapshot').TimeoutConfiguration.TimeoutInMinutes,
      approval.config.snapshotTimeoutMinutes,
    );
  });

  it('sends the pause and the test URL to the notification topic, matched to this service', () => {
    const rule = only(
      Object.fromEntries(
        Object.entries(resourcesOf(approval.service, 'AWS::Events::Rule')).filter(([, r]) =>
          JSON.stringify(r.Properties['EventPattern']).includes(HOOK_AWAITING_ACTION_EVENT.detailType),
        ),
      ),
      'pause rule',
    );
    const pattern = rule.Properties['EventPattern'] as Record<string, unknown>;
    assert.deepEqual(pattern['source'], ['aws.ecs']);
    assert.deepEqual(pattern['detail'], { eventName: ['HOOK_AWAITING_ACTION'] });
    assert.match(JSON.stringify(pattern['resources']), /WebService/);
    const [target] = rule.Properties['Targets'] as { Arn: unknown; InputTransformer: { InputTemplate: unknown } }[];
    assert.match(JSON.stringify(target?.Arn), /AlarmTopic/);
    // The template joins the load balancer's DNS name in: read it as the JSON text CloudFormation receives.
    const text = JSON.stringify(target?.InputTransformer.InputTemplate).replace(/\\"/g, '"');
    assert.match(text, /Release PAUSED for approval/);
    assert.match(text, /https:\/\/\S+:9443/);
    assert.match(text, /sfdeploy promote --stage prod/);
    assert.match(text, /sfdeploy abort --stage prod --reason/);
    assert.match(text, /within 90 minutes, ECS rolls the release back/);
  });

  it('passes cdk-nag with a canary strategy and the approval pause (nothing new to acknowledge)', () => {
    const { app } = buildApp({ stage: 'prod', deploymentStrategy: 'canary', approvalBeforeProduction: 'true' });
    assert.doesNotThrow(() => app.synth());
  });

  it('refuses a PAUSE hook at a stage ECS reserves for Lambda hooks (TEST_TRAFFIC_SHIFT)', () => {
    const { stacks } = buildApp({ stage: 'dev' });
    assert.throws(
      () => stacks.service.web.addPauseHook('Bad', [ecs.DeploymentLifecycleStage.TEST_TRAFFIC_SHIFT], 10),
      /ECS does not allow a PAUSE hook at TEST_TRAFFIC_SHIFT/,
    );
    assert.ok(Stack.of(stacks.service.web));
  });
});
