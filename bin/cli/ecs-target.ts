/**
 * Which ECS service a stage's operator command talks to, and which of its running tasks a session opens on
 * (`sfdeploy exec`, `sfdeploy db-tunnel`). Loads no SDK code at import time: the ECS client is passed in, and command
 * classes come from `await import()`.
 */
import type { DescribeTasksCommandOutput, ECSClient } from '@aws-sdk/client-ecs';
import { CONTAINER_NAME } from '../../lib/constructs/web-container';
import { clusterName, resourcePrefix, webServiceName } from '../../shared/names';
import { STAGES, type Stage } from '../../shared/stages';
import { UsageError } from './support';

type Task = NonNullable<DescribeTasksCommandOutput['tasks']>[number];

/** The stage, checked: one line and exit 2 for anything else. */
export function parseStage(value: string | undefined): Stage {
  if (!(STAGES as readonly string[]).includes(value ?? '')) {
    throw new UsageError(`--stage must be one of ${STAGES.join(', ')}, got "${value}"`);
  }
  return value as Stage;
}

/** The names the service stack gives a stage's resources (lib/stacks/service-stack.ts: `softfactory-<stage>`). */
export function stageNames(stage: Stage): { namePrefix: string; cluster: string; service: string } {
  return { namePrefix: resourcePrefix(stage), cluster: clusterName(stage), service: webServiceName(stage) };
}

/** One container of one running task that ECS Exec / Session Manager can open a session on. */
export interface ExecTarget {
  readonly clusterName: string;
  readonly taskArn: string;
  readonly taskId: string;
  readonly containerName: string;
  readonly runtimeId: string;
  readonly startedAt?: Date | undefined;
  readonly taskDefinitionArn?: string | undefined;
}

/**
 * The Session Manager target of a container in an ECS task, `ecs:<cluster name>_<task id>_<container runtime id>`, as
 * the AWS CLI builds it for `aws ecs execute-command` (aws/aws-cli, awscli/customizations/ecs/executecommand.py,
 * build_ssm_request_paramaters); `aws ssm start-session --target` takes the same string for port forwarding.
 */
export function ssmTarget(target: ExecTarget): string {
  return `ecs:${target.clusterName}_${target.taskId}_${target.runtimeId}`;
}

export interface FindTargetOptions {
  readonly cluster: string;
  readonly service: string;
  /** A task id or ARN; without it, the newest running task of the service that is ready for ECS Exec. */
  readonly task?: string | undefined;
  /** @default 'web' */
  readonly container?: string | undefined;
}

const lastPart = (arn: string) => arn.split('/').pop() ?? arn;

/**
 * Finds a running task whose container can take an ECS Exec session. ListTasks pages (nextToken) and DescribeTasks
 * takes at most 100 tasks per call (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html); neither promises an order, so the
 * choice is made here: healthy before not, then the most recently started, then by ARN. Ready means the task runs
 * with enableExecuteCommand and its container's `ExecuteCommandAgent` managed agent is RUNNING
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ManagedAgent.html).
 */
export async function findExecTarget(ecs: ECSClient, options: FindTargetOptions): Promise<ExecTarget> {
  const { DescribeTasksCommand, ListTasksCommand } = await import('@aws-sdk/client-ecs');
  const container = options.container ?? CONTAINER_NAME;
  let arns: string[] = [];
  if (options.task) {
    arns = [options.task];
  } else {
    let nextToken: string | undefined;
    do {
      const page = await ecs.send(
        new ListTasksCommand({
          cluster: options.cluster,
          serviceName: options.service,
          desiredStatus: 'RUNNING',
          maxResults: 100,
          ...(nextToken ? { nextToken } : {}),
        }),
      );
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    if (arns.length === 0) {
      throw new UsageError(
        `service ${options.cluster}/${options.service} has no running task: is the stage deployed and scaled above 0?`,
      );
    }
  }
  const tasks: Task[] = [];
  for (let i = 0; i < arns.length; i += 100) {
    const out = await ecs.send(new DescribeTasksCommand({ cluster: options.cluster, tasks: arns.slice(i, i + 100) }));
    tasks.push(...(out.tasks ?? []));
  }
  if (options.task && tasks.length === 0) {
    throw new UsageError(
      `task ${options.task} is not in cluster ${options.cluster}: list the running ones with \`aws ecs list-tasks --cluster ${options.cluster} --service-name ${options.service}\``,
    );
  }
  const candidates = tasks.map((task) => ({ task, reason: unready(task, container) }));
  const ready = candidates.filter((c) => c.reason === undefined).map((c) => c.task);
  if (ready.length === 0) {
    const reasons = [...new Set(candidates.map((c) => c.reason))].join('; ');
    throw new UsageError(`no task of ${options.cluster}/${options.service} can take a session: ${reasons}`);
  }
  const rank = (t: Task) => (t.healthStatus === 'HEALTHY' ? 0 : 1);
  ready.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (b.startedAt?.getTime() ?? 0) - (a.startedAt?.getTime() ?? 0) ||
      (a.taskArn ?? '').localeCompare(b.taskArn ?? ''),
  );
  const chosen = ready[0]!;
  const web = chosen.containers!.find((c) => c.name === container)!;
  return {
    clusterName: lastPart(chosen.clusterArn ?? options.cluster),
    taskArn: chosen.taskArn!,
    taskId: lastPart(chosen.taskArn!),
    containerName: container,
    runtimeId: web.runtimeId!,
    startedAt: chosen.startedAt,
    taskDefinitionArn: chosen.taskDefinitionArn,
  };
}

/** Why a task cannot take a session, or undefined when it can. */
function unready(task: Task, container: string): string | undefined {
  const id = lastPart(task.taskArn ?? '?');
  if (task.lastStatus !== 'RUNNING') return `task ${id} is ${task.lastStatus ?? 'in an unknown state'}, not RUNNING`;
  if (!task.enableExecuteCommand) {
    return `task ${id} runs without ECS Exec: deploy the service stack (it enables ECS Exec; tasks started before keep running without it, so wait for the deployment to replace them)`;
  }
  const c = task.containers?.find((x) => x.name === container);
  if (!c) return `task ${id} has no container "${container}"`;
  if (!c.runtimeId || c.lastStatus !== 'RUNNING') return `container ${container} of task ${id} is not running`;
  const agent = c.managedAgents?.find((a) => a.name === 'ExecuteCommandAgent');
  if (agent?.lastStatus !== 'RUNNING') {
    return `the ECS Exec agent in task ${id} is ${agent?.lastStatus ?? 'absent'}${agent?.reason ? ` (${agent.reason})` : ''}: retry in a minute`;
  }
  return undefined;
}
