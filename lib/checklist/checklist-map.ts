/**
 * The production checklist (docs/production-deployment-checklist.md), item by item: how the project enforces it, or
 * why it is out of scope. One entry per checkbox, matched by section + text; the id is written here once and never
 * derived again. test/lib/checklist.test.ts fails on an unmapped checkbox, a stale entry, and any reference to a smoke
 * check, alarm, hook, command or test that does not exist. docs/CHECKLIST.md is generated from this map
 * (`npm run docs:checklist`).
 *
 * Rules of honesty: a reference names something that really enforces the item (a test asserts the property; the smoke
 * check fails when the item is broken). What only the app's own source can show (grep over web/*.html, Python
 * imports) belongs to the app's CI; what a person decides or signs belongs to people.
 */
import type { MapEntry } from './coverage';
import { DEPLOYMENT_PHASE } from './map/deployment';
import { INTEGRATION_PHASE } from './map/integration';
import { MONITORING_PHASE } from './map/monitoring';
import { PERFORMANCE_PHASE } from './map/performance';
import { PRE_DEPLOYMENT_PHASE } from './map/pre-deployment';
import { ROLLBACK_PHASE } from './map/rollback';
import { SECURITY_PHASE } from './map/security';
import { SIGN_OFF_PHASE } from './map/sign-off';
import { TEAM_READINESS_PHASE } from './map/team-readiness';

/**
 * Every entry, phase by phase in the checklist's order: one file per phase under lib/checklist/map/, with the reference
 * builders and shared reasons in map/refs.ts. Order is not semantic (entries match by section + text) but it is the
 * order docs/CHECKLIST.md and `sfdeploy checklist` print.
 */
export const CHECKLIST_MAP: readonly MapEntry[] = [
  ...PRE_DEPLOYMENT_PHASE,
  ...TEAM_READINESS_PHASE,
  ...INTEGRATION_PHASE,
  ...SECURITY_PHASE,
  ...PERFORMANCE_PHASE,
  ...DEPLOYMENT_PHASE,
  ...ROLLBACK_PHASE,
  ...MONITORING_PHASE,
  ...SIGN_OFF_PHASE,
];
