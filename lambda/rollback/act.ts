/**
 * The only two ECS calls that change anything:
 * - StopServiceDeployment {serviceDeploymentArn, stopType: ROLLBACK}: ECS returns the service to the
 *   deployment's source revision (works even if the deployment was not configured for rollback).
 * - UpdateService {cluster, service, taskDefinition}: a new service deployment (with the service's own
 *   strategy, hooks and bake time) to the previous revision's task definition; nothing else changes.
 */
import { type ECSClient, StopServiceDeploymentCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';

export interface ActPort {
  /** Returns the ARN ECS reports as stopped. */
  stopDeployment(serviceDeploymentArn: string): Promise<string | undefined>;
  /** Returns the service deployment ECS started, when it says. */
  updateService(taskDefinition: string): Promise<{ readonly createdDeploymentArn?: string | undefined }>;
}

export function sdkActPort(
  ecs: ECSClient,
  target: { readonly clusterArn: string; readonly serviceArn: string },
): ActPort {
  return {
    async stopDeployment(serviceDeploymentArn) {
      const out = await ecs.send(new StopServiceDeploymentCommand({ serviceDeploymentArn, stopType: 'ROLLBACK' }));
      return out.serviceDeploymentArn ?? serviceDeploymentArn;
    },
    async updateService(taskDefinition) {
      const out = await ecs.send(
        new UpdateServiceCommand({ cluster: target.clusterArn, service: target.serviceArn, taskDefinition }),
      );
      return { createdDeploymentArn: out.service?.currentServiceDeployment };
    },
  };
}

/**
 * Did a failed mutating call change ECS?
 * - `not-applied`: ECS answered with a client fault (4xx: validation, access, conflict, throttling): the
 *   request was refused, so a retry may act.
 * - `unknown`: a server fault (5xx), a timeout or a network error: the change may have landed. The incident
 *   stays `acting`; the next attempt looks at ECS before doing anything.
 */
export function classifyCallFailure(error: unknown): 'not-applied' | 'unknown' {
  const fault = error instanceof Error ? (error as Error & { $fault?: string }).$fault : undefined;
  return fault === 'client' ? 'not-applied' : 'unknown';
}
