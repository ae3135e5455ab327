/**
 * The web container's name, on its own: no dependencies, so `sfdeploy release-status` can find the container in a
 * service revision without loading aws-cdk-lib (lib/constructs/web-service.ts re-exports it).
 */

/** Container name; the smoke hook, alarms and tests refer to it. */
export const CONTAINER_NAME = 'web';

/**
 * The app's log group (the web container's awslogs destination), by the service's name prefix (`softfactory-<stage>`).
 * A fixed, documented name, so `sfdeploy logs` finds it without reading the stack.
 */
export function appLogGroupName(namePrefix: string): string {
  return `/softfactory/${namePrefix}/app`;
}

/** The log group that records ECS Exec command sessions (`sfdeploy exec`): the commands and their output. */
export function execLogGroupName(namePrefix: string): string {
  return `/softfactory/${namePrefix}/exec`;
}
