/**
 * PRE_SCALE_UP lifecycle hook: a manual RDS snapshot before ECS starts the new revision.
 *
 * First call: CreateDBSnapshot (tagged with the deployment) → IN_PROGRESS with the snapshot id in hookDetails.
 * Later calls (ECS re-invokes after callBackDelay with those hookDetails): DescribeDBSnapshots →
 * creating: IN_PROGRESS; available: prune our old snapshots, SUCCEEDED; failed: FAILED with the reason.
 * At-least-once: a re-invocation without our hookDetails finds the snapshot already made for this execution by
 * its tag and reuses it. Pruning keeps the newest N of OUR snapshots (prefix + tags) and never touches others.
 *
 * The database is never restored automatically; `newestPredeploySnapshot` lets the rollback function name the
 * snapshot a person would restore.
 */
import { isRollback, type LifecycleHookEvent, type LifecycleHookResponse } from '../shared/lifecycle-hook';
import type { StructuredLog } from '../shared/log';
import { isRevert } from '../shared/revert';
import {
  DEPLOYMENT_TAG,
  EXECUTION_TAG,
  isOurSnapshot,
  newestFirst,
  PREDEPLOY_TAG,
  REVISION_TAG,
  type SnapshotInfo,
  type SnapshotPort,
  STAGE_TAG,
} from '../shared/snapshots';
import { isTransient } from '../shared/transient';

export interface SnapshotHookConfig {
  readonly stage: string;
  readonly dbInstanceId: string;
  readonly prefix: string;
  /** Keep this many of our snapshots (the new one included). */
  readonly retain: number;
  readonly callbackDelaySeconds: number;
  /** Give up (FAILED) when the snapshot is not available this long after it was requested. */
  readonly maxWaitMinutes: number;
  /** Retries of a CreateDBSnapshot refused for a transient reason (instance busy, throttled). */
  readonly maxCreateAttempts: number;
}

/**
 * What a service deployment changes, read from ECS (DescribeServiceDeployments: sourceServiceRevisions,
 * targetServiceRevision; DescribeServiceRevisions: taskDefinition;
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html).
 */
export interface DeploymentPort {
  /** Task definitions of the deployment's target and source revisions; undefined when ECS cannot say. */
  taskDefinitions(
    serviceDeploymentArn: string,
  ): Promise<{ readonly target?: string | undefined; readonly sources: readonly string[] } | undefined>;
}

// isRevert (our own rollback's shape) and isTransient live in lambda/shared/, read by the release command hook too.
export { isRevert } from '../shared/revert';
export { isTransient } from '../shared/transient';

/** The functions' one logger port (lambda/shared/log.ts); the hook logs no errors of its own (ECS reports them). */
export type HookLog = Pick<StructuredLog, 'info' | 'warn'>;

// -------------------------------------------------------------------------------------------- pure helpers

/** `sf-prod-predeploy-<12 chars of the execution>-<UTC yyyymmddhhmmss>`; always a valid RDS identifier. */
export function snapshotIdFor(prefix: string, executionId: string, now: Date): string {
  const short =
    executionId
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(-12) || 'deployment';
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${prefix}-${short}-${stamp}`;
}

/** RDS DBSnapshotIdentifier rules: 1–255 letters, digits, hyphens; starts with a letter; no `--`; no trailing `-`. */
export function isValidSnapshotId(id: string): boolean {
  return id.length <= 255 && /^[A-Za-z](?:[A-Za-z0-9]|-(?!-))*$/.test(id) && !id.endsWith('-');
}

/** Our snapshots beyond the newest `retain` available ones. Snapshots still being created are never selected. */
export function selectForPruning(
  snapshots: readonly SnapshotInfo[],
  scope: { readonly stage: string; readonly prefix: string; readonly retain: number },
  protect: readonly string[] = [],
): SnapshotInfo[] {
  const ours = newestFirst(snapshots.filter((s) => isOurSnapshot(s, scope) && s.status === 'available'));
  return ours.slice(Math.max(0, scope.retain)).filter((s) => !protect.includes(s.id));
}

const IN_PROGRESS_STATUSES = ['creating', 'pending', 'copying', 'backing-up'];
const FAILED_STATUSES = ['failed', 'error', 'deleting', 'deleted', 'incompatible-restore', 'incompatible-parameters'];

type Progress = { kind: 'available' } | { kind: 'waiting' } | { kind: 'failed'; reason: string };

export function snapshotProgress(s: SnapshotInfo): Progress {
  if (s.status === 'available') return { kind: 'available' };
  if (IN_PROGRESS_STATUSES.includes(s.status)) return { kind: 'waiting' };
  if (FAILED_STATUSES.includes(s.status)) return { kind: 'failed', reason: `snapshot ${s.id} is ${s.status}` };
  // An unfamiliar status: keep waiting; the max wait turns a stuck snapshot into FAILED.
  return { kind: 'waiting' };
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'Error';
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

// -------------------------------------------------------------------------------------------- the hook

interface OurDetails {
  snapshotId?: string;
  snapshotRequestedAt?: string;
  createAttempts?: number;
}

function readDetails(details: Record<string, unknown> | null | undefined): OurDetails {
  const d = details ?? {};
  return {
    snapshotId: typeof d['snapshotId'] === 'string' ? d['snapshotId'] : undefined,
    snapshotRequestedAt: typeof d['snapshotRequestedAt'] === 'string' ? d['snapshotRequestedAt'] : undefined,
    createAttempts: typeof d['createAttempts'] === 'number' ? d['createAttempts'] : undefined,
  };
}

export async function handleSnapshotHook(
  event: LifecycleHookEvent,
  config: SnapshotHookConfig,
  port: SnapshotPort,
  now: Date,
  log: HookLog,
  deployments?: DeploymentPort,
): Promise<LifecycleHookResponse> {
  const incoming = event.hookDetails ?? {};
  const ours = readDetails(incoming);
  const answer = (
    hookStatus: LifecycleHookResponse['hookStatus'],
    details: OurDetails & { reason?: string },
  ): LifecycleHookResponse => ({
    hookStatus,
    ...(hookStatus === 'IN_PROGRESS' ? { callBackDelay: config.callbackDelaySeconds } : {}),
    hookDetails: { ...incoming, ...details },
  });
  const context = {
    executionId: event.executionId,
    stage: event.lifecycleStage,
    revision: event.executionDetails.targetServiceRevisionArn,
  };

  if (event.lifecycleStage !== 'PRE_SCALE_UP') {
    // Mis-wired hook: a snapshot belongs before scale-up only. Never block a deployment over wiring.
    log.warn('snapshot hook invoked outside PRE_SCALE_UP; nothing to do', context);
    return { hookStatus: 'SUCCEEDED' };
  }
  if (isRollback(event)) {
    // ECS documents hooks during rollback only for the traffic-shift stages; answer at once if it ever happens.
    log.info('rollback in progress; not taking a snapshot', context);
    return { hookStatus: 'SUCCEEDED' };
  }

  // Our own rollback (and any revert to an older revision) skips the snapshot wait. Only on the first call (no
  // snapshot requested yet); if ECS cannot tell us, the snapshot is taken as usual (the safe side).
  const deploymentArn =
    event.resourceArn && /:service-deployment\//.test(event.resourceArn) ? event.resourceArn : undefined;
  if (deployments && deploymentArn && !ours.snapshotId && !ours.createAttempts) {
    try {
      const change = await deployments.taskDefinitions(deploymentArn);
      if (change && isRevert(change.target, change.sources)) {
        const reason = `revert to ${change.target} from ${change.sources.join(', ')}: no new pre-deploy snapshot (the reverted release's own pre-deploy snapshot holds the data from before it)`;
        log.info('revert deployment; not taking a snapshot', { ...context, reason });
        return { hookStatus: 'SUCCEEDED', hookDetails: { ...incoming, skipped: reason } };
      }
    } catch (error) {
      log.warn('could not tell whether this deployment is a revert; taking the snapshot', {
        ...context,
        error: errorText(error),
      });
    }
  }

  let snapshot: SnapshotInfo | undefined;
  let requestedAt = ours.snapshotRequestedAt ?? now.toISOString();
  if (ours.snapshotId) {
    try {
      snapshot = await port.describe(ours.snapshotId);
    } catch (error) {
      if (isTransient(error)) {
        log.warn('could not read snapshot status; will ask again', {
          ...context,
          snapshotId: ours.snapshotId,
          error: errorText(error),
        });
        return answer('IN_PROGRESS', ours);
      }
      return fail(`cannot read snapshot ${ours.snapshotId}: ${errorText(error)}`);
    }
    if (!snapshot) return fail(`snapshot ${ours.snapshotId} no longer exists`);
  } else {
    // At-least-once delivery: a snapshot may already exist for this execution (first answer lost).
    let existing: SnapshotInfo | undefined;
    try {
      existing = (await port.listManual()).find(
        (s) =>
          s.tags[EXECUTION_TAG] === event.executionId &&
          isOurSnapshot(s, { stage: config.stage, prefix: config.prefix }),
      );
    } catch (error) {
      // Only an optimisation: without the list we create a new snapshot, which is safe.
      log.warn('could not look for an earlier snapshot of this execution', { ...context, error: errorText(error) });
    }
    if (existing) {
      log.info('reusing the snapshot already taken for this execution', { ...context, snapshotId: existing.id });
      snapshot = existing;
      requestedAt = existing.createdAt?.toISOString() ?? requestedAt;
    } else {
      const created = await create();
      if ('response' in created) return created.response;
      snapshot = created.snapshot;
    }
  }

  const progress = snapshotProgress(snapshot);
  const details: OurDetails = { snapshotId: snapshot.id, snapshotRequestedAt: requestedAt };
  if (progress.kind === 'failed') return fail(progress.reason, details);
  if (progress.kind === 'waiting') {
    const waited = (now.getTime() - Date.parse(requestedAt)) / 60_000;
    if (waited > config.maxWaitMinutes) {
      return fail(
        `snapshot ${snapshot.id} is still ${snapshot.status} after ${Math.round(waited)} min (limit ${config.maxWaitMinutes})`,
        details,
      );
    }
    log.info('snapshot not available yet', {
      ...context,
      snapshotId: snapshot.id,
      status: snapshot.status,
      percent: snapshot.percentProgress,
    });
    return answer('IN_PROGRESS', details);
  }

  await prune(snapshot.id);
  log.info('pre-deploy snapshot available', { ...context, snapshotId: snapshot.id });
  return answer('SUCCEEDED', details);

  function fail(reason: string, details: OurDetails = ours): LifecycleHookResponse {
    log.warn('pre-deploy snapshot failed; the deployment will roll back', { ...context, reason });
    return answer('FAILED', { ...details, reason });
  }

  async function create(): Promise<{ snapshot: SnapshotInfo } | { response: LifecycleHookResponse }> {
    const id = snapshotIdFor(config.prefix, event.executionId, now);
    const deployment =
      event.resourceArn && /:service-deployment\//.test(event.resourceArn) ? event.resourceArn : event.executionId;
    const tags = {
      [PREDEPLOY_TAG]: 'true',
      [STAGE_TAG]: config.stage,
      [DEPLOYMENT_TAG]: deployment,
      [REVISION_TAG]: event.executionDetails.targetServiceRevisionArn,
      [EXECUTION_TAG]: event.executionId,
    };
    const attempts = (ours.createAttempts ?? 0) + 1;
    try {
      const snap = await port.create(id, tags);
      log.info('pre-deploy snapshot requested', { ...context, snapshotId: id, dbInstanceId: config.dbInstanceId });
      return { snapshot: snap };
    } catch (error) {
      const name = errorName(error);
      if (name === 'DBSnapshotAlreadyExistsFault') {
        const again = await port.describe(id);
        if (again) return { snapshot: again };
      }
      const busy = name === 'InvalidDBInstanceStateFault' || isTransient(error);
      if (busy && attempts < config.maxCreateAttempts) {
        log.warn('RDS refused the snapshot for now; will retry', {
          ...context,
          attempt: attempts,
          error: errorText(error),
        });
        return { response: answer('IN_PROGRESS', { createAttempts: attempts }) };
      }
      const why =
        name === 'SnapshotQuotaExceededFault'
          ? 'the account reached its manual snapshot quota; delete old manual snapshots or raise the quota'
          : errorText(error);
      return {
        response: fail(`CreateDBSnapshot for ${config.dbInstanceId} failed after ${attempts} attempt(s): ${why}`, {
          createAttempts: attempts,
        }),
      };
    }
  }

  async function prune(keep: string): Promise<void> {
    try {
      const victims = selectForPruning(
        await port.listManual(),
        { stage: config.stage, prefix: config.prefix, retain: config.retain },
        [keep],
      );
      for (const victim of victims) {
        try {
          await port.delete(victim.id);
          log.info('pruned old pre-deploy snapshot', { snapshotId: victim.id });
        } catch (error) {
          log.warn('could not prune snapshot; leaving it', { snapshotId: victim.id, error: errorText(error) });
        }
      }
    } catch (error) {
      // Pruning is housekeeping: a failure must not fail the deployment.
      log.warn('could not list snapshots for pruning', { error: errorText(error) });
    }
  }
}
