/**
 * PRE_SCALE_UP lifecycle hook: the release command (e.g. `flask db upgrade`) as one Fargate task of the TARGET
 * revision's task definition, before ECS starts any new task of that revision.
 *
 * ECS runs every hook registered at a stage and moves on when all of them have finished ("Both hooks must complete
 * before the deployment proceeds", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle-hooks.html);
 * it documents no order among them. So this hook does not assume the pre-deploy snapshot hook ran first: it waits
 * (IN_PROGRESS) until the snapshot tagged with this service deployment is `available`, and only then starts the task.
 *
 * The contract (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html): SUCCEEDED
 * continues, FAILED rolls back, IN_PROGRESS is invoked again after `callBackDelay` seconds with the `hookDetails` we
 * returned. Delivery is at least once and an answer can be lost, so the task is found again by its `startedBy`
 * (derived from the service deployment ARN) before another is started: one task per deployment.
 *
 * SUCCEEDED only when the essential container stopped with exit code 0. A non-zero exit, a task stopped without an
 * exit code (it never started, was stopped, ran out of memory) or the time limit answers FAILED with the task's last
 * log lines in a notification. Our own rollback (a revert to an older revision of the family) and ECS's rollbacks
 * never run the command: the schema the old revision needs is already there (expand/contract, README).
 */

import { isRollback, type LifecycleHookEvent, type LifecycleHookResponse } from '../shared/lifecycle-hook';
import type { StructuredLog } from '../shared/log';
import { isRevert } from '../shared/revert';
import { DEPLOYMENT_TAG, isOurSnapshot, type SnapshotInfo } from '../shared/snapshots';
import { isTransient } from '../shared/transient';

export interface ReleaseCommandConfig {
  readonly stage: string;
  /** The command run in place of the container's command (the entry point that assembles DATABASE_URL stays). */
  readonly command: readonly string[];
  /** The essential container whose exit code decides. */
  readonly containerName: string;
  /** Where the container's awslogs stream lives: `<prefix>/<container>/<task id>`. */
  readonly logGroupName: string;
  readonly logStreamPrefix: string;
  /** Used when the target revision does not carry its own network configuration. */
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
  /** Identifier prefix of the pre-deploy snapshots (with the stage tag, what marks them ours). */
  readonly snapshotPrefix: string;
  readonly callbackDelaySeconds: number;
  /** FAILED when this deployment's pre-deploy snapshot is not available this long after the first invocation. */
  readonly snapshotWaitMinutes: number;
  /** FAILED (and the task stopped) when the command runs longer than this. */
  readonly commandTimeoutMinutes: number;
  /** How many of the task's last log lines the notification carries. */
  readonly logLines: number;
  /** RunTask calls refused for a transient reason (capacity, throttling) before FAILED. */
  readonly maxStartAttempts: number;
}

export interface NetworkConfig {
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
  readonly assignPublicIp: boolean;
}

/** What the hook needs of the deployment, from DescribeServiceDeployments + DescribeServiceRevisions. */
export interface DeploymentChange {
  readonly target?: string | undefined;
  readonly sources: readonly string[];
  /** The target revision's awsvpc configuration (ServiceRevision.networkConfiguration). */
  readonly network?: NetworkConfig | undefined;
}

/** A task as DescribeTasks documents it, narrowed to what decides (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html). */
export interface TaskInfo {
  readonly arn: string;
  /** PROVISIONING, PENDING, ACTIVATING, RUNNING, DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED, DELETED. */
  readonly lastStatus: string;
  readonly startedBy?: string | undefined;
  readonly createdAt?: Date | undefined;
  readonly stopCode?: string | undefined;
  readonly stoppedReason?: string | undefined;
  /** The decisive container: its exit code (absent until it exited, and when it never ran) and reason. */
  readonly exitCode?: number | undefined;
  readonly containerReason?: string | undefined;
}

export interface RunRequest {
  readonly taskDefinition: string;
  readonly startedBy: string;
  readonly command: readonly string[];
  readonly containerName: string;
  readonly network: NetworkConfig;
}

export type RunResult = { readonly task: TaskInfo } | { readonly failure: string; readonly transient: boolean };

export interface ReleasePorts {
  change(serviceDeploymentArn: string): Promise<DeploymentChange | undefined>;
  /** Manual snapshots of the instance, with their tags. */
  snapshots(): Promise<SnapshotInfo[]>;
  /** A task this deployment started earlier (running or recently stopped), found by its startedBy. */
  findTask(startedBy: string, taskDefinition: string): Promise<TaskInfo | undefined>;
  runTask(request: RunRequest): Promise<RunResult>;
  /** undefined when ECS no longer knows the task. */
  describeTask(taskArn: string): Promise<TaskInfo | undefined>;
  stopTask(taskArn: string, reason: string): Promise<void>;
  /** The last `limit` lines of the task's log stream, oldest first; [] when there are none. */
  lastLogLines(logStreamName: string, limit: number): Promise<string[]>;
  notify(subject: string, message: string): Promise<void>;
}

export type ReleaseLog = Pick<StructuredLog, 'info' | 'warn'>;

// ------------------------------------------------------------------------------------------------ pure helpers

/**
 * RunTask's `startedBy`: "up to 128 letters (uppercase and lowercase), numbers, hyphens (-), forward slash (/), and
 * underscores (_)" (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html). The service
 * deployment id (the ARN's last segment) is unique per deployment; anything outside the alphabet is dropped.
 */
export function startedByFor(deployment: string): string {
  const id = (deployment.split('/').pop() ?? deployment).replace(/[^A-Za-z0-9_-]/g, '').slice(-100);
  return `sf-release-${id || 'deployment'}`;
}

/** The awslogs stream of a task's container: `<prefix>/<container name>/<task id>` (awslogs-stream-prefix). */
export function logStreamOf(taskArn: string, prefix: string, containerName: string): string {
  return `${prefix}/${containerName}/${taskArn.split('/').pop() ?? taskArn}`;
}

export type TaskVerdict =
  | { readonly kind: 'running' }
  | { readonly kind: 'succeeded' }
  | { readonly kind: 'failed'; readonly reason: string };

/** The verdict on a task: only a STOPPED task with exit code 0 of the essential container succeeded. */
export function taskVerdict(task: TaskInfo): TaskVerdict {
  if (task.lastStatus !== 'STOPPED' && task.lastStatus !== 'DELETED') return { kind: 'running' };
  if (task.exitCode === 0) return { kind: 'succeeded' };
  const why = [task.stopCode, task.stoppedReason, task.containerReason].filter(Boolean).join(': ');
  if (task.exitCode === undefined) {
    return { kind: 'failed', reason: `the task stopped without an exit code${why ? ` (${why})` : ''}` };
  }
  return { kind: 'failed', reason: `the release command exited with code ${task.exitCode}${why ? ` (${why})` : ''}` };
}

type SnapshotState = { kind: 'available'; id: string } | { kind: 'waiting'; why: string };

/** This deployment's pre-deploy snapshot, as the release command needs it: available, or not yet. */
export function snapshotState(
  snapshots: readonly SnapshotInfo[],
  scope: { readonly stage: string; readonly prefix: string; readonly deployment: string },
): SnapshotState {
  const ours = snapshots.filter((s) => isOurSnapshot(s, scope) && s.tags[DEPLOYMENT_TAG] === scope.deployment);
  const available = ours.find((s) => s.status === 'available');
  if (available) return { kind: 'available', id: available.id };
  if (ours.length === 0) return { kind: 'waiting', why: 'no pre-deploy snapshot of this deployment yet' };
  return { kind: 'waiting', why: `pre-deploy snapshot ${ours[0]?.id} is ${ours[0]?.status}` };
}

function text(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

interface Details {
  readonly firstSeenAt?: string;
  readonly snapshotId?: string;
  readonly taskArn?: string;
  readonly taskStartedAt?: string;
  readonly startAttempts?: number;
}

function readDetails(d: Record<string, unknown> | null | undefined): Details {
  const v = d ?? {};
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  return {
    ...(str('firstSeenAt') ? { firstSeenAt: str('firstSeenAt') } : {}),
    ...(str('snapshotId') ? { snapshotId: str('snapshotId') } : {}),
    ...(str('taskArn') ? { taskArn: str('taskArn') } : {}),
    ...(str('taskStartedAt') ? { taskStartedAt: str('taskStartedAt') } : {}),
    ...(typeof v['startAttempts'] === 'number' ? { startAttempts: v['startAttempts'] as number } : {}),
  };
}

// ------------------------------------------------------------------------------------------------ the hook

export async function handleReleaseCommand(
  event: LifecycleHookEvent,
  config: ReleaseCommandConfig,
  ports: ReleasePorts,
  now: Date,
  log: ReleaseLog,
): Promise<LifecycleHookResponse> {
  const incoming = event.hookDetails ?? {};
  const ours = readDetails(incoming);
  const context = { executionId: event.executionId, stage: event.lifecycleStage };
  const answer = (status: LifecycleHookResponse['hookStatus'], details: Details & { reason?: string }) => ({
    hookStatus: status,
    ...(status === 'IN_PROGRESS' ? { callBackDelay: config.callbackDelaySeconds } : {}),
    hookDetails: { ...incoming, ...details },
  });

  if (event.lifecycleStage !== 'PRE_SCALE_UP') {
    // The command belongs before scale-up only; a mis-wired hook must not block a deployment.
    log.warn('release command hook invoked outside PRE_SCALE_UP; nothing to do', context);
    return { hookStatus: 'SUCCEEDED' };
  }
  if (isRollback(event)) {
    log.info('rollback in progress; not running the release command', context);
    return { hookStatus: 'SUCCEEDED' };
  }
  const deployment =
    event.resourceArn && /:service-deployment\//.test(event.resourceArn) ? event.resourceArn : event.executionId;
  const startedBy = startedByFor(deployment);
  const firstSeenAt = ours.firstSeenAt ?? now.toISOString();
  const minutesSince = (iso: string) => (now.getTime() - Date.parse(iso)) / 60_000;

  if (ours.taskArn) return watch(ours.taskArn, ours.taskStartedAt ?? firstSeenAt, { ...ours, firstSeenAt });

  // Before the task: what the deployment changes (and whether it is a revert), then the snapshot.
  let change: DeploymentChange | undefined;
  try {
    change = await ports.change(deployment);
  } catch (error) {
    if (minutesSince(firstSeenAt) > config.snapshotWaitMinutes) {
      return fail(`cannot read service deployment ${deployment}: ${text(error)}`, { firstSeenAt });
    }
    log.warn('could not read the service deployment; will ask again', { ...context, error: text(error) });
    return answer('IN_PROGRESS', { ...ours, firstSeenAt });
  }
  if (!change?.target) {
    return fail(`ECS does not say which task definition service deployment ${deployment} targets`, { firstSeenAt });
  }
  if (isRevert(change.target, change.sources)) {
    const reason = `revert to ${change.target}: the release command is not run for a rollback`;
    log.info('revert deployment; not running the release command', { ...context, reason });
    return { hookStatus: 'SUCCEEDED', hookDetails: { ...incoming, skipped: reason } };
  }
  const target = change.target;

  // At-least-once: the task may already exist (an earlier answer was lost).
  let existing: TaskInfo | undefined;
  try {
    existing = await ports.findTask(startedBy, target);
  } catch (error) {
    // Starting a second task is not safe (two migrations at once): ask again rather than guess.
    log.warn('could not look for an earlier release task; will ask again', { ...context, error: text(error) });
    return answer('IN_PROGRESS', { ...ours, firstSeenAt });
  }
  if (existing) {
    log.info('found the release task this deployment already started', { ...context, taskArn: existing.arn });
    const startedAt = existing.createdAt?.toISOString() ?? firstSeenAt;
    return judge(existing, startedAt, { ...ours, firstSeenAt, taskArn: existing.arn, taskStartedAt: startedAt });
  }

  let snapshotId = ours.snapshotId;
  if (!snapshotId) {
    let state: SnapshotState;
    try {
      state = snapshotState(await ports.snapshots(), {
        stage: config.stage,
        prefix: config.snapshotPrefix,
        deployment,
      });
    } catch (error) {
      state = { kind: 'waiting', why: `cannot list snapshots (${text(error)})` };
    }
    if (state.kind === 'waiting') {
      const waited = minutesSince(firstSeenAt);
      if (waited > config.snapshotWaitMinutes) {
        return fail(
          `not starting the release command without a pre-deploy snapshot: ${state.why} after ${Math.round(waited)} min (limit ${config.snapshotWaitMinutes})`,
          { firstSeenAt },
        );
      }
      log.info('waiting for the pre-deploy snapshot before the release command', { ...context, why: state.why });
      return answer('IN_PROGRESS', { ...ours, firstSeenAt });
    }
    snapshotId = state.id;
  }

  const attempts = (ours.startAttempts ?? 0) + 1;
  let run: RunResult;
  try {
    run = await ports.runTask({
      taskDefinition: target,
      startedBy,
      command: config.command,
      containerName: config.containerName,
      network: change.network ?? {
        subnets: config.subnets,
        securityGroups: config.securityGroups,
        assignPublicIp: false,
      },
    });
  } catch (error) {
    run = { failure: text(error), transient: isTransient(error) };
  }
  if ('failure' in run) {
    if (run.transient && attempts < config.maxStartAttempts) {
      log.warn('RunTask refused the release task for now; will retry', {
        ...context,
        attempt: attempts,
        why: run.failure,
      });
      return answer('IN_PROGRESS', { ...ours, firstSeenAt, snapshotId, startAttempts: attempts });
    }
    return fail(`could not start the release task after ${attempts} attempt(s): ${run.failure}`, {
      firstSeenAt,
      snapshotId,
      startAttempts: attempts,
    });
  }
  const startedAt = now.toISOString();
  log.info('release command started', { ...context, taskArn: run.task.arn, command: config.command, snapshotId });
  return answer('IN_PROGRESS', { firstSeenAt, snapshotId, taskArn: run.task.arn, taskStartedAt: startedAt });

  async function watch(taskArn: string, startedAt: string, details: Details): Promise<LifecycleHookResponse> {
    let task: TaskInfo | undefined;
    try {
      task = await ports.describeTask(taskArn);
    } catch (error) {
      if (minutesSince(startedAt) > config.commandTimeoutMinutes) return timeout(taskArn, details);
      log.warn('could not read the release task; will ask again', { ...context, taskArn, error: text(error) });
      return answer('IN_PROGRESS', details);
    }
    if (!task) return fail(`ECS no longer knows release task ${taskArn}`, details, taskArn);
    return judge(task, startedAt, details);
  }

  async function judge(task: TaskInfo, startedAt: string, details: Details): Promise<LifecycleHookResponse> {
    const verdict = taskVerdict(task);
    if (verdict.kind === 'succeeded') {
      log.info('release command exited 0', { ...context, taskArn: task.arn });
      return answer('SUCCEEDED', details);
    }
    if (verdict.kind === 'failed') return fail(verdict.reason, details, task.arn);
    if (minutesSince(startedAt) > config.commandTimeoutMinutes) return timeout(task.arn, details);
    return answer('IN_PROGRESS', details);
  }

  async function timeout(taskArn: string, details: Details): Promise<LifecycleHookResponse> {
    const reason = `the release command ran longer than ${config.commandTimeoutMinutes} min`;
    try {
      await ports.stopTask(taskArn, `softfactory: ${reason}`);
    } catch (error) {
      log.warn('could not stop the release task', { ...context, taskArn, error: text(error) });
    }
    return fail(`${reason}; the task was stopped`, details, taskArn);
  }

  async function fail(reason: string, details: Details, taskArn?: string): Promise<LifecycleHookResponse> {
    log.warn('release command failed; the deployment will roll back', { ...context, reason, taskArn });
    let lines: string[] = [];
    if (taskArn) {
      try {
        lines = await ports.lastLogLines(
          logStreamOf(taskArn, config.logStreamPrefix, config.containerName),
          config.logLines,
        );
      } catch (error) {
        lines = [`(could not read the task's log: ${text(error)})`];
      }
    }
    const message = [
      `The release command of SoftFactory ${config.stage} failed; ECS rolls the deployment back before any task of the new revision starts.`,
      '',
      `Reason: ${reason}`,
      `Command: ${JSON.stringify(config.command)}`,
      `Service deployment: ${deployment}`,
      `Target revision: ${event.executionDetails.targetServiceRevisionArn}`,
      ...(taskArn
        ? [
            `Task: ${taskArn}`,
            `Log: ${config.logGroupName} / ${logStreamOf(taskArn, config.logStreamPrefix, config.containerName)}`,
          ]
        : []),
      ...(details.snapshotId
        ? [`Pre-deploy snapshot: ${details.snapshotId} (README: Release command, restoring)`]
        : []),
      '',
      lines.length ? `Last ${lines.length} log line(s):` : 'No log lines.',
      ...lines.map((l) => `  ${l}`),
    ].join('\n');
    try {
      await ports.notify(`SoftFactory ${config.stage}: release command failed, rolling back`.slice(0, 99), message);
    } catch (error) {
      // The verdict stands whether or not anyone hears about it.
      log.warn('could not publish the failure notification', { ...context, error: text(error) });
    }
    return answer('FAILED', { ...details, ...(taskArn ? { taskArn } : {}), reason });
  }
}
