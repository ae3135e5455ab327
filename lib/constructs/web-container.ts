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

/** The container's user (uid:gid): the app runs unprivileged. */
export const APP_USER = '1000:1000';

/**
 * Where the web container may write, its root filesystem being read-only: each path is a task-scoped bind mount
 * (Fargate ephemeral storage, gone with the task). The app: `/tmp` (Python's tempfile, gunicorn's worker heartbeat
 * files) and its log directory `logs/` under its working directory `/app` (the image's, as the checklist's
 * `docker run -v …:/app/platform.db` shows). ECS Exec: the SSM agent's state and log directories and
 * `/managed-agents` (ECS Exec does not support a read-only root filesystem by itself; these writable mounts are the
 * documented workaround, aws/containers-roadmap#1359).
 */
export const WRITABLE_PATHS = {
  tmp: '/tmp',
  'app-logs': '/app/logs',
  'ssm-state': '/var/lib/amazon/ssm',
  'ssm-logs': '/var/log/amazon/ssm',
  'managed-agents': '/managed-agents',
} as const;

/** The non-essential container that hands the writable mounts to APP_USER before `web` starts. */
export const VOLUME_INIT_CONTAINER_NAME = 'volume-init';
