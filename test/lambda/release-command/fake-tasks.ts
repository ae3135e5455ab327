/**
 * Standalone ECS tasks as the API reference documents them, behind an aws-sdk-client-mock ECS mock: RunTask starts a
 * task (PROVISIONING → PENDING → RUNNING → STOPPED over simulated time), DescribeTasks answers the Task shape (exit
 * codes on the containers, stopCode/stoppedReason on the task; unknown ARNs under `failures` with reason MISSING),
 * ListTasks pages (`nextToken`) in no promised order and applies the documented filters: RUNNING desired status
 * unless `desiredStatus` says otherwise, and `startedBy` only as the sole filter.
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html, API_DescribeTasks.html,
 * API_ListTasks.html, API_Task.html, API_Container.html; task lifecycle:
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html.)
 */
import {
  DescribeTasksCommand,
  type DescribeTasksCommandInput,
  type ECSClientResolvedConfig,
  InvalidParameterException,
  ListTasksCommand,
  type ListTasksCommandInput,
  RunTaskCommand,
  type RunTaskCommandInput,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  StopTaskCommand,
  type StopTaskCommandInput,
  type Task,
} from '@aws-sdk/client-ecs';
import type { AwsStub } from 'aws-sdk-client-mock';

const ACCOUNT = '123456789012';

/** How a started task ends: `exit` after `runMinutes`, or stopped before its container ever ran. */
export type TaskScript =
  | { readonly kind: 'exit'; readonly code: number; readonly runMinutes: number; readonly log?: readonly string[] }
  | { readonly kind: 'never-starts'; readonly reason: string };

interface FakeTask {
  arn: string;
  startedBy?: string | undefined;
  taskDefinition: string;
  createdAt: number;
  script: TaskScript;
  command: string[];
  stoppedAt?: number;
  stopReason?: string;
  input: RunTaskCommandInput;
}

export class FakeTasks {
  readonly tasks: FakeTask[] = [];
  readonly runCalls: RunTaskCommandInput[] = [];
  readonly stopCalls: StopTaskCommandInput[] = [];
  /** What the next RunTask does; tests change it per scenario. */
  script: TaskScript = { kind: 'exit', code: 0, runMinutes: 3 };
  /** One-shot RunTask answers with `failures` (e.g. capacity) before a task is placed. */
  placementFailures: { arn?: string; reason: string; detail?: string }[] = [];
  pageSize = 2;
  private seq = 0;

  constructor(
    private readonly now: () => number,
    readonly cluster = 'softfactory-prod',
  ) {}

  install(ecs: AwsStub<ServiceInputTypes, ServiceOutputTypes, ECSClientResolvedConfig>): void {
    ecs.on(RunTaskCommand).callsFake(async (input: RunTaskCommandInput) => this.run(input));
    ecs.on(DescribeTasksCommand).callsFake(async (input: DescribeTasksCommandInput) => this.describe(input));
    ecs.on(ListTasksCommand).callsFake(async (input: ListTasksCommandInput) => this.list(input));
    ecs.on(StopTaskCommand).callsFake(async (input: StopTaskCommandInput) => this.stop(input));
  }

  /** The log lines a task wrote so far (what the awslogs driver would have shipped). */
  logOf(taskId: string): string[] {
    const t = this.tasks.find((x) => x.arn.endsWith(`/${taskId}`));
    if (t?.script.kind !== 'exit') return [];
    return [...(t.script.log ?? [])];
  }

  private run(input: RunTaskCommandInput) {
    this.runCalls.push(input);
    const failure = this.placementFailures.shift();
    if (failure) return { tasks: [], failures: [failure] };
    this.seq++;
    const id = `${(0x5f3a9c2e1b + this.seq * 7919).toString(16)}a1b2c3d4e5f60718`.slice(0, 32);
    const t: FakeTask = {
      arn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:task/${this.cluster}/${id}`,
      startedBy: input.startedBy,
      taskDefinition: String(input.taskDefinition),
      createdAt: this.now(),
      script: this.script,
      command: input.overrides?.containerOverrides?.[0]?.command ?? [],
      input,
    };
    this.tasks.push(t);
    return { tasks: [this.view(t)], failures: [] };
  }

  private phase(t: FakeTask): { last: string; desired: string } {
    const minutes = (this.now() - t.createdAt) / 60_000;
    if (t.stoppedAt !== undefined) return { last: 'STOPPED', desired: 'STOPPED' };
    if (t.script.kind === 'never-starts') {
      return minutes >= 1 ? { last: 'STOPPED', desired: 'STOPPED' } : { last: 'PROVISIONING', desired: 'RUNNING' };
    }
    if (minutes < 0.5) return { last: 'PROVISIONING', desired: 'RUNNING' };
    if (minutes < 1) return { last: 'PENDING', desired: 'RUNNING' };
    if (minutes < 1 + t.script.runMinutes) return { last: 'RUNNING', desired: 'RUNNING' };
    return { last: 'STOPPED', desired: 'STOPPED' };
  }

  private view(t: FakeTask): Task {
    const { last, desired } = this.phase(t);
    const stopped = last === 'STOPPED';
    const exited = stopped && t.script.kind === 'exit' && t.stoppedAt === undefined;
    const killed = t.stoppedAt !== undefined;
    const neverRan = t.script.kind === 'never-starts';
    return {
      taskArn: t.arn,
      clusterArn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/${this.cluster}`,
      taskDefinitionArn: t.taskDefinition,
      startedBy: t.startedBy,
      group: `family:${/task-definition\/([^:]+)/.exec(t.taskDefinition)?.[1] ?? ''}`,
      launchType: 'FARGATE',
      lastStatus: last,
      desiredStatus: desired,
      createdAt: new Date(t.createdAt),
      ...(stopped
        ? {
            stopCode: neverRan ? 'TaskFailedToStart' : killed ? 'UserInitiated' : 'EssentialContainerExited',
            stoppedReason: neverRan
              ? t.script.kind === 'never-starts'
                ? t.script.reason
                : ''
              : killed
                ? (t.stopReason ?? 'Task stopped by user')
                : 'Essential container in task exited',
          }
        : {}),
      containers: [
        {
          name: 'web',
          containerArn: `${t.arn.replace(':task/', ':container/')}/c1`,
          taskArn: t.arn,
          lastStatus: stopped ? 'STOPPED' : last === 'RUNNING' ? 'RUNNING' : 'PENDING',
          ...(exited && t.script.kind === 'exit' ? { exitCode: t.script.code } : {}),
          ...(killed ? { exitCode: 137 } : {}),
          ...(neverRan && t.script.kind === 'never-starts' ? { reason: t.script.reason } : {}),
        },
      ],
    };
  }

  private describe(input: DescribeTasksCommandInput) {
    const arns = input.tasks ?? [];
    if (arns.length > 100) throw new Error('DescribeTasks takes at most 100 tasks');
    const found = this.tasks.filter((t) => arns.includes(t.arn) || arns.includes(t.arn.split('/').pop() ?? ''));
    return {
      tasks: found.map((t) => this.view(t)),
      failures: arns
        .filter((a) => !found.some((t) => t.arn === a || t.arn.endsWith(`/${a}`)))
        .map((arn) => ({ arn, reason: 'MISSING' })),
    };
  }

  private list(input: ListTasksCommandInput) {
    const filters = ['family', 'serviceName', 'containerInstance', 'desiredStatus', 'launchType'] as const;
    if (input.startedBy && filters.some((f) => input[f] !== undefined)) {
      throw new InvalidParameterException({
        message: 'startedBy must be the only filter',
        $metadata: { httpStatusCode: 400 },
      });
    }
    const desired = input.desiredStatus ?? 'RUNNING';
    const matching = [...this.tasks]
      .reverse()
      .filter((t) => this.phase(t).desired === desired)
      .filter((t) => !input.startedBy || t.startedBy === input.startedBy)
      .filter((t) => !input.family || t.taskDefinition.includes(`task-definition/${input.family}:`));
    const offset = input.nextToken ? Number(input.nextToken) : 0;
    const page = matching.slice(offset, offset + this.pageSize);
    const next = offset + this.pageSize < matching.length ? String(offset + this.pageSize) : undefined;
    return { taskArns: page.map((t) => t.arn), ...(next ? { nextToken: next } : {}) };
  }

  private stop(input: StopTaskCommandInput) {
    this.stopCalls.push(input);
    const t = this.tasks.find((x) => x.arn === input.task);
    if (!t) throw new InvalidParameterException({ message: 'The referenced task was not found.', $metadata: {} });
    t.stoppedAt ??= this.now();
    t.stopReason = input.reason;
    return { task: this.view(t) };
  }
}
