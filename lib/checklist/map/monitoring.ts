/**
 * The checklist map's MONITORING & MAINTENANCE: real-time monitoring, log aggregation,
 * regular maintenance.
 * One part of CHECKLIST_MAP: lib/checklist/checklist-map.ts lists the parts in the checklist's order.
 */
import type { MapEntry } from '../coverage';
import {
  APP_CI,
  AUDIT_MONITORING,
  alarm,
  CONFIG,
  cdk,
  DATABASE_HARDENING,
  GITHUB_WORKFLOW,
  MONITORING_ALARMS,
  MONITORING_DASHBOARD,
  MONITORING_LOGS,
  MONITORING_NOTIFICATIONS,
  PRODUCTION_MODE,
  pin,
  STACKS,
  section,
  test,
} from './refs';

export const MONITORING_PHASE: readonly MapEntry[] = [
  ...section('MONITORING & MAINTENANCE › 1. Real-Time Monitoring', [
    {
      id: 'mon-1-application-monitoring',
      text: 'Set up application monitoring',
      enforcement: [
        cdk(
          'CloudWatch dashboard softfactory-<stage>',
          MONITORING_DASHBOARD,
          'shows requests, error rate, p95/p99 latency, healthy hosts, CPU, memory, disk and the database',
        ),
        ...alarm('error-rate', 'latency'),
      ],
    },
    {
      id: 'mon-1-apm-vendor',
      text: 'New Relic / Datadog / Scout',
      outOfScope:
        'A choice of third-party APM vendor, which the project does not make: it monitors with CloudWatch (alarms, ' +
        'dashboard, Container Insights). Adding an APM agent would be a change to the app’s image.',
    },
    {
      id: 'mon-1-response-time',
      text: 'Response time tracking',
      enforcement: [
        ...alarm('latency'),
        cdk(
          'dashboard: p95/p99 TargetResponseTime',
          MONITORING_DASHBOARD,
          'shows requests, error rate, p95/p99 latency, healthy hosts, CPU, memory, disk and the database',
        ),
      ],
    },
    {
      id: 'mon-1-error-rate',
      text: 'Error rate tracking',
      enforcement: [
        ...alarm('error-rate'),
        cdk(
          'dashboard: requests, 5xx and error rate',
          MONITORING_DASHBOARD,
          'shows requests, error rate, p95/p99 latency, healthy hosts, CPU, memory, disk and the database',
        ),
      ],
    },
    {
      id: 'mon-1-db-query-performance',
      text: 'Database query performance',
      enforcement: [
        cdk(
          'slow-statement log (log_min_duration_statement)',
          STACKS,
          'forces TLS and logs statements slower than 500 ms',
          pin('data', 'AWS::RDS::DBParameterGroup', 'Parameters.log_min_duration_statement'),
        ),
        ...alarm('db-cpu', 'db-connections'),
      ],
    },
    {
      id: 'mon-1-infrastructure-monitoring',
      text: 'Set up infrastructure monitoring',
      enforcement: [
        cdk(
          'ECS Container Insights (enhanced)',
          STACKS,
          'runs an ECS cluster with enhanced Container Insights',
          pin('service', 'AWS::ECS::Cluster', 'ClusterSettings'),
        ),
        cdk(
          'dashboard: CPU, memory, disk and the database',
          MONITORING_DASHBOARD,
          'shows requests, error rate, p95/p99 latency, healthy hosts, CPU, memory, disk and the database',
        ),
      ],
    },
    {
      id: 'mon-1-cpu-memory-disk',
      text: 'CPU/Memory/Disk usage',
      enforcement: alarm('cpu', 'memory', 'disk', 'db-cpu', 'db-free-storage'),
    },
    {
      id: 'mon-1-network-io',
      text: 'Network I/O',
      enforcement: [
        test(AUDIT_MONITORING, 'graphs the service’s received and sent bytes from Container Insights on the dashboard'),
        cdk('ECS Container Insights (enhanced)', STACKS, 'runs an ECS cluster with enhanced Container Insights'),
        cdk('VPC flow logs to CloudWatch Logs', STACKS, 'logs VPC flows to CloudWatch Logs with 30-day retention'),
      ],
      note: 'Shown, not alarmed: bytes per second have no fixed healthy threshold; no traffic at all is caught by healthy-hosts.',
    },
    {
      id: 'mon-1-container-health',
      text: 'Container health (if Docker)',
      enforcement: [
        ...alarm('unhealthy-hosts', 'healthy-hosts'),
        cdk(
          'a container health check on /ready (the database included) and target-group health checks on every task',
          PRODUCTION_MODE,
          'health-checks the container on /ready with X-Forwarded-Proto: https, and the target groups accept the 301 of production mode',
        ),
      ],
    },
    {
      id: 'mon-1-alert-thresholds',
      text: 'Alert thresholds configured',
      enforcement: [
        cdk(
          'stage config defaults to the checklist thresholds',
          CONFIG,
          'defaults to the checklist thresholds: 1 % errors, 500 ms at p95, 80 % CPU/memory/disk, 365-day archive',
        ),
        cdk(
          'every alarm sends ALARM and OK to the stage topic',
          MONITORING_NOTIFICATIONS,
          'sends every alarm’s ALARM and OK transitions to the stage topic, in every stack',
          pin('service', 'AWS::CloudWatch::Alarm', 'OKActions'),
        ),
      ],
    },
    {
      id: 'mon-1-alert-error-rate',
      text: 'Error rate > 1% → Alert',
      enforcement: [
        ...alarm('error-rate'),
        cdk(
          'error-rate alarm above 1 %',
          MONITORING_ALARMS,
          'fires above 1 % in 3 of 5 one-minute periods, missing data not breaching',
        ),
      ],
    },
    {
      id: 'mon-1-alert-response-time',
      text: 'Response time > 500ms → Alert',
      enforcement: [
        ...alarm('latency'),
        cdk(
          'latency alarm above 0.5 s at p95',
          MONITORING_ALARMS,
          'watches TargetResponseTime p95 per minute above 0.5 s (seconds), ignoring low-sample percentiles',
        ),
      ],
    },
    {
      id: 'mon-1-alert-disk',
      text: 'Disk usage > 80% → Alert',
      enforcement: [
        ...alarm('disk', 'db-free-storage'),
        cdk(
          'Fargate ephemeral storage above 80 %',
          MONITORING_ALARMS,
          'fires on Fargate disk: 100 * EphemeralStorageUtilized / EphemeralStorageReserved from Container Insights above 80 %',
        ),
        cdk(
          'database free storage below 20 % (= 80 % used)',
          MONITORING_ALARMS,
          'fires when free storage (bytes) falls below 20 % of the allocated storage',
        ),
      ],
    },
    {
      id: 'mon-1-alert-cpu',
      text: 'CPU > 80% for 5+ min → Alert',
      enforcement: [
        ...alarm('cpu', 'db-cpu'),
        cdk(
          'service CPU above 80 % for 5 minutes',
          MONITORING_ALARMS,
          'fires on ECS service CPU (average) above 80 % for 5 minutes',
        ),
        cdk(
          'database CPU above 80 % for 5 minutes',
          MONITORING_ALARMS,
          'fires on database CPU above 80 % for 5 minutes',
        ),
      ],
    },
  ]),
  ...section('MONITORING & MAINTENANCE › 2. Log Aggregation', [
    {
      id: 'mon-2-centralized-logging',
      text: 'Centralized logging set up',
      enforcement: [
        cdk(
          'app logs in a CloudWatch log group',
          STACKS,
          'ships app logs to a log group with 30-day retention',
          pin('service', 'AWS::ECS::TaskDefinition', 'ContainerDefinitions.0.LogConfiguration.Options.awslogs-group'),
        ),
        cdk(
          'app logs streamed to the S3 log archive',
          MONITORING_LOGS,
          'wires the app log group → subscription → Firehose → archive bucket with lifecycle, end to end',
        ),
      ],
    },
    {
      id: 'mon-2-logging-stack',
      text: 'ELK Stack / Splunk / CloudWatch',
      enforcement: [
        cdk(
          'CloudWatch Logs',
          STACKS,
          'ships app logs to a log group with 30-day retention',
          pin('service', 'AWS::ECS::TaskDefinition', 'ContainerDefinitions.0.LogConfiguration.Options.awslogs-group'),
        ),
      ],
      note: 'CloudWatch, one of the three the checklist allows.',
    },
    {
      id: 'mon-2-all-logs-central',
      text: 'All application logs sent to central location',
      enforcement: [
        cdk(
          'container logs through the awslogs driver to the app log group',
          STACKS,
          'ships app logs to a log group with 30-day retention',
          pin('service', 'AWS::ECS::TaskDefinition', 'ContainerDefinitions.0.LogConfiguration.Options.awslogs-group'),
        ),
        cdk(
          'every app log event archived through Firehose',
          MONITORING_LOGS,
          'wires the app log group → subscription → Firehose → archive bucket with lifecycle, end to end',
        ),
      ],
    },
    {
      id: 'mon-2-searchable',
      text: 'Searchable by date/service/error level',
      enforcement: [
        cdk(
          'saved Logs Insights queries (errors, slow requests, 5xx by path)',
          MONITORING_LOGS,
          'saves Logs Insights queries: errors in the last 5 minutes, requests slower than 500 ms, 5xx by path',
        ),
        cdk(
          'archive keys partitioned year=/month=/day=',
          MONITORING_LOGS,
          'wires the app log group → subscription → Firehose → archive bucket with lifecycle, end to end',
          pin('service', 'AWS::KinesisFirehose::DeliveryStream', 'ExtendedS3DestinationConfiguration.Prefix'),
        ),
      ],
    },
    {
      id: 'mon-2-retention-policy',
      text: 'Log retention policy',
      enforcement: [
        cdk(
          'retention on every log group of every stack',
          MONITORING_LOGS,
          'keeps every log group of every stack of every stage at least 30 days',
          pin('service', 'AWS::Logs::LogGroup', 'RetentionInDays'),
        ),
      ],
    },
    {
      id: 'mon-2-retention-30-days',
      text: 'Keep logs for 30 days minimum',
      enforcement: [
        cdk(
          'every log group ≥ 30 days',
          MONITORING_LOGS,
          'keeps every log group of every stack of every stage at least 30 days',
          pin('service', 'AWS::Logs::LogGroup', 'RetentionInDays'),
        ),
        cdk('config refuses less than 30 days', CONFIG, 'rejects log retention below 30 days'),
      ],
    },
    {
      id: 'mon-2-archive-s3',
      text: 'Archive old logs to S3/GCS',
      enforcement: [
        cdk(
          'Firehose → S3 log archive with Standard → IA → Glacier lifecycle',
          MONITORING_LOGS,
          'wires the app log group → subscription → Firehose → archive bucket with lifecycle, end to end',
        ),
        cdk(
          'archived logs expire at logArchiveExpiryDays',
          MONITORING_LOGS,
          'expires archived logs at the configured age',
          pin('data', 'AWS::S3::Bucket', 'LifecycleConfiguration'),
        ),
      ],
    },
  ]),
  ...section('MONITORING & MAINTENANCE › 3. Regular Maintenance', [
    {
      id: 'mon-3-weekly-vacuum',
      text: 'Weekly database optimization',
      enforcement: [test(AUDIT_MONITORING, 'leaves autovacuum on in every stage’s parameter group')],
      note: 'SQLite’s VACUUM does not apply after the move to PostgreSQL, where autovacuum does the weekly job continuously.',
    },
    {
      id: 'mon-3-security-patches',
      text: 'Monthly security patches',
      enforcement: [
        cdk(
          'RDS applies minor engine versions automatically in its maintenance window',
          AUDIT_MONITORING,
          'applies minor engine versions automatically, in every stage',
        ),
        cdk(
          'backup and maintenance windows pinned apart',
          DATABASE_HARDENING,
          'opens its window at least an hour after the database’s pinned backup and maintenance windows close',
        ),
        test(GITHUB_WORKFLOW, 'fails on HIGH findings of a basic scan, naming the counts'),
      ],
      note:
        'RDS patches its engine weekly (Sunday 22:00 UTC), AWS patches the Fargate hosts, and the deploy workflow refuses an ' +
        'image with CRITICAL or HIGH findings.',
    },
    {
      id: 'mon-3-python-packages',
      text: 'Python package updates',
      outOfScope: `Updating requirements.txt and rebuilding the image ${APP_CI}.`,
    },
    {
      id: 'mon-3-os-patches',
      text: 'OS security patches',
      enforcement: [
        test(GITHUB_WORKFLOW, 'fails on HIGH findings of a basic scan, naming the counts'),
        test(GITHUB_WORKFLOW, 'fails when there is no scan, or the scan failed or could not judge the image'),
      ],
      note:
        'The deploy workflow’s image scan gate: no deploy of an image whose OS packages have CRITICAL or HIGH findings, or ' +
        'that was never scanned. Fargate hosts are patched by AWS.',
    },
    {
      id: 'mon-3-pip-audit',
      text: 'Dependency audit (`pip audit`)',
      partial:
        'Python packages are scanned only where the registry has enhanced scanning (Amazon Inspector) on; basic scanning ' +
        'covers OS packages, so with it the gate checks no pip dependency.',
      enforcement: [test(GITHUB_WORKFLOW, 'fails on a CRITICAL finding of an enhanced (Inspector) scan')],
    },
    {
      id: 'mon-3-quarterly-review',
      text: 'Quarterly performance review',
      outOfScope:
        'A recurring meeting of people; the dashboard, alarms history and Performance Insights are its input.',
    },
    {
      id: 'mon-3-analyze-slow-queries',
      text: 'Analyze slow queries',
      outOfScope:
        'Analysis is people’s work; the input is collected by code (perf-3-slow-query-log: statements slower than ' +
        '500 ms in CloudWatch Logs, and Performance Insights).',
    },
    {
      id: 'mon-3-review-cache-hit-rates',
      text: 'Review cache hit rates',
      outOfScope: 'A review by people, on numbers only the app exposes (/api/cache/stats); see perf-2-cache-hit-rate.',
    },
    {
      id: 'mon-3-n-plus-one',
      text: 'Check for N+1 query problems',
      outOfScope: `Code review of the app's ORM usage ${APP_CI}.`,
    },
  ]),
];
