/**
 * The checklist map's PRE-DEPLOYMENT PHASE: code and repository, Flask server health,
 * database validation, blueprint registration.
 * One part of CHECKLIST_MAP: lib/checklist/checklist-map.ts lists the parts in the checklist's order.
 */
import type { MapEntry } from '../coverage';
import {
  APP_CI,
  AUDIT_MONITORING,
  alarm,
  BOTH_SHIFTS,
  cdk,
  cli,
  DEPLOY_PATH,
  hook,
  MIGRATE_INTEGRITY,
  MIGRATE_PG,
  MIGRATE_SCHEMA,
  PRODUCTION_MODE,
  pin,
  SMOKE_SPEC,
  SNAPSHOT_HOOK,
  STACKS,
  section,
  smoke,
  test,
} from './refs';

export const PRE_DEPLOYMENT_PHASE: readonly MapEntry[] = [
  ...section('PRE-DEPLOYMENT PHASE › 1. Code & Repository Validation', [
    {
      id: 'pre-1-commits-pushed',
      text: 'All commits pushed to main branch',
      outOfScope:
        "The state of a developer's clone of the app's repository. The deploy workflow deploys an image tag from the " +
        "stage's ECR repository; which commits that image contains is decided where it is built (the app's CI).",
    },
    {
      id: 'pre-1-team-deliverables',
      text: 'Latest commit includes all 8-team deliverables',
      outOfScope:
        "Release content is a human judgement over the app's history (git log --grep), made when the release is " +
        'cut; the deployed result is checked route by route by the smoke suite (TEAM READINESS items).',
    },
    {
      id: 'pre-1-no-uncommitted-changes',
      text: 'No uncommitted changes',
      outOfScope:
        "The state of a working tree of the app's repository. Nothing is deployed from a working tree: the pipeline " +
        'deploys a tagged image from a registry (config imageRepository/imageTag).',
    },
    {
      id: 'pre-1-branch-protection',
      text: 'Branch protection enabled on main (GitHub settings)',
      outOfScope:
        'A GitHub repository setting (required reviews, status checks, stale approvals): configured on GitHub or with a ' +
        'GitHub provider, not by this AWS app. Not codified here.',
    },
  ]),
  ...section('PRE-DEPLOYMENT PHASE › 2. Flask Server Health Check', [
    {
      id: 'pre-2-fresh-server',
      text: 'Start fresh Flask server',
      enforcement: [
        cdk(
          'Fargate task: container web on 8000 under gunicorn, ENVIRONMENT/TESTING set explicitly per stage',
          STACKS,
          'runs container web on 8000 with the stage’s app mode and DATABASE_URL assembled at start from Secrets Manager',
        ),
        cdk(
          'ECS native blue/green: every release starts new tasks (green) beside the old ones',
          STACKS,
          'deploys blue/green with the production and test listener rules and a 5-minute bake',
          pin('service', 'AWS::ECS::Service', 'DeploymentConfiguration.Strategy'),
        ),
      ],
      note: 'No `pkill python`: each release starts fresh tasks and retires the old ones only after green passed.',
    },
    {
      id: 'pre-2-server-running',
      text: 'Verify server is running',
      enforcement: [
        cdk(
          'target groups health-check GET /health on the container port; the container health check calls /ready',
          PRODUCTION_MODE,
          'health-checks the container on /ready with X-Forwarded-Proto: https, and the target groups accept the 301 of production mode',
        ),
        ...alarm('healthy-hosts', 'unhealthy-hosts'),
      ],
    },
    {
      id: 'pre-2-health-endpoint',
      text: 'Health check endpoint responds',
      enforcement: [
        ...smoke('health'),
        ...BOTH_SHIFTS,
        cdk(
          'target groups expect 200 from GET /health (or the 301 of production mode)',
          STACKS,
          'health-checks two target groups (blue, green) with GET /health expecting 200 (dev runs the app in test mode)',
          pin('service', 'AWS::ElasticLoadBalancingV2::TargetGroup', 'HealthCheckPath'),
        ),
        ...alarm('unhealthy-hosts'),
      ],
    },
    {
      id: 'pre-2-startup-errors',
      text: 'Check for startup errors in logs',
      enforcement: [
        cdk(
          'the web container logs to the app log group (awslogs-group pinned)',
          STACKS,
          'ships app logs to a log group with 30-day retention',
          pin('service', 'AWS::ECS::TaskDefinition', 'ContainerDefinitions.0.LogConfiguration.Options.awslogs-group'),
        ),
        cdk(
          'a metric filter counts every ERROR, CRITICAL, Traceback or Exception line of that group',
          AUDIT_MONITORING,
          'counts every app log line with ERROR, CRITICAL, Traceback or Exception in a per-stage metric',
        ),
        ...alarm('app-error-lines', 'unhealthy-hosts'),
        test(AUDIT_MONITORING, 'alarms on any error line in a minute and notifies the stage topic, with a runbook'),
      ],
      note:
        'Any error line in a minute raises app-error-lines to the stage topic; a task that fails to start never passes the ' +
        'health check, and the unhealthy-hosts deployment alarm rolls the release back.',
    },
  ]),
  ...section('PRE-DEPLOYMENT PHASE › 3. Database Validation', [
    {
      id: 'pre-3-sqlite-readable',
      text: 'SQLite database file exists and is readable',
      enforcement: [
        cli('migrate'),
        test(MIGRATE_PG, 'loads every row and verifies counts, checksums, keys and indexes'),
      ],
      note: 'The SQLite file matters once: as the source of the migration to PostgreSQL, which opens and reads all of it.',
    },
    {
      id: 'pre-3-schema-complete',
      text: 'Database schema is complete',
      partial:
        "nothing checks that the app's tables are present in the SQLite file: a file missing a table migrates successfully",
      enforcement: [
        cli('migrate'),
        test(MIGRATE_PG, 'translates column types, order and lengths the way the app relies on'),
        test(MIGRATE_SCHEMA, 'maps every Flask-SQLAlchemy declared type to the PostgreSQL type the app expects'),
      ],
      note: 'Every table of the SQLite file arrives in PostgreSQL with its columns, keys and indexes, and is verified.',
    },
    {
      id: 'pre-3-test-data',
      text: 'Test data exists',
      outOfScope:
        'Seed rows (users, sns_account > 0) are fixtures of a developer database; production holds real data. That ' +
        'the data arrives intact is sec-2-verify-data-integrity (row counts and checksums per table).',
    },
    {
      id: 'pre-3-no-corruption',
      text: 'No database corruption',
      enforcement: [
        cli('migrate'),
        test(MIGRATE_INTEGRITY, 'refuses a damaged source before a migration reads or writes anything'),
        test(
          MIGRATE_INTEGRITY,
          '--check runs the full integrity_check, which finds an index that no longer matches its table',
        ),
        test(MIGRATE_INTEGRITY, 'sfdeploy migrate --check exits 2 with one line naming the file and the first problem'),
        test(MIGRATE_PG, '--verify-only finds a changed value in the target'),
      ],
      note:
        'PRAGMA quick_check before every migration, the full integrity_check with --check; then every row is checksummed ' +
        'on both sides.',
    },
    {
      id: 'pre-3-backup',
      text: 'Backup created before deployment',
      enforcement: [
        hook('PRE_SCALE_UP'),
        test(
          SNAPSHOT_HOOK,
          'answers IN_PROGRESS, IN_PROGRESS, then SUCCEEDED as the snapshot goes from creating to available',
        ),
        cdk(
          'snapshot hook on PRE_SCALE_UP with a timeout that rolls back',
          DEPLOY_PATH,
          'registers the smoke hook for both post-shift stages and the snapshot hook for PRE_SCALE_UP, each with a timeout',
        ),
      ],
    },
  ]),
  ...section('PRE-DEPLOYMENT PHASE › 4. Blueprint Registration Verification', [
    {
      id: 'pre-4-blueprint-diagnostic',
      text: 'Run diagnostic script to verify all blueprints',
      outOfScope:
        'Counting blueprints and routes (12 / 29 / 26) needs the running app’s url_map: diagnose_blueprints.py ' +
        `${APP_CI}. From outside, the deployment checks that every named route answers (pre-4-critical-endpoints, ` +
        'team-e-sns-endpoints, team-e-review-endpoints).',
    },
    {
      id: 'pre-4-critical-endpoints',
      text: 'All critical endpoints return 200/401/201 (NOT 404)',
      enforcement: [
        ...smoke(
          'sns-posts-token',
          'review-listings-token',
          'auth-me-token',
          'sns-posts',
          'review-listings',
          'auth-me',
        ),
        ...BOTH_SHIFTS,
        test(SMOKE_SPEC, 'never accepts a 404 from a read-only route check'),
        test(
          SMOKE_SPEC,
          'sends the smoke token to every API route the checklist names, expecting 200 (405 for a POST-only route to GET)',
        ),
      ],
      note:
        'The -token checks send the smoke token and expect 200, so an app that authenticates before routing (a 401 for ' +
        'any path) cannot pass a missing route; the unauthenticated checks test the auth layer.',
    },
  ]),
];
