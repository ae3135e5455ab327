/**
 * The checklist map's TEAM READINESS PHASE: the deliverables of teams A to H (OAuth,
 * create.html, monetization, scrapers, API endpoints, review UI, SNS services, api.js).
 * One part of CHECKLIST_MAP: lib/checklist/checklist-map.ts lists the parts in the checklist's order.
 */
import type { MapEntry } from '../coverage';
import {
  APP_CI,
  BOTH_SHIFTS,
  REVIEW_ROUTES,
  REVIEW_TOKEN_ROUTES,
  SMOKE_DEFAULT,
  SMOKE_HANDLER,
  SMOKE_HOOK_CONSTRUCT,
  SMOKE_SPEC,
  SNS_ROUTES,
  SNS_TOKEN_ROUTES,
  STATUS_LABEL,
  section,
  smoke,
  TEST_GATE,
  test,
} from './refs';

export const TEAM_READINESS_PHASE: readonly MapEntry[] = [
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
      enforcement: [
        ...smoke('page-sns-create-api-paths'),
        ...BOTH_SHIFTS,
        test(
          SMOKE_DEFAULT,
          'names the path a page calls that the backend does not serve, and probes only with the token',
        ),
      ],
      note:
        "The checklist's grep (every '/api/sns/…' literal) over the create.html the deployed app serves; each path is " +
        'requested once with the smoke token, and a 404 (no such route in the url_map) or 5xx fails the gate. Paths ' +
        "built at run time ('/api/sns/posts/' + id) cannot be probed by one request and are listed, not checked.",
    },
    {
      id: 'team-b-localstorage-token',
      text: 'localStorage token handling present',
      enforcement: [...smoke('page-sns-create-localstorage'), ...BOTH_SHIFTS],
      note: "The checklist's grep, over the page the deployed app serves.",
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
      enforcement: [...smoke('page-monetize-apexcharts'), ...BOTH_SHIFTS],
      note: 'The page references ApexCharts; whether charts render needs a browser.',
    },
    {
      id: 'team-c-endpoints',
      text: 'Endpoints are accessible',
      enforcement: [
        ...smoke('sns-linkinbio-token', 'sns-trending-token', 'sns-linkinbio', 'sns-trending'),
        ...BOTH_SHIFTS,
      ],
      note: 'With the smoke token, each route must answer 200 JSON; without it, 401.',
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
      enforcement: [
        ...smoke('review-scrape-now'),
        TEST_GATE,
        test(
          SMOKE_HANDLER,
          'makes the unattended writes at the test-traffic gate with SMOKE_WRITES, leaving nothing behind, and none at the production gate',
        ),
        test(
          SMOKE_HOOK_CONSTRUCT,
          'makes the unattended writes at the test-traffic gate by default (SMOKE_WRITES), and not with smokeWrites false',
        ),
      ],
      note:
        'Run against green through the test listener before production traffic (config smokeWrites, on by default); it ' +
        'starts the scrape the scheduler also runs.',
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
        ...SNS_TOKEN_ROUTES,
        ...SNS_ROUTES,
        ...BOTH_SHIFTS,
        test(
          SMOKE_SPEC,
          'sends the smoke token to every API route the checklist names, expecting 200 (405 for a POST-only route to GET)',
        ),
      ],
      note:
        'Every route of the checklist’s own loop (accounts, posts, templates, workflows, automate, ai/generate, linkinbio, ' +
        'trending, competitor), with the smoke token as the checklist sends one, answering 200 (405 for the POST-only ' +
        'ones). The count 29 is the app’s url_map (team-e-55-endpoints): the other routes are named nowhere outside the app.',
    },
    {
      id: 'team-e-review-endpoints',
      text: 'Review endpoints (26) all respond',
      enforcement: [
        ...REVIEW_TOKEN_ROUTES,
        ...REVIEW_ROUTES,
        ...BOTH_SHIFTS,
        test(
          SMOKE_SPEC,
          'sends the smoke token to every API route the checklist names, expecting 200 (405 for a POST-only route to GET)',
        ),
      ],
      note:
        'Every route of the checklist’s own loop (listings, campaigns, accounts, applications, auto-apply, rules), with the ' +
        'smoke token, answering 200. The count 26 is the app’s url_map (team-e-55-endpoints).',
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
      enforcement: [
        ...smoke(
          'page-review-aggregator-api',
          'page-review-applications-api',
          'page-review-accounts-api',
          'page-review-auto-apply-api',
        ),
        ...BOTH_SHIFTS,
      ],
      note: 'Each served review page must contain its api/review calls.',
    },
    {
      id: 'team-f-auth-headers',
      text: 'Auth headers present',
      enforcement: [...smoke('page-review-aggregator-auth'), ...BOTH_SHIFTS],
      note: 'The served aggregator page must send an Authorization header.',
    },
    { id: 'team-f-status', text: 'Status: ✅ READY', outOfScope: STATUS_LABEL },
  ]),
  ...section('TEAM READINESS PHASE › Team G: SNS API Services', [
    {
      id: 'team-g-sns-endpoints',
      text: 'All SNS endpoints respond correctly',
      enforcement: [
        ...smoke('sns-automate-token', 'sns-ai-generate-token', 'sns-linkinbio-stats-token'),
        ...smoke('sns-automate', 'sns-ai-generate', 'sns-linkinbio-stats'),
        ...BOTH_SHIFTS,
      ],
      note: 'The routes of Team G’s commands, with the smoke token: each answers as a registered route (200, 405 for POST-only).',
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
      enforcement: [...smoke('asset-index-js', 'api-js-functions'), ...BOTH_SHIFTS],
      note: 'The served web/platform/api.js, with at least 48 function definitions counted.',
    },
    {
      id: 'team-h-oauth-functions',
      text: 'OAuth functions present',
      enforcement: [...smoke('api-js-oauth'), ...BOTH_SHIFTS],
      note: "The checklist's grep, over the served web/platform/api.js.",
    },
    {
      id: 'team-h-sns-functions',
      text: 'SNS API functions present',
      enforcement: [...smoke('api-js-sns'), ...BOTH_SHIFTS],
      note: "The checklist's grep, over the served web/platform/api.js.",
    },
    {
      id: 'team-h-review-functions',
      text: 'Review API functions present',
      enforcement: [...smoke('api-js-review'), ...BOTH_SHIFTS],
      note: "The checklist's grep, over the served web/platform/api.js.",
    },
    {
      id: 'team-h-error-handling',
      text: 'Error handling present',
      enforcement: [...smoke('api-js-error-handling'), ...BOTH_SHIFTS],
      note: "The checklist's grep, over the served web/platform/api.js.",
    },
    { id: 'team-h-status', text: 'Status: ✅ READY', outOfScope: STATUS_LABEL },
  ]),
];
