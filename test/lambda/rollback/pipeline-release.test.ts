/**
 * A pipeline rollback is tied to the pipeline's own release (`expectImage`): it never rolls back a release the run
 * did not deploy (a run that failed at npm ci, synth or CloudFormation, before any ECS deployment of its image).
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { PublishCommand } from '@aws-sdk/client-sns';
import type { RollbackResult } from '../../../lambda/rollback/contract';
import { createHandler } from '../../../lambda/rollback/handler';
import { imageDigestOf, imageOf } from './fake-ecs';
import { CLUSTER_ARN, ENV, pipelineRequest, SERVICE_ARN, td } from './fixtures';
import { rollbackTestBed } from './test-bed';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('pipeline rollback tied to its release (expectImage)', () => {
  const bed = rollbackTestBed();
  let handler: ReturnType<typeof createHandler>;
  const invoke = async (overrides: Record<string, unknown>) =>
    (await handler(pipelineRequest(overrides))) as RollbackResult;

  beforeEach(() => {
    handler = createHandler({ env: ENV, now: bed.clock.now, sleep: bed.clock.sleep, log: quiet });
  });

  it('refuses (NOT_THIS_RELEASE) when the latest deployment is an older, healthy release: this run never reached ECS', async () => {
    bed.world.standardHistory({ finishedMinutesAgo: 24 * 60 }); // release 41, a day old and healthy
    const result = await invoke({ expectImage: imageOf(td(42)) });
    assert.equal(result.outcome, 'refused');
    assert.equal(result.decision?.code, 'NOT_THIS_RELEASE');
    assert.match(result.decision?.reason ?? '', /softfactory:r41, not .*softfactory:r42/);
    assert.equal(bed.world.changes, 0);
    const [report] = bed.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    assert.match(report?.Subject ?? '', /NOT_THIS_RELEASE/);
  });

  it('rolls back when the latest deployment is this run’s release (by tag)', async () => {
    bed.world.standardHistory({ finishedMinutesAgo: 5 });
    const result = await invoke({ expectImage: imageOf(td(41)) });
    assert.equal(result.outcome, 'acted');
    assert.deepEqual(bed.world.updateCalls, [{ cluster: CLUSTER_ARN, service: SERVICE_ARN, taskDefinition: td(40) }]);
    // The rollback deployment starts while the alarms may be in ALARM: the report says ECS will not watch them.
    const [report] = bed.sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    assert.match(report?.Message ?? '', /Alarm-blind window: ECS ignores a deployment alarm that is already in ALARM/);
  });

  it('stops this run’s deployment while it is still in flight (by digest)', async () => {
    bed.world.standardHistory({ status: 'IN_PROGRESS', stage: 'BAKE_TIME' });
    const result = await invoke({
      expectImage: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/softfactory@${imageDigestOf(td(41))}`,
    });
    assert.equal(result.outcome, 'acted');
    assert.equal(result.decision?.code, 'STOP_IN_FLIGHT');
    assert.equal(bed.world.stops.length, 1);
  });

  it('is satisfied when ECS already rolled this run’s release back', async () => {
    bed.world.standardHistory({ status: 'ROLLBACK_SUCCESSFUL' });
    const result = await invoke({ expectImage: imageOf(td(41)) });
    assert.equal(result.outcome, 'satisfied');
    assert.equal(bed.world.changes, 0);
  });
});
