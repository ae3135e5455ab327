/**
 * The rollback's view of history when ECS answers ListServiceDeployments the way its API reference allows: in pages
 * (`maxResults`, `nextToken`) and in no documented order
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html).
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import type { RollbackResult } from '../../../lambda/rollback/contract';
import { HISTORY_DAYS } from '../../../lambda/rollback/gather';
import { createHandler } from '../../../lambda/rollback/handler';
import type { WorldDeployment } from './fake-ecs';
import { alarmMessage, CLUSTER_ARN, ENV, ERROR_RATE, pipelineRequest, SERVICE_ARN, snsEvent, T0, td } from './fixtures';
import { rollbackTestBed } from './test-bed';

const DAY_MIN = 24 * 60;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describe('rollback history: paged, unordered ListServiceDeployments', () => {
  const bed = rollbackTestBed();
  let handler: ReturnType<typeof createHandler>;

  beforeEach(() => {
    handler = createHandler({ env: ENV, now: bed.clock.now, sleep: bed.clock.sleep, log: quiet });
  });

  /** 25 releases, task definitions 40…64, one a day; the last (64) finished its bake 10 minutes ago. */
  function twentyFiveReleases(): WorldDeployment[] {
    const releases: WorldDeployment[] = [];
    for (let i = 0; i < 25; i++) {
      const finished = i === 24 ? 10 : (24 - i) * DAY_MIN;
      releases.push(
        bed.world.deploy({
          td: 40 + i,
          startedMinutesAgo: finished + 18,
          finishedMinutesAgo: finished,
          from: releases.length > 0 ? [releases[releases.length - 1]!.targetRevision] : [],
        }),
      );
    }
    return releases;
  }

  it('with 25 releases returned oldest first, a pipeline rollback returns to 63 while 64 runs (not 58)', async () => {
    const releases = twentyFiveReleases();
    const result = (await handler(pipelineRequest())) as RollbackResult;

    assert.equal(result.outcome, 'acted', JSON.stringify(result));
    assert.deepEqual(bed.world.updateCalls, [{ cluster: CLUSTER_ARN, service: SERVICE_ARN, taskDefinition: td(63) }]);
    assert.equal(result.decision?.fromTaskDefinition, td(64));
    assert.equal(result.decision?.subjectDeploymentArn, releases[24]!.arn);
    // It read every page, bounded by createdAt, with the API's page size.
    for (const call of bed.world.listCalls) {
      assert.equal(call.createdAt?.after?.getTime(), T0 - HISTORY_DAYS * DAY_MIN * 60_000);
      assert.ok((call.maxResults ?? 20) <= 100);
    }
  });

  it('with pages of 10 and a shuffled order, an alarm 10 minutes after release 64 returns to 63', async () => {
    twentyFiveReleases();
    bed.world.pageSizeCap = 10;
    bed.world.listOrder = (d) =>
      [...d].sort(
        (a, b) => ((a.arn.charCodeAt(a.arn.length - 1) * 7) % 13) - ((b.arn.charCodeAt(b.arn.length - 1) * 7) % 13),
      );
    bed.world.alarms.set(ERROR_RATE, 'ALARM');

    const out = await handler(snsEvent(alarmMessage({ at: T0 - 30_000 })));
    const result = ('records' in out ? out.records[0] : out) as RollbackResult;

    assert.equal(result.outcome, 'acted', JSON.stringify(result));
    assert.deepEqual(bed.world.updateCalls, [{ cluster: CLUSTER_ARN, service: SERVICE_ARN, taskDefinition: td(63) }]);
    assert.ok(
      bed.world.listCalls.some((c) => c.nextToken !== undefined),
      'followed nextToken',
    );
  });
});
