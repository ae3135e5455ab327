/**
 * What a smoke run returns: a verdict per check with its evidence, and the suite's summary. Types only, so that the
 * readers of a result (hook.ts, junit.ts, the CLI, the benchmark) and the modules that make one (verdict.ts,
 * assertions.ts, transport.ts) depend on this file rather than on the engine that schedules the checks.
 */

/** No connection was made to `address`: the server was never reached, so nothing it would have said is known. */
export interface Unreachable {
  /** `host:port` tried, or the host name that did not resolve. */
  readonly address: string;
  /** `connection refused`, `host not found`, … */
  readonly cause: string;
}

export type Verdict = 'pass' | 'fail' | 'skipped';

/**
 * Why a check failed, coarsely, so callers can tell "the service is not reachable yet" from "the service
 * answered wrongly": `network` (refused, reset, temporary DNS failure), `timeout` (no complete answer in
 * time, suite deadline), `gateway` (an unexpected 502/503/504), `assertion` (everything else: a wrong
 * answer, TLS, unknown host, oversized body, redirect loop, latency over budget).
 */
export type FailureKind = 'network' | 'timeout' | 'gateway' | 'assertion';

export interface CheckResult {
  readonly id: string;
  readonly title: string;
  readonly method: string;
  readonly path: string;
  readonly tags: readonly string[];
  readonly verdict: Verdict;
  /** Final HTTP status, null when no response arrived. */
  readonly status: number | null;
  readonly contentType: string | null;
  /** Request start to last body byte of the final attempt (across followed redirects), ms. */
  readonly latencyMs: number | null;
  /** Why it failed or was skipped; null for a pass. */
  readonly reason: string | null;
  /** Start of the response body, whitespace collapsed, token redacted; only for failures. */
  readonly excerpt: string | null;
  readonly attempts: number;
  readonly failureKind: FailureKind | null;
  /** Set when the check failed without reaching a server (refused, unknown host, no connection in time). */
  readonly unreachable: Unreachable | null;
}

/** Every check that ran failed without reaching a server: the target is down or out of reach, not wrong. */
export interface SuiteUnreachable {
  /** The distinct `host:port`s (or unresolved host names) tried, the base URL's first. */
  readonly addresses: readonly string[];
  /** The distinct causes: `connection refused`, `host not found`, … */
  readonly causes: readonly string[];
  /** Checks that ran (and so failed this way). */
  readonly checks: number;
}

export interface SuiteResult {
  readonly target: string;
  /** The address connected to instead of the target's host (`connectTo`), null when the host was resolved. */
  readonly connectedTo: string | null;
  /** True iff no check failed and at least one check ran. */
  readonly passed: boolean;
  readonly durationMs: number;
  readonly checks: readonly CheckResult[];
  /** Set when no check that ran reached a server; null otherwise (or when none ran). */
  readonly unreachable: SuiteUnreachable | null;
}
