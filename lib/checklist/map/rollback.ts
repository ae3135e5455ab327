/**
 * The checklist map's ROLLBACK PHASE: the rollback checklist.
 * One part of CHECKLIST_MAP: lib/checklist/checklist-map.ts lists the parts in the checklist's order.
 */
import type { MapEntry } from '../coverage';
import { alarm, cdk, cli, MONITORING_ALARMS, pin, ROLLBACK_HANDLER, STACKS, section, test } from './refs';

export const ROLLBACK_PHASE: readonly MapEntry[] = [
  ...section('ROLLBACK PHASE › 2. Rollback Checklist', [
    {
      id: 'rollback-2-database-restored',
      text: 'Database restored from backup',
      outOfScope:
        'Deliberately left to a person: restoring loses every write since the snapshot, and a code rollback rarely ' +
        'needs it. The project provides the snapshot (deploy-1-database-backup), names it in the rollback ' +
        'notification, and the README runbook (Database restore after a rollback) gives the steps.',
    },
    {
      id: 'rollback-2-old-code-deployed',
      text: 'Old code deployed',
      enforcement: [
        cdk(
          'ECS rolls back to the previous revision on a deployment alarm',
          MONITORING_ALARMS,
          'names the error-rate, latency and unhealthy-hosts alarms on the ECS service, rolling back on alarm',
        ),
        test(
          ROLLBACK_HANDLER,
          'rolls a regression after the bake back with exactly one UpdateService to the previous revision',
        ),
        test(ROLLBACK_HANDLER, 'stops a deployment still in its bake time with StopServiceDeployment ROLLBACK, once'),
        cli('rollback'),
      ],
    },
    {
      id: 'rollback-2-services-restarted',
      text: 'Services restarted',
      enforcement: [
        test(
          ROLLBACK_HANDLER,
          'rolls a regression after the bake back with exactly one UpdateService to the previous revision',
        ),
        cli('rollback'),
        cli('release-status'),
      ],
      note: 'A rollback is a blue/green deployment of the previous revision: fresh tasks, same hooks and bake.',
    },
    {
      id: 'rollback-2-health-check',
      text: 'Health check passing',
      enforcement: [
        ...alarm('healthy-hosts', 'unhealthy-hosts'),
        cdk(
          'target groups health-check GET /health on every task of both revisions',
          STACKS,
          'health-checks two target groups (blue, green) with GET /health expecting 200 (dev runs the app in test mode)',
          pin('service', 'AWS::ElasticLoadBalancingV2::TargetGroup', 'HealthCheckPath'),
        ),
        cli('release-status'),
      ],
      note:
        'ECS runs no post-shift hook during a rollback (only the traffic-shift stages), so the restored revision is ' +
        'watched by the load balancer’s health checks and the healthy/unhealthy-hosts alarms, which reach a person (staging ' +
        'and prod refuse a config without alarmEmails).',
    },
    {
      id: 'rollback-2-users-notified',
      text: 'Users notified of issue',
      outOfScope:
        'Telling users (status page, e-mail) is a human decision about wording and audience. Operators are notified ' +
        'automatically: every alarm, deployment state change and rollback decision goes to softfactory-<stage>-alarms.',
    },
    {
      id: 'rollback-2-root-cause',
      text: 'Root cause investigation started',
      outOfScope:
        'Investigation is people’s work. The material is ready: the rollback notification (decision code, failing ' +
        'checks), the dashboard, saved Logs Insights queries and the pre-deploy snapshot.',
    },
  ]),
];
