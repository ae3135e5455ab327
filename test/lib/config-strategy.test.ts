/**
 * The release-strategy keys (issue 14 point 1): deploymentStrategy and its canary/linear settings, the approval pause,
 * each validated with the range AWS documents and CloudFormation's limits on the combined bake times. Ranges:
 * CanaryConfiguration (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html),
 * LinearConfiguration (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinearConfiguration.html),
 * DeploymentLifecycleHookTimeoutConfiguration (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHookTimeoutConfiguration.html),
 * CloudFormation's 33-hour calculated-time rule (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-linearconfiguration.html).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  calculatedDeploymentMinutes,
  isTenthMultiple,
  linearBakedSteps,
  type StrategySettings,
  trafficSteps,
} from '../../lib/config/deployment-strategy';
import { ConfigError, loadConfig } from '../../lib/config/load-config';
import type { StageConfig } from '../../lib/config/stage-config';

function load(context: Record<string, unknown>): StageConfig {
  return loadConfig((key) => context[key], Object.keys(context));
}

/** The config error for `context`: one line naming the key, the value and what is allowed. */
function rejection(context: Record<string, unknown>): string {
  try {
    load(context);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`);
    assert.equal(error.message.includes('\n'), false, 'one line');
    return error.message;
  }
  assert.fail(`accepted ${JSON.stringify(context)}`);
}

const settings = (over: Partial<StrategySettings>): StrategySettings => ({
  deploymentStrategy: 'linear',
  canaryPercent: 5,
  canaryBakeMinutes: 10,
  linearStepPercent: 10,
  linearStepBakeMinutes: 6,
  bakeTimeMinutes: 5,
  ...over,
});

describe('release strategy config', () => {
  it('defaults every stage to blue_green with no approval pause, and the ECS defaults for canary and linear', () => {
    for (const stage of ['dev', 'staging', 'prod']) {
      const c = load({ stage });
      assert.equal(c.deploymentStrategy, 'blue_green');
      assert.equal(c.approvalBeforeProduction, false);
      assert.deepEqual(
        [c.canaryPercent, c.canaryBakeMinutes, c.linearStepPercent, c.linearStepBakeMinutes],
        [5, 10, 10, 6],
      );
    }
  });

  it('reads -c deploymentStrategy=canary canaryPercent=2.5 canaryBakeMinutes=30 as numbers', () => {
    const c = load({ deploymentStrategy: 'canary', canaryPercent: '2.5', canaryBakeMinutes: '30' });
    assert.equal(c.deploymentStrategy, 'canary');
    assert.equal(c.canaryPercent, 2.5);
    assert.equal(c.canaryBakeMinutes, 30);
  });

  it('refuses an unknown strategy, naming the three it accepts', () => {
    assert.match(
      rejection({ deploymentStrategy: 'rolling' }),
      /^config: deploymentStrategy = "rolling": expected one of blue_green, canary, linear$/,
    );
  });

  describe('canaryPercent: multiples of 0.1 from 0.1 to 100', () => {
    for (const ok of [0.1, 0.3, 5, 99.9, 100]) {
      it(`accepts ${ok}`, () =>
        assert.equal(load({ deploymentStrategy: 'canary', canaryPercent: ok }).canaryPercent, ok));
    }
    for (const bad of [0, 0.05, 0.15, 100.1, -1]) {
      it(`refuses ${bad}, naming the key, the value and the range`, () => {
        assert.match(
          rejection({ deploymentStrategy: 'canary', canaryPercent: bad }),
          new RegExp(
            `^config: canaryPercent = ${bad}: expected a multiple of 0\\.1 from 0\\.1 to 100 percent \\(ECS CanaryConfiguration\\.canaryPercent\\)$`,
          ),
        );
      });
    }
  });

  describe('linearStepPercent: multiples of 0.1 from 3 to 100', () => {
    for (const ok of [3, 3.3, 10, 50, 100]) {
      it(`accepts ${ok}`, () =>
        assert.equal(load({ deploymentStrategy: 'linear', linearStepPercent: ok }).linearStepPercent, ok));
    }
    for (const bad of [2.9, 3.05, 100.5, 0]) {
      it(`refuses ${bad}`, () => {
        assert.match(
          rejection({ deploymentStrategy: 'linear', linearStepPercent: bad }),
          new RegExp(`^config: linearStepPercent = ${bad}: expected a multiple of 0\\.1 from 3 to 100 percent`),
        );
      });
    }
  });

  describe('bake minutes: whole numbers from 0 to 1440', () => {
    for (const key of ['canaryBakeMinutes', 'linearStepBakeMinutes']) {
      it(`${key} accepts 0 and 1440`, () => {
        assert.equal(load({ [key]: 0 })[key as 'canaryBakeMinutes'], 0);
        assert.equal(
          load({ [key]: 1440, bakeTimeMinutes: 0, linearStepPercent: 50 })[key as 'canaryBakeMinutes'],
          1440,
        );
      });
      for (const bad of [-1, 1441]) {
        it(`${key} refuses ${bad}`, () => {
          assert.match(
            rejection({ [key]: bad }),
            new RegExp(`^config: ${key} = ${bad}: expected a whole number from 0 to 1440 minutes`),
          );
        });
      }
      it(`${key} refuses 2.5 as not a whole number`, () => {
        assert.match(rejection({ [key]: 2.5 }), new RegExp(`^config: ${key} = 2\\.5: expected a whole number`));
      });
    }
  });

  describe('approvalTimeoutMinutes: 1 to 20160 (the lifecycle hook timeout range)', () => {
    it('accepts 1', () => assert.equal(load({ approvalTimeoutMinutes: 1 }).approvalTimeoutMinutes, 1));
    for (const bad of [0, 20161]) {
      it(`refuses ${bad}`, () => {
        assert.match(
          rejection({ approvalTimeoutMinutes: bad }),
          new RegExp(`^config: approvalTimeoutMinutes = ${bad}: expected a whole number from 1 to 20160 minutes`),
        );
      });
    }
    it('refuses a pause that, with the bake times, outlasts CloudFormation’s 36-hour operation limit', () => {
      // 5 (bake) + 9 × 6 (linear 10 % steps) = 59 minutes; 2160 − 59 = 2101 is the longest pause that fits.
      const base = { deploymentStrategy: 'linear', approvalBeforeProduction: true };
      assert.equal(load({ ...base, approvalTimeoutMinutes: 2101 }).approvalTimeoutMinutes, 2101);
      assert.match(
        rejection({ ...base, approvalTimeoutMinutes: 2102 }),
        /^config: approvalTimeoutMinutes = 2102: plus the 59 minutes of bake time exceeds CloudFormation's 36-hour operation limit \(2160 minutes\).*use at most 2101$/,
      );
    });
    it('does not hold the pause timeout against the limit when no pause is configured', () => {
      assert.equal(load({ approvalTimeoutMinutes: 20160 }).approvalTimeoutMinutes, 20160);
    });
  });

  describe('CloudFormation’s 33-hour calculated deployment time', () => {
    it('counts linear steps as CloudFormation does: 100 ÷ p − 1 when p divides 100, else floor(100 ÷ p)', () => {
      assert.equal(linearBakedSteps(10), 9);
      assert.equal(linearBakedSteps(11), 9);
      assert.equal(linearBakedSteps(3), 33);
      assert.equal(linearBakedSteps(3.3), 30);
      assert.equal(linearBakedSteps(100), 0);
      assert.equal(
        calculatedDeploymentMinutes(settings({ linearStepPercent: 3, linearStepBakeMinutes: 60 })),
        5 + 33 * 60,
      );
      assert.equal(calculatedDeploymentMinutes(settings({ deploymentStrategy: 'canary' })), 15);
    });

    it('accepts a linear release at exactly 1980 minutes and refuses one a minute over, naming the formula', () => {
      // 3 % steps: 33 baked steps × 60 = 1980 with no final bake.
      const base = { deploymentStrategy: 'linear', linearStepPercent: 3, linearStepBakeMinutes: 60 };
      assert.equal(load({ ...base, bakeTimeMinutes: 0 }).linearStepBakeMinutes, 60);
      assert.match(
        rejection({ ...base, bakeTimeMinutes: 1 }),
        /^config: linearStepBakeMinutes = 60: makes bakeTimeMinutes \+ linearStepBakeMinutes × steps = 1981 minutes; CloudFormation refuses a linear deployment whose calculated time exceeds 1980 minutes/,
      );
    });

    it('refuses a canary whose bakes add up past 1980 minutes', () => {
      assert.match(
        rejection({ deploymentStrategy: 'canary', canaryBakeMinutes: 1440, bakeTimeMinutes: 541 }),
        /^config: canaryBakeMinutes = 1440: makes bakeTimeMinutes \+ canaryBakeMinutes = 1981 minutes/,
      );
      assert.equal(
        load({ deploymentStrategy: 'canary', canaryBakeMinutes: 1440, bakeTimeMinutes: 540 }).canaryBakeMinutes,
        1440,
      );
    });

    it('does not hold an unused strategy’s bakes against blue_green', () => {
      const c = load({ linearStepPercent: 3, linearStepBakeMinutes: 1440 });
      assert.equal(c.deploymentStrategy, 'blue_green');
    });
  });

  describe('the traffic timeline', () => {
    it('blue_green: one step to 100 %, then the bake', () => {
      assert.deepEqual(trafficSteps(settings({ deploymentStrategy: 'blue_green' })), [
        { greenPercent: 100, waitMinutes: 5 },
      ]);
    });
    it('canary: the canary share for its bake, then 100 % and the deployment bake', () => {
      assert.deepEqual(trafficSteps(settings({ deploymentStrategy: 'canary', canaryPercent: 2.5 })), [
        { greenPercent: 2.5, waitMinutes: 10 },
        { greenPercent: 100, waitMinutes: 5 },
      ]);
    });
    it('linear 30 %: 30, 60, 90 then 100 %, the step bake between steps and the deployment bake after the last', () => {
      assert.deepEqual(trafficSteps(settings({ linearStepPercent: 30 })), [
        { greenPercent: 30, waitMinutes: 6 },
        { greenPercent: 60, waitMinutes: 6 },
        { greenPercent: 90, waitMinutes: 6 },
        { greenPercent: 100, waitMinutes: 5 },
      ]);
    });
    it('linear step bakes in the timeline equal the steps CloudFormation counts, for every valid step', () => {
      for (let tenths = 30; tenths <= 1000; tenths++) {
        const p = tenths / 10;
        const baked = trafficSteps(settings({ linearStepPercent: p })).slice(0, -1).length;
        assert.equal(baked, linearBakedSteps(p), `step ${p} %`);
      }
    });
    it('treats 0.3 and 3.3 as multiples of 0.1 despite floating point, and 0.25 not', () => {
      assert.equal(isTenthMultiple(0.3), true);
      assert.equal(isTenthMultiple(3.3), true);
      assert.equal(isTenthMultiple(0.25), false);
    });
  });
});
