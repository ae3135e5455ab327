/**
 * The one naming scheme for alarms, and the construct id each alarm gets from its signal. Pure (no CDK import), so
 * the ECS service can name its deployment alarms before they exist, and test fixtures of the rollback function can
 * name the alarms the app really creates.
 */

/** The signals whose alarms roll a deployment back while it runs or bakes (ECS `deploymentAlarms`). */
export const DEPLOYMENT_ALARM_SIGNALS = ['error-rate', 'latency', 'unhealthy-hosts'] as const;

/**
 * `softfactory-<stage>-<signal>` (shared/names.ts, where every physical name is built). Fixed, not a token: the
 * alarms' metrics name the load balancer, and the service names its deployment alarms, so a token would make a cycle.
 */
export { alarmName } from '../../../shared/names';

/**
 * The construct id of a signal's alarm: its kebab-case signal in PascalCase (`db-free-storage` → `DbFreeStorage`).
 * Construct ids are a contract (a new id replaces the alarm), so this function must keep giving today's ids.
 */
export function alarmConstructId(signal: string): string {
  return signal.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}
