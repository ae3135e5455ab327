/**
 * Every physical name a stage's resources get, built once. The stacks create them under these names (lib/), the
 * functions find each other by them (lambda/), and the operator CLI finds them without reading a stack (bin/), so a
 * rename here moves all three together. Plain strings: no CDK, no SDK (shared/ imports nothing of the repository).
 */

/** `softfactory-<stage>`: the prefix of every stage resource, and the name of its ECS cluster and dashboard. */
export function resourcePrefix(stage: string): string {
  return `softfactory-${stage}`;
}

/** The CDK stack names of a stage: SoftFactory-<Stage>-Network, -Data, -Service (lib/app.ts createStacks). */
export function stackNames(stage: string): {
  readonly network: string;
  readonly data: string;
  readonly service: string;
} {
  const prefix = `SoftFactory-${stage.charAt(0).toUpperCase()}${stage.slice(1)}`;
  return { network: `${prefix}-Network`, data: `${prefix}-Data`, service: `${prefix}-Service` };
}

/** The ECS cluster and the web service. */
export function clusterName(stage: string): string {
  return resourcePrefix(stage);
}
export function webServiceName(stage: string): string {
  return `${resourcePrefix(stage)}-web`;
}

/** The RDS instance identifier (and so its log groups: /aws/rds/instance/<id>/postgresql). */
export function dbInstanceIdentifier(stage: string): string {
  return resourcePrefix(stage);
}

/** The secret holding the smoke user's bearer token (created with a placeholder unless smokeTokenSecretArn is set). */
export function smokeTokenSecretName(stage: string): string {
  return `softfactory/${stage}/smoke-token`;
}

/** The SNS topic the alarms notify. */
export function alarmTopicName(stage: string): string {
  return `${resourcePrefix(stage)}-alarms`;
}

/** The Lambda functions, by role; fixed so the CLI and pipelines invoke them without a stack lookup. */
export type FunctionRole =
  | 'smoke'
  | 'rollback'
  | 'predeploy-snapshot'
  | 'release-command'
  | 'migrate'
  | 'migrate-start';
export function functionName(stage: string, role: FunctionRole): string {
  return `${resourcePrefix(stage)}-${role}`;
}

/** The rollback function's DynamoDB lock table. */
export function rollbackLockTableName(stage: string): string {
  return `${resourcePrefix(stage)}-rollback-locks`;
}

/** A CloudWatch alarm of the stage: `softfactory-<stage>-<signal>` (e.g. softfactory-prod-error-rate). */
export function alarmName(stage: string, signal: string): string {
  return `${resourcePrefix(stage)}-${signal}`;
}

/** The prefix of the pre-deploy snapshots the snapshot hook takes and the rollback restores from. */
export function snapshotPrefix(stage: string): string {
  return `sf-${stage}-predeploy`;
}

/**
 * The log archive bucket: fixed per stage, account and region (S3 names are global), so the service stack can name
 * it in IAM policies from its own pseudo parameters instead of a cross-stack reference.
 */
export function logArchiveBucketName(stage: string, account: string, region: string): string {
  return `${resourcePrefix(stage)}-logs-${account}-${region}`;
}
