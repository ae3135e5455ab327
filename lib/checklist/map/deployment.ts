/**
 * The checklist map's DEPLOYMENT PHASE: the pre-deployment backup and the
 * post-deployment verification.
 * One part of CHECKLIST_MAP: lib/checklist/checklist-map.ts lists the parts in the checklist's order.
 */
import type { MapEntry } from '../coverage';
import {
  alarm,
  cdk,
  cli,
  DATABASE_HARDENING,
  DEPLOY_PATH,
  hook,
  MONITORING_ALARMS,
  pin,
  REVIEW_TOKEN_ROUTES,
  SMOKE_HANDLER,
  SNAPSHOT_HOOK,
  SNS_TOKEN_ROUTES,
  STACKS,
  section,
  smoke,
  TEST_GATE,
  test,
} from './refs';

export const DEPLOYMENT_PHASE: readonly MapEntry[] = [
  ...section('DEPLOYMENT PHASE › 1. Pre-Deployment Backup', [
    {
      id: 'deploy-1-database-backup',
      text: 'Database backup created',
      enforcement: [
        hook('PRE_SCALE_UP'),
        test(
          SNAPSHOT_HOOK,
          'answers IN_PROGRESS, IN_PROGRESS, then SUCCEEDED as the snapshot goes from creating to available',
        ),
        cdk(
          'pre-deploy snapshots retained under their own prefix',
          DEPLOY_PATH,
          'keeps the configured number of snapshots under its own prefix',
        ),
        cdk(
          'automated backups (7 days dev, 30 prod)',
          STACKS,
          'keeps backups 7 days in dev and 30 in prod; prod is Multi-AZ with deletion protection',
        ),
        cdk(
          'AWS Backup: daily recovery points of the database and the lock table, kept backupRetentionDays',
          DATABASE_HARDENING,
          'backs up daily at 03:00 UTC and keeps each recovery point backupRetentionDays (7 dev, 14 staging, 30 prod)',
        ),
      ],
    },
    {
      id: 'deploy-1-git-tag',
      text: 'Git tag created',
      outOfScope:
        'Tagging the app’s repository is its release process; the deploy workflow (.github/workflows/deploy.yml) ' +
        'deploys an image tag but creates no git tag.',
    },
    {
      id: 'deploy-1-release-notes',
      text: 'Release notes documented',
      outOfScope: 'Release notes are written by people for people, in the app’s release process.',
    },
    {
      id: 'deploy-1-notes-features',
      text: 'New features: SNS Automation v2.0, Review Platform',
      outOfScope: 'Content of the release notes: written by people.',
    },
    {
      id: 'deploy-1-notes-breaking-changes',
      text: 'Breaking changes: None',
      outOfScope: 'Content of the release notes: a claim only the app’s developers can make.',
    },
    {
      id: 'deploy-1-notes-migration-steps',
      text: 'Migration steps: Flask restart only',
      outOfScope:
        'Content of the release notes. (Restarts need no step here: every release starts fresh tasks, ' +
        'pre-2-fresh-server; the one-time move to PostgreSQL is sec-2-migration-script.)',
    },
    {
      id: 'deploy-1-notes-rollback-plan',
      text: 'Rollback plan: Documented below',
      outOfScope:
        'Content of the release notes, like its three siblings: what people write for a release. The plan itself is ' +
        'code and needs no writing per release: ECS rolls back on a failed hook or deployment alarm, the rollback ' +
        'function after the bake, `sfdeploy rollback` by hand (the ROLLBACK PHASE items), and the README runbook ' +
        'documents each.',
    },
  ]),
  ...section('DEPLOYMENT PHASE › 3. Post-Deployment Verification', [
    {
      id: 'deploy-3-all-endpoints',
      text: 'All endpoints respond',
      enforcement: [
        hook('POST_PRODUCTION_TRAFFIC_SHIFT'),
        ...SNS_TOKEN_ROUTES,
        ...REVIEW_TOKEN_ROUTES,
        ...smoke('auth-me-token', 'health', 'ready-database'),
        test(SMOKE_HANDLER, 'smokes PRODUCTION_URL after the production shift and TEST_URL after the test shift'),
        cli('release-status'),
      ],
      note:
        'validate_before_deploy.sh becomes the smoke suite, run by the hook against the public URL after the shift: every ' +
        'route the checklist names, with the smoke token.',
    },
    {
      id: 'deploy-3-no-error-spike',
      text: 'No error rate spike',
      enforcement: [
        ...alarm('error-rate'),
        cdk(
          'error-rate alarm is a deployment alarm: rollback on alarm',
          MONITORING_ALARMS,
          'names the error-rate, latency and unhealthy-hosts alarms on the ECS service, rolling back on alarm',
        ),
        cdk(
          '5-minute bake time watched by the deployment alarms',
          STACKS,
          'deploys blue/green with the production and test listener rules and a 5-minute bake',
          pin('service', 'AWS::ECS::Service', 'DeploymentConfiguration.Strategy'),
        ),
      ],
      note: 'The checklist’s “errors in the first 5 minutes” is the bake time: a spike rolls the release back by itself.',
    },
    {
      id: 'deploy-3-db-connectivity',
      text: 'Database connectivity verified',
      enforcement: [
        ...smoke('ready-database', 'auth-me-token'),
        hook('POST_PRODUCTION_TRAFFIC_SHIFT'),
        cdk(
          'the database admits the service tasks on 5432',
          STACKS,
          'admits only the service tasks on 5432, with no other ingress on the database',
        ),
      ],
      note: 'ready-database reads the app’s own /ready answer: 200 with database "ok", the app having queried it.',
    },
    {
      id: 'deploy-3-all-teams-features',
      text: "All 8 teams' features working",
      enforcement: [
        ...smoke('auth-me-token', 'sns-posts-token', 'sns-linkinbio-token', 'review-listings-token'),
        ...smoke(
          'page-sns-create-localstorage',
          'page-monetize-apexcharts',
          'page-review-aggregator-api',
          'api-js-functions',
        ),
        ...smoke('review-scrape-now'),
        hook('POST_PRODUCTION_TRAFFIC_SHIFT'),
        TEST_GATE,
        cli('release-status'),
      ],
      note:
        'The checklist’s sample of each team with the smoke token (A auth/me, B/G posts, C linkinbio, D/F listings), plus ' +
        'the pages and api.js of teams B, C, F and H at both shifts and Team D’s scrape at the test-traffic gate.',
    },
  ]),
];
