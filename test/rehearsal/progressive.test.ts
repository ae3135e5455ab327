/**
 * Progressive-delivery rehearsal (issue 14 point 6): canary and linear releases and the approval pause, driven stage by
 * stage as ECS documents them. ECS runs the stages of a canary or linear deployment like blue/green, except that the
 * production shift is a series of steps, with PRE_PRODUCTION_TRAFFIC_SHIFT "invoked before every traffic shift step"
 * and PRODUCTION_TRAFFIC_SHIFT "at every traffic shift step" (DeploymentLifecycleHook,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html; canary and linear guides,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/canary-deployment.html,
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-linear.html). A FAILED hook rolls back;
 * a PAUSE hook waits in AWAITING_ACTION for ContinueServiceDeployment, and the Lambda hooks at its stage must also
 * complete before the deployment goes on (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle-hooks.html).
 *
 * Real code: the step timeline (lib/config/deployment-strategy.ts), the stages the smoke hook is registered at
 * (smokeStages, as the construct registers them), the smoke handler with its suite over real HTTP against the fake
 * SoftFactory (healthy, or degraded from a given step on), and `sfdeploy promote`/`abort`'s core against an ECS mock
 * answering from the simulated deployment. Same fixtures as test/rehearsal/lifecycle.test.ts; time is simulated.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  ContinueServiceDeploymentCommand,
  type ContinueServiceDeploymentCommandInput,
  DescribeServiceDeploymentsCommand,
  ECSClient,
  InvalidParameterException,
  ListServiceDeploymentsCommand,
} from '@aws-sdk/client-ecs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { actOnPausedRelease } from '../../bin/commands/promote';
import type { LifecycleHookResponse } from '../../lambda/shared/lifecycle-hook';
import { createHandler as createSmokeHandler } from '../../lambda/smoke/handler';
import { type StrategySettings, trafficSteps } from '../../lib/config/deployment-strategy';
import { smokeStages } from '../../lib/constructs/smoke-hook';
import { broken, fakeSoftFactory } from '../fixtures/smoke/fake-softfactory';
import { type Listening, listen } from '../fixtures/smoke/servers';
import { FakeClock } from '../lambda/rollback/fixtures';

/** The origin the app is configured to allow, as the task's CORS_ORIGINS and the hook's CORS_ALLOWED_ORIGINS carry it. */
const ALLOWED_ORIGIN = 'https://app.example.com';
const APP_ENV = { CORS_ORIGINS: ALLOWED_ORIGIN };

const MIN = 60_000;
const ACCOUNT = '123456789012';
const CLUSTER = 'softfactory-prod';
const SERVICE = 'softfactory-prod-web';
const SERVICE_ARN = `arn:aws:ecs:eu-west-1:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`;
const BLUE = `arn:aws:ecs:eu-west-1:${ACCOUNT}:service-revision/${CLUSTER}/${SERVICE}/4980306466373577095`;
const GREEN = `arn:aws:ecs:eu-west-1:${ACCOUNT}:service-revision/${CLUSTER}/${SERVICE}/4980306466373585014`;
const DEPLOYMENT = `arn:aws:ecs:eu-west-1:${ACCOUNT}:service-deployment/${CLUSTER}/${SERVICE}/r9i43YFjvgF_xlg7m2eJ1r`;
const PAUSE_HOOK_ID = 'ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw';
const SMOKE_TOKEN = 'rehearsal-smoke-user-token';

type Hook = (event: unknown) => Promise<LifecycleHookResponse>;

/** What happened, as a person watching the deployment would see it. */
interface Run {
  readonly hookAnswers: { stage: string; step: number; status: string }[];
  /** Green's production weight after every change, in order (the rollback's 0 included). */
  readonly productionWeights: number[];
  rollbacks: number;
  outcome: 'SUCCESSFUL' | 'ROLLBACK_SUCCESSFUL' | 'PAUSED';
}

const settings = (over: Partial<StrategySettings>): StrategySettings => ({
  deploymentStrategy: 'canary',
  canaryPercent: 5,
  canaryBakeMinutes: 10,
  linearStepPercent: 10,
  linearStepBakeMinutes: 6,
  bakeTimeMinutes: 5,
  ...over,
});

describe('progressive delivery rehearsal (canary, linear, approval pause)', () => {
  let clock: FakeClock;
  const sns = mockClient(SNSClient);
  const secrets = mockClient(SecretsManagerClient);
  const ecs = mockClient(ECSClient);
  let greenApp: Listening;
  /** Green answers degraded health from this production step on (Infinity: always healthy). */
  let degradedFromStep = Number.POSITIVE_INFINITY;
  let currentStep = 0;
  const healthy = fakeSoftFactory({ token: SMOKE_TOKEN, env: APP_ENV }).handler;
  const degraded = fakeSoftFactory({
    token: SMOKE_TOKEN,
    env: APP_ENV,
    overrides: { 'GET /health': broken.json(200, { status: 'degraded' }) },
  }).handler;

  before(async () => {
    process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
    greenApp = await listen((req: IncomingMessage, res: ServerResponse) =>
      (currentStep >= degradedFromStep ? degraded : healthy)(req, res),
    );
  });
  beforeEach(() => {
    clock = new FakeClock();
    degradedFromStep = Number.POSITIVE_INFINITY;
    currentStep = 0;
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'b3f1c6a2-6f0e-5d5c-9c8a-1e2f3a4b5c6d' });
    secrets.reset();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: SMOKE_TOKEN });
    ecs.reset();
  });
  afterEach(() => ecs.reset());
  after(async () => {
    sns.restore();
    secrets.restore();
    ecs.restore();
    delete process.env['POWERTOOLS_METRICS_DISABLED'];
    await greenApp.close();
  });

  const smoke: Hook = createSmokeHandler({
    logger: new Logger({ serviceName: 'softfactory-smoke', logLevel: 'SILENT' }),
    createMetrics: (namespace) => new Metrics({ namespace, serviceName: 'softfactory-smoke' }),
    env: {
      get TEST_URL() {
        return greenApp.url;
      },
      get PRODUCTION_URL() {
        return greenApp.url;
      },
      TOKEN_SECRET_ARN: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:softfactory/prod/smoke-token-AbCdEf`,
      TOPIC_ARN: `arn:aws:sns:eu-west-1:${ACCOUNT}:softfactory-prod-alarms`,
      STAGE: 'prod',
      APP_MODE: 'test',
      CORS_ALLOWED_ORIGINS: ALLOWED_ORIGIN,
      MAX_ATTEMPTS: '3',
      CALLBACK_DELAY_SECONDS: '30',
      CHECK_TIMEOUT_MS: '5000',
      SUITE_TIMEOUT_MS: '20000',
    },
  });
  const smokeReports = () =>
    sns
      .commandCalls(PublishCommand)
      .map((c) => c.args[0].input)
      .filter((m) => /smoke/i.test(String(m.Subject)));

  /**
   * One deployment of GREEN over BLUE with `strategy`, the smoke hook at the stages the construct registers and, with
   * `pause`, a PAUSE hook at POST_TEST_TRAFFIC_SHIFT that a person answers by running `decide` (promote or abort).
   */
  async function release(
    strategy: StrategySettings,
    options: { pause?: { decide: (run: Run) => Promise<unknown> } } = {},
  ): Promise<Run> {
    const run: Run = { hookAnswers: [], productionWeights: [], rollbacks: 0, outcome: 'SUCCESSFUL' };
    const smokeAt = new Set<string>(smokeStages(strategy.deploymentStrategy));
    let production = 0;
    let test = 0;
    const shift = (weight: number) => {
      production = weight;
      run.productionWeights.push(weight);
    };
    const rollBack = () => {
      run.rollbacks++;
      if (production > 0) {
        clock.advance(MIN);
        shift(0);
      }
      run.outcome = 'ROLLBACK_SUCCESSFUL';
    };
    /** ECS invoking the smoke hook at `stage`; IN_PROGRESS is asked again after callBackDelay. */
    async function smokeHook(stage: string, step: number): Promise<string> {
      if (!smokeAt.has(stage)) return 'SUCCEEDED';
      let details: Record<string, unknown> | undefined;
      for (let call = 0; call < 100; call++) {
        clock.advance(MIN);
        const answer = await smoke({
          executionId: `r9i43YFjvgF-${stage}-${step}`,
          lifecycleStage: stage,
          resourceArn: DEPLOYMENT,
          executionDetails: {
            serviceArn: SERVICE_ARN,
            targetServiceRevisionArn: GREEN,
            testTrafficWeights: { [GREEN]: test, [BLUE]: 100 - test },
            productionTrafficWeights: { [GREEN]: production, [BLUE]: 100 - production },
          },
          ...(details ? { hookDetails: details } : {}),
        });
        run.hookAnswers.push({ stage, step, status: answer.hookStatus });
        if (answer.hookStatus !== 'IN_PROGRESS') return answer.hookStatus;
        details = answer.hookDetails;
        clock.advance((answer.callBackDelay ?? 30) * 1000);
      }
      return 'TIMED_OUT';
    }

    clock.advance(2 * MIN); // scale-up
    test = 100; // TEST_TRAFFIC_SHIFT
    const smokedTest = await smokeHook('POST_TEST_TRAFFIC_SHIFT', 0);
    if (options.pause) {
      const decision = await awaitPause(() => options.pause!.decide(run));
      if (smokedTest !== 'SUCCEEDED' || decision === 'ROLLBACK') {
        rollBack();
        return run;
      }
    } else if (smokedTest !== 'SUCCEEDED') {
      rollBack();
      return run;
    }
    const steps = trafficSteps(strategy);
    for (const [index, step] of steps.entries()) {
      currentStep = index + 1;
      if ((await smokeHook('PRE_PRODUCTION_TRAFFIC_SHIFT', currentStep)) !== 'SUCCEEDED') {
        rollBack();
        return run;
      }
      clock.advance(MIN);
      shift(step.greenPercent);
      if (index < steps.length - 1) clock.advance(step.waitMinutes * MIN); // the step bake (alarms watch it)
    }
    if ((await smokeHook('POST_PRODUCTION_TRAFFIC_SHIFT', currentStep)) !== 'SUCCEEDED') {
      rollBack();
      return run;
    }
    clock.advance(strategy.bakeTimeMinutes * MIN);
    return run;
  }

  /**
   * The deployment waits at its PAUSE hook: ECS answers DescribeServiceDeployments with the hook AWAITING_ACTION and
   * accepts one ContinueServiceDeployment for it; `decide` is the person running `sfdeploy promote` or `abort`.
   */
  async function awaitPause(decide: () => Promise<unknown>): Promise<'CONTINUE' | 'ROLLBACK'> {
    let answer: 'CONTINUE' | 'ROLLBACK' | undefined;
    ecs.on(ListServiceDeploymentsCommand).resolves({
      serviceDeployments: [{ serviceDeploymentArn: DEPLOYMENT, serviceArn: SERVICE_ARN, status: 'IN_PROGRESS' }],
    });
    ecs.on(DescribeServiceDeploymentsCommand).callsFake(async () => ({
      serviceDeployments: [
        {
          serviceDeploymentArn: DEPLOYMENT,
          serviceArn: SERVICE_ARN,
          status: 'IN_PROGRESS',
          lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
          targetServiceRevision: { arn: GREEN },
          lifecycleHookDetails: [
            {
              hookId: PAUSE_HOOK_ID,
              targetType: 'PAUSE',
              status: answer ? 'SUCCEEDED' : 'AWAITING_ACTION',
              expiresAt: new Date(clock.t + 240 * MIN),
              timeoutAction: 'ROLLBACK',
            },
          ],
        },
      ],
      failures: [],
    }));
    ecs.on(ContinueServiceDeploymentCommand).callsFake(async (input: ContinueServiceDeploymentCommandInput) => {
      if (answer || input.hookId !== PAUSE_HOOK_ID || input.serviceDeploymentArn !== DEPLOYMENT) {
        throw new InvalidParameterException({ message: 'hook is not awaiting action', $metadata: {} });
      }
      answer = input.action ?? 'CONTINUE';
      return { serviceDeploymentArn: DEPLOYMENT };
    });
    clock.advance(25 * MIN); // a person looks at green through the test listener
    await decide();
    assert.ok(answer, 'the person answered the pause');
    return answer;
  }

  const person = (action: 'CONTINUE' | 'ROLLBACK') => () =>
    actOnPausedRelease(
      new ECSClient({ region: 'eu-west-1' }),
      { cluster: CLUSTER, service: SERVICE, stage: 'prod' },
      action,
    );

  it('a canary release that passes: smoke before the canary step and before the rest, 5 % then 100 %, no rollback', async () => {
    const run = await release(settings({ deploymentStrategy: 'canary' }));
    assert.equal(run.outcome, 'SUCCESSFUL');
    assert.deepEqual(run.productionWeights, [5, 100]);
    assert.deepEqual(
      run.hookAnswers.map((a) => `${a.stage}#${a.step}:${a.status}`),
      [
        'POST_TEST_TRAFFIC_SHIFT#0:SUCCEEDED',
        'PRE_PRODUCTION_TRAFFIC_SHIFT#1:SUCCEEDED',
        'PRE_PRODUCTION_TRAFFIC_SHIFT#2:SUCCEEDED',
        'POST_PRODUCTION_TRAFFIC_SHIFT#2:SUCCEEDED',
      ],
    );
    assert.equal(run.rollbacks, 0);
    assert.equal(smokeReports().length, 0);
  });

  it('a linear release whose smoke fails at step 2: traffic never past step 1’s 10 %, one rollback, one smoke report', async () => {
    degradedFromStep = 2; // green degrades under its first share of production traffic
    const run = await release(settings({ deploymentStrategy: 'linear', linearStepPercent: 10 }));
    assert.equal(run.outcome, 'ROLLBACK_SUCCESSFUL');
    assert.equal(run.rollbacks, 1);
    assert.deepEqual(run.productionWeights, [10, 0], 'step 1, then back to blue');
    assert.ok(Math.max(...run.productionWeights) < 20, 'never at step 2');
    const last = run.hookAnswers.at(-1);
    assert.deepEqual(last, { stage: 'PRE_PRODUCTION_TRAFFIC_SHIFT', step: 2, status: 'FAILED' });
    assert.equal(smokeReports().length, 1);
    assert.match(String(smokeReports()[0]?.Subject), /PRE_PRODUCTION_TRAFFIC_SHIFT/);
    assert.match(String(smokeReports()[0]?.Message), /health/);
  });

  it('a linear release that passes: the smoke gate before each of the ten steps, weights 10, 20 … 100', async () => {
    const run = await release(settings({ deploymentStrategy: 'linear', linearStepPercent: 10 }));
    assert.equal(run.outcome, 'SUCCESSFUL');
    assert.deepEqual(run.productionWeights, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    assert.equal(run.hookAnswers.filter((a) => a.stage === 'PRE_PRODUCTION_TRAFFIC_SHIFT').length, 10);
  });

  it('a paused release that is promoted: production moves only after sfdeploy promote, then completes', async () => {
    let promotedAt: number | undefined;
    const run = await release(settings({ deploymentStrategy: 'canary' }), {
      pause: {
        decide: async (paused) => {
          assert.deepEqual(paused.productionWeights, [], 'no production traffic while paused');
          await person('CONTINUE')();
          promotedAt = clock.t;
        },
      },
    });
    assert.equal(run.outcome, 'SUCCESSFUL');
    assert.deepEqual(run.productionWeights, [5, 100]);
    const calls = ecs.commandCalls(ContinueServiceDeploymentCommand).map((c) => c.args[0].input);
    assert.deepEqual(calls, [{ serviceDeploymentArn: DEPLOYMENT, hookId: PAUSE_HOOK_ID, action: 'CONTINUE' }]);
    assert.ok(promotedAt !== undefined && clock.t > promotedAt);
  });

  it('a paused release that is aborted: ROLLBACK, production traffic never moved, one rollback', async () => {
    const run = await release(settings({ deploymentStrategy: 'linear' }), { pause: { decide: person('ROLLBACK') } });
    assert.equal(run.outcome, 'ROLLBACK_SUCCESSFUL');
    assert.equal(run.rollbacks, 1);
    assert.deepEqual(run.productionWeights, []);
    assert.equal(ecs.commandCalls(ContinueServiceDeploymentCommand)[0]?.args[0].input.action, 'ROLLBACK');
    assert.equal(
      run.hookAnswers.some((a) => a.stage === 'PRE_PRODUCTION_TRAFFIC_SHIFT'),
      false,
    );
  });

  it('a promotion does not carry a release past a failing test-traffic smoke (both hooks of the stage must pass)', async () => {
    degradedFromStep = 0;
    const run = await release(settings({ deploymentStrategy: 'canary' }), { pause: { decide: person('CONTINUE') } });
    assert.equal(run.outcome, 'ROLLBACK_SUCCESSFUL');
    assert.deepEqual(run.productionWeights, []);
  });
});
