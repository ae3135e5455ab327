/**
 * The checklist map's INTEGRATION PHASE: end-to-end flows, frontend integration,
 * database integrity.
 * One part of CHECKLIST_MAP: lib/checklist/checklist-map.ts lists the parts in the checklist's order.
 */
import type { MapEntry } from '../coverage';
import {
  APP_CI,
  BOTH_SHIFTS,
  cli,
  MIGRATE_PG,
  SMOKE_DEFAULT,
  SMOKE_HANDLER,
  section,
  smoke,
  TEST_GATE,
  test,
  WRITES,
} from './refs';

export const INTEGRATION_PHASE: readonly MapEntry[] = [
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
        TEST_GATE,
        test(
          SMOKE_HANDLER,
          'makes the unattended writes at the test-traffic gate with SMOKE_WRITES, leaving nothing behind, and none at the production gate',
        ),
        test(
          SMOKE_HANDLER,
          'fails the test-traffic gate when an unattended write fails (a post that cannot be created)',
        ),
      ],
      note: 'The post is created on green at the test-traffic gate and deleted again in the same run.',
    },
    {
      id: 'int-1-review-listing-flow',
      text: 'Review Listing Flow',
      partial:
        "the apply step writes data (manual only) and accepts a 404/409 'no such listing', so it can pass without applying",
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
      enforcement: [...smoke('page-index', 'asset-index-css', 'asset-index-js'), ...BOTH_SHIFTS],
      note: 'The stylesheet and script the index page references are fetched and must answer 200 with their content type.',
    },
    {
      id: 'int-2-frontend-apis-match',
      text: 'API calls from frontend match backend',
      enforcement: [
        ...smoke(
          'frontend-apis-login',
          'frontend-apis-index',
          'frontend-apis-sns-create',
          'frontend-apis-link-in-bio',
          'frontend-apis-monetize',
          'frontend-apis-viral',
          'frontend-apis-competitor',
          'frontend-apis-review-aggregator',
          'frontend-apis-review-applications',
          'frontend-apis-review-accounts',
          'frontend-apis-review-auto-apply',
        ),
        ...BOTH_SHIFTS,
        test(
          SMOKE_DEFAULT,
          'fails the page whose fetch() names a route the app does not register, naming it (frontend APIs match backend)',
        ),
      ],
      note:
        'Every /api/ path a fetch() names in the 11 pages the suite loads is requested once with the smoke token: a 404 ' +
        '(not in url_map) or 5xx fails the gate. The pages known to call the API (create.html, the four review pages) ' +
        'must name at least one. Pages under web/ that the checklist does not name are not fetched (int-2-html-pages).',
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
];
