/**
 * Read access to one service's deployments and revisions, for a function registered as that service's lifecycle hook.
 * By the fixed cluster and service names (`softfactory-<stage>`, `softfactory-<stage>-web`): the service references the
 * function as its hook, so a reference back to the service from the function's policy would be a cycle. ECS names these
 * resources `service-deployment/<cluster>/<service>/<id>` and `service-revision/…` (Service Authorization Reference:
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html).
 */
import { ArnFormat, aws_iam as iam, type aws_lambda as lambda, Stack, Validations } from 'aws-cdk-lib';
import { clusterName, webServiceName } from '../../shared/names';
import type { Stage } from '../config/stage-config';
import { wildcardArnFinding } from './nag';

/** ecs:DescribeServiceDeployments and ecs:DescribeServiceRevisions on the stage's web service, with the nag reasons. */
export function grantReadThisServicesDeployments(fn: lambda.Function, stage: Stage): void {
  const stack = Stack.of(fn);
  const path = `${clusterName(stage)}/${webServiceName(stage)}`;
  const ecsArn = (resource: string) =>
    stack.formatArn({ service: 'ecs', resource, resourceName: `${path}/*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  fn.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'ReadThisServicesDeployments',
      actions: ['ecs:DescribeServiceDeployments', 'ecs:DescribeServiceRevisions'],
      resources: [ecsArn('service-deployment'), ecsArn('service-revision')],
    }),
  );
  for (const kind of ['service-deployment', 'service-revision']) {
    Validations.of(fn.role!).acknowledge({
      id: wildcardArnFinding(stack, 'ecs', `${kind}/${path}/*`),
      reason: `Read-only, every ${kind} of this one service: their ids are created by ECS at deploy time.`,
    });
  }
}
