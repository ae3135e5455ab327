/**
 * The vocabulary of the checklist map: builders for each kind of enforcement reference, the test files the entries
 * cite, the reference lists and reasons several sections share, and `section()`. The phase files beside it hold the
 * entries.
 */
import type { CliCommand, EnforcementRef, LifecycleStage, MapEntry, StackRole, TemplatePin } from '../coverage';

export const smoke = (...checks: string[]): EnforcementRef[] => checks.map((check) => ({ kind: 'smoke', check }));
export const alarm = (...signals: string[]): EnforcementRef[] => signals.map((signal) => ({ kind: 'alarm', signal }));
export const hook = (stage: LifecycleStage): EnforcementRef => ({ kind: 'hook', stage });
export const cli = (command: CliCommand): EnforcementRef => ({ kind: 'cli', command });
/** A CDK property and its test; `pins` name the template properties the test must fail without (see TemplatePin). */
export const cdk = (what: string, file: string, title: string, ...pins: TemplatePin[]): EnforcementRef => ({
  kind: 'cdk',
  what,
  test: { file, title },
  ...(pins.length > 0 ? { pins } : {}),
});
/** `property` (a path under Properties) of every `type` resource in the stage's `stack`. */
export const pin = (stack: StackRole, type: string, property: string): TemplatePin => ({ stack, type, property });
export const test = (file: string, title: string): EnforcementRef => ({ kind: 'test', file, title });

export const STACKS = 'test/lib/stacks.test.ts';
export const MONITORING_ALARMS = 'test/lib/monitoring-alarms.test.ts';
export const MONITORING_NOTIFICATIONS = 'test/lib/monitoring-notifications.test.ts';
export const MONITORING_DASHBOARD = 'test/lib/monitoring-dashboard.test.ts';
export const MONITORING_LOGS = 'test/lib/monitoring-logs.test.ts';
export const CONFIG = 'test/lib/config.test.ts';
export const DEPLOY_PATH = 'test/lib/deploy-path.test.ts';
export const SMOKE_SPEC = 'test/lambda/smoke/spec.test.ts';
export const PRODUCTION_MODE = 'test/lib/production-mode.test.ts';
export const SMOKE_DEFAULT = 'test/lambda/smoke/default-spec.test.ts';
export const SMOKE_HANDLER = 'test/lambda/smoke/handler.test.ts';
export const SNAPSHOT_HOOK = 'test/lambda/snapshot-hook/snapshot-hook.test.ts';
export const ROLLBACK_HANDLER = 'test/lambda/rollback/handler.test.ts';
export const MIGRATE_PG = 'test/lambda/migrate/migrate-pg.test.ts';
export const MIGRATE_SCHEMA = 'test/lambda/migrate/schema.test.ts';
export const MIGRATE_RESUME = 'test/lambda/migrate/crash-resume.test.ts';
export const MIGRATE_INTEGRITY = 'test/lambda/migrate/integrity.test.ts';
export const AUDIT_MONITORING = 'test/lib/audit-monitoring.test.ts';
export const DATABASE_HARDENING = 'test/lib/database-hardening.test.ts';
export const HARDENING_ENCRYPTION = 'test/lib/hardening-encryption.test.ts';
export const FIRST_CONTACT = 'test/lib/first-contact.test.ts';
export const GITHUB_WORKFLOW = 'test/github-workflow.test.ts';
export const SMOKE_HOOK_CONSTRUCT = 'test/lambda/smoke/smoke-hook-construct.test.ts';

/** Smoke checks run by the deployment hooks (green, then production): every read-only check of the default spec. */
export const BOTH_SHIFTS: EnforcementRef[] = [hook('POST_TEST_TRAFFIC_SHIFT'), hook('POST_PRODUCTION_TRAFFIC_SHIFT')];

export const SNS_ROUTES = smoke(
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
/** The same routes with the smoke token, expecting the answer a registered route gives (200; 405 for POST-only). */
export const SNS_TOKEN_ROUTES = smoke(
  'sns-accounts-token',
  'sns-posts-token',
  'sns-templates-token',
  'sns-workflows-token',
  'sns-automate-token',
  'sns-ai-generate-token',
  'sns-linkinbio-token',
  'sns-trending-token',
  'sns-competitor-token',
);
export const REVIEW_TOKEN_ROUTES = smoke(
  'review-listings-token',
  'review-campaigns-token',
  'review-accounts-token',
  'review-applications-token',
  'review-auto-apply-token',
  'review-rules-token',
);
/** The data-writing checks marked unattended run at the test-traffic gate (config smokeWrites, on by default). */
export const TEST_GATE: EnforcementRef = hook('POST_TEST_TRAFFIC_SHIFT');

export const REVIEW_ROUTES = smoke(
  'review-listings',
  'review-campaigns',
  'review-accounts',
  'review-applications',
  'review-auto-apply',
  'review-rules',
);

export const APP_CI = "belongs in the app's own CI (SoftFactory's repository), not in its deployment";
export const STATUS_LABEL =
  "A team's self-declared status label, not a check: the team's readiness is what its other items establish " +
  '(each mapped above), and the smoke suite re-checks the deployed result on every release.';
export const WRITES =
  'A data-writing check: it runs with `sfdeploy smoke --allow-writes` (staging, or production on purpose) and cleans ' +
  'up after itself; the deployment hooks never write, so they run the read-only checks of the same flow.';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Entries of one section; the section text is written once. */
export function section(name: string, entries: readonly DistributiveOmit<MapEntry, 'section'>[]): MapEntry[] {
  return entries.map((e) => ({ ...e, section: name }));
}

/** The reason a phase's roll-up item ("all items of X PHASE checked") is not counted on its own. */
export function rollUp(phase: string): string {
  return (
    `A roll-up, not a requirement of its own: each ${phase} item has its own status in this map, and ` +
    `\`sfdeploy checklist --section "${phase} PHASE"\` computes the answer. Counting it as enforced would count those ` +
    'items twice (and hide the ones that are out of scope).'
  );
}

/** The reason a sign-off line (a name and a date) is out of scope. */
export function signOff(): string {
  return (
    'A person’s name and date: approval is human. (A GitHub environment with required reviewers on the deploy ' +
    'workflow could record it; that is repository configuration, not this app.)'
  );
}
