/**
 * Lifecycle rehearsal: ECS native blue/green deployments driven stage by stage, as the ECS Developer Guide documents
 * them ("Lifecycle hooks for Amazon ECS service deployments",
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle-hooks.html; "Lambda hooks",
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html): RECONCILE_SERVICE,
 * PRE_SCALE_UP, POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT,
 * POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME, CLEAN_UP. Hooks get the documented payload (executionId, lifecycleStage,
 * resourceArn, executionDetails {serviceArn, targetServiceRevisionArn, testTrafficWeights, productionTrafficWeights},
 * hookDetails); IN_PROGRESS is asked again after callBackDelay with the returned hookDetails, FAILED rolls back.
 *
 * Real handlers: the pre-deploy snapshot hook (PRE_SCALE_UP), the smoke hook (POST_TEST / POST_PRODUCTION_TRAFFIC_SHIFT,
 * its suite run over real HTTP against the fake SoftFactory — a healthy one, or one whose /health reports degraded
 * where a scenario's smoke must fail) and the rollback function, behind the stateful ECS world of test/lambda/rollback
 * (paged, unordered ListServiceDeployments) and a fake RDS whose snapshots take SNAPSHOT_MINUTES to become available.
 * Time is simulated; "traffic back" is when production traffic is on the good revision again.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateDBSnapshotCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { RollbackResult } from '../../lambda/rollback/contract';
import { createHandler, type SnsBatchResult } from '../../lambda/rollback/handler';
import type { LifecycleHookResponse } from '../../lambda/shared/lifecycle-hook';
import { createHandler as createSmokeHandler } from '../../lambda/smoke/handler';
import { createHandler as createSnapshotHookHandler } from '../../lambda/snapshot-hook/handler';
import { broken, fakeSoftFactory } from '../fixtures/smoke/fake-softfactory';
import { type Listening, listen } from '../fixtures/smoke/servers';
import { fakeRdsSnapshots } from '../helpers/fake-rds-snapshots';
import { FakeDynamoTable } from '../lambda/rollback/fake-dynamodb';
import { EcsWorld, imageOf, type WorldDeployment } from '../lambda/rollback/fake-ecs';
import {
  alarmMessage,
  DB_INSTANCE,
  ENV,
  ERROR_RATE,
  FakeClock,
  pipelineRequest,
  SERVICE_ARN,
  snsEvent,
  TABLE,
  td,
} from '../lambda/rollback/fixtures';

/** The origin the app is configured to allow, as the task's CORS_ORIGINS and the hook's CORS_ALLOWED_ORIGINS carry it. */
const ALLOWED_ORIGIN = 'https://app.example.com';
const APP_ENV = { CORS_ORIGINS: ALLOWED_ORIGIN };

const MIN = 60_000;
/** How long RDS takes to make a manual snapshot available in this rehearsal. */
const SNAPSHOT_MINUTES = 8;
/** Simulated durations of the stages ECS runs itself. */
const SCALE_UP_MINUTES = 2;
const SMOKE_MINUTES = 1;
const SHIFT_MINUTES = 1;
const BAKE_MINUTES = 5;

type Smoke = 'pass' | 'fail';
interface Run {
  readonly hookAnswers: { stage: string; status: string }[];
  /** Simulated ms at which production traffic is on the target revision (forward) or back on the source. */
  productionOnTargetAt?: number;
  trafficBackAt?: number;
  outcome: 'SUCCESSFUL' | 'ROLLBACK_SUCCESSFUL' | 'IN_BAKE';
}

describe('lifecycle rehearsal (ECS native blue/green)', () => {
  let clock: FakeClock;
  let world: EcsWorld;
  let table: FakeDynamoTable;
  const sns = mockClient(SNSClient);
  const secrets = mockClient(SecretsManagerClient);
  const SMOKE_TOKEN = 'rehearsal-smoke-user-token';
  let healthyApp: Listening;
  let degradedApp: Listening;
  before(async () => {
    process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
    healthyApp = await listen(fakeSoftFactory({ token: SMOKE_TOKEN, env: APP_ENV }).handler);
    degradedApp = await listen(
      fakeSoftFactory({
        token: SMOKE_TOKEN,
        env: APP_ENV,
        overrides: { 'GET /health': broken.json(200, { status: 'degraded' }) },
      }).handler,
    );
  });
  const rds = mockClient(RDSClient);
  let rollback: ReturnType<typeof createHandler>;
  let snapshotHook: (event: unknown) => Promise<LifecycleHookResponse>;
  const reports = () => sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

  beforeEach(() => {
    clock = new FakeClock();
    world = new EcsWorld(clock);
    world.listOrder = (d) => [...d].reverse().sort((a, b) => a.arn.localeCompare(b.arn)); // no useful order
    table = new FakeDynamoTable(TABLE);
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'b3f1c6a2-6f0e-5d5c-9c8a-1e2f3a4b5c6d' });
    fakeRdsSnapshots(rds, { clock, instance: DB_INSTANCE, readyAfterMs: SNAPSHOT_MINUTES * MIN });
    secrets.reset();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: SMOKE_TOKEN });
    rollback = createHandler({ env: ENV, now: clock.now, sleep: clock.sleep, log: quiet });
    snapshotHook = createSnapshotHookHandler({
      env: { STAGE: 'prod', DB_INSTANCE_ID: DB_INSTANCE, CALLBACK_DELAY_SECONDS: '30', MAX_WAIT_MINUTES: '55' },
      now: clock.now,
      log: quiet,
    });
  });
  afterEach(() => {
    world.restore();
    table.restore();
  });
  after(async () => {
    sns.restore();
    rds.restore();
    secrets.restore();
    delete process.env['POWERTOOLS_METRICS_DISABLED'];
    await healthyApp.close();
    await degradedApp.close();
  });

  /** A service deployment ECS starts (UpdateService by cdk deploy): IN_PROGRESS at RECONCILE_SERVICE. */
  function start(n: number, source?: WorldDeployment): WorldDeployment {
    const d = world.deploy({
      td: n,
      status: 'IN_PROGRESS',
      startedMinutesAgo: 0,
      stage: 'RECONCILE_SERVICE',
      from: source ? [source.targetRevision] : [],
    });
    return d;
  }

  /** One hook stage, as ECS runs it: invoke, and while IN_PROGRESS wait callBackDelay and invoke again. */
  async function hook(
    d: WorldDeployment,
    stage: string,
    fn: (event: unknown) => Promise<LifecycleHookResponse>,
    run: Run,
  ): Promise<string> {
    d.lifecycleStage = stage as WorldDeployment['lifecycleStage'];
    let details: Record<string, unknown> | undefined;
    for (let call = 0; call < 500; call++) {
      const answer = await fn({
        executionId: `${d.arn.split('/').pop()}-${stage}`,
        lifecycleStage: stage,
        resourceArn: d.arn,
        executionDetails: {
          serviceArn: SERVICE_ARN,
          targetServiceRevisionArn: d.targetRevision,
          testTrafficWeights: {},
          productionTrafficWeights: {},
        },
        ...(details ? { hookDetails: details } : {}),
      });
      run.hookAnswers.push({ stage, status: answer.hookStatus });
      if (answer.hookStatus !== 'IN_PROGRESS') return answer.hookStatus;
      details = answer.hookDetails;
      clock.advance((answer.callBackDelay ?? 30) * 1000);
    }
    return 'TIMED_OUT';
  }

  /** The real smoke hook, its suite against a healthy app ('pass') or one whose health is degraded ('fail'). */
  const smoke = (verdict: Smoke) => {
    const app = verdict === 'pass' ? healthyApp : degradedApp;
    const handler = createSmokeHandler({
      logger: new Logger({ serviceName: 'softfactory-smoke', logLevel: 'SILENT' }),
      createMetrics: (namespace) => new Metrics({ namespace, serviceName: 'softfactory-smoke' }),
      env: {
        TEST_URL: app.url,
        PRODUCTION_URL: app.url,
        TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:softfactory/prod/smoke-token-AbCdEf',
        TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:softfactory-prod-alarms',
        STAGE: 'prod',
        // The fake runs in SoftFactory's default (test) mode; production mode has its own smoke tests.
        APP_MODE: 'test',
        CORS_ALLOWED_ORIGINS: ALLOWED_ORIGIN,
        MAX_ATTEMPTS: '3',
        CALLBACK_DELAY_SECONDS: '30',
        CHECK_TIMEOUT_MS: '5000',
        SUITE_TIMEOUT_MS: '20000',
      },
    });
    return async (event: unknown): Promise<LifecycleHookResponse> => {
      clock.advance(SMOKE_MINUTES * MIN);
      return handler(event);
    };
  };
  /** What the smoke hook published (failure reports), apart from the rollback function's reports. */
  const smokeReports = () =>
    sns
      .commandCalls(PublishCommand)
      .map((c) => c.args[0].input)
      .filter((m) => /smoke/i.test(String(m.Subject)));

  /** ECS's own rollback: traffic back to the source revision (one shift), the deployment ROLLBACK_SUCCESSFUL. */
  function ecsRollsBack(d: WorldDeployment, run: Run, productionShifted: boolean): void {
    d.status = 'ROLLBACK_IN_PROGRESS';
    if (productionShifted) clock.advance(SHIFT_MINUTES * MIN);
    run.trafficBackAt = clock.t;
    d.status = 'ROLLBACK_SUCCESSFUL';
    d.finishedAt = clock.now();
    const source = world.revisions.get(d.sourceRevisions[0] ?? '');
    world.runningTaskDefinition = source?.taskDefinition;
    run.outcome = 'ROLLBACK_SUCCESSFUL';
  }

  /** Drives `d` through the lifecycle up to (not through) the bake; undefined when it rolled back. */
  async function deploy(
    d: WorldDeployment,
    smokeVerdicts: { test: Smoke; production: Smoke } = { test: 'pass', production: 'pass' },
  ): Promise<Run> {
    const run: Run = { hookAnswers: [], outcome: 'IN_BAKE' };
    if ((await hook(d, 'PRE_SCALE_UP', snapshotHook, run)) !== 'SUCCEEDED') {
      ecsRollsBack(d, run, false);
      return run;
    }
    d.lifecycleStage = 'SCALE_UP';
    clock.advance(SCALE_UP_MINUTES * MIN);
    d.lifecycleStage = 'TEST_TRAFFIC_SHIFT';
    if ((await hook(d, 'POST_TEST_TRAFFIC_SHIFT', smoke(smokeVerdicts.test), run)) !== 'SUCCEEDED') {
      ecsRollsBack(d, run, false);
      return run;
    }
    d.lifecycleStage = 'PRODUCTION_TRAFFIC_SHIFT';
    clock.advance(SHIFT_MINUTES * MIN);
    run.productionOnTargetAt = clock.t;
    world.runningTaskDefinition = world.revisions.get(d.targetRevision)?.taskDefinition;
    if ((await hook(d, 'POST_PRODUCTION_TRAFFIC_SHIFT', smoke(smokeVerdicts.production), run)) !== 'SUCCEEDED') {
      ecsRollsBack(d, run, true);
      return run;
    }
    d.lifecycleStage = 'BAKE_TIME';
    return run;
  }

  function finishBake(d: WorldDeployment, run: Run): void {
    clock.advance(BAKE_MINUTES * MIN);
    world.complete(d.arn);
    run.outcome = 'SUCCESSFUL';
  }

  /** A CloudWatch alarm notification delivered to the rollback function (it passes the subscription filter). */
  async function alarm(name = ERROR_RATE, messageId?: string): Promise<RollbackResult> {
    world.alarms.set(name, 'ALARM');
    const out = (await rollback(
      snsEvent(alarmMessage({ name, at: clock.t - 30_000 }), messageId ? { messageId } : {}),
    )) as SnsBatchResult;
    return out.records[0] as RollbackResult;
  }

  const minutes = (from: number, to: number | undefined) => ((to ?? Number.NaN) - from) / MIN;

  async function goodHistory(): Promise<WorldDeployment> {
    const first = start(40);
    const run = await deploy(first);
    finishBake(first, run);
    clock.advance(2 * 24 * 60 * MIN);
    return first;
  }

  it('first create of the service: the snapshot hook snapshots and waits, the deployment completes', async () => {
    const d = start(40);
    const run = await deploy(d);
    finishBake(d, run);
    const pre = run.hookAnswers.filter((a) => a.stage === 'PRE_SCALE_UP').map((a) => a.status);
    assert.equal(pre.at(-1), 'SUCCEEDED');
    assert.equal(pre.filter((s) => s === 'IN_PROGRESS').length, SNAPSHOT_MINUTES * 2); // every 30 s for 8 min
    assert.equal(rds.commandCalls(CreateDBSnapshotCommand).length, 1);
    assert.equal(run.outcome, 'SUCCESSFUL');
    assert.equal(world.changes, 0);
    assert.equal(reports().length, 0);
  });

  it('a good release: snapshot, both smoke stages, bake, SUCCESSFUL; no rollback, no notification from the function', async () => {
    const first = await goodHistory();
    const release = start(41, first);
    const run = await deploy(release);
    finishBake(release, run);
    assert.equal(run.outcome, 'SUCCESSFUL');
    assert.deepEqual(
      [...new Set(run.hookAnswers.map((a) => `${a.stage}:${a.status}`))],
      [
        'PRE_SCALE_UP:IN_PROGRESS',
        'PRE_SCALE_UP:SUCCEEDED',
        'POST_TEST_TRAFFIC_SHIFT:SUCCEEDED',
        'POST_PRODUCTION_TRAFFIC_SHIFT:SUCCEEDED',
      ],
    );
    assert.equal(world.runningTaskDefinition, td(41));
    assert.equal(rds.commandCalls(CreateDBSnapshotCommand).length, 2);
    assert.equal(world.changes, 0);
    assert.equal(reports().length, 0);
  });

  it('smoke fails at POST_TEST_TRAFFIC_SHIFT: ECS rolls back before production traffic moves (0 min of bad traffic)', async () => {
    const first = await goodHistory();
    const release = start(41, first);
    const run = await deploy(release, { test: 'fail', production: 'pass' });
    assert.equal(run.outcome, 'ROLLBACK_SUCCESSFUL');
    assert.equal(run.productionOnTargetAt, undefined);
    assert.equal(world.runningTaskDefinition, td(40));
    assert.equal(run.hookAnswers.at(-1)?.status, 'FAILED');
    assert.equal(world.changes, 0, 'ECS rolls back by itself');
    assert.equal(smokeReports().length, 1, 'the smoke hook reports the failed gate once');
    assert.match(String(smokeReports()[0]?.Message), /health/);
  });

  it('an alarm during the bake: StopServiceDeployment(ROLLBACK), traffic back in about a minute', async () => {
    const first = await goodHistory();
    const release = start(41, first);
    const run = await deploy(release);
    clock.advance(2 * MIN); // two minutes into the bake
    const alarmAt = clock.t;
    const result = await alarm();
    assert.equal(result.decision?.code, 'STOP_IN_FLIGHT');
    assert.equal(world.stops.length, 1);
    assert.equal(world.updates.length, 0);
    ecsRollsBack(release, run, true);
    const back = minutes(alarmAt, run.trafficBackAt);
    assert.ok(back <= 2, `traffic back after ${back} simulated minutes`);
    assert.equal(reports().length, 1);
    assert.match(reports()[0]?.Subject ?? '', /STOP_IN_FLIGHT/);
  });

  it('an alarm 20 minutes after the bake: UpdateService to :40; the rollback skips the snapshot wait; traffic back in minutes', async () => {
    const first = await goodHistory();
    const release = start(41, first);
    const run = await deploy(release);
    finishBake(release, run);
    clock.advance(20 * MIN);
    const alarmAt = clock.t;
    const snapshotsBefore = rds.commandCalls(CreateDBSnapshotCommand).length;

    const result = await alarm();
    assert.equal(result.decision?.code, 'ROLL_BACK_COMPLETED');
    assert.equal(world.updates.length, 1);
    assert.equal(world.updates[0]?.taskDefinition, td(40));
    assert.match(reports()[0]?.Message ?? '', /Alarm-blind window/);

    // ECS runs the rollback as a deployment: the snapshot hook sees a revert and answers SUCCEEDED at once.
    const rollbackDeployment = world.deployments.find((d) => d.arn === world.currentServiceDeployment)!;
    const back = await deploy(rollbackDeployment);
    assert.deepEqual(
      back.hookAnswers.filter((a) => a.stage === 'PRE_SCALE_UP').map((a) => a.status),
      ['SUCCEEDED'],
    );
    assert.equal(rds.commandCalls(CreateDBSnapshotCommand).length, snapshotsBefore, 'no new snapshot');
    assert.equal(world.runningTaskDefinition, td(40));
    const took = minutes(alarmAt, back.productionOnTargetAt);
    // scale-up 2 + test smoke 1 + production shift 1; with a snapshot wait it would be 8 more.
    assert.ok(took <= 5, `alarm to traffic back: ${took} simulated minutes`);
    assert.equal(reports().length, 1);
  });

  it('a pipeline rollback of its own release (expectImage), read from pages in no order: back to :40', async () => {
    const first = await goodHistory();
    const release = start(41, first);
    finishBake(release, await deploy(release));
    // A later pipeline run whose own release (:42) never reached ECS (it failed at synth): refused, nothing changes.
    const refused = (await rollback(pipelineRequest({ expectImage: imageOf(td(42)) }))) as RollbackResult;
    assert.equal(refused.decision?.code, 'NOT_THIS_RELEASE');
    assert.equal(world.changes, 0);
    // The run that deployed :41 and saw it fail: back to :40.
    const result = (await rollback(pipelineRequest({ expectImage: imageOf(td(41)) }))) as RollbackResult;
    assert.equal(result.outcome, 'acted');
    assert.equal(world.updates[0]?.taskDefinition, td(40));
    assert.equal(world.changes, 1);
    assert.equal(reports().length, 2);
  });

  it('the same alarm delivered 10 times: one ECS change, one report per delivery', async () => {
    const first = await goodHistory();
    const release = start(41, first);
    finishBake(release, await deploy(release));
    clock.advance(20 * MIN);
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      outcomes.push((await alarm(ERROR_RATE, '5b1f0d6e-3c2a-5e8f-9b7d-0a1c2e3f4a5b')).outcome);
      clock.advance(10_000);
    }
    assert.equal(world.changes, 1);
    assert.deepEqual(outcomes, ['acted', ...Array(9).fill('satisfied')]);
    assert.equal(reports().length, 10);
  });
});
