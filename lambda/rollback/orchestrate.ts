/**
 * One trigger, start to finish: screen → lock → read ECS → decide → claim the incident → act → record →
 * report. Ports in, result out; the handler only parses events and builds the ports.
 *
 * Failure policy
 * - Malformed input, refusals, duplicates: a result, never an exception (an exception on an SNS event makes
 *   Lambda retry something that can never succeed).
 * - AWS failures while reading (after the SDK's bounded retries): exception → Lambda async retry → DLQ.
 *   Nothing was changed, and the incident was not claimed yet.
 * - The mutating call fails: reported, then (async) thrown. A client fault means ECS refused: the claim is
 *   released so a retry can act. A timeout or 5xx may have landed: the claim stays `acting`, and the retry
 *   re-reads ECS (`EARLIER_ATTEMPT_LANDED`) before it could make a second, conflicting change.
 * - Pipeline requests (synchronous) get the failure as a result instead of an exception.
 */
import { randomUUID } from 'node:crypto';
import type { StructuredLog } from '../shared/log';
import type { SnapshotPort } from '../shared/snapshots';
import type { Outcome, RollbackResult } from './contract';
import {
  type Decision,
  decide,
  ECS_ROLLING_BACK_STATUSES,
  incidentKeyOf,
  kindOf,
  type LastRollbackRecord,
  STOPPABLE_STATUSES,
  screenTrigger,
  subjectDeployment,
  type Trigger,
} from './decide';
import type { RollbackConfig } from './env';
import { gatherServiceState } from './gather';
import { type ActPort, classifyCallFailure, type RollbackStore, type StatePort } from './ports';
import { type DatabaseNote, databaseNote, type Report, type ReportInput, renderReport } from './report';

/** The functions' one logger port (lambda/shared/log.ts). */
export type RollbackLog = StructuredLog;

export interface RollbackDeps {
  readonly config: RollbackConfig;
  readonly state: StatePort;
  readonly act: ActPort;
  readonly store: RollbackStore;
  readonly snapshots: SnapshotPort;
  readonly publish: (report: Report) => Promise<void>;
  readonly log: RollbackLog;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
  /** Milliseconds left in this invocation (Lambda context); bounds the wait for the lock. */
  readonly remainingMs?: (() => number) | undefined;
  /** Identifies this attempt in lock and incident records. */
  readonly attemptId?: string | undefined;
}

/** Asynchronous (SNS) triggers throw to get Lambda's retries; synchronous ones return a result. */
export type Mode = 'async' | 'sync';

/** Thrown for asynchronous triggers when the right answer is "try again in a minute". */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
}

/** Thrown for asynchronous triggers when the ECS change failed (after reporting it). */
export class RollbackFailedError extends Error {
  override readonly name = 'RollbackFailedError';
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function summary(decision: Decision): NonNullable<RollbackResult['decision']> {
  return { ...decision };
}

export async function processTrigger(trigger: Trigger, deps: RollbackDeps, mode: Mode): Promise<RollbackResult> {
  const { config, log } = deps;
  const dryRun = trigger.kind === 'pipeline' && trigger.dryRun;
  const owner = deps.attemptId ?? `attempt-${randomUUID()}`;

  const conclude = async (
    outcome: Outcome,
    decision: Decision | undefined,
    extra: { serviceDeploymentArn?: string | undefined; error?: string | undefined; database?: DatabaseNote } = {},
  ): Promise<RollbackResult> => {
    const database =
      extra.database ??
      (decision?.subjectDeploymentArn || outcome === 'failed'
        ? await databaseNote(deps.snapshots, {
            stage: config.stage,
            prefix: config.snapshotPrefix,
            revisionArn: decision?.fromRevision,
          })
        : { note: 'not relevant to this decision' });
    const result: RollbackResult = {
      outcome,
      dryRun,
      decision: decision ? summary(decision) : undefined,
      serviceDeploymentArn: extra.serviceDeploymentArn,
      database,
      error: extra.error,
    };
    const line = {
      outcome,
      dryRun,
      code: decision?.code,
      action: decision?.action ?? 'none',
      reason: decision?.reason,
      fromRevision: decision?.fromRevision,
      toRevision: decision?.toRevision,
      fromTaskDefinition: decision?.fromTaskDefinition,
      taskDefinition: decision?.taskDefinition,
      incidentKey: decision?.incidentKey,
      serviceDeploymentArn: extra.serviceDeploymentArn,
      trigger:
        trigger.kind === 'alarm'
          ? { alarm: trigger.alarmName, state: trigger.newState, messageId: trigger.messageId }
          : { requestedBy: trigger.requestedBy, reason: trigger.reason },
      snapshotId: database.snapshotId,
      error: extra.error,
    };
    if (outcome === 'failed') log.error('rollback decision', line);
    else log.info('rollback decision', line);
    if (!dryRun) {
      await publishSafely(deps, {
        stage: config.stage,
        serviceArn: config.serviceArn,
        trigger,
        outcome,
        decision,
        serviceDeploymentArn: extra.serviceDeploymentArn,
        error: extra.error,
        database,
        runbookUrl: config.runbookUrl,
        dbInstanceId: config.dbInstanceId,
      });
    }
    return result;
  };

  // 1. Screening needs no AWS state: an OK notification or a foreign alarm costs no ECS call.
  const screened = screenTrigger(trigger, config);
  if (screened) return conclude('refused', screened);

  // 2. A dry run reads and decides, without lock, claim or change.
  if (dryRun) {
    const { decision } = await readAndDecide(trigger, deps);
    const kind = kindOf(decision.code);
    return conclude(kind === 'act' ? 'would-act' : kind, decision);
  }

  // 3. One decision at a time per service.
  if (!(await acquireLock(deps, owner))) {
    const reason = `another invocation has held the lock of ${config.serviceName} for ${config.lockWaitSeconds} s`;
    await conclude('retry-later', undefined, { error: reason });
    if (mode === 'async') throw new RetryLaterError(reason);
    return { outcome: 'retry-later', dryRun, error: reason };
  }
  try {
    const { decision, lastRollback, subjectArn } = await readAndDecide(trigger, deps);
    const kind = kindOf(decision.code);

    if (decision.code === 'EARLIER_ATTEMPT_LANDED' && lastRollback) {
      const now = deps.now();
      await deps.store.markIncidentDone(lastRollback.subjectDeploymentArn, now);
      await deps.store.putLastRollback({ ...lastRollback, state: 'done', updatedAt: now.toISOString() }, now);
    }
    if (kind === 'retry-later') {
      const result = await conclude('retry-later', decision);
      if (mode === 'async') throw new RetryLaterError(decision.reason);
      return result;
    }
    if (kind !== 'act' || decision.action === 'none' || !subjectArn)
      return conclude(kind === 'act' ? 'refused' : kind, decision);
    if (decision.action === 'update-service' && !decision.taskDefinition) {
      return conclude('refused', {
        ...decision,
        action: 'none',
        reason: `${decision.reason} (but no task definition to deploy)`,
      });
    }

    // 4. Claim the incident: exactly one attempt acts on it, even across containers and lock expiry.
    const now = deps.now();
    const claimed = await deps.store.claimIncident(subjectArn, {
      owner,
      action: decision.action,
      now,
      staleBefore: new Date(now.getTime() - config.actingGraceSeconds * 1000),
    });
    if (!claimed) {
      // Done: someone else acted. Still `acting`: an attempt died between its claim and its ECS call, or is
      // still running; either way not ours to touch until the grace period makes the claim stale.
      const holder = await deps.store.getIncident(subjectArn);
      if (holder?.state === 'done') {
        return conclude('satisfied', {
          ...decision,
          action: 'none',
          code: 'ALREADY_HANDLED',
          reason: `another attempt handled incident ${decision.incidentKey ?? subjectArn}; not acting twice`,
        });
      }
      const settling: Decision = {
        ...decision,
        action: 'none',
        code: 'EARLIER_ATTEMPT_SETTLING',
        reason: `another attempt claimed incident ${decision.incidentKey ?? subjectArn} at ${holder?.updatedAt ?? '?'} and has not finished; retry after ${config.actingGraceSeconds} s`,
      };
      const result = await conclude('retry-later', settling);
      if (mode === 'async') throw new RetryLaterError(settling.reason);
      return result;
    }
    const acting: LastRollbackRecord = {
      incidentKey: decision.incidentKey ?? incidentKeyOf(config.serviceArn, subjectArn),
      subjectDeploymentArn: subjectArn,
      action: decision.action,
      state: 'acting',
      startedAt: now.toISOString(),
      updatedAt: now.toISOString(),
      fromTaskDefinition: decision.fromTaskDefinition,
      toTaskDefinition: decision.taskDefinition,
    };
    await deps.store.putLastRollback(acting, now);

    // 5. The one ECS change.
    let changed: string | undefined;
    try {
      if (decision.action === 'stop-deployment') {
        changed = await deps.act.stopDeployment(subjectArn);
      } else {
        changed = (await deps.act.updateService(decision.taskDefinition ?? '')).createdDeploymentArn;
      }
    } catch (error) {
      return await handleCallFailure(error, {
        trigger,
        deps,
        mode,
        owner,
        decision,
        subjectArn,
        previous: lastRollback,
        conclude,
      });
    }

    // 6. Record, then report.
    const done = deps.now();
    await deps.store.completeIncident(
      subjectArn,
      owner,
      done,
      decision.action === 'update-service' ? changed : undefined,
    );
    await deps.store.putLastRollback(
      {
        ...acting,
        state: 'done',
        updatedAt: done.toISOString(),
        createdDeploymentArn: decision.action === 'update-service' ? changed : undefined,
      },
      done,
    );
    return conclude('acted', decision, { serviceDeploymentArn: changed });
  } finally {
    await deps.store
      .releaseLock(owner)
      .catch((error: unknown) =>
        log.warn('could not release the service lock; it expires on its own', { error: errorText(error) }),
      );
  }
}

async function readAndDecide(
  trigger: Trigger,
  deps: RollbackDeps,
): Promise<{ decision: Decision; lastRollback: LastRollbackRecord | undefined; subjectArn: string | undefined }> {
  const state = await gatherServiceState(deps.state, trigger, deps.now());
  const lastRollback = await deps.store.getLastRollback();
  const subject = subjectDeployment(state);
  const incident = subject ? await deps.store.getIncident(subject.arn) : undefined;
  const decision = decide({ trigger, config: deps.config, state, lastRollback, incident, now: deps.now() });
  return { decision, lastRollback, subjectArn: subject?.arn };
}

async function acquireLock(deps: RollbackDeps, owner: string): Promise<boolean> {
  const start = deps.now().getTime();
  const budget = Math.min(
    deps.config.lockWaitSeconds * 1000,
    Math.max(0, (deps.remainingMs?.() ?? Number.POSITIVE_INFINITY) - 15_000),
  );
  let delay = 250;
  for (;;) {
    if (await deps.store.acquireLock(owner, deps.now())) return true;
    if (deps.now().getTime() - start >= budget) return false;
    await deps.sleep(delay + Math.floor(Math.random() * 100));
    delay = Math.min(delay * 2, 2000);
  }
}

async function handleCallFailure(
  error: unknown,
  ctx: {
    trigger: Trigger;
    deps: RollbackDeps;
    mode: Mode;
    owner: string;
    decision: Decision;
    subjectArn: string;
    previous: LastRollbackRecord | undefined;
    conclude: (
      outcome: Outcome,
      decision: Decision | undefined,
      extra?: { serviceDeploymentArn?: string | undefined; error?: string | undefined },
    ) => Promise<RollbackResult>;
  },
): Promise<RollbackResult> {
  const { deps, decision, subjectArn, owner } = ctx;
  const failure = classifyCallFailure(error);

  if (failure === 'not-applied' && decision.action === 'stop-deployment') {
    // ECS refuses to stop a deployment it is already stopping or rolling back (its own alarms may have been
    // faster than ours): that is the outcome we wanted.
    const state = await gatherServiceState(deps.state, ctx.trigger, deps.now()).catch(() => undefined);
    const now = state?.deployments.find((d) => d.arn === subjectArn);
    if (now && !STOPPABLE_STATUSES.includes(now.status)) {
      const at = deps.now();
      await deps.store.completeIncident(subjectArn, owner, at);
      await deps.store.putLastRollback(
        {
          incidentKey: decision.incidentKey ?? incidentKeyOf(deps.config.serviceArn, subjectArn),
          subjectDeploymentArn: subjectArn,
          action: 'stop-deployment',
          state: 'done',
          startedAt: at.toISOString(),
          updatedAt: at.toISOString(),
          fromTaskDefinition: decision.fromTaskDefinition,
          toTaskDefinition: decision.taskDefinition,
        },
        at,
      );
      const already = ECS_ROLLING_BACK_STATUSES.includes(now.status) || now.status.startsWith('ROLLBACK_');
      return ctx.conclude('satisfied', {
        ...decision,
        action: 'none',
        code: already ? 'ECS_ALREADY_ROLLING_BACK' : 'ALREADY_HANDLED',
        reason: `StopServiceDeployment was refused (${errorText(error)}); deployment ${subjectArn.split('/').pop()} is already ${now.status}`,
      });
    }
  }

  let message: string;
  if (failure === 'not-applied') {
    // ECS refused: undo our claim and restore the previous last-rollback record, so a retry starts clean.
    await deps.store.abandonIncident(subjectArn, owner);
    if (ctx.previous) await deps.store.putLastRollback(ctx.previous, deps.now());
    else await deps.store.deleteLastRollback();
    message = `ECS refused ${decision.action}: ${errorText(error)}; nothing changed`;
  } else {
    message = `${decision.action} ended without an answer (${errorText(error)}); it may have taken effect. The next attempt checks ECS before acting again.`;
  }
  const result = await ctx.conclude('failed', decision, { error: message });
  if (ctx.mode === 'async') throw new RollbackFailedError(message, { cause: error });
  return result;
}

async function publishSafely(deps: RollbackDeps, input: ReportInput): Promise<void> {
  try {
    await deps.publish(renderReport(input));
  } catch (error) {
    // The decision is already made and logged; a lost notification must not undo or repeat it.
    deps.log.error('could not publish the rollback report', { error: errorText(error) });
  }
}

/** Malformed input: log it, report it, return. Never thrown (no retry storm). */
export async function reportInvalid(
  problem: string,
  source: string,
  deps: Pick<RollbackDeps, 'config' | 'log' | 'publish'>,
): Promise<RollbackResult> {
  deps.log.warn('rollback input rejected', { problem, source });
  try {
    await deps.publish(
      renderReport({
        stage: deps.config.stage,
        serviceArn: deps.config.serviceArn,
        trigger: { kind: 'invalid', source },
        outcome: 'invalid',
        error: problem,
        database: { note: 'not relevant to this decision' },
        runbookUrl: deps.config.runbookUrl,
        dbInstanceId: deps.config.dbInstanceId,
      }),
    );
  } catch (error) {
    deps.log.error('could not publish the rollback report', { error: errorText(error) });
  }
  return { outcome: 'invalid', dryRun: false, error: problem };
}
