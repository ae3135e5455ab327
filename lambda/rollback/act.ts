/**
 * The only two ECS calls that change anything:
 * - StopServiceDeployment {serviceDeploymentArn, stopType: ROLLBACK}: ECS returns the service to the
 *   deployment's source revision (works even if the deployment was not configured for rollback).
 * - UpdateService {cluster, service, taskDefinition}: a new service deployment (with the service's own
 *   strategy, hooks and bake time) to the previous revision's task definition; nothing else changes.
 */
import { type ECSClient, StopServiceDeploymentCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { ActPort } from './ports';

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
