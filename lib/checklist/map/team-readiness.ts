/**
 * The checklist map's TEAM READINESS PHASE: the deliverables of teams A to H (OAuth,
 * create.html, monetization, scrapers, API endpoints, review UI, SNS services, api.js).
 * One part of CHECKLIST_MAP: lib/checklist/checklist-map.ts lists the parts in the checklist's order.
 */
import type { MapEntry } from '../coverage';
import {
  APP_CI,
  BOTH_SHIFTS,
  cli,
  REVIEW_ROUTES,
  SMOKE_DEFAULT,
  SMOKE_SPEC,
  SNS_ROUTES,
  STATUS_LABEL,
  section,
  smoke,
  test,
  WRITES,
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
      partial:
        'the route checks are sent without a token and accept 401/403: they prove the routes exist, not that they are accessible',
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
      partial:
        'review-scrape-now writes data, so only a person running sfdeploy smoke --allow-writes runs it; no release is gated on it',
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
      partial: '9 of the SNS routes, unauthenticated, 401 accepted: not all 29, and not answering with a token',
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
      partial: '6 of the review routes, unauthenticated, 401 accepted: not all 26, and not answering with a token',
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
      partial:
        'the checks are unauthenticated and accept 401/403/405: the routes are registered, their answers with a token are not checked',
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
];
