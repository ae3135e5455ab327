/**
 * The web container's name, on its own: no dependencies, so `sfdeploy release-status` can find the container in a
 * service revision without loading aws-cdk-lib (lib/constructs/web-service.ts re-exports it).
 */

/** Container name; the smoke hook, alarms and tests refer to it. */
export const CONTAINER_NAME = 'web';
