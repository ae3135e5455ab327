/**
 * The verdict of a check, pure: whether it runs at all (the app's mode, writes, the token), and, from the check and
 * what was observed (the last attempt's answer or network failure, the attempts made, a cleanup's problem), the result
 * row with its reason, failure kind and evidence; then the suite's summary from the rows. No sockets and no clock:
 * engine.ts sends the requests and keeps the time, and hands what it saw to these functions, so every rule of a verdict
 * is table-tested without a server (test/lambda/smoke/verdict.test.ts). The answer-against-`expect` rules are in
 * assertions.ts.
 */
import { type Evaluation, evaluate, truncate } from './assertions';
import type { CheckResult, SuiteUnreachable } from './result';
import { type AppMode, type Check, needsToken, usesAllowedOrigin } from './spec';
import { type Exchange, firstHeader } from './transport';

const EXCERPT_CHARS = 200;

/** What the run knows before any check is sent. */
export interface RunConditions {
  /** The mode the target runs the app in; undefined when the operator did not say. */
  readonly appMode: AppMode | undefined;
  /** `unattended`: only the writes a deploy gate may run on its own (`unattended: true` checks). */
  readonly allowWrites: boolean | 'unattended';
  readonly token: string | undefined;
  /** The skip reason of `auth: "bearer"` checks when there is no token. */
  readonly tokenUnavailableReason: string;
}

/** Why a check is not run under these conditions, or null when it runs. A skipped check is never a pass. */
export function skipReason(check: Check, conditions: RunConditions): string | null {
  if (check.appMode !== undefined && check.appMode !== conditions.appMode) {
    return conditions.appMode === undefined
      ? `checks ${check.appMode} mode: runs when the app mode is given (--app-mode ${check.appMode})`
      : `checks ${check.appMode} mode; this target runs the app in ${conditions.appMode} mode`;
  }
  if (check.writes && conditions.allowWrites === false) {
    return 'writes data: runs only when writes are allowed (--allow-writes)';
  }
  if (check.writes && conditions.allowWrites === 'unattended' && !check.unattended) {
    return 'writes data nothing takes back: runs only when a person allows writes (sfdeploy smoke --allow-writes)';
  }
  if (usesAllowedOrigin(check))
    return 'needs the allowed CORS origin (corsAllowedOrigins), which the run was not given';
  if (needsToken(check) && !conditions.token) return conditions.tokenUnavailableReason;
  return null;
}

function identity(check: Check): Pick<CheckResult, 'id' | 'title' | 'method' | 'path' | 'tags'> {
  return { id: check.id, title: check.title, method: check.method, path: check.path, tags: check.tags };
}

/** The row of a check that did not run. */
export function skippedResult(check: Check, reason: string): CheckResult {
  return {
    ...identity(check),
    verdict: 'skipped',
    status: null,
    contentType: null,
    latencyMs: null,
    reason,
    excerpt: null,
    attempts: 0,
    failureKind: null,
    unreachable: null,
  };
}

/** The row of a check whose turn came after the suite's deadline: a failure (it was meant to run), not a skip. */
export function lateResult(check: Check): CheckResult {
  return {
    ...skippedResult(check, 'suite deadline exceeded before the check started'),
    verdict: 'fail',
    failureKind: 'timeout',
  };
}

/** What happened when a check ran. */
export interface Observation {
  /** The last attempt's answer, or why there was none. */
  readonly exchange: Exchange;
  /** `evaluate(check, exchange)`, when the caller already has it (the retry loop does). */
  readonly evaluation?: Evaluation;
  readonly attempts: number;
  /** Why the check's cleanup failed, when it ran and failed. */
  readonly cleanupProblem?: string | undefined;
  /** The bearer token, redacted from the excerpt. */
  readonly token?: string | undefined;
}

export interface CheckOutcome {
  readonly result: CheckResult;
  /** Failed on its latency budget alone (a candidate for an uncontended re-measurement). */
  readonly latencyOnly: boolean;
}

/** The row of a check that ran: its verdict and reason from the answer, then the evidence a failure carries. */
export function judgeCheck(check: Check, observation: Observation): CheckOutcome {
  const { exchange, attempts, cleanupProblem, token } = observation;
  const evaluation = observation.evaluation ?? evaluate(check, exchange);
  let verdict = evaluation.verdict;
  let reason = evaluation.reason;
  let kind = evaluation.kind;
  if (cleanupProblem) {
    verdict = 'fail';
    reason = reason ? `${reason}; ${cleanupProblem}` : cleanupProblem;
    kind ??= 'assertion';
  }

  const status = 'status' in exchange && exchange.status !== undefined ? exchange.status : null;
  const headers = exchange.headers;
  const contentType = headers ? (firstHeader(headers['content-type']) ?? null) : null;
  const body = exchange.body;
  return {
    result: {
      ...identity(check),
      verdict,
      status,
      contentType,
      latencyMs: exchange.latencyMs === undefined ? null : Math.round(exchange.latencyMs),
      reason,
      excerpt: verdict === 'fail' && body && body.length > 0 ? excerptOf(body, token) : null,
      attempts,
      failureKind: verdict === 'fail' ? kind : null,
      unreachable: verdict === 'fail' && !exchange.ok ? (exchange.unreachable ?? null) : null,
    },
    latencyOnly: verdict === 'fail' && reason === evaluation.reason && evaluation.latencyOnly === true,
  };
}

/**
 * A latency-only failure measured again, alone: judged on the second run, with both runs' attempts counted; when it
 * is still over budget, the reason also gives the first (concurrent) measurement.
 */
export function remeasured(first: CheckResult, again: CheckOutcome): CheckResult {
  const attempts = first.attempts + again.result.attempts;
  return again.result.verdict === 'pass' || !again.latencyOnly
    ? { ...again.result, attempts }
    : {
        ...again.result,
        attempts,
        reason: `${again.result.reason} (alone; ${first.latencyMs} ms in the concurrent run)`,
      };
}

/** The suite passes iff at least one check ran and every check that ran passed. */
export function suitePassed(checks: readonly CheckResult[]): boolean {
  const ran = checks.filter((c) => c.verdict !== 'skipped');
  return ran.length > 0 && ran.every((c) => c.verdict === 'pass');
}

/** Set when every check that ran failed without reaching a server; `baseAddress` (the URL's own) is listed first. */
export function summariseUnreachable(checks: readonly CheckResult[], baseAddress: string): SuiteUnreachable | null {
  const ran = checks.filter((c) => c.verdict !== 'skipped');
  if (ran.length === 0 || !ran.every((c) => c.unreachable !== null)) return null;
  const addresses = [...new Set(ran.map((c) => c.unreachable!.address))];
  // The base URL's own address first: it is the one the operator typed (plainHttp checks try another port).
  addresses.sort((a, b) => Number(b === baseAddress) - Number(a === baseAddress));
  return { addresses, causes: [...new Set(ran.map((c) => c.unreachable!.cause))], checks: ran.length };
}

/** The start of a failing body for the report: whitespace collapsed, the token redacted, at most 200 characters. */
export function excerptOf(body: Buffer, token: string | undefined): string {
  let text = body
    .subarray(0, EXCERPT_CHARS * 4)
    .toString('utf8')
    .replace(/\s+/g, ' ')
    .trim();
  if (token) text = text.split(token).join('[token]');
  return truncate(text, EXCERPT_CHARS);
}
