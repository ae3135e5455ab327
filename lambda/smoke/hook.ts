/**
 * Pure decisions of the smoke lifecycle hook: which URL a stage smokes, whether a failed suite deserves another
 * attempt, and what the notification says. No AWS, no I/O: the handler wires these to ECS, Secrets Manager,
 * CloudWatch and SNS.
 */
import type { LifecycleHookResponse } from '../shared/lifecycle-hook';
import type { CheckResult, SuiteResult } from './engine';

export type Phase = 'test' | 'production';

/**
 * The stages this function is registered for, and which URL each one smokes. PRE_PRODUCTION_TRAFFIC_SHIFT (canary and
 * linear releases: before every production traffic step) checks green through the test listener, which carries all
 * of its test traffic from POST_TEST_TRAFFIC_SHIFT on; the public URL then still serves mostly the old revision.
 */
export const SMOKE_HOOK_STAGES = {
  POST_TEST_TRAFFIC_SHIFT: 'test',
  PRE_PRODUCTION_TRAFFIC_SHIFT: 'test',
  POST_PRODUCTION_TRAFFIC_SHIFT: 'production',
} as const satisfies Record<string, Phase>;

export function phaseOf(lifecycleStage: string): Phase | undefined {
  return Object.hasOwn(SMOKE_HOOK_STAGES, lifecycleStage)
    ? SMOKE_HOOK_STAGES[lifecycleStage as keyof typeof SMOKE_HOOK_STAGES]
    : undefined;
}

/** Which hook execution an attempt counter belongs to: one lifecycle stage of one deployment's target revision. */
export interface AttemptScope {
  readonly lifecycleStage: string;
  readonly targetServiceRevisionArn: string;
}

/** Where the counter lives in `hookDetails`: under its own key, next to whatever static details the service sets. */
export const ATTEMPT_KEY = 'smokeAttempt';

/**
 * The 1-based attempt of this invocation at this lifecycle stage of this deployment. ECS passes the `hookDetails` an
 * IN_PROGRESS answer returned into the next invocation, and the service's static `hookDetails` into every invocation
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html, "Passing state with
 * hookDetails"); it does not document whether state returned at POST_TEST_TRAFFIC_SHIFT reaches the
 * POST_PRODUCTION_TRAFFIC_SHIFT invocation. So the counter names the stage and the target revision it counts for,
 * and a counter for anything else counts as none: each stage gets its full `MAX_ATTEMPTS` either way.
 */
export function readAttempt(hookDetails: Record<string, unknown> | null | undefined, scope: AttemptScope): number {
  const state = hookDetails?.[ATTEMPT_KEY];
  if (typeof state !== 'object' || state === null) return 1;
  const { lifecycleStage, targetServiceRevisionArn, attempt } = state as Record<string, unknown>;
  if (lifecycleStage !== scope.lifecycleStage || targetServiceRevisionArn !== scope.targetServiceRevisionArn) return 1;
  return typeof attempt === 'number' && Number.isInteger(attempt) && attempt >= 1 ? attempt : 1;
}

/**
 * `transient` when the target looks not-yet-reachable rather than wrong: every failure is network-level
 * (refused, reset, timeout), or gateway errors (502/503/504, the load balancer having no healthy target)
 * came back across the board with nothing passing. Anything the service answered wrongly is `definite`.
 * A 503 from one endpoint while the rest pass is the service's own answer, hence `definite`.
 */
export function classifySuite(result: SuiteResult): 'passed' | 'transient' | 'definite' {
  if (result.passed) return 'passed';
  const failed = result.checks.filter((c) => c.verdict === 'fail');
  if (failed.length === 0) return 'definite'; // nothing ran: a suite that checked nothing proves nothing
  const networkOnly = failed.every((c) => c.failureKind === 'network' || c.failureKind === 'timeout');
  if (networkOnly) return 'transient';
  const anyPassed = result.checks.some((c) => c.verdict === 'pass');
  const unreachable = failed.every(
    (c) => c.failureKind === 'network' || c.failureKind === 'timeout' || c.failureKind === 'gateway',
  );
  return unreachable && !anyPassed ? 'transient' : 'definite';
}

export interface HookDecision {
  readonly response: LifecycleHookResponse;
  /** `retry` = IN_PROGRESS; `failed` = FAILED (ECS rolls back). */
  readonly outcome: 'passed' | 'retry' | 'failed';
  /** One line for the log and the notification. */
  readonly summary: string;
  readonly failures: readonly CheckResult[];
  /** Checks that did not run, grouped by why (a skipped check verified nothing). */
  readonly skipped: readonly SkippedGroup[];
}

export interface SkippedGroup {
  readonly reason: string;
  readonly ids: readonly string[];
}

export interface DecideOptions {
  /** Seconds before ECS invokes the hook again after IN_PROGRESS. @default 30 */
  readonly callBackDelaySeconds?: number;
  /** hookDetails ECS passed in (static configuration and earlier state), carried forward. */
  readonly hookDetails?: Record<string, unknown> | null;
  /** The stage and revision the attempt counter is kept for (see `readAttempt`). */
  readonly scope?: AttemptScope;
}

/**
 * SUCCEEDED when the suite passed; IN_PROGRESS (attempt + 1) for a transient failure while attempts remain;
 * FAILED for a definite failure at once, or for a transient one on the last attempt.
 */
export function decideHookOutcome(
  result: SuiteResult,
  attempt: number,
  maxAttempts: number,
  options: DecideOptions = {},
): HookDecision {
  const failures = result.checks.filter((c) => c.verdict === 'fail');
  const skipped = groupSkipped(result.checks);
  const ran = result.checks.filter((c) => c.verdict !== 'skipped').length;
  const counts = `${ran - failures.length}/${ran} checks passed, ${result.checks.length - ran} skipped, ${result.durationMs} ms`;
  const skippedText = skipped.length > 0 ? `; skipped: ${describeSkipped(skipped)}` : '';
  const classification = classifySuite(result);
  if (classification === 'passed') {
    return {
      response: { hookStatus: 'SUCCEEDED' },
      outcome: 'passed',
      summary: `smoke suite passed: ${counts}${skippedText}`,
      failures,
      skipped,
    };
  }
  const listed = listFailures(failures, 3);
  if (ran === 0) {
    return {
      response: { hookStatus: 'FAILED' },
      outcome: 'failed',
      summary: `smoke suite ran no check (${result.checks.length} skipped): nothing was verified${skippedText}`,
      failures,
      skipped,
    };
  }
  if (classification === 'transient' && attempt < maxAttempts) {
    return {
      response: {
        hookStatus: 'IN_PROGRESS',
        callBackDelay: options.callBackDelaySeconds ?? 30,
        hookDetails: {
          ...(options.hookDetails ?? {}),
          [ATTEMPT_KEY]: { ...options.scope, attempt: attempt + 1 },
        },
      },
      outcome: 'retry',
      summary: `target not reachable yet (attempt ${attempt} of ${maxAttempts}), trying again: ${listed}`,
      failures,
      skipped,
    };
  }
  const why =
    classification === 'transient'
      ? `target still unreachable after ${attempt} attempt${attempt === 1 ? '' : 's'}`
      : 'smoke suite failed';
  return {
    response: { hookStatus: 'FAILED' },
    outcome: 'failed',
    summary: `${why}: ${counts}; ${listed}${skippedText}`,
    failures,
    skipped,
  };
}

/** Skipped checks by reason, in the order the spec lists them. */
export function groupSkipped(checks: readonly CheckResult[]): SkippedGroup[] {
  const groups = new Map<string, string[]>();
  for (const check of checks) {
    if (check.verdict !== 'skipped') continue;
    const reason = check.reason ?? 'skipped';
    const ids = groups.get(reason) ?? [];
    ids.push(check.id);
    groups.set(reason, ids);
  }
  return [...groups].map(([reason, ids]) => ({ reason, ids }));
}

function describeSkipped(groups: readonly SkippedGroup[]): string {
  return groups.map((g) => `${g.ids.length} (${g.ids.join(', ')}): ${g.reason}`).join('; ');
}

function listFailures(failures: readonly CheckResult[], max: number): string {
  const shown = failures.slice(0, max).map((c) => `${c.id} (${c.reason ?? 'failed'})`);
  const more = failures.length > max ? ` and ${failures.length - max} more` : '';
  return `${shown.join(', ')}${more}`;
}

export interface NotificationInput {
  readonly result: SuiteResult;
  readonly decision: HookDecision;
  /** dev | staging | prod */
  readonly stage: string;
  readonly lifecycleStage: string;
  readonly serviceArn: string;
  readonly targetServiceRevisionArn: string;
  readonly attempt: number;
  readonly maxAttempts: number;
}

/** SNS subjects must be ASCII, one line, under 100 characters. */
const SUBJECT_LIMIT = 99;

/** A message a person on call can act on: what failed, where, and what ECS does next. */
export function formatNotification(input: NotificationInput): { subject: string; message: string } {
  const { result, decision, stage } = input;
  const failures = decision.failures;
  const service = input.serviceArn.split('/').slice(-1)[0] ?? input.serviceArn;
  const subject = toAsciiLine(
    `[${stage}] ${service}: smoke suite FAILED at ${input.lifecycleStage} (${failures.length} failing)`,
  ).slice(0, SUBJECT_LIMIT);
  const idWidth = Math.max(2, ...failures.map((c) => c.id.length));
  const lines = [
    `The smoke suite against ${result.target} failed; ECS rolls the deployment back.`,
    '',
    `Stage:            ${stage}`,
    `Lifecycle stage:  ${input.lifecycleStage}`,
    `Service:          ${input.serviceArn}`,
    `Target revision:  ${input.targetServiceRevisionArn}`,
    `Attempt:          ${input.attempt} of ${input.maxAttempts}`,
    `Summary:          ${decision.summary}`,
    '',
    failures.length > 0 ? 'Failing checks:' : 'No check failed, but none ran either.',
    ...failures.map((c) => {
      const status = c.status === null ? '-' : String(c.status);
      const latency = c.latencyMs === null ? '' : ` ${c.latencyMs} ms`;
      return `  ${c.id.padEnd(idWidth)}  ${c.method} ${c.path}  status ${status}${latency}  ${c.reason ?? ''}`.trimEnd();
    }),
    ...skippedLines(decision.skipped),
    '',
    reproduceLine(result),
  ];
  return { subject, message: lines.join('\n') };
}

export interface SkipNoticeInput {
  readonly result: SuiteResult;
  readonly decision: HookDecision;
  readonly stage: string;
  readonly lifecycleStage: string;
  readonly serviceArn: string;
  /** The skipped checks this notice is about (e.g. those that needed the smoke token). */
  readonly group: SkippedGroup;
}

/** A passed gate that left checks out: the deployment goes on, but someone should know what was not verified. */
export function formatSkipNotice(input: SkipNoticeInput): { subject: string; message: string } {
  const service = input.serviceArn.split('/').slice(-1)[0] ?? input.serviceArn;
  const n = input.group.ids.length;
  const subject = toAsciiLine(
    `[${input.stage}] ${service}: smoke passed at ${input.lifecycleStage}, ${n} check${n === 1 ? '' : 's'} skipped`,
  ).slice(0, SUBJECT_LIMIT);
  const lines = [
    `The smoke suite against ${input.result.target} passed and the deployment continues, but ${n} check${n === 1 ? ' was' : 's were'} not run:`,
    `  ${input.group.ids.join(', ')}`,
    `Why: ${input.group.reason}`,
    '',
    `Stage:            ${input.stage}`,
    `Lifecycle stage:  ${input.lifecycleStage}`,
    `Service:          ${input.serviceArn}`,
    `Summary:          ${input.decision.summary}`,
    ...skippedLines(input.decision.skipped),
  ];
  return { subject, message: lines.join('\n') };
}

function skippedLines(groups: readonly SkippedGroup[]): string[] {
  if (groups.length === 0) return [];
  return ['', 'Skipped checks (not verified):', ...groups.map((g) => `  ${g.reason}: ${g.ids.join(', ')}`)];
}

function reproduceLine(result: SuiteResult): string {
  const connect = result.connectedTo ? ` --connect-to ${result.connectedTo}` : '';
  return `Reproduce: sfdeploy smoke --url ${result.target}${connect} --token-env SMOKE_TOKEN`;
}

function toAsciiLine(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}
