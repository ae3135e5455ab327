/**
 * The rollback decision, as a pure function of (trigger, service state, configuration, incident memory, now).
 * No AWS calls, no clock, no randomness: every branch is table-tested in test/lambda/rollback/decide.test.ts.
 *
 * Vocabulary
 * - subject deployment: the ECS service deployment a rollback would undo: the one in flight, else the latest.
 * - incident: one subject deployment of one service. Key = service ARN + subject deployment ARN. At most one
 *   rollback per incident, whatever number of alarms, SNS re-deliveries or pipeline requests arrive for it.
 * - loop guard: never roll back a rollback (ECS's own, ours, or a redeploy of an older task-definition
 *   revision) and no second rollback of the service within the cooldown. A pipeline request may override the
 *   watch window, never the loop guard.
 */

import {
  type Decision,
  type DecisionCode,
  type DecisionConfig,
  type DecisionInput,
  type DeploymentView,
  ECS_ROLLING_BACK_STATUSES,
  type LastRollbackRecord,
  type ServiceState,
  STOPPABLE_STATUSES,
  type Trigger,
} from './decision';

export * from './decision';

// ---------------------------------------------------------------------------------------------- helpers

export interface ParsedArn {
  readonly partition: string;
  readonly service: string;
  readonly region: string;
  readonly account: string;
  readonly resource: string;
}

export function parseArn(arn: string | undefined): ParsedArn | undefined {
  const m = arn ? /^arn:([^:]+):([^:]+):([^:]*):([^:]*):(.+)$/.exec(arn) : null;
  if (!m) return undefined;
  return { partition: m[1]!, service: m[2]!, region: m[3]!, account: m[4]!, resource: m[5]! };
}

/** `…:task-definition/softfactory-prod-web:41` (or `softfactory-prod-web:41`) → family and revision. */
export function parseTaskDefinition(ref: string | undefined): { family: string; revision: number } | undefined {
  const m = ref ? /(?:task-definition\/)?([A-Za-z0-9_-]+):(\d+)$/.exec(ref) : null;
  return m ? { family: m[1]!, revision: Number(m[2]) } : undefined;
}

/** Short, human form of an ARN for messages: `softfactory-prod-web:41`, `…/r9i43YFjvgF_xlg7m2eJ1r`. */
export function shortName(arn: string | undefined): string {
  if (!arn) return '(unknown)';
  const td = parseTaskDefinition(arn);
  if (td && arn.includes('task-definition')) return `${td.family}:${td.revision}`;
  const tail = arn.split('/').pop() ?? arn;
  return tail === arn ? arn : `…/${tail}`;
}

export function incidentKeyOf(serviceArn: string, deploymentArn: string): string {
  return `${serviceArn}#${deploymentArn}`;
}

function timeOf(d: DeploymentView): number {
  return (d.createdAt ?? d.startedAt ?? d.finishedAt ?? new Date(0)).getTime();
}

export function newestFirst(deployments: readonly DeploymentView[]): DeploymentView[] {
  return [...deployments].sort((a, b) => timeOf(b) - timeOf(a));
}

/** The newest deployment ECS has not finished (including its bake time, and ECS's own stop/rollback). */
export function inFlightDeployment(state: ServiceState): DeploymentView | undefined {
  return newestFirst(state.deployments).find(
    (d) => STOPPABLE_STATUSES.includes(d.status) || ECS_ROLLING_BACK_STATUSES.includes(d.status),
  );
}

/** The deployment a rollback would undo: the one in flight, else the newest. */
export function subjectDeployment(state: ServiceState): DeploymentView | undefined {
  return inFlightDeployment(state) ?? newestFirst(state.deployments)[0];
}

/** Two minutes of tolerance between the Lambda clock and ECS timestamps. */
const CLOCK_SKEW_MS = 2 * 60_000;

/** True when `d` is the deployment our own last rollback created. */
export function isOurRollback(d: DeploymentView, last: LastRollbackRecord | undefined): boolean {
  if (last?.action !== 'update-service') return false;
  if (last.createdDeploymentArn) return d.arn === last.createdDeploymentArn;
  // ECS did not tell us the deployment's ARN: recognise it by target and creation time.
  const started = Date.parse(last.startedAt);
  return (
    d.targetTaskDefinition === last.toTaskDefinition &&
    timeOf(d) >= started - CLOCK_SKEW_MS &&
    timeOf(d) <= started + 5 * CLOCK_SKEW_MS
  );
}

/**
 * Why `d` counts as a rollback, if it does: ECS rolled it back, or it deploys an older revision of the same
 * task-definition family than the one it replaced (how every rollback, ours, a person's or a pipeline's, looks).
 */
export function rollbackNature(d: DeploymentView): string | undefined {
  if (d.status.startsWith('ROLLBACK_')) return `ECS rolled it back (${d.status})`;
  const target = parseTaskDefinition(d.targetTaskDefinition);
  if (!target) return undefined;
  const newerSource = d.sources
    .map((s) => parseTaskDefinition(s.taskDefinition))
    .find((s) => s && s.family === target.family && s.revision > target.revision);
  return newerSource
    ? `it replaced ${target.family}:${newerSource.revision} with the older ${target.family}:${target.revision}`
    : undefined;
}

/** Did the ECS change of an earlier attempt that ended without a clear answer actually land? */
export function earlierAttemptLanded(last: LastRollbackRecord, state: ServiceState): boolean {
  if (last.action === 'stop-deployment') {
    const d = state.deployments.find((x) => x.arn === last.subjectDeploymentArn);
    return d !== undefined && !STOPPABLE_STATUSES.includes(d.status);
  }
  if (last.toTaskDefinition && state.runningTaskDefinition === last.toTaskDefinition) return true;
  return state.deployments.some((d) => isOurRollback(d, last));
}

function familyOk(config: DecisionConfig, taskDefinition: string | undefined): boolean {
  return parseTaskDefinition(taskDefinition)?.family === config.taskFamily;
}

function minutesBetween(from: Date, to: Date): number {
  return (to.getTime() - from.getTime()) / 60_000;
}

function none(code: DecisionCode, reason: string, extra: Partial<Decision> = {}): Decision {
  return { action: 'none', code, reason, ...extra };
}

// ---------------------------------------------------------------------------------------------- screening

/**
 * Checks that need no AWS state. The handler runs these first, so an OK notification or a message from
 * another account costs no ECS call. `decide` runs them again, so it stays total on its own.
 */
export function screenTrigger(trigger: Trigger, config: DecisionConfig): Decision | undefined {
  if (trigger.kind === 'pipeline') {
    if (trigger.toRevision) {
      const arn = parseArn(trigger.toRevision);
      const ownPrefix = `service-revision/${config.clusterName}/${config.serviceName}/`;
      if (
        !arn ||
        arn.partition !== config.partition ||
        arn.account !== config.account ||
        arn.region !== config.region ||
        !arn.resource.startsWith(ownPrefix)
      ) {
        return none(
          'FOREIGN_REVISION',
          `toRevision ${trigger.toRevision} is not a revision of ${config.serviceArn}; refusing to deploy another service's configuration`,
        );
      }
    }
    return undefined;
  }
  if (trigger.accountId !== config.account) {
    return none(
      'OTHER_ACCOUNT',
      `alarm ${trigger.alarmName} belongs to account ${trigger.accountId}, not ${config.account}`,
    );
  }
  const alarmArn = parseArn(trigger.alarmArn);
  if (!alarmArn) {
    // The notification's `Region` field is a display name ("EU (Ireland)"); only the alarm ARN is reliable.
    return none(
      'REGION_UNVERIFIABLE',
      `alarm ${trigger.alarmName}: the notification has no AlarmArn, so its region cannot be checked`,
    );
  }
  if (alarmArn.region !== config.region || alarmArn.account !== config.account) {
    return none(
      'OTHER_REGION',
      `alarm ${trigger.alarmName} is in ${alarmArn.region}/${alarmArn.account}, not ${config.region}/${config.account}`,
    );
  }
  if (trigger.newState !== 'ALARM') {
    return none(
      'NOT_IN_ALARM',
      `alarm ${trigger.alarmName} changed ${trigger.oldState ?? '?'} → ${trigger.newState}; only a transition to ALARM can trigger a rollback`,
    );
  }
  if (!config.rollbackAlarmNames.includes(trigger.alarmName)) {
    return none(
      'UNKNOWN_ALARM',
      `alarm ${trigger.alarmName} is not a rollback alarm (${config.rollbackAlarmNames.join(', ')})`,
    );
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------- decide

export function decide(input: DecisionInput): Decision {
  const { trigger, config, state, lastRollback, incident, now } = input;
  const screened = screenTrigger(trigger, config);
  if (screened) return screened;

  if (trigger.kind === 'alarm' && state.alarmState !== 'ALARM') {
    return none(
      'STALE_ALARM',
      state.alarmState === 'MISSING'
        ? `alarm ${trigger.alarmName} does not exist in ${config.region}; ignoring the notification`
        : `alarm ${trigger.alarmName} is ${state.alarmState ?? 'in an unknown state'} now; the notification is stale`,
    );
  }
  if (state.runningTaskDefinition && !familyOk(config, state.runningTaskDefinition)) {
    return none(
      'FOREIGN_TASK_FAMILY',
      `the service runs ${shortName(state.runningTaskDefinition)}, not a revision of ${config.taskFamily}; not touching it`,
    );
  }

  // An earlier attempt ended without knowing whether its ECS call landed (e.g. a timeout): look before acting.
  if (lastRollback?.state === 'acting') {
    if (earlierAttemptLanded(lastRollback, state)) {
      return none(
        'EARLIER_ATTEMPT_LANDED',
        `an earlier attempt's ${lastRollback.action} has taken effect; nothing more to do`,
        {
          incidentKey: lastRollback.incidentKey,
          subjectDeploymentArn: lastRollback.subjectDeploymentArn,
          fromTaskDefinition: lastRollback.fromTaskDefinition,
          taskDefinition: lastRollback.toTaskDefinition,
        },
      );
    }
    const ageSeconds = (now.getTime() - Date.parse(lastRollback.updatedAt)) / 1000;
    if (ageSeconds < config.actingGraceSeconds) {
      return none(
        'EARLIER_ATTEMPT_SETTLING',
        `an earlier attempt's ${lastRollback.action} (${Math.round(ageSeconds)} s ago) is not visible in ECS yet; retry after ${config.actingGraceSeconds} s`,
        { incidentKey: lastRollback.incidentKey },
      );
    }
    // Older than the grace period and still invisible: it did not happen. Fall through and decide afresh.
  }

  const ordered = newestFirst(state.deployments);
  const inFlight = inFlightDeployment(state);
  const subject = inFlight ?? ordered[0];
  if (!subject) return none('NO_DEPLOYMENTS', `ECS lists no deployments for ${config.serviceArn}`);

  const key = incidentKeyOf(config.serviceArn, subject.arn);
  const about: Partial<Decision> = {
    incidentKey: key,
    subjectDeploymentArn: subject.arn,
    fromRevision: subject.targetRevisionArn,
    fromTaskDefinition: subject.targetTaskDefinition,
  };

  if (isOurRollback(subject, lastRollback)) {
    return none(
      'ALREADY_HANDLED',
      `deployment ${shortName(subject.arn)} is the rollback this function started at ${lastRollback?.startedAt}`,
      about,
    );
  }
  if (incident?.state === 'done') {
    return none(
      'ALREADY_HANDLED',
      `incident ${shortName(subject.arn)} was already handled (${incident.action ?? 'rollback'} at ${incident.updatedAt})`,
      about,
    );
  }

  if (trigger.kind === 'pipeline' && trigger.expectImage && !deploysImage(subject, trigger.expectImage)) {
    const images = (subject.targetImages ?? []).map((i) => i.image ?? i.digest).filter(Boolean);
    return none(
      'NOT_THIS_RELEASE',
      `the deployment to undo (${shortName(subject.arn)}, ${subject.status}) deploys ${images.join(', ') || 'an unknown image'}, not ${trigger.expectImage}: this request's release never reached ECS, refusing to roll back another one`,
      about,
    );
  }

  if (trigger.kind === 'alarm' && trigger.stateChangeTime) {
    const began = subject.startedAt ?? subject.createdAt;
    if (began && trigger.stateChangeTime.getTime() < began.getTime() - CLOCK_SKEW_MS) {
      return none(
        'ALARM_PREDATES_DEPLOYMENT',
        `alarm ${trigger.alarmName} went to ALARM at ${trigger.stateChangeTime.toISOString()}, before deployment ${shortName(subject.arn)} began (${began.toISOString()}); the deployment did not cause it`,
        about,
      );
    }
  }

  // ---- a deployment in flight (including bake time): ECS can return to its source revision by itself
  if (inFlight) {
    if (ECS_ROLLING_BACK_STATUSES.includes(inFlight.status)) {
      return none(
        'ECS_ALREADY_ROLLING_BACK',
        `ECS is already stopping/rolling back deployment ${shortName(inFlight.arn)} (${inFlight.status})`,
        about,
      );
    }
    const nature = rollbackNature(inFlight);
    if (nature) {
      return none(
        'ROLLBACK_OF_ROLLBACK',
        `deployment ${shortName(inFlight.arn)} is itself a rollback (${nature}); never rolling back a rollback`,
        about,
      );
    }
    if (!familyOk(config, inFlight.targetTaskDefinition)) {
      return none(
        'FOREIGN_TASK_FAMILY',
        `deployment ${shortName(inFlight.arn)} deploys ${shortName(inFlight.targetTaskDefinition)}, not ${config.taskFamily}`,
        about,
      );
    }
    if (
      trigger.kind === 'pipeline' &&
      trigger.toRevision &&
      !inFlight.sources.some((s) => s.arn === trigger.toRevision)
    ) {
      return none(
        'TO_REVISION_CONFLICT',
        `deployment ${shortName(inFlight.arn)} is in flight; ECS can only stop it back to its source revision (${inFlight.sources.map((s) => shortName(s.arn)).join(', ') || 'none'}), not ${shortName(trigger.toRevision)}. Retry without toRevision, or after it finishes`,
        about,
      );
    }
    return {
      action: 'stop-deployment',
      code: 'STOP_IN_FLIGHT',
      reason: `deployment ${shortName(inFlight.arn)} is in flight (${inFlight.lifecycleStage ?? inFlight.status}); stopping it with ROLLBACK returns the service to its source revision`,
      ...about,
      toRevision: inFlight.sources.length === 1 ? inFlight.sources[0]?.arn : undefined,
      taskDefinition: inFlight.sources.length === 1 ? inFlight.sources[0]?.taskDefinition : undefined,
    };
  }

  // ---- nothing in flight: the latest deployment completed
  const latest = subject;
  if (latest.status === 'ROLLBACK_SUCCESSFUL') {
    return none(
      'LATEST_ALREADY_ROLLED_BACK',
      `ECS already rolled back deployment ${shortName(latest.arn)}; the previous revision is running`,
      about,
    );
  }
  if (latest.status !== 'SUCCESSFUL') {
    return none(
      'LATEST_NOT_SUCCESSFUL',
      `the latest deployment ${shortName(latest.arn)} ended ${latest.status}; the service state needs a person, not an automatic rollback`,
      about,
    );
  }
  const nature = rollbackNature(latest);
  if (nature) {
    return none(
      'ROLLBACK_OF_ROLLBACK',
      `the latest deployment ${shortName(latest.arn)} is itself a rollback (${nature}); never rolling back a rollback`,
      about,
    );
  }

  if (trigger.kind === 'alarm') {
    const finished = latest.finishedAt ?? latest.createdAt;
    const at = trigger.stateChangeTime ?? now;
    if (!finished || minutesBetween(finished, at) > config.watchWindowMinutes) {
      return none(
        'OUTSIDE_WINDOW',
        `the latest deployment ${shortName(latest.arn)} finished ${finished ? `${Math.round(minutesBetween(finished, at))} min` : 'too long'} before the alarm; the watch window is ${config.watchWindowMinutes} min`,
        about,
      );
    }
  }

  // The cooldown counts from a rollback that happened; an `acting` record that got here never landed.
  // (It does not apply to stopping an in-flight deployment above: that returns to the revision ECS had.)
  if (lastRollback?.state === 'done') {
    const since = minutesBetween(new Date(lastRollback.startedAt), now);
    if (since < config.cooldownMinutes) {
      return none(
        'COOLDOWN',
        `the service was rolled back ${Math.max(0, Math.round(since))} min ago; no further rollback within the ${config.cooldownMinutes}-minute cooldown`,
        about,
      );
    }
  }

  const previous = previousRevision(latest, ordered, trigger, state);
  if (!previous) {
    return none(
      'FIRST_DEPLOYMENT',
      `deployment ${shortName(latest.arn)} is the service's first successful deployment; there is no previous revision to return to`,
      about,
    );
  }
  if (!previous.taskDefinition) {
    return none(
      'PREVIOUS_REVISION_UNKNOWN',
      `ECS cannot describe revision ${shortName(previous.arn)} (revisions before 2024-10-25 are not kept)`,
      {
        ...about,
        toRevision: previous.arn,
      },
    );
  }
  if (!familyOk(config, previous.taskDefinition)) {
    return none(
      'FOREIGN_TASK_FAMILY',
      `revision ${shortName(previous.arn)} runs ${shortName(previous.taskDefinition)}, not ${config.taskFamily}`,
      {
        ...about,
        toRevision: previous.arn,
      },
    );
  }
  const running = state.runningTaskDefinition ?? latest.targetTaskDefinition;
  if (previous.taskDefinition === running) {
    return none(
      'ALREADY_ON_REVISION',
      `the service already runs ${shortName(running)}; never rolling back to the running revision`,
      {
        ...about,
        toRevision: previous.arn,
        taskDefinition: previous.taskDefinition,
      },
    );
  }
  return {
    action: 'update-service',
    code: 'ROLL_BACK_COMPLETED',
    reason:
      trigger.kind === 'alarm'
        ? `alarm ${trigger.alarmName} is in ALARM ${Math.round(minutesBetween(latest.finishedAt ?? now, trigger.stateChangeTime ?? now))} min after deployment ${shortName(latest.arn)} finished; returning to ${shortName(previous.taskDefinition)}`
        : `requested by ${trigger.requestedBy}: ${trigger.reason}; returning to ${shortName(previous.taskDefinition)}`,
    ...about,
    toRevision: previous.arn,
    taskDefinition: previous.taskDefinition,
  };
}

/** Does `d` deploy `expected` (`repo:tag` compared with the image, `repo@sha256:…` with the digest)? */
export function deploysImage(d: DeploymentView, expected: string): boolean {
  const at = expected.indexOf('@sha256:');
  const digest = at >= 0 ? expected.slice(at + 1) : undefined;
  return (d.targetImages ?? []).some((i) => i.image === expected || (digest !== undefined && i.digest === digest));
}

/** The revision to return to: the pipeline's choice, else the target of the successful deployment before `latest`. */
function previousRevision(
  latest: DeploymentView,
  ordered: readonly DeploymentView[],
  trigger: Trigger,
  state: ServiceState,
): { arn: string; taskDefinition?: string | undefined } | undefined {
  if (trigger.kind === 'pipeline' && trigger.toRevision) {
    return { arn: trigger.toRevision, taskDefinition: state.requestedRevision?.taskDefinition };
  }
  const before = ordered.find(
    (d) => d.arn !== latest.arn && d.status === 'SUCCESSFUL' && timeOf(d) < timeOf(latest) && d.targetRevisionArn,
  );
  if (before?.targetRevisionArn) return { arn: before.targetRevisionArn, taskDefinition: before.targetTaskDefinition };
  // History can be shorter than the service's life (ListServiceDeployments pages); what `latest` replaced is
  // the previous revision too, when it is unambiguous.
  if (latest.sources.length === 1) return latest.sources[0];
  return undefined;
}
