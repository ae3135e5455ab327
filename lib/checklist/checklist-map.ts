/**
 * The production checklist (docs/production-deployment-checklist.md), item by item: how the project enforces it, or
 * why it is out of scope. One entry per checkbox, matched by section + text; the id is written here once and never
 * derived again. test/lib/checklist.test.ts fails on an unmapped checkbox, a stale entry, and any reference to a smoke
 * check, alarm, hook, command or test that does not exist. docs/CHECKLIST.md is generated from this file
 * (`npm run docs:checklist`).
 *
 * Rules of honesty: a reference names something that really enforces the item (a test asserts the property; the smoke
 * check fails when the item is broken). What only the app's own source can show (grep over web/*.html, Python
 * imports) belongs to the app's CI; what a person decides or signs belongs to people.
 */
import type { CliCommand, EnforcementRef, LifecycleStage, MapEntry } from './coverage';

const smoke = (...checks: string[]): EnforcementRef[] => checks.map((check) => ({ kind: 'smoke', check }));
const alarm = (...signals: string[]): EnforcementRef[] => signals.map((signal) => ({ kind: 'alarm', signal }));
const hook = (stage: LifecycleStage): EnforcementRef => ({ kind: 'hook', stage });
const cli = (command: CliCommand): EnforcementRef => ({ kind: 'cli', command });
const cdk = (what: string, file: string, title: string): EnforcementRef => ({
  kind: 'cdk',
  what,
  test: { file, title },
});
const test = (file: string, title: string): EnforcementRef => ({ kind: 'test', file, title });

const STACKS = 'test/lib/stacks.test.ts';
const MONITORING_ALARMS = 'test/lib/monitoring-alarms.test.ts';
const MONITORING_NOTIFICATIONS = 'test/lib/monitoring-notifications.test.ts';
const MONITORING_DASHBOARD = 'test/lib/monitoring-dashboard.test.ts';
const MONITORING_LOGS = 'test/lib/monitoring-logs.test.ts';
const CONFIG = 'test/lib/config.test.ts';
const DEPLOY_PATH = 'test/lib/deploy-path.test.ts';
const SMOKE_SPEC = 'test/lambda/smoke/spec.test.ts';
const PRODUCTION_MODE = 'test/lib/production-mode.test.ts';
const SMOKE_DEFAULT = 'test/lambda/smoke/default-spec.test.ts';
const SMOKE_HANDLER = 'test/lambda/smoke/handler.test.ts';
const SNAPSHOT_HOOK = 'test/lambda/snapshot-hook/snapshot-hook.test.ts';
const ROLLBACK_HANDLER = 'test/lambda/rollback/handler.test.ts';
const MIGRATE_PG = 'test/lambda/migrate/migrate-pg.test.ts';
const MIGRATE_SCHEMA = 'test/lambda/migrate/schema.test.ts';
const MIGRATE_RESUME = 'test/lambda/migrate/crash-resume.test.ts';

/** Smoke checks run by the deployment hooks (green, then production): every read-only check of the default spec. */
const BOTH_SHIFTS: EnforcementRef[] = [hook('POST_TEST_TRAFFIC_SHIFT'), hook('POST_PRODUCTION_TRAFFIC_SHIFT')];

const SNS_ROUTES = smoke(
  'sns-accounts',
  'sns-posts',
  'sns-templates',
  'sns-workflows',
  'sns-automate',
  'sns-ai-generate',
  'sns-linkinbio',
  'sns-trending',
  'sns-competitor',
);
const REVIEW_ROUTES = smoke(
  'review-listings',
  'review-campaigns',
  'review-accounts',
  'review-applications',
  'review-auto-apply',
  'review-rules',
);

const APP_CI = "belongs in the app's own CI (SoftFactory's repository), not in its deployment";
const STATUS_LABEL =
  "A team's self-declared status label, not a check: the team's readiness is what its other items establish " +
  '(each mapped above), and the smoke suite re-checks the deployed result on every release.';
const WRITES =
  'A data-writing check: it runs with `sfdeploy smoke --allow-writes` (staging, or production on purpose) and cleans ' +
  'up after itself; the deployment hooks never write, so they run the read-only checks of the same flow.';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Entries of one section; the section text is written once. */
function section(name: string, entries: readonly DistributiveOmit<MapEntry, 'section'>[]): MapEntry[] {
  return entries.map((e) => ({ ...e, section: name }));
}

export const CHECKLIST_MAP: readonly MapEntry[] = [
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
        ),
        ...alarm('unhealthy-hosts'),
      ],
    },
    {
      id: 'pre-2-startup-errors',
      text: 'Check for startup errors in logs',
      enforcement: [
        cdk('app logs in a CloudWatch log group', STACKS, 'ships app logs to a log group with 30-day retention'),
        cdk(
          'saved Logs Insights query errors-last-5-minutes',
          MONITORING_LOGS,
          'saves Logs Insights queries: errors in the last 5 minutes, requests slower than 500 ms, 5xx by path',
        ),
        ...alarm('unhealthy-hosts'),
      ],
      note:
        'A task that fails to start never passes the health check: the unhealthy-hosts deployment alarm rolls the ' +
        'release back. Reading the log lines is a person’s job; the saved query is the `tail | grep` of the checklist.',
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
        test(MIGRATE_PG, 'loads every row and verifies counts, checksums, keys and indexes'),
        test(MIGRATE_PG, '--verify-only finds a changed value in the target'),
      ],
      note:
        'Checked where it matters for production: every row is read and checksummed on both sides, so a transfer ' +
        'that changed data fails. `PRAGMA integrity_check` of the SQLite file itself is not run (an unreadable page ' +
        'fails the read; a damaged index of the source would not be noticed).',
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
        ...smoke('sns-posts', 'review-listings', 'auth-me'),
        ...BOTH_SHIFTS,
        test(SMOKE_SPEC, 'never accepts a 404 from a read-only route check'),
      ],
    },
  ]),
  ...section('TEAM READINESS PHASE › Team A: OAuth & Social Login', [
    {
      id: 'team-a-auth-endpoints',
      text: 'Auth endpoints respond correctly',
      enforcement: [
        ...smoke('oauth-google-url', 'oauth-facebook-url', 'oauth-kakao-url'),
        ...smoke('oauth-google-live', 'oauth-facebook-live', 'oauth-kakao-live'),
        ...BOTH_SHIFTS,
      ],
      note: 'On the production stages the -live checks also demand real https OAuth URLs, not the app’s mock mode.',
    },
    {
      id: 'team-a-demo-token',
      text: 'demo_token is accepted',
      enforcement: [
        ...smoke('demo-token-accepted'),
        ...BOTH_SHIFTS,
        test(
          SMOKE_DEFAULT,
          'runs the test-mode check (demo_token accepted) against the test-mode variant, as dev does',
        ),
        ...smoke('demo-token-refused', 'test-token-refused'),
        test(
          SMOKE_DEFAULT,
          'fails every production-mode check against the test-mode variant (the environment without ENVIRONMENT/TESTING)',
        ),
      ],
      note:
        'A test-stage check: demo-token-accepted runs only where the app runs in test mode (dev, APP_MODE=test). On ' +
        'the production stages (staging, prod) the opposite is enforced: demo-token-refused and test-token-refused ' +
        'fail the release when the app accepts the shared tokens. Authenticated checks use a dedicated smoke user’s ' +
        'token from Secrets Manager, never demo_token.',
    },
    {
      id: 'team-a-login-page',
      text: 'Login page loads',
      enforcement: [...smoke('page-login'), ...BOTH_SHIFTS],
    },
    { id: 'team-a-status', text: 'Status: ✅ READY FOR PRODUCTION', outOfScope: STATUS_LABEL },
  ]),
  ...section('TEAM READINESS PHASE › Team B: create.html & Direct Post Creation', [
    {
      id: 'team-b-page-loads',
      text: 'Page loads without errors',
      enforcement: [...smoke('page-sns-create'), ...BOTH_SHIFTS],
    },
    {
      id: 'team-b-api-calls-match',
      text: 'API calls in page match backend endpoints',
      outOfScope: `Static analysis of web/sns-auto/create.html against app.url_map ${APP_CI}.`,
    },
    {
      id: 'team-b-localstorage-token',
      text: 'localStorage token handling present',
      outOfScope: `A grep of web/sns-auto/create.html for localStorage ${APP_CI}.`,
    },
    { id: 'team-b-status', text: 'Status: ✅ READY (waiting for API)', outOfScope: STATUS_LABEL },
  ]),
  ...section('TEAM READINESS PHASE › Team C: Monetization Pages', [
    {
      id: 'team-c-monetization-pages',
      text: 'All 4 monetization pages exist',
      enforcement: [...smoke('page-link-in-bio', 'page-monetize', 'page-viral', 'page-competitor'), ...BOTH_SHIFTS],
    },
    {
      id: 'team-c-apexcharts',
      text: 'ApexCharts library loaded',
      outOfScope: `A grep of web/sns-auto/monetize.html for ApexCharts ${APP_CI}; whether charts render needs a browser.`,
    },
    {
      id: 'team-c-endpoints',
      text: 'Endpoints are accessible',
      enforcement: [...smoke('sns-linkinbio', 'sns-trending'), ...BOTH_SHIFTS],
    },
    {
      id: 'team-c-status',
      text: 'Status: ✅ READY (1 medium warning: chart rendering)',
      outOfScope: STATUS_LABEL,
    },
  ]),
  ...section('TEAM READINESS PHASE › Team D: Review Scrapers', [
    {
      id: 'team-d-scraper-files',
      text: 'Scraper files exist',
      outOfScope: `Counting backend/services/review_scrapers/*.py ${APP_CI}; the image is built from that source.`,
    },
    {
      id: 'team-d-apscheduler',
      text: 'APScheduler configured',
      outOfScope: `A grep of backend/scheduler.py ${APP_CI}.`,
    },
    {
      id: 'team-d-scrape-endpoint',
      text: 'Scrape endpoint accessible',
      enforcement: [...smoke('review-scrape-now'), cli('smoke')],
      note: WRITES,
    },
    {
      id: 'team-d-review-listings-data',
      text: 'Review listings in database',
      outOfScope:
        'Whether production holds review listings is business data, not a deployment property (a new installation ' +
        'has none). The listings endpoint answering is checked by review-listings / review-listings-token.',
    },
    { id: 'team-d-status', text: 'Status: ✅ READY', outOfScope: STATUS_LABEL },
  ]),
  ...section('TEAM READINESS PHASE › Team E: API Endpoints & Blueprint Registration', [
    {
      id: 'team-e-55-endpoints',
      text: '55 total API endpoints registered',
      outOfScope:
        `The number of registered routes is visible only inside the app (url_map): ${APP_CI}. The checklist's own ` +
        'command only curls /health, which is pre-2-health-endpoint.',
    },
    {
      id: 'team-e-sns-endpoints',
      text: 'SNS endpoints (29) all respond',
      enforcement: [
        ...SNS_ROUTES,
        ...BOTH_SHIFTS,
        test(SMOKE_SPEC, 'checks every endpoint and page the checklist names'),
      ],
      note: 'The nine SNS routes the checklist names (of 29); no 404, no 5xx, JSON.',
    },
    {
      id: 'team-e-review-endpoints',
      text: 'Review endpoints (26) all respond',
      enforcement: [
        ...REVIEW_ROUTES,
        ...BOTH_SHIFTS,
        test(SMOKE_SPEC, 'checks every endpoint and page the checklist names'),
      ],
      note: 'The six review routes the checklist names (of 26); no 404, no 5xx, JSON.',
    },
    {
      id: 'team-e-json-errors',
      text: 'Error responses are JSON (not HTML)',
      enforcement: [
        ...smoke('invalid-token'),
        ...BOTH_SHIFTS,
        test(SMOKE_SPEC, 'never accepts a 5xx and always demands JSON from /api/ routes'),
      ],
    },
    { id: 'team-e-status', text: 'Status: ✅ READY', outOfScope: STATUS_LABEL },
  ]),
  ...section('TEAM READINESS PHASE › Team F: Review UI Pages', [
    {
      id: 'team-f-review-pages',
      text: 'All 4 review pages exist',
      enforcement: [
        ...smoke(
          'page-review-aggregator',
          'page-review-applications',
          'page-review-accounts',
          'page-review-auto-apply',
        ),
        ...BOTH_SHIFTS,
      ],
    },
    {
      id: 'team-f-pages-call-api',
      text: 'Pages call correct API endpoints',
      outOfScope: `A grep of web/review/*.html for fetch(…api/review…) ${APP_CI}.`,
    },
    {
      id: 'team-f-auth-headers',
      text: 'Auth headers present',
      outOfScope: `A grep of web/review/aggregator.html for Authorization ${APP_CI}.`,
    },
    { id: 'team-f-status', text: 'Status: ✅ READY', outOfScope: STATUS_LABEL },
  ]),
  ...section('TEAM READINESS PHASE › Team G: SNS API Services', [
    {
      id: 'team-g-sns-endpoints',
      text: 'All SNS endpoints respond correctly',
      enforcement: [...smoke('sns-automate', 'sns-ai-generate', 'sns-linkinbio-stats'), ...BOTH_SHIFTS],
    },
    {
      id: 'team-g-caching-ttl',
      text: 'Caching layer configured (15-min TTL)',
      outOfScope:
        `A grep of backend/services/sns_cache.py ${APP_CI}. The cache's TTL is not observable from outside; the ` +
        'cache answering is perf-2-cache-stats.',
    },
    {
      id: 'team-g-json-responses',
      text: 'Responses are JSON format',
      enforcement: [
        ...smoke('sns-posts-token'),
        ...BOTH_SHIFTS,
        test(SMOKE_SPEC, 'never accepts a 5xx and always demands JSON from /api/ routes'),
      ],
    },
    { id: 'team-g-status', text: 'Status: ✅ READY', outOfScope: STATUS_LABEL },
  ]),
  ...section('TEAM READINESS PHASE › Team H: api.js Client Library', [
    {
      id: 'team-h-48-functions',
      text: 'File exists and has 48+ functions',
      outOfScope: `Counting exports of web/platform/api.js ${APP_CI}.`,
    },
    {
      id: 'team-h-oauth-functions',
      text: 'OAuth functions present',
      outOfScope: `A grep of web/platform/api.js for loginWith* ${APP_CI}.`,
    },
    {
      id: 'team-h-sns-functions',
      text: 'SNS API functions present',
      outOfScope: `A grep of web/platform/api.js for sns ${APP_CI}.`,
    },
    {
      id: 'team-h-review-functions',
      text: 'Review API functions present',
      outOfScope: `A grep of web/platform/api.js for review ${APP_CI}.`,
    },
    {
      id: 'team-h-error-handling',
      text: 'Error handling present',
      outOfScope: `A grep of web/platform/api.js for .catch ${APP_CI}.`,
    },
    { id: 'team-h-status', text: 'Status: ✅ READY', outOfScope: STATUS_LABEL },
  ]),
  ...section('INTEGRATION PHASE › 1. End-to-End Flow Testing', [
    {
      id: 'int-1-auth-flow',
      text: 'Auth Flow',
      enforcement: [...smoke('oauth-google-url', 'oauth-google-live', 'auth-me-token'), ...BOTH_SHIFTS],
    },
    {
      id: 'int-1-sns-post-flow',
      text: 'SNS Post Creation Flow',
      enforcement: [
        ...smoke('sns-accounts-token', 'sns-post-create'),
        cli('smoke'),
        test(SMOKE_DEFAULT, 'with writes allowed creates a post and deletes it again'),
      ],
      note: WRITES,
    },
    {
      id: 'int-1-review-listing-flow',
      text: 'Review Listing Flow',
      enforcement: [...smoke('review-listings-token', 'review-listing-apply'), cli('smoke')],
      note: WRITES,
    },
  ]),
  ...section('INTEGRATION PHASE › 2. Frontend Integration', [
    {
      id: 'int-2-html-pages',
      text: 'All HTML pages load (75+ pages)',
      outOfScope:
        `The checklist's command counts files under web/ (find | wc -l): ${APP_CI}. The deployment loads the 11 ` +
        'pages the checklist names (team-a/b/c/f page items, int-2-css-js).',
    },
    {
      id: 'int-2-css-js',
      text: 'CSS/JS files are served',
      enforcement: [...smoke('page-index'), ...BOTH_SHIFTS],
      note: 'page-index checks that the platform index references its CSS/JS, as the checklist’s grep does.',
    },
    {
      id: 'int-2-frontend-apis-match',
      text: 'API calls from frontend match backend',
      outOfScope: `Extracting fetch() URLs from web/**/*.html and comparing them with url_map ${APP_CI}.`,
    },
  ]),
  ...section('INTEGRATION PHASE › 3. Database Integrity', [
    {
      id: 'int-3-model-relationships',
      text: 'All model relationships valid',
      enforcement: [
        cli('migrate'),
        test(MIGRATE_PG, 'fails when PostgreSQL cannot validate a foreign key, naming every orphan row'),
        test(MIGRATE_PG, 'creates keys, uniques and indexes under their original names, and validated foreign keys'),
      ],
      note: 'In PostgreSQL every relationship is a validated foreign key: an orphan row fails the migration by name.',
    },
    {
      id: 'int-3-foreign-keys',
      text: 'Foreign keys are enforced',
      enforcement: [
        cli('migrate'),
        test(MIGRATE_PG, 'creates keys, uniques and indexes under their original names, and validated foreign keys'),
        test(MIGRATE_PG, 'restores the app’s foreign keys after the load'),
      ],
      note: 'PostgreSQL always enforces foreign keys (SQLite needs PRAGMA foreign_keys=ON per connection).',
    },
    {
      id: 'int-3-indexes',
      text: 'Indexes are present for performance',
      enforcement: [
        cli('migrate'),
        test(MIGRATE_PG, 'loads every row and verifies counts, checksums, keys and indexes'),
        test(MIGRATE_PG, 'creates keys, uniques and indexes under their original names, and validated foreign keys'),
      ],
    },
  ]),
  ...section('SECURITY PHASE › 1. Authentication & Authorization', [
    {
      id: 'sec-1-jwt-validated',
      text: 'JWT tokens validated',
      enforcement: [
        ...smoke('invalid-token', 'auth-me'),
        ...BOTH_SHIFTS,
        test(SMOKE_SPEC, 'checks CORS with the checklist origin and invalid tokens with a JSON error'),
      ],
    },
    {
      id: 'sec-1-demo-token',
      text: 'demo_token mechanism working',
      enforcement: [
        ...smoke('demo-token-accepted', 'demo-token-refused', 'test-token-refused', 'auth-me-token'),
        ...BOTH_SHIFTS,
      ],
      note:
        'A test-stage check (dev runs the app in test mode, where demo-token-accepted holds); the production stages ' +
        'check that the mechanism is off (demo-token-refused, test-token-refused). The bearer mechanism itself is ' +
        'exercised with the smoke user’s token (auth-me-token). See team-a-demo-token.',
    },
    {
      id: 'sec-1-cors',
      text: 'CORS configured correctly',
      enforcement: [
        ...smoke('cors-health'),
        ...BOTH_SHIFTS,
        test(SMOKE_SPEC, 'checks CORS with the checklist origin and invalid tokens with a JSON error'),
      ],
    },
  ]),
  ...section('SECURITY PHASE › 2. Data Protection', [
    {
      id: 'sec-2-postgresql',
      text: 'Database is SQLite (dev) → switch to PostgreSQL (prod)',
      enforcement: [
        cdk(
          'RDS PostgreSQL 17, encrypted, isolated subnets',
          STACKS,
          'runs PostgreSQL 17 in the isolated subnets, encrypted with its own KMS key',
        ),
        cdk(
          'the app reads DATABASE_URL assembled from the database secret',
          STACKS,
          'runs container web on 8000 with the stage’s app mode and DATABASE_URL assembled at start from Secrets Manager',
        ),
        cli('migrate'),
      ],
    },
    {
      id: 'sec-2-migration-script',
      text: 'Create PostgreSQL migration script',
      enforcement: [
        cli('migrate'),
        test(MIGRATE_PG, 'loads every row and verifies counts, checksums, keys and indexes'),
        test(
          MIGRATE_RESUME,
          'leaves no partly loaded table that looks complete, and the rerun ends with identical checksums',
        ),
      ],
    },
    {
      id: 'sec-2-schema-transfer',
      text: 'Test schema transfer',
      enforcement: [
        cli('migrate'),
        test(MIGRATE_PG, 'translates column types, order and lengths the way the app relies on'),
        test(MIGRATE_SCHEMA, 'maps every Flask-SQLAlchemy declared type to the PostgreSQL type the app expects'),
        test(MIGRATE_PG, 'loads into tables the app created, converting by the target column types'),
      ],
    },
    {
      id: 'sec-2-verify-data-integrity',
      text: 'Verify data integrity post-migration',
      enforcement: [
        cli('migrate'),
        test(MIGRATE_PG, 'loads every row and verifies counts, checksums, keys and indexes'),
        test(MIGRATE_PG, '--verify-only finds a changed value in the target'),
        test(MIGRATE_PG, 'keeps 64-bit integers, Korean and emoji text, blobs and JSON exactly'),
      ],
    },
    {
      id: 'sec-2-passwords-hashed',
      text: 'Passwords hashed (werkzeug.security)',
      outOfScope: `A grep of backend/models.py for generate_password_hash ${APP_CI}; hashing happens inside the app.`,
    },
    {
      id: 'sec-2-sensitive-data-not-logged',
      text: 'Sensitive data not logged',
      enforcement: [
        cdk(
          'data-protection policy masking credentials and tokens in the app log group',
          MONITORING_LOGS,
          'audits and masks credentials and tokens in the app’s log group',
        ),
        cdk(
          'masking patterns for what SoftFactory could log',
          MONITORING_LOGS,
          'masks the secrets SoftFactory could log, and leaves ordinary lines alone',
        ),
        cdk('no password in any template', STACKS, 'puts no password in any template'),
      ],
      note:
        'What the app writes is the app’s; the deployment masks what slips through (readers without logs:Unmask see ' +
        '****) and puts no secret in templates, environment variables or logs of its own.',
    },
  ]),
  ...section('SECURITY PHASE › 3. Input Validation', [
    {
      id: 'sec-3-post-validation',
      text: 'POST endpoints validate request data',
      enforcement: [
        ...smoke('input-validation'),
        ...BOTH_SHIFTS,
        test(SMOKE_DEFAULT, 'catches missing input validation, and still deletes the post it created by mistake'),
      ],
    },
    {
      id: 'sec-3-sql-injection',
      text: 'SQL injection prevention (SQLAlchemy ORM used)',
      enforcement: [
        cdk(
          'WAF web ACL with AWSManagedRulesSQLiRuleSet on the ALB',
          STACKS,
          'protects the ALB with a WAF web ACL: per-IP rate limit, three AWS managed rule groups, and logging',
        ),
      ],
      note: `At the edge only: that queries go through the ORM (the checklist's grep) ${APP_CI}.`,
    },
  ]),
  ...section('SECURITY PHASE › 4. API Security', [
    {
      id: 'sec-4-rate-limiting',
      text: 'Rate limiting configured',
      enforcement: [
        cdk(
          'WAF rate-based rule per client IP (wafRateLimit)',
          STACKS,
          'protects the ALB with a WAF web ACL: per-IP rate limit, three AWS managed rule groups, and logging',
        ),
      ],
    },
    {
      id: 'sec-4-flask-limiter',
      text: 'Check Flask-Limiter setup',
      outOfScope:
        'Flask-Limiter is the app’s library and configuration; the deployment limits per client IP at the edge instead ' +
        '(sec-4-rate-limiting), which also holds with several tasks, where an in-process limiter counts per task.',
    },
    {
      id: 'sec-4-rate-limit-logs',
      text: 'Verify rate limits in logs',
      enforcement: [
        cdk(
          'WAF logging to aws-waf-logs-softfactory-<stage>',
          STACKS,
          'protects the ALB with a WAF web ACL: per-IP rate limit, three AWS managed rule groups, and logging',
        ),
      ],
    },
    {
      id: 'sec-4-https-required',
      text: 'HTTPS required (prod)',
      enforcement: [
        cdk(
          'HTTPS listener on 443, TLS 1.3 policy',
          STACKS,
          'serves HTTPS on 443 with the certificate and a TLS 1.3 policy',
        ),
        cdk('HTTP listener answers 301 to HTTPS', STACKS, 'redirects HTTP to HTTPS with a 301'),
        ...smoke('hsts', 'http-redirect'),
        ...BOTH_SHIFTS,
      ],
      note: 'On the production stages the smoke hooks check the deployed app sends Strict-Transport-Security (hsts) and plain HTTP is redirected (http-redirect).',
    },
    {
      id: 'sec-4-tls-certificate',
      text: 'SSL/TLS certificate obtained',
      enforcement: [
        cdk(
          'ACM certificate imported by ARN or DNS-validated',
          CONFIG,
          'imports a certificate by ARN or creates a DNS-validated one',
        ),
        cdk(
          'the smoke hooks verify TLS against the configured host name',
          CONFIG,
          'requires the host name with an imported certificate, since the smoke checks verify TLS against it',
        ),
      ],
      note: 'Synth without a certificate warns (softfactory:placeholder-certificate); a deploy would fail at the listener.',
    },
    {
      id: 'sec-4-redirect-https',
      text: 'Redirect HTTP → HTTPS',
      enforcement: [
        cdk('HTTP listener answers 301 to HTTPS', STACKS, 'redirects HTTP to HTTPS with a 301'),
        ...smoke('http-redirect'),
        ...BOTH_SHIFTS,
      ],
      note: 'http-redirect sends plain HTTP to the deployed load balancer on the production stages (staging, prod).',
    },
    {
      id: 'sec-4-api-versioning',
      text: 'API versioning (optional but recommended)',
      outOfScope: 'API design of the app (its URL structure); nothing for the deployment to enforce.',
    },
    {
      id: 'sec-4-plan-versions',
      text: 'Plan v1/v2 endpoint structure',
      outOfScope: 'A design decision for the app’s developers; the deployment serves whatever routes the app has.',
    },
    {
      id: 'sec-4-document-versions',
      text: 'Document API versions',
      outOfScope: 'Documentation of the app’s API, written by its developers.',
    },
  ]),
  ...section('PERFORMANCE PHASE › 1. Response Time Benchmarks', [
    {
      id: 'perf-1-auth-100ms',
      text: 'Auth endpoint < 100ms',
      enforcement: [
        ...smoke('auth-me-token', 'auth-me'),
        ...BOTH_SHIFTS,
        test(SMOKE_SPEC, 'holds API reads to the checklist latency budgets: auth 100 ms, SNS 200 ms, review 300 ms'),
      ],
    },
    {
      id: 'perf-1-sns-200ms',
      text: 'SNS endpoints < 200ms (with caching)',
      enforcement: [
        ...smoke('sns-accounts-token', 'sns-accounts'),
        ...BOTH_SHIFTS,
        test(SMOKE_SPEC, 'holds API reads to the checklist latency budgets: auth 100 ms, SNS 200 ms, review 300 ms'),
      ],
    },
    {
      id: 'perf-1-review-300ms',
      text: 'Review endpoints < 300ms',
      enforcement: [
        ...smoke('review-listings-token', 'review-listings'),
        ...BOTH_SHIFTS,
        test(SMOKE_SPEC, 'holds API reads to the checklist latency budgets: auth 100 ms, SNS 200 ms, review 300 ms'),
      ],
    },
  ]),
  ...section('PERFORMANCE PHASE › 2. Caching Validation', [
    {
      id: 'perf-2-cache-stats',
      text: 'Cache statistics endpoint working',
      enforcement: [...smoke('cache-stats'), ...BOTH_SHIFTS],
    },
    {
      id: 'perf-2-cache-hit-rate',
      text: 'Cache hit rate > 50% (after warm-up)',
      outOfScope:
        'Needs a warm-up load and the app’s own counters; the app publishes no hit-rate metric the deployment could ' +
        'alarm on. A candidate once it does (a CloudWatch metric from /api/cache/stats).',
    },
  ]),
  ...section('PERFORMANCE PHASE › 3. Database Query Performance', [
    {
      id: 'perf-3-slow-query-log',
      text: 'Slow query logging enabled',
      enforcement: [
        cdk(
          'parameter group log_min_duration_statement = slowQueryMs (500)',
          STACKS,
          'forces TLS and logs statements slower than 500 ms',
        ),
        cdk(
          'postgresql log exported to CloudWatch Logs',
          STACKS,
          'exports PostgreSQL logs to log groups with 30-day retention created before the instance',
        ),
      ],
    },
    {
      id: 'perf-3-indexes-cover-queries',
      text: 'Indexes cover common queries',
      outOfScope:
        'Which queries are common is the app’s knowledge (its models and query patterns). The deployment keeps every ' +
        'index the app declared (int-3-indexes) and shows uncovered queries in the slow-statement log and Performance ' +
        'Insights; deciding on an index is a person’s job.',
    },
  ]),
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
      enforcement: [
        cdk(
          'deployment alarms on the ECS service with rollback on alarm',
          MONITORING_ALARMS,
          'names the error-rate, latency and unhealthy-hosts alarms on the ECS service, rolling back on alarm',
        ),
        cli('rollback'),
        test(
          ROLLBACK_HANDLER,
          'rolls a regression after the bake back with exactly one UpdateService to the previous revision',
        ),
      ],
      note: 'The plan is code: ECS rolls back on a failed hook or alarm, the rollback function after the bake, `sfdeploy rollback` by hand; the README runbook documents each.',
    },
  ]),
  ...section('DEPLOYMENT PHASE › 3. Post-Deployment Verification', [
    {
      id: 'deploy-3-all-endpoints',
      text: 'All endpoints respond',
      enforcement: [
        hook('POST_PRODUCTION_TRAFFIC_SHIFT'),
        ...SNS_ROUTES,
        ...REVIEW_ROUTES,
        ...smoke('auth-me', 'health'),
        test(SMOKE_HANDLER, 'smokes PRODUCTION_URL after the production shift and TEST_URL after the test shift'),
        cli('release-status'),
      ],
      note: 'validate_before_deploy.sh becomes the smoke suite, run by the hook against the public URL after the shift.',
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
        ),
      ],
      note: 'The checklist’s “errors in the first 5 minutes” is the bake time: a spike rolls the release back by itself.',
    },
    {
      id: 'deploy-3-db-connectivity',
      text: 'Database connectivity verified',
      enforcement: [
        ...smoke('auth-me-token', 'auth-me'),
        hook('POST_PRODUCTION_TRAFFIC_SHIFT'),
        cdk(
          'the database admits the service tasks on 5432',
          STACKS,
          'admits only the service tasks on 5432, with no other ingress on the database',
        ),
      ],
    },
    {
      id: 'deploy-3-all-teams-features',
      text: "All 8 teams' features working",
      enforcement: [
        ...smoke('auth-me', 'sns-posts', 'sns-linkinbio', 'review-listings'),
        hook('POST_PRODUCTION_TRAFFIC_SHIFT'),
        cli('release-status'),
      ],
      note: 'The checklist’s sample (one route per team); the TEAM READINESS items cover each team’s routes and pages.',
    },
  ]),
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
        ...smoke('health'),
        hook('POST_PRODUCTION_TRAFFIC_SHIFT'),
        ...alarm('healthy-hosts', 'unhealthy-hosts'),
      ],
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
        ),
        ...alarm('db-cpu', 'db-connections'),
      ],
    },
    {
      id: 'mon-1-infrastructure-monitoring',
      text: 'Set up infrastructure monitoring',
      enforcement: [
        cdk('ECS Container Insights (enhanced)', STACKS, 'runs an ECS cluster with enhanced Container Insights'),
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
        cdk(
          'Container Insights (enhanced) collects task network rx/tx',
          STACKS,
          'runs an ECS cluster with enhanced Container Insights',
        ),
        cdk('VPC flow logs to CloudWatch Logs', STACKS, 'logs VPC flows to CloudWatch Logs with 30-day retention'),
      ],
      note: 'Collected, not alarmed: no checklist threshold exists for network I/O.',
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
        cdk('app logs in a CloudWatch log group', STACKS, 'ships app logs to a log group with 30-day retention'),
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
      enforcement: [cdk('CloudWatch Logs', STACKS, 'ships app logs to a log group with 30-day retention')],
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
        ),
      ],
    },
  ]),
  ...section('MONITORING & MAINTENANCE › 3. Regular Maintenance', [
    {
      id: 'mon-3-weekly-vacuum',
      text: 'Weekly database optimization',
      outOfScope:
        'SQLite’s VACUUM does not apply after the move to PostgreSQL, where autovacuum (on by default in RDS; the ' +
        'parameter group does not turn it off) does routine VACUUM/ANALYZE. No test asserts the autovacuum setting, ' +
        'so it is not claimed as enforced.',
    },
    {
      id: 'mon-3-security-patches',
      text: 'Monthly security patches',
      outOfScope:
        'Patching is split: AWS patches the Fargate hosts; RDS applies minor versions in its maintenance window ' +
        '(autoMinorVersionUpgrade is set but no test asserts it); the app image’s packages are the app’s build. A ' +
        'monthly routine is a team practice.',
    },
    {
      id: 'mon-3-python-packages',
      text: 'Python package updates',
      outOfScope: `Updating requirements.txt and rebuilding the image ${APP_CI}.`,
    },
    {
      id: 'mon-3-os-patches',
      text: 'OS security patches',
      outOfScope:
        'Fargate hosts are patched by AWS; the container’s OS layer comes from the app’s Dockerfile base image, ' +
        'refreshed by rebuilding the app image (its CI).',
    },
    {
      id: 'mon-3-pip-audit',
      text: 'Dependency audit (`pip audit`)',
      outOfScope: `pip audit of the app's Python dependencies ${APP_CI}.`,
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
  ...section('FINAL SIGN-OFF › Pre-Deployment Checklist Completion', [
    {
      id: 'signoff-completion-pre-deployment',
      text: 'All 4 PRE-DEPLOYMENT items complete',
      outOfScope: rollUp('PRE-DEPLOYMENT'),
    },
    {
      id: 'signoff-completion-team-readiness',
      text: 'All 8 TEAM READINESS items complete',
      outOfScope: rollUp('TEAM READINESS'),
    },
    {
      id: 'signoff-completion-integration',
      text: 'All 3 INTEGRATION items complete',
      outOfScope: rollUp('INTEGRATION'),
    },
    {
      id: 'signoff-completion-security',
      text: 'All 4 SECURITY items complete',
      outOfScope: rollUp('SECURITY'),
    },
    {
      id: 'signoff-completion-performance',
      text: 'All 3 PERFORMANCE items complete',
      outOfScope: rollUp('PERFORMANCE'),
    },
  ]),
  ...section('FINAL SIGN-OFF › Deployment Approval', [
    {
      id: 'signoff-approval-code-review',
      text: 'Code Review: _____________ (Name) Date: _______',
      outOfScope: signOff(),
    },
    { id: 'signoff-approval-qa-lead', text: 'QA Lead: _____________ (Name) Date: _______', outOfScope: signOff() },
    {
      id: 'signoff-approval-devops-lead',
      text: 'DevOps Lead: _____________ (Name) Date: _______',
      outOfScope: signOff(),
    },
    {
      id: 'signoff-approval-product-owner',
      text: 'Product Owner: _____________ (Name) Date: _______',
      outOfScope: signOff(),
    },
  ]),
];

function rollUp(phase: string): string {
  return (
    `A roll-up, not a requirement of its own: each ${phase} item has its own status in this map, and ` +
    `\`sfdeploy checklist --section "${phase} PHASE"\` computes the answer. Counting it as enforced would count those ` +
    'items twice (and hide the ones that are out of scope).'
  );
}

function signOff(): string {
  return (
    'A person’s name and date: approval is human. (A GitHub environment with required reviewers on the deploy ' +
    'workflow could record it; that is repository configuration, not this app.)'
  );
}
