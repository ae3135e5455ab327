import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resourcesOf, synthApp } from '../helpers/synth';

/**
 * After each deployment ECS rewrites the production rule's weights; a stack update that changes that rule (or the
 * listeners and target groups it names) resets live traffic to the old target group (aws/aws-cdk#36649).
 * A routine release — new image tag, new task counts — must leave them byte-identical.
 */
const TRAFFIC_RESOURCES = [
  'AWS::ElasticLoadBalancingV2::ListenerRule',
  'AWS::ElasticLoadBalancingV2::Listener',
  'AWS::ElasticLoadBalancingV2::TargetGroup',
];

describe('listener-rule stability', () => {
  for (const stage of ['dev', 'prod']) {
    it(`keeps ${stage}'s listener rules, listeners and target groups byte-identical across image and count changes`, () => {
      const before = synthApp({ stage, imageTag: 'v2.0', minTasks: '1' });
      const after = synthApp({ stage, imageTag: 'v2.1', minTasks: '2', maxTasks: '10' });

      // The change is real: the task definition and the service's scaling range differ.
      const image = (r: ReturnType<typeof synthApp>) =>
        JSON.stringify(resourcesOf(r.service, 'AWS::ECS::TaskDefinition'));
      assert.notEqual(image(before), image(after));
      assert.notEqual(
        JSON.stringify(resourcesOf(before.service, 'AWS::ApplicationAutoScaling::ScalableTarget')),
        JSON.stringify(resourcesOf(after.service, 'AWS::ApplicationAutoScaling::ScalableTarget')),
      );

      for (const type of TRAFFIC_RESOURCES) {
        const a = JSON.stringify(resourcesOf(before.service, type));
        const b = JSON.stringify(resourcesOf(after.service, type));
        assert.ok(a.length > 2, `${type} present`);
        assert.equal(b, a, `${type} changed`);
      }
    });
  }
});
