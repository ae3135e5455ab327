/** The rollback rules, one row per branch of `decide`. Pure: no AWS, no clock. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type AlarmTrigger,
  type Decision,
  type DecisionCode,
  type DecisionConfig,
  type DecisionInput,
  type DeploymentView,
  decide,
  type LastRollbackRecord,
  type PipelineTrigger,
  parseTaskDefinition,
  rollbackNature,
  type ServiceState,
  screenTrigger,
  shortName,
  subjectDeployment,
} from '../../../lambda/rollback/decide';
import {
  ACCOUNT,
  alarmArn,
  CLUSTER,
  CPU,
  deploymentArn,
  ERROR_RATE,
  FAMILY,
  LATENCY,
  REGION,
  revisionArn,
  SERVICE,
  SERVICE_ARN,
  T0,
  td,
} from './fixtures';

const MIN = 60_000;
const now = new Date(T0);
const ago = (minutes: number) => new Date(T0 - minutes * MIN);
const rev = (n: number) => revisionArn(`49803064663735770${n}`);

const config: DecisionConfig = {
  partition: 'aws',
  region: REGION,
  account: ACCOUNT,
  clusterName: CLUSTER,
  serviceName: SERVICE,
  serviceArn: SERVICE_ARN,
  taskFamily: FAMILY,
  rollbackAlarmNames: [ERROR_RATE, LATENCY],
  watchWindowMinutes: 60,
  cooldownMinutes: 30,
  actingGraceSeconds: 120,
};

function dep(
  id: string,
  o: { td: number; status?: string; started: number; finished?: number; from?: number[]; stage?: string },
): DeploymentView {
  return {
    arn: deploymentArn(id),
    status: o.status ?? 'SUCCESSFUL',
    createdAt: ago(o.started + 0.05),
    startedAt: ago(o.started),
    finishedAt: o.finished === undefined ? undefined : ago(o.finished),
    lifecycleStage: o.stage,
    targetRevisionArn: rev(o.td),
    targetTaskDefinition: td(o.td),
    sources: (o.from ?? []).map((n) => ({ arn: rev(n), taskDefinition: td(n) })),
  };
}

const FIRST = dep('BkXg3vTq0Lw9sHf2aYc1Rz', { td: 40, started: 2900, finished: 2880 });
const RELEASE = dep('r9i43YFjvgF_xlg7m2eJ1r', { td: 41, started: 28, finished: 10, from: [40] });
const inFlight = (status: string, stage?: string) => ({
  ...RELEASE,
  status,
  finishedAt: undefined,
  lifecycleStage: stage,
});

const alarm = (o: Partial<AlarmTrigger> = {}): AlarmTrigger => ({
  kind: 'alarm',
  alarmName: ERROR_RATE,
  alarmArn: alarmArn(o.alarmName ?? ERROR_RATE),
  accountId: ACCOUNT,
  newState: 'ALARM',
  oldState: 'OK',
  stateChangeTime: ago(0.5),
  ...o,
});
const pipeline = (o: Partial<PipelineTrigger> = {}): PipelineTrigger => ({
  kind: 'pipeline',
  reason: 'checkout 500s after 2025.11.26',
  requestedBy: 'ci:deploy-pipeline#1842',
  dryRun: false,
  ...o,
});
const state = (deployments: DeploymentView[], o: Partial<ServiceState> = {}): ServiceState => ({
  runningTaskDefinition: td(41),
  deployments,
  alarmState: 'ALARM',
  ...o,
});
const last = (o: Partial<LastRollbackRecord> = {}): LastRollbackRecord => ({
  incidentKey: `${SERVICE_ARN}#${RELEASE.arn}`,
  subjectDeploymentArn: RELEASE.arn,
  action: 'update-service',
  state: 'done',
  startedAt: ago(10).toISOString(),
  updatedAt: ago(10).toISOString(),
  fromTaskDefinition: td(41),
  toTaskDefinition: td(40),
  ...o,
});

interface Row {
  readonly name: string;
  readonly input: Partial<DecisionInput>;
  readonly expect: { action?: Decision['action']; code: DecisionCode } & Partial<Decision>;
}

const base: DecisionInput = { trigger: alarm(), config, state: state([FIRST, RELEASE]), now };

const rows: Row[] = [
  // ---- acting
  {
    name: 'rolls back a regression 10 minutes after the bake to the previous revision',
    input: {},
    expect: {
      action: 'update-service',
      code: 'ROLL_BACK_COMPLETED',
      taskDefinition: td(40),
      toRevision: rev(40),
      fromRevision: rev(41),
      fromTaskDefinition: td(41),
      incidentKey: `${SERVICE_ARN}#${RELEASE.arn}`,
    },
  },
  {
    name: 'stops a deployment in its bake time with ROLLBACK, back to its source revision',
    input: { state: state([FIRST, inFlight('IN_PROGRESS', 'BAKE_TIME')]) },
    expect: {
      action: 'stop-deployment',
      code: 'STOP_IN_FLIGHT',
      subjectDeploymentArn: RELEASE.arn,
      toRevision: rev(40),
      taskDefinition: td(40),
    },
  },
  {
    name: 'stops a pending deployment too',
    input: { state: state([FIRST, inFlight('PENDING')]) },
    expect: { action: 'stop-deployment', code: 'STOP_IN_FLIGHT' },
  },
  {
    name: 'lets a pipeline stop an in-flight deployment back to the revision it names, when that is the source',
    input: {
      trigger: pipeline({ toRevision: rev(40) }),
      state: state([FIRST, inFlight('IN_PROGRESS', 'PRODUCTION_TRAFFIC_SHIFT')]),
    },
    expect: { action: 'stop-deployment', code: 'STOP_IN_FLIGHT' },
  },
  {
    name: 'does not let the cooldown block stopping an in-flight deployment',
    input: {
      state: state([FIRST, inFlight('IN_PROGRESS', 'BAKE_TIME')]),
      lastRollback: last({ subjectDeploymentArn: deploymentArn('older'), startedAt: ago(5).toISOString() }),
    },
    expect: { action: 'stop-deployment', code: 'STOP_IN_FLIGHT' },
  },
  {
    name: 'lets a pipeline roll back outside the watch window',
    input: {
      trigger: pipeline(),
      state: state([FIRST, dep('r9i43YFjvgF_xlg7m2eJ1r', { td: 41, started: 400, finished: 380, from: [40] })], {
        alarmState: undefined,
      }),
    },
    expect: { action: 'update-service', code: 'ROLL_BACK_COMPLETED', taskDefinition: td(40) },
  },
  {
    name: 'lets a pipeline choose an older revision explicitly',
    input: {
      trigger: pipeline({ toRevision: rev(39) }),
      state: state([FIRST, RELEASE], {
        alarmState: undefined,
        requestedRevision: { arn: rev(39), serviceArn: SERVICE_ARN, taskDefinition: td(39) },
      }),
    },
    expect: { action: 'update-service', code: 'ROLL_BACK_COMPLETED', taskDefinition: td(39), toRevision: rev(39) },
  },
  {
    name: 'measures the window to the alarm, not to a late delivery',
    input: {
      state: state([FIRST, dep('r9i43YFjvgF_xlg7m2eJ1r', { td: 41, started: 90, finished: 70, from: [40] })]),
      trigger: alarm({ stateChangeTime: ago(15) }),
    },
    expect: { action: 'update-service', code: 'ROLL_BACK_COMPLETED' },
  },
  {
    name: "falls back to what the release replaced when the earlier deployment is beyond ECS's history page",
    input: { state: state([RELEASE]) },
    expect: { action: 'update-service', code: 'ROLL_BACK_COMPLETED', taskDefinition: td(40) },
  },
  {
    name: 'retakes an earlier attempt that never reached ECS once the grace period is over',
    input: {
      lastRollback: last({ state: 'acting', startedAt: ago(5).toISOString(), updatedAt: ago(5).toISOString() }),
    },
    expect: { action: 'update-service', code: 'ROLL_BACK_COMPLETED' },
  },
  // ---- screening
  {
    name: 'ignores an alarm from another account',
    input: { trigger: alarm({ accountId: '210987654321' }) },
    expect: { action: 'none', code: 'OTHER_ACCOUNT' },
  },
  {
    name: 'ignores an alarm from another region',
    input: { trigger: alarm({ alarmArn: `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${ERROR_RATE}` }) },
    expect: { code: 'OTHER_REGION' },
  },
  {
    name: 'ignores a notification without AlarmArn (region unverifiable)',
    input: { trigger: alarm({ alarmArn: undefined }) },
    expect: { code: 'REGION_UNVERIFIABLE' },
  },
  {
    name: 'ignores an OK transition',
    input: { trigger: alarm({ newState: 'OK', oldState: 'ALARM' }) },
    expect: { code: 'NOT_IN_ALARM' },
  },
  {
    name: 'ignores an INSUFFICIENT_DATA transition',
    input: { trigger: alarm({ newState: 'INSUFFICIENT_DATA' }) },
    expect: { code: 'NOT_IN_ALARM' },
  },
  {
    name: 'ignores an alarm that is not a rollback alarm',
    input: { trigger: alarm({ alarmName: CPU, alarmArn: alarmArn(CPU) }) },
    expect: { code: 'UNKNOWN_ALARM' },
  },
  {
    name: "refuses a pipeline's revision of another service",
    input: {
      trigger: pipeline({
        toRevision: `arn:aws:ecs:${REGION}:${ACCOUNT}:service-revision/${CLUSTER}/softfactory-prod-worker/4980306466373577095`,
      }),
    },
    expect: { code: 'FOREIGN_REVISION' },
  },
  // ---- state
  {
    name: 'ignores a stale notification (alarm back to OK)',
    input: { state: state([FIRST, RELEASE], { alarmState: 'OK' }) },
    expect: { code: 'STALE_ALARM' },
  },
  {
    name: 'ignores an alarm that does not exist here',
    input: { state: state([FIRST, RELEASE], { alarmState: 'MISSING' }) },
    expect: { code: 'STALE_ALARM' },
  },
  {
    name: 'does not touch a service running another task-definition family',
    input: {
      state: state([FIRST, RELEASE], {
        runningTaskDefinition: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/softfactory-prod-worker:7`,
      }),
    },
    expect: { code: 'FOREIGN_TASK_FAMILY' },
  },
  {
    name: 'never deploys a previous revision of another family',
    input: {
      state: state([
        { ...FIRST, targetTaskDefinition: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/legacy-web:3` },
        RELEASE,
      ]),
    },
    expect: { code: 'FOREIGN_TASK_FAMILY' },
  },
  {
    name: 'recognises that an earlier, timed-out attempt landed',
    input: {
      state: state(
        [
          FIRST,
          RELEASE,
          dep('Qw8eRt5yUi3oPa1sDf7gHj', {
            td: 40,
            status: 'IN_PROGRESS',
            started: 1,
            from: [41],
            stage: 'PRE_SCALE_UP',
          }),
        ],
        { runningTaskDefinition: td(40) },
      ),
      lastRollback: last({ state: 'acting', startedAt: ago(1.1).toISOString(), updatedAt: ago(1.1).toISOString() }),
    },
    expect: { code: 'EARLIER_ATTEMPT_LANDED' },
  },
  {
    name: 'waits when an earlier attempt is not visible yet and still within the grace period',
    input: {
      lastRollback: last({ state: 'acting', startedAt: ago(0.5).toISOString(), updatedAt: ago(0.5).toISOString() }),
    },
    expect: { code: 'EARLIER_ATTEMPT_SETTLING' },
  },
  {
    name: 'does nothing while ECS rolls back',
    input: { state: state([FIRST, inFlight('ROLLBACK_IN_PROGRESS')]) },
    expect: { code: 'ECS_ALREADY_ROLLING_BACK' },
  },
  {
    name: 'does nothing after a rollback was requested',
    input: { state: state([FIRST, inFlight('ROLLBACK_REQUESTED')]) },
    expect: { code: 'ECS_ALREADY_ROLLING_BACK' },
  },
  {
    name: 'does nothing while ECS stops a deployment',
    input: { state: state([FIRST, inFlight('STOP_REQUESTED')]) },
    expect: { code: 'ECS_ALREADY_ROLLING_BACK' },
  },
  {
    name: 'acts once per incident',
    input: {
      incident: {
        key: `${SERVICE_ARN}#${RELEASE.arn}`,
        state: 'done',
        owner: 'a',
        updatedAt: ago(1).toISOString(),
        action: 'update-service',
      },
    },
    expect: { code: 'ALREADY_HANDLED' },
  },
  {
    name: 'recognises its own rollback deployment as the incident being handled',
    input: {
      state: state(
        [FIRST, RELEASE, dep('Qw8eRt5yUi3oPa1sDf7gHj', { td: 40, status: 'IN_PROGRESS', started: 9, from: [41] })],
        { runningTaskDefinition: td(40) },
      ),
      lastRollback: last({ createdDeploymentArn: deploymentArn('Qw8eRt5yUi3oPa1sDf7gHj') }),
    },
    expect: { code: 'ALREADY_HANDLED' },
  },
  {
    name: "never rolls back someone else's rollback in flight",
    input: {
      state: state(
        [FIRST, RELEASE, dep('Zx1cVb2nM3aS4dF5gH6jK7', { td: 40, status: 'IN_PROGRESS', started: 3, from: [41] })],
        { runningTaskDefinition: td(40) },
      ),
    },
    expect: { code: 'ROLLBACK_OF_ROLLBACK' },
  },
  {
    name: 'never rolls back a completed rollback',
    input: {
      state: state([FIRST, RELEASE, dep('Zx1cVb2nM3aS4dF5gH6jK7', { td: 40, started: 8, finished: 2, from: [41] })], {
        runningTaskDefinition: td(40),
      }),
    },
    expect: { code: 'ROLLBACK_OF_ROLLBACK' },
  },
  {
    name: 'refuses a pipeline revision that an in-flight deployment cannot stop back to',
    input: { trigger: pipeline({ toRevision: rev(39) }), state: state([FIRST, inFlight('IN_PROGRESS', 'BAKE_TIME')]) },
    expect: { code: 'TO_REVISION_CONFLICT' },
  },
  { name: 'has nothing to do without deployments', input: { state: state([]) }, expect: { code: 'NO_DEPLOYMENTS' } },
  {
    name: 'leaves a deployment ECS already rolled back',
    input: { state: state([FIRST, { ...RELEASE, status: 'ROLLBACK_SUCCESSFUL' }]) },
    expect: { code: 'LATEST_ALREADY_ROLLED_BACK' },
  },
  {
    name: 'leaves a failed ECS rollback to people',
    input: { state: state([FIRST, { ...RELEASE, status: 'ROLLBACK_FAILED' }]) },
    expect: { code: 'LATEST_NOT_SUCCESSFUL' },
  },
  {
    name: 'leaves a stopped deployment to people',
    input: { state: state([FIRST, { ...RELEASE, status: 'STOPPED' }]) },
    expect: { code: 'LATEST_NOT_SUCCESSFUL' },
  },
  {
    name: 'ignores an alarm outside the watch window',
    input: { state: state([FIRST, dep('r9i43YFjvgF_xlg7m2eJ1r', { td: 41, started: 80, finished: 61, from: [40] })]) },
    expect: { code: 'OUTSIDE_WINDOW' },
  },
  {
    name: 'keeps the cooldown after a rollback (alarm)',
    input: { lastRollback: last({ subjectDeploymentArn: deploymentArn('older') }) },
    expect: { code: 'COOLDOWN' },
  },
  {
    name: 'keeps the cooldown for pipelines too (loop guard)',
    input: { trigger: pipeline(), lastRollback: last({ subjectDeploymentArn: deploymentArn('older') }) },
    expect: { code: 'COOLDOWN' },
  },
  {
    name: 'does not act on a first-ever deployment',
    input: {
      state: state([dep('BkXg3vTq0Lw9sHf2aYc1Rz', { td: 40, started: 30, finished: 12 })], {
        runningTaskDefinition: td(40),
      }),
    },
    expect: { code: 'FIRST_DEPLOYMENT' },
  },
  {
    name: 'cannot return to a revision ECS cannot describe',
    input: { state: state([{ ...FIRST, targetTaskDefinition: undefined }, RELEASE]) },
    expect: { code: 'PREVIOUS_REVISION_UNKNOWN' },
  },
  {
    name: 'never rolls back to the revision already running',
    input: {
      trigger: pipeline({ toRevision: rev(41) }),
      state: state([FIRST, RELEASE], { requestedRevision: { arn: rev(41), taskDefinition: td(41) } }),
    },
    expect: { code: 'ALREADY_ON_REVISION' },
  },
  {
    name: 'ignores an alarm that fired before the deployment began',
    input: { trigger: alarm({ stateChangeTime: ago(40) }) },
    expect: { code: 'ALARM_PREDATES_DEPLOYMENT' },
  },
];

describe('decide', () => {
  for (const row of rows) {
    it(row.name, () => {
      const decision = decide({ ...base, ...row.input });
      const { action = 'none', ...fields } = row.expect;
      assert.equal(decision.code, fields.code, decision.reason);
      assert.equal(decision.action, action, decision.reason);
      for (const [key, value] of Object.entries(fields)) {
        assert.equal(decision[key as keyof Decision], value, `${key}: ${decision.reason}`);
      }
      assert.ok(decision.reason.length > 10, 'every decision says why');
    });
  }

  it('is deterministic: the same input gives the same decision', () => {
    assert.deepEqual(decide(base), decide({ ...base }));
  });
});

describe('decision helpers', () => {
  it('screens nothing out of a valid rollback alarm or pipeline request', () => {
    assert.equal(screenTrigger(alarm(), config), undefined);
    assert.equal(screenTrigger(pipeline({ toRevision: rev(40) }), config), undefined);
  });

  it('parses task-definition ARNs and short references', () => {
    assert.deepEqual(parseTaskDefinition(td(41)), { family: FAMILY, revision: 41 });
    assert.deepEqual(parseTaskDefinition('softfactory-prod-web:7'), { family: FAMILY, revision: 7 });
    assert.equal(parseTaskDefinition('not-a-task-definition'), undefined);
  });

  it('recognises a rollback by an older revision replacing a newer one of the same family', () => {
    assert.match(
      rollbackNature(dep('a', { td: 40, started: 1, from: [41] })) ?? '',
      /replaced softfactory-prod-web:41 with the older softfactory-prod-web:40/,
    );
    assert.equal(rollbackNature(dep('b', { td: 42, started: 1, from: [41] })), undefined);
    assert.match(rollbackNature({ ...RELEASE, status: 'ROLLBACK_SUCCESSFUL' }) ?? '', /ECS rolled it back/);
  });

  it('picks the in-flight deployment as the subject, else the newest', () => {
    assert.equal(subjectDeployment(state([RELEASE, FIRST]))?.arn, RELEASE.arn);
    assert.equal(
      subjectDeployment(state([inFlight('IN_PROGRESS'), dep('later-but-done', { td: 39, started: 1, finished: 0 })]))
        ?.arn,
      RELEASE.arn,
    );
  });

  it('shortens ARNs for people', () => {
    assert.equal(shortName(td(41)), 'softfactory-prod-web:41');
    assert.equal(shortName(RELEASE.arn), '…/r9i43YFjvgF_xlg7m2eJ1r');
  });
});
