/**
 * ECS PRE_SCALE_UP lifecycle hook → the release command as one Fargate task of the target revision. Thin adapter:
 * validate env and event, build the clients, call the core with its ports, return its answer. A thrown error rolls
 * the deployment back, so every expected failure is answered FAILED with a reason instead.
 */
import { CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  RunTaskCommand,
  StopTaskCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { RDSClient } from '@aws-sdk/client-rds';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { type LifecycleHookResponse, lifecycleHookEventSchema } from '../shared/lifecycle-hook';
import { powertoolsLog } from '../shared/log';
import { rdsSnapshotPort } from '../shared/rds-snapshot-port';
import { AWS_MAX_ATTEMPTS, SDK_REQUEST_HANDLER } from '../shared/sdk-options';
import { handleReleaseCommand, type ReleaseLog, type ReleasePorts, type TaskInfo } from './core';
import { loadReleaseCommandConfig } from './env';

export interface ReleaseCommandDeps {
  readonly env?: Record<string, string | undefined>;
  readonly ecs?: ECSClient;
  readonly rds?: RDSClient;
  readonly logs?: CloudWatchLogsClient;
  readonly sns?: SNSClient;
  readonly now?: () => Date;
  readonly log?: ReleaseLog;
}

const CLIENT = { maxAttempts: AWS_MAX_ATTEMPTS, requestHandler: SDK_REQUEST_HANDLER } as const;

export function createHandler(deps: ReleaseCommandDeps = {}) {
  const log: ReleaseLog = deps.log ?? powertoolsLog('softfactory-release-command');
  let loaded: { ports: ReleasePorts; config: ReturnType<typeof loadReleaseCommandConfig>['config'] } | undefined;
  return async (event: unknown): Promise<LifecycleHookResponse> => {
    const parsed = lifecycleHookEventSchema.safeParse(event);
    if (!parsed.success) {
      const reason = `not an ECS lifecycle hook event: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`;
      log.warn('invalid hook event', { reason });
      return { hookStatus: 'FAILED', hookDetails: { reason } };
    }
    if (!loaded) {
      try {
        const env = loadReleaseCommandConfig(deps.env ?? process.env);
        loaded = {
          config: env.config,
          ports: awsPorts({
            ecs: deps.ecs ?? new ECSClient(CLIENT),
            rds: deps.rds ?? new RDSClient(CLIENT),
            logs: deps.logs ?? new CloudWatchLogsClient(CLIENT),
            sns: deps.sns ?? new SNSClient(CLIENT),
            cluster: env.cluster,
            dbInstanceId: env.dbInstanceId,
            logGroupName: env.config.logGroupName,
            containerName: env.config.containerName,
            topicArn: env.topicArn,
          }),
        };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        log.warn('answering FAILED: the function is misconfigured', { reason });
        return { hookStatus: 'FAILED', hookDetails: { reason } };
      }
    }
    return handleReleaseCommand(parsed.data, loaded.config, loaded.ports, (deps.now ?? (() => new Date()))(), log);
  };
}

interface AwsPortOptions {
  readonly ecs: ECSClient;
  readonly rds: RDSClient;
  readonly logs: CloudWatchLogsClient;
  readonly sns: SNSClient;
  readonly cluster: string;
  readonly dbInstanceId: string;
  readonly logGroupName: string;
  readonly containerName: string;
  readonly topicArn: string | undefined;
}

/** Pages of ListTasks we read when looking for our own task; a release leaves one task per deployment. */
const MAX_LIST_PAGES = 10;

/** The ports on the AWS SDK; every shape as the ECS, RDS, CloudWatch Logs and SNS API references document it. */
export function awsPorts(o: AwsPortOptions): ReleasePorts {
  const { ecs, cluster } = o;
  const toInfo = (t: Task): TaskInfo => {
    const container = t.containers?.find((c) => c.name === o.containerName);
    return {
      arn: t.taskArn ?? '',
      lastStatus: t.lastStatus ?? 'UNKNOWN',
      startedBy: t.startedBy,
      createdAt: t.createdAt,
      stopCode: t.stopCode,
      stoppedReason: t.stoppedReason,
      exitCode: container?.exitCode,
      containerReason: container?.reason,
    };
  };
  const describe = async (arns: readonly string[]): Promise<Task[]> => {
    if (arns.length === 0) return [];
    // DescribeTasks takes up to 100 tasks (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html).
    const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(0, 100) }));
    return out.tasks ?? [];
  };
  const list = async (input: { startedBy?: string; family?: string; desiredStatus?: 'STOPPED' }) => {
    const arns: string[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const out = await ecs.send(new ListTasksCommand({ cluster, ...input, ...(nextToken ? { nextToken } : {}) }));
      arns.push(...(out.taskArns ?? []));
      nextToken = out.nextToken;
      if (!nextToken) break;
    }
    return arns;
  };
  return {
    async change(serviceDeploymentArn) {
      const out = await ecs.send(
        new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [serviceDeploymentArn] }),
      );
      const d = out.serviceDeployments?.[0];
      const target = d?.targetServiceRevision?.arn;
      if (!target) return undefined;
      const sources = (d?.sourceServiceRevisions ?? []).flatMap((r) => (r.arn ? [r.arn] : []));
      const revisions = await ecs.send(
        new DescribeServiceRevisionsCommand({ serviceRevisionArns: [target, ...sources] }),
      );
      const byArn = new Map((revisions.serviceRevisions ?? []).map((r) => [r.serviceRevisionArn, r]));
      const t = byArn.get(target);
      const vpc = t?.networkConfiguration?.awsvpcConfiguration;
      const sourceTds = sources.flatMap((arn) => {
        const td = byArn.get(arn)?.taskDefinition;
        return td ? [td] : [];
      });
      return {
        target: t?.taskDefinition,
        // A source ECS cannot describe makes the change "not a revert": the command runs (the safe side for schema).
        sources: sourceTds.length === sources.length ? sourceTds : [],
        network: vpc?.subnets?.length
          ? {
              subnets: vpc.subnets,
              securityGroups: vpc.securityGroups ?? [],
              assignPublicIp: vpc.assignPublicIp === 'ENABLED',
            }
          : undefined,
      };
    },
    snapshots: () => rdsSnapshotPort(o.rds, o.dbInstanceId).listManual(),
    async findTask(startedBy, taskDefinition) {
      // ListTasks: "When you specify startedBy as the filter, it must be the only filter that you use", and without a
      // desiredStatus only RUNNING tasks are listed; stopped tasks "appear in the returned results for at least one
      // hour" with desiredStatus STOPPED (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html).
      // So: running ones by startedBy; stopped ones of the family, matched on their startedBy here.
      const running = await list({ startedBy });
      const family = /task-definition\/([^:]+)/.exec(taskDefinition)?.[1];
      const stopped = family ? await list({ family, desiredStatus: 'STOPPED' }) : [];
      const tasks = [...(await describe(running)), ...(await describe(stopped))].filter(
        (t) => t.startedBy === startedBy,
      );
      const newest = tasks.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))[0];
      return newest ? toInfo(newest) : undefined;
    },
    async runTask(r) {
      // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html: `failures` lists what could not
      // be placed; a RESOURCE:* reason (capacity) may clear on its own, others (MISSING, ATTRIBUTE) will not.
      const out = await ecs.send(
        new RunTaskCommand({
          cluster,
          taskDefinition: r.taskDefinition,
          launchType: 'FARGATE',
          count: 1,
          startedBy: r.startedBy,
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: [...r.network.subnets],
              securityGroups: [...r.network.securityGroups],
              assignPublicIp: r.network.assignPublicIp ? 'ENABLED' : 'DISABLED',
            },
          },
          overrides: { containerOverrides: [{ name: r.containerName, command: [...r.command] }] },
        }),
      );
      const task = out.tasks?.[0];
      if (task?.taskArn) return { task: toInfo(task) };
      const failure = out.failures?.[0];
      const reason = failure
        ? `${failure.reason ?? 'failure'}${failure.detail ? `: ${failure.detail}` : ''}`
        : 'no task';
      return { failure: reason, transient: /^RESOURCE:|capacity/i.test(reason) };
    },
    async describeTask(taskArn) {
      const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [taskArn] }));
      const task = out.tasks?.find((t) => t.taskArn === taskArn);
      return task ? toInfo(task) : undefined;
    },
    async stopTask(taskArn, reason) {
      await ecs.send(new StopTaskCommand({ cluster, task: taskArn, reason: reason.slice(0, 255) }));
    },
    async lastLogLines(logStreamName, limit) {
      try {
        // startFromHead false: the latest events (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html).
        const out = await o.logs.send(
          new GetLogEventsCommand({ logGroupName: o.logGroupName, logStreamName, startFromHead: false, limit }),
        );
        return (out.events ?? []).map((e) => (e.message ?? '').replace(/\s+$/, ''));
      } catch (error) {
        // A task that never started has no stream.
        if (error instanceof Error && error.name === 'ResourceNotFoundException') return [];
        throw error;
      }
    },
    async notify(subject, message) {
      if (!o.topicArn) return;
      await o.sns.send(new PublishCommand({ TopicArn: o.topicArn, Subject: subject, Message: message }));
    },
  };
}

export const handler = createHandler();
