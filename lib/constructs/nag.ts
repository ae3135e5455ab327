/**
 * cdk-nag acknowledgement ids that hold in every synthesis: environment-agnostic, where ARNs are tokens
 * (`arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:…`), and with a concrete account/region, where CDK renders
 * the same ARN with literals (`arn:aws:rds:eu-west-1:123456789012:…`). The id is computed from the very value the
 * policy holds, rendered the way cdk-nag renders it (its own `flattenCfnReference`), so the two cannot drift apart.
 */
import { Stack } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/** `AwsSolutions-IAM5[Resource::<resource as cdk-nag prints it>]` for a resource ARN (a string or a token). */
export function wildcardResourceFinding(scope: IConstruct, resourceArn: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenCfnReference(Stack.of(scope).resolve(resourceArn))}]`;
}

/**
 * The finding id for a wildcard resource in this stack's partition, region and account
 * (`arn:<partition>:<service>:<region>:<account>:<resource>`), rendered the same way. `resource` may hold cdk-nag's
 * own `<LogicalId>` placeholders as plain text.
 */
export function wildcardArnFinding(stack: Stack, service: string, resource: string): string {
  return wildcardResourceFinding(
    stack,
    `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`,
  );
}
