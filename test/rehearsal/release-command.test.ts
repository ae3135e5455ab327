/**
 * Release command rehearsal: ECS native blue/green deployments driven stage by stage as the ECS Developer Guide
 * documents them (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle-hooks.html,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html), with the two real
 * PRE_SCALE_UP hooks — the pre-deploy snapshot and the release command — run the way ECS runs hooks of one stage:
 * every hook is invoked, each IN_PROGRESS one again after its callBackDelay, the stage ends when all have answered,
 * and any FAILED rolls back. ECS documents no order between them, so each scenario runs with both orders.
 *
 * Behind them: the stateful ECS world of test/lambda/rollback (deployments, revisions), standalone tasks
 * (test/lambda/release-command/fake-tasks.ts), a fake RDS whose snapshots take SNAPSHOT_MINUTES, and the real
 * rollback function for our own rollback. The production listener rule is modelled as the set of tasks registered
 * with the target group it forwards to: ECS registers the new revision's tasks at SCALE_UP (green, test rule) and
 * the production rule moves to them at PRODUCTION_TRAFFIC_SHIFT.
 */
import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, it } from 'node:test';
import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  type GetLogEventsCommandInput,
} from '@aws-sdk/client-cloudwatch-logs';
import { RDSClient } from '@aws-sdk/client-rds';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler as createReleaseHandler } from '../../lambda/release-command/handler';
import type { RollbackResult } from '../../lambda/rollback/contract';
import { createHandler as createRollbackHandler, type SnsBatchResult } from '../../lambda/rollback/handler';
import type { LifecycleHookResponse } from '../../lambda/shared/lifecycle-hook';
import { createHandler as createSnapshotHandler } from '../../lambda/snapshot-hook/handler';
import { fakeRdsSnapshots } from '../helpers/fake-rds-snapshots';
import { FakeTasks, type TaskScript } from '../lambda/release-command/fake-tasks';
import { FakeDynamoTable } from '../lambda/rollback/fake-dynamodb';
import { EcsWorld, type WorldDeployment } from '../lambda/rollback/fake-ecs';
import {
  alarmMessage,
  DB_INSTANCE,
  ENV,
  ERROR_RATE,
  FakeClock,
  SERVICE_ARN,
  snsEvent,
  TABLE,
  TOPIC_ARN,
  td,
} from '../lambda/rollback/fixtures';

const MIN = 60_000;
const SNAPSHOT_MINUTES = 6;
const SCALE_UP_MINUTES = 2;
const BAKE_MINUTES = 5;
type Hook = (event: unknown) => Promise<LifecycleHookResponse>;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

interface Run {
  /** Every hook answer in the order ECS received them. */
  readonly answers: { hook: string; status: string; at: number }[];
  outcome: 'SUCCESSFUL' | 'ROLLBACK_SUCCESSFUL';
  scaleUpAt?: number;
}

for (const order of ['snapshot first', 'release command first'] as const) {
  describe(`release command rehearsal (${order} among the PRE_SCALE_UP hooks)`, () => {
    let clock: FakeClock;
    let world: EcsWorld;
    let tasks: FakeTasks;
    let table: FakeDynamoTable;
    /** Task definitions of the tasks registered with the production rule's target group, over time. */
    let productionRule: Set<string>;
    const everRegisteredWithProduction = new Set<string>();
    const rds = mockClient(RDSClient);
    const logs = mockClient(CloudWatchLogsClient);
    const sns = mockClient(SNSClient);
    const published = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);

    beforeEach(() => {
      clock = new FakeClock();
      world = new EcsWorld(clock);
      world.listOrder = (d) => [...d].reverse().sort((a, b) => a.arn.localeCompare(b.arn));
      tasks = new FakeTasks(() => clock.t);
      tasks.install(world.ecs);
      table = new FakeDynamoTable(TABLE);
      productionRule = new Set();
      everRegisteredWithProduction.clear();
      fakeRdsSnapshots(rds, { clock, instance: DB_INSTANCE, readyAfterMs: SNAPSHOT_MINUTES * MIN });
      logs.reset();
      logs.on(GetLogEventsCommand).callsFake(async (input: GetLogEventsCommandInput) => ({
        events: tasks
          .logOf(String(input.logStreamName).split('/').pop() ?? '')
          .slice(-(input.limit ?? 10_000))
          .map((message, i) => ({ timestamp: clock.t + i, message, ingestionTime: clock.t })),
      }));
      sns.reset();
      sns.on(PublishCommand).resolves({ MessageId: '6a2b3c4d-5e6f-5a7b-8c9d-0e1f2a3b4c5d' });
    });
    afterEach(() => {
      world.restore();
      table.restore();
    });
    after(() => {
      rds.restore();
      logs.restore();
      sns.restore();
    });

    const hooks = (): [string, Hook][] => {
      const snapshot: [string, Hook] = [
        'snapshot',
        createSnapshotHandler({
          env: { STAGE: 'prod', DB_INSTANCE_ID: DB_INSTANCE, CALLBACK_DELAY_SECONDS: '30', MAX_WAIT_MINUTES: '55' },
          now: clock.now,
          log: quiet,
        }),
      ];
      const release: [string, Hook] = [
        'release',
        createReleaseHandler({
          env: {
            STAGE: 'prod',
            CLUSTER: 'softfactory-prod',
            RELEASE_COMMAND: '["flask","db","upgrade"]',
            LOG_GROUP_NAME: 'softfactory-prod/app',
            SUBNETS: 'subnet-0a1b2c3d4e5f60718',
            SECURITY_GROUPS: 'sg-0c3d4e5f60718293a',
            DB_INSTANCE_ID: DB_INSTANCE,
            TOPIC_ARN,
            SNAPSHOT_WAIT_MINUTES: '60',
            COMMAND_TIMEOUT_MINUTES: '30',
          },
          now: clock.now,
          log: quiet,
        }),
      ];
      return order === 'snapshot first' ? [snapshot, release] : [release, snapshot];
    };

    function start(n: number, source?: WorldDeployment): WorldDeployment {
      return world.deploy({
        td: n,
        status: 'IN_PROGRESS',
        startedMinutesAgo: 0,
        stage: 'RECONCILE_SERVICE',
        from: source ? [source.targetRevision] : [],
      });
    }

    /** One stage with several hooks, as ECS runs it: each invoked until it stops answering IN_PROGRESS. */
    async function stage(d: WorldDeployment, name: string, run: Run): Promise<'SUCCEEDED' | 'FAILED'> {
      d.lifecycleStage = name as WorldDeployment['lifecycleStage'];
      const pending = hooks().map(([hook, fn]) => ({ hook, fn, due: clock.t, details: undefined as unknown }));
      const done = new Map<string, string>();
      for (let step = 0; step < 2000 && done.size < pending.length; step++) {
        for (const h of pending) {
          if (done.has(h.hook) || h.due > clock.t) continue;
          const a = await h.fn({
            executionId: `${d.arn.split('/').pop()}-${name}-${h.hook}`,
            lifecycleStage: name,
            resourceArn: d.arn,
            executionDetails: {
              serviceArn: SERVICE_ARN,
              targetServiceRevisionArn: d.targetRevision,
              testTrafficWeights: {},
              productionTrafficWeights: {},
            },
            ...(h.details ? { hookDetails: h.details } : {}),
          });
          run.answers.push({ hook: h.hook, status: a.hookStatus, at: clock.t });
          if (a.hookStatus === 'IN_PROGRESS') {
            h.details = a.hookDetails;
            h.due = clock.t + (a.callBackDelay ?? 30) * 1000;
          } else {
            done.set(h.hook, a.hookStatus);
            // A FAILED hook rolls the deployment back at once; the others are not asked again.
            if (a.hookStatus === 'FAILED') return 'FAILED';
          }
        }
        clock.advance(10_000);
      }
      return [...done.values()].every((s) => s === 'SUCCEEDED') && done.size === pending.length
        ? 'SUCCEEDED'
        : 'FAILED';
    }

    /** PRE_SCALE_UP, then (if it passed) scale-up, test traffic, production traffic, bake. */
    async function deploy(d: WorldDeployment): Promise<Run> {
      const run: Run = { answers: [], outcome: 'SUCCESSFUL' };
      if ((await stage(d, 'PRE_SCALE_UP', run)) !== 'SUCCEEDED') {
        d.status = 'ROLLBACK_SUCCESSFUL';
        d.finishedAt = clock.now();
        world.runningTaskDefinition = world.revisions.get(d.sourceRevisions[0] ?? '')?.taskDefinition;
        run.outcome = 'ROLLBACK_SUCCESSFUL';
        return run;
      }
      d.lifecycleStage = 'SCALE_UP';
      run.scaleUpAt = clock.t;
      clock.advance(SCALE_UP_MINUTES * MIN);
      d.lifecycleStage = 'PRODUCTION_TRAFFIC_SHIFT';
      const target = world.revisions.get(d.targetRevision)?.taskDefinition ?? '';
      productionRule = new Set([target]);
      everRegisteredWithProduction.add(target);
      world.runningTaskDefinition = target;
      d.lifecycleStage = 'BAKE_TIME';
      clock.advance(BAKE_MINUTES * MIN);
      world.complete(d.arn);
      return run;
    }

    async function firstRelease(): Promise<WorldDeployment> {
      tasks.script = { kind: 'exit', code: 0, runMinutes: 1 };
      const first = start(40);
      assert.equal((await deploy(first)).outcome, 'SUCCESSFUL');
      clock.advance(24 * 60 * MIN);
      everRegisteredWithProduction.clear();
      everRegisteredWithProduction.add(td(40));
      return first;
    }

    const failing: TaskScript = {
      kind: 'exit',
      code: 1,
      runMinutes: 2,
      log: [
        'INFO  [alembic.runtime.migration] Running upgrade 3f2a -> 9c1d, add invoices.due_at',
        'sqlalchemy.exc.ProgrammingError: column "due_at" of relation "invoices" already exists',
      ],
    };

    it('a release command that exits 1: FAILED at PRE_SCALE_UP after the snapshot, ECS rolls back, no new task ever registered with the production rule', async () => {
      const first = await firstRelease();
      const before = tasks.runCalls.length;
      tasks.script = failing;
      const release = start(41, first);
      const run = await deploy(release);

      assert.equal(run.outcome, 'ROLLBACK_SUCCESSFUL');
      assert.equal(run.scaleUpAt, undefined, 'ECS never scaled the new revision up');
      assert.deepEqual([...productionRule], [td(40)]);
      assert.ok(!everRegisteredWithProduction.has(td(41)), 'no task of :41 behind the production rule, ever');
      assert.equal(world.runningTaskDefinition, td(40));
      // Exactly one release task, of the target revision, started only once the snapshot was available.
      assert.equal(tasks.runCalls.length - before, 1);
      assert.equal(tasks.runCalls.at(-1)?.taskDefinition, td(41));
      const snapshotDone = run.answers.find((a) => a.hook === 'snapshot' && a.status === 'SUCCEEDED');
      const started = tasks.tasks.at(-1)!;
      assert.ok(snapshotDone && started.createdAt >= snapshotDone.at - 30_000, 'task started after the snapshot');
      assert.ok(started.createdAt - release.startedAt.getTime() >= SNAPSHOT_MINUTES * MIN, 'not before the snapshot');
      assert.equal(run.answers.at(-1)?.hook, 'release');
      assert.equal(run.answers.at(-1)?.status, 'FAILED');
      // One notification, naming the exit code with the task's last log lines.
      const notes = published().filter((m) => /release command failed/.test(String(m.Subject)));
      assert.equal(notes.length, 1);
      assert.match(String(notes[0]?.Message), /exited with code 1/);
      assert.match(String(notes[0]?.Message), /already exists/);
      assert.match(String(notes[0]?.Message), /Pre-deploy snapshot: sf-prod-predeploy-/);
    });

    it('a release command that exits 0: the release goes on to scale-up only after the command finished', async () => {
      const first = await firstRelease();
      tasks.script = { kind: 'exit', code: 0, runMinutes: 4 };
      const release = start(41, first);
      const run = await deploy(release);
      assert.equal(run.outcome, 'SUCCESSFUL');
      assert.equal(world.runningTaskDefinition, td(41));
      const task = tasks.tasks.at(-1)!;
      // PROVISIONING/PENDING 1 min + 4 min running: scale-up comes after the task stopped.
      assert.ok((run.scaleUpAt ?? 0) >= task.createdAt + 5 * MIN, 'scale-up after the release command');
      assert.equal(published().length, 0);
    });

    it('our own rollback after the bake: the revert deployment runs no release command and waits for no snapshot', async () => {
      const first = await firstRelease();
      tasks.script = { kind: 'exit', code: 0, runMinutes: 1 };
      const release = start(41, first);
      await deploy(release);
      clock.advance(20 * MIN);
      const runsBefore = tasks.runCalls.length;
      const rollback = createRollbackHandler({ env: ENV, now: clock.now, sleep: clock.sleep, log: quiet });
      world.alarms.set(ERROR_RATE, 'ALARM');
      const out = (await rollback(
        snsEvent(alarmMessage({ name: ERROR_RATE, at: clock.t - 30_000 })),
      )) as SnsBatchResult;
      assert.equal((out.records[0] as RollbackResult).decision?.code, 'ROLL_BACK_COMPLETED');
      const revert = world.deployments.find((d) => d.arn === world.currentServiceDeployment)!;
      const run = await deploy(revert);
      assert.equal(run.outcome, 'SUCCESSFUL');
      assert.deepEqual(
        run.answers.filter((a) => a.hook === 'release').map((a) => a.status),
        ['SUCCEEDED'],
      );
      assert.equal(tasks.runCalls.length, runsBefore, 'no release task for a rollback');
      assert.equal(world.runningTaskDefinition, td(40));
    });
  });
}
