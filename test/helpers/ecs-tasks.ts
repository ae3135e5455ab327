/** ECS tasks as DescribeTasks documents them, for the exec and db-tunnel tests (in-process and on the wire). */
import type { Task } from '@aws-sdk/client-ecs';

export const ACCOUNT = '123456789012';
export const CLUSTER_ARN = `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/softfactory-prod`;
export const taskArn = (id: string) => `arn:aws:ecs:eu-west-1:${ACCOUNT}:task/softfactory-prod/${id}`;

/**
 * A task as DescribeTasks documents it (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html):
 * containers with runtimeId and managedAgents (ExecuteCommandAgent), enableExecuteCommand, healthStatus, startedAt.
 */
export function task(
  id: string,
  options: { startedAt: string; exec?: boolean; agent?: string; health?: string; lastStatus?: string } = {
    startedAt: '2026-11-26T09:00:00Z',
  },
): Task {
  return {
    taskArn: taskArn(id),
    clusterArn: CLUSTER_ARN,
    taskDefinitionArn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/SoftFactoryProdServiceWebTask:42`,
    lastStatus: options.lastStatus ?? 'RUNNING',
    desiredStatus: 'RUNNING',
    healthStatus: (options.health ?? 'HEALTHY') as Task['healthStatus'],
    enableExecuteCommand: options.exec ?? true,
    startedAt: new Date(options.startedAt),
    launchType: 'FARGATE',
    containers: [
      {
        name: 'web',
        containerArn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:container/softfactory-prod/${id}/c-${id}`,
        taskArn: taskArn(id),
        runtimeId: `${id}-1234567890`,
        lastStatus: 'RUNNING',
        healthStatus: 'HEALTHY',
        managedAgents: [
          {
            name: 'ExecuteCommandAgent',
            lastStatus: options.agent ?? 'RUNNING',
            lastStartedAt: new Date(options.startedAt),
          },
        ],
      },
    ],
  };
}

/** The same task on the wire (JSON protocol: timestamps in epoch seconds). */
export function wire(t: Task): Record<string, unknown> {
  return JSON.parse(
    JSON.stringify(t, (_key, value: unknown) =>
      typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T.*Z$/.test(value) ? Date.parse(value) / 1000 : value,
    ),
  ) as Record<string, unknown>;
}
