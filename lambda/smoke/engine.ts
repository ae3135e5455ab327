/**
 * The smoke engine: runs a spec's checks against one base URL and returns a verdict per check with evidence.
 * No AWS: the CLI, the ECS hook and the benchmark all call `runSuite`. This file schedules (concurrency, retries,
 * deadlines, cleanups, the lone latency re-measurement) and builds the requests; the sockets are in transport.ts, and
 * what an answer means is pure, in verdict.ts (skips, the result row, the suite's summary) and assertions.ts (an
 * answer against the check's `expect`). The result types are in result.ts.
 *
 * Guarantees: every check ends by its own deadline and the suite by its deadline whatever the server does
 * (hangs, resets, endless bodies, redirect loops); bodies are read up to a cap, never buffered unbounded;
 * TLS certificates are verified; redirects are not followed unless a check says so; retries happen only
 * where a check says so; a check that did not run is `skipped`, never `pass`.
 */
import { setMaxListeners } from 'node:events';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Evaluation, evaluate } from './assertions';
import { extractReferences, judgeReferences, type ProbeAnswer, probeFailureKind } from './references';
import type { CheckResult, FailureKind, SuiteResult } from './result';
import {
  type AppMode,
  BEFORE_PLACEHOLDER,
  bindAllowedOrigins,
  type Check,
  fillPlaceholders,
  INVALID_TOKEN,
  SHARED_TEST_TOKENS,
  type SmokeSpec,
} from './spec';
import {
  createTransport,
  type Exchange,
  exchangeOnce,
  firstHeader,
  type Request,
  SUITE_DEADLINE_EXCEEDED,
  type Transport,
  type WaitingFor,
} from './transport';
import {
  type CheckOutcome,
  judgeCheck,
  lateResult,
  type RunConditions,
  remeasured,
  skippedResult,
  skipReason,
  suitePassed,
  summariseUnreachable,
} from './verdict';

export type {
  CheckResult,
  FailureKind,
  SuiteResult,
  SuiteUnreachable,
  Unreachable,
  Verdict,
} from './result';

export interface RunSuiteOptions {
  /** `https://app.example.com` (a path prefix is kept: `https://host/prefix` + `/health`). */
  readonly baseUrl: string;
  readonly spec: SmokeSpec;
  /** Bearer token for `auth: "bearer"` checks; without it those checks are skipped. */
  readonly token?: string;
  /** Why there is no token, as the skip reason of the `auth: "bearer"` checks. @default how to give one (CLI) */
  readonly tokenUnavailableReason?: string;
  /** The mode the app runs in: checks for the other mode are skipped. @default unknown: every mode-specific check is skipped */
  readonly appMode?: AppMode;
  /** Port of the `plainHttp` checks (the load balancer's HTTP listener). @default 80 */
  readonly httpPort?: number;
  /**
   * Runs `writes: true` checks; `unattended` runs only those a deploy gate may run on its own (`unattended: true`);
   * otherwise they are skipped. @default false
   */
  readonly allowWrites?: boolean | 'unattended';
  /**
   * The origins the app is configured to allow (CORS), filled into `{allowedOrigin}`: a check naming it runs once per
   * origin. @default the base URL's origin (the configuration's default, `https://<domainName>`)
   */
  readonly allowedOrigins?: readonly string[];
  /** Only checks carrying at least one of these tags are run (and reported). @default every check */
  readonly tags?: readonly string[];
  /** Deadline for one check, all its attempts and its cleanup included. */
  readonly checkTimeoutMs: number;
  /** Deadline for the whole suite; checks still running then fail with "suite deadline exceeded". */
  readonly suiteTimeoutMs: number;
  /** A response body beyond this many bytes fails the check. */
  readonly maxBodyBytes: number;
  /** Checks in flight at once. @default 64 (the default spec runs in one wave) */
  readonly concurrency?: number;
  /** Extra trusted CA certificates (PEM), e.g. a private CA in front of a staging stack. */
  readonly ca?: string | Buffer;
  /**
   * Connect to this host (a DNS name or an address) instead of resolving the base URL's host, like curl's
   * `--connect-to`: the TLS server name (SNI), the certificate check and the `Host` header all stay the URL's host.
   * The deploy hook gives the stage's load balancer DNS name here while the URL names the configured domain, so it
   * tests the real listener, certificate and target group before any public DNS record points at them.
   * Only requests to the base URL's host are redirected; a redirect to another host resolves that host normally.
   */
  readonly connectTo?: string;
  /** Cancels the suite from outside (e.g. the Lambda is about to time out); treated like the suite deadline. */
  readonly signal?: AbortSignal;
}

const USER_AGENT = 'sfdeploy-smoke/1';

/** Runs the spec against `baseUrl`. Never throws for anything the server does. */
export async function runSuite(options: RunSuiteOptions): Promise<SuiteResult> {
  const base = parseBaseUrl(options.baseUrl);
  if (options.connectTo !== undefined && isIP(base.hostname.replace(/^\[|\]$/g, '')) !== 0) {
    throw new Error(`connectTo needs a host name in the URL (the name TLS and Host carry), got ${base.hostname}`);
  }
  const started = performance.now();
  const suiteDeadline = started + options.suiteTimeoutMs;
  const suite = new AbortController();
  // Every check in flight listens on the suite signal; Node's default of 10 listeners would warn.
  setMaxListeners(0, suite.signal);
  const suiteTimer = setTimeout(() => suite.abort(), options.suiteTimeoutMs);
  const onExternalAbort = () => suite.abort();
  options.signal?.addEventListener('abort', onExternalAbort, { once: true });
  if (options.signal?.aborted) suite.abort();

  const transport = createTransport(options.ca, options.connectTo ? { [base.hostname]: options.connectTo } : {});
  const selected = bindAllowedOrigins(
    options.spec.checks.filter(
      (check) => !options.tags || options.tags.length === 0 || check.tags.some((tag) => options.tags!.includes(tag)),
    ),
    options.allowedOrigins ?? [base.origin],
  );
  const context: SuiteContext = {
    base,
    transport,
    token: options.token,
    tokenUnavailableReason: options.tokenUnavailableReason ?? 'needs a token (--token / --token-env)',
    appMode: options.appMode,
    httpPort: options.httpPort ?? 80,
    allowWrites: options.allowWrites ?? false,
    checkTimeoutMs: options.checkTimeoutMs,
    suiteDeadline,
    suiteSignal: suite.signal,
    expireSuite: () => suite.abort(),
    maxBodyBytes: options.maxBodyBytes,
  };
  try {
    const outcomes = await mapConcurrent(selected, options.concurrency ?? 64, (check) => runCheck(check, context));
    const checks = await remeasureLatency(selected, outcomes, context);
    return {
      target: base.href,
      connectedTo: options.connectTo ?? null,
      passed: suitePassed(checks),
      durationMs: Math.round(performance.now() - started),
      checks,
      unreachable: summariseUnreachable(checks, transport.addressOf(base)),
    };
  } finally {
    clearTimeout(suiteTimer);
    options.signal?.removeEventListener('abort', onExternalAbort);
    // Keep-alive sockets would otherwise hold the event loop (the CLI) or leak across Lambda invocations.
    transport.destroy();
  }
}

/**
 * Latency budgets are the checklist's `time curl`: one request alone. Measured inside the concurrent wave they
 * also count our own burst queueing in front of a few app workers (and, on a cold Lambda, our own CPU), so a
 * check whose only fault is its budget is measured once more, alone, on a warm connection, and judged on that.
 * Write checks are not repeated (a second create is not free).
 */
async function remeasureLatency(
  checks: readonly Check[],
  outcomes: readonly CheckOutcome[],
  ctx: SuiteContext,
): Promise<CheckResult[]> {
  const results = outcomes.map((o) => o.result);
  for (const [index, outcome] of outcomes.entries()) {
    const check = checks[index]!;
    if (!outcome.latencyOnly || check.writes || ctx.suiteSignal.aborted) continue;
    results[index] = remeasured(outcome.result, await runCheck(check, ctx));
  }
  return results;
}

/** Throws a plain Error with a readable message for a base URL we cannot use. */
export function parseBaseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`not a valid URL: ${JSON.stringify(text)} (expected e.g. https://app.example.com)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`URL must start with http:// or https://, got ${url.protocol}`);
  }
  if (url.username || url.password) throw new Error('URL must not carry credentials; use a token instead');
  if (url.search || url.hash) throw new Error('URL must be a base (no ?query or #fragment)');
  return url;
}

/** What every check of one run shares: the conditions its verdicts depend on, the transport and the deadlines. */
interface SuiteContext extends RunConditions {
  readonly base: URL;
  readonly transport: Transport;
  readonly httpPort: number;
  readonly checkTimeoutMs: number;
  readonly suiteDeadline: number;
  readonly suiteSignal: AbortSignal;
  readonly expireSuite: () => void;
  readonly maxBodyBytes: number;
}

async function mapConcurrent<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

async function runCheck(template: Check, ctx: SuiteContext): Promise<CheckOutcome> {
  const skipped = skipReason(template, ctx);
  if (skipped !== null) return { result: skippedResult(template, skipped), latencyOnly: false };
  const started = performance.now();
  if (ctx.suiteSignal.aborted || started >= ctx.suiteDeadline) {
    return { result: lateResult(template), latencyOnly: false };
  }

  const timebox = openDeadline(ctx, started);
  const { signal, timeoutReason } = timebox;

  try {
    let check = template;
    if (template.before) {
      const found = await runBefore(template, ctx, signal, timeoutReason);
      if ('outcome' in found) return found.outcome;
      check = { ...template, path: template.path.replace(BEFORE_PLACEHOLDER, found.value) };
    }
    let attempts = 0;
    let exchange: Exchange;
    let evaluation: Evaluation;
    for (;;) {
      attempts++;
      exchange = await perform(check, ctx, signal, timeoutReason);
      evaluation = evaluate(check, exchange);
      if (evaluation.verdict === 'pass' || attempts > check.retries || signal.aborted) break;
      // A short, growing pause gives a flapping target a moment; it never outlives the check's deadline.
      const pause = Math.min(100 * attempts, Math.max(0, timebox.deadline - performance.now()));
      try {
        await sleep(pause, undefined, { signal });
      } catch {
        break;
      }
    }

    if (check.references && evaluation.verdict === 'pass' && exchange.ok) {
      const problem = await probeReferences(check, ctx, exchange.body.toString('utf8'), signal, timeoutReason);
      if (problem) evaluation = { ...evaluation, verdict: 'fail', ...problem, latencyOnly: false };
    }

    const cleanupProblem =
      check.cleanup && exchange.ok && evaluation.json.parsed
        ? await runCleanup(check, ctx, evaluation.json.value)
        : undefined;
    return judgeCheck(check, { exchange, evaluation, attempts, cleanupProblem, token: ctx.token });
  } finally {
    timebox.close();
  }
}

/**
 * The check's `before` request: the value for `{before}`, or the check's outcome when there is none (a failure, or a
 * skip when the spec says a missing value means there is nothing to check).
 */
async function runBefore(
  check: Check,
  ctx: SuiteContext,
  signal: AbortSignal,
  timeoutReason: (waitingFor: WaitingFor) => string,
): Promise<{ value: string } | { outcome: CheckOutcome }> {
  const before = check.before!;
  const exchange = await send(
    {
      method: 'GET',
      url: joinUrl(ctx.base, before.path),
      headers: requestHeaders(check, ctx.token, undefined),
      body: undefined,
      followRedirects: 0,
    },
    ctx,
    signal,
    timeoutReason,
  );
  const failed = (reason: string, kind: FailureKind = 'assertion'): { outcome: CheckOutcome } => ({
    outcome: judgeCheck(check, {
      exchange,
      evaluation: { verdict: 'fail', reason: `before: GET ${before.path} ${reason}`, kind, json: { parsed: false } },
      attempts: 1,
      token: ctx.token,
    }),
  });
  if (!exchange.ok) return failed(`failed: ${exchange.reason}`, exchange.kind);
  if (!before.status.includes(exchange.status)) {
    return failed(`answered ${exchange.status}, expected ${before.status.join('/')}`);
  }
  const text = exchange.body.toString('utf8');
  let value: string | undefined;
  if (before.json !== undefined) {
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      return failed('did not answer JSON');
    }
    value = fillPlaceholders(`{json:${before.json}}`, document);
  } else {
    const reference = new RegExp(before.match!, 'i').exec(text)?.[1];
    if (reference !== undefined) {
      let url: URL;
      try {
        url = new URL(reference, joinUrl(ctx.base, before.path));
      } catch {
        return failed(`references ${JSON.stringify(reference)}, not a URL`);
      }
      if (url.origin !== ctx.base.origin) return failed(`references ${url.href}, another origin`);
      // The page names the path from the host; the check's path is appended to the base URL's own path prefix.
      const prefix = ctx.base.pathname.replace(/\/+$/, '');
      value = url.pathname.startsWith(`${prefix}/`) ? url.pathname.slice(prefix.length) + url.search : undefined;
    }
  }
  if (value !== undefined) return { value };
  const what = before.json !== undefined ? `no ${before.json}` : `nothing matching /${before.match}/`;
  if (before.missing === 'skip') {
    return {
      outcome: { result: skippedResult(check, `nothing to check: GET ${before.path} has ${what}`), latencyOnly: false },
    };
  }
  return failed(`has ${what}`);
}

/** Probes at once per page: a page names a handful of routes, and a few app workers serve them. */
const PROBE_CONCURRENCY = 4;

/**
 * The check's `references`: every same-origin API path the page calls, probed with one GET each under the check's
 * deadline (references.ts says what an answer means). Null when all are served, else the failure's reason and kind.
 */
async function probeReferences(
  check: Check,
  ctx: SuiteContext,
  page: string,
  signal: AbortSignal,
  timeoutReason: (waitingFor: WaitingFor) => string,
): Promise<{ reason: string; kind: FailureKind } | null> {
  const references = check.references!;
  const pageUrl = joinUrl(ctx.base, check.path);
  const extracted = extractReferences(page, references.pattern, pageUrl, ctx.base);
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: 'application/json, */*' };
  if (references.auth === 'bearer' && ctx.token) headers['authorization'] = `Bearer ${ctx.token}`;
  const answers = await mapConcurrent(extracted.paths, PROBE_CONCURRENCY, async (path): Promise<ProbeAnswer> => {
    const exchange = await send(
      { method: 'GET', url: joinUrl(ctx.base, path), headers, body: undefined, followRedirects: 0 },
      ctx,
      signal,
      timeoutReason,
    );
    return exchange.ok
      ? { path, status: exchange.status }
      : { path, failure: `failed: ${exchange.reason}`, kind: exchange.kind };
  });
  const reason = judgeReferences(extracted, answers, references.atLeast, `GET ${check.path}`);
  return reason === null ? null : { reason, kind: probeFailureKind(answers) };
}

interface DeadlineWindow {
  readonly signal: AbortSignal;
  readonly deadline: number;
  readonly timeoutReason: (waitingFor: WaitingFor) => string;
  close(): void;
}

/**
 * A signal fired by a check's own deadline or by the suite's, remembering which one it was. When the suite
 * deadline comes first, the timer declares the suite expired itself, since timers due together fire in any order.
 */
function openDeadline(ctx: SuiteContext, started: number): DeadlineWindow {
  const cappedBySuite = ctx.suiteDeadline <= started + ctx.checkTimeoutMs;
  const deadline = Math.min(started + ctx.checkTimeoutMs, ctx.suiteDeadline);
  const controller = new AbortController();
  const timer = setTimeout(() => (cappedBySuite ? ctx.expireSuite() : controller.abort('check')), deadline - started);
  const onSuiteAbort = () => controller.abort('suite');
  ctx.suiteSignal.addEventListener('abort', onSuiteAbort, { once: true });
  return {
    signal: controller.signal,
    deadline,
    timeoutReason: (waitingFor) =>
      controller.signal.reason === 'suite'
        ? SUITE_DEADLINE_EXCEEDED
        : waitingFor === 'connection'
          ? `no connection within ${ctx.checkTimeoutMs} ms`
          : waitingFor === 'response'
            ? `no response within ${ctx.checkTimeoutMs} ms`
            : `response body not complete within ${ctx.checkTimeoutMs} ms`,
    close: () => {
      clearTimeout(timer);
      ctx.suiteSignal.removeEventListener('abort', onSuiteAbort);
    },
  };
}

/**
 * Undoes what a check created. It gets a deadline of its own (still inside the suite's): a cleanup cut short
 * because the check used up its time would leave data behind.
 */
async function runCleanup(check: Check, ctx: SuiteContext, document: unknown): Promise<string | undefined> {
  const cleanup = check.cleanup!;
  const path = fillPlaceholders(cleanup.path, document);
  // Nothing identifiable was created (e.g. a validation check answered 400 as it should): nothing to undo.
  if (path === undefined) return undefined;
  if (ctx.suiteSignal.aborted) return `cleanup ${cleanup.method} ${path} not attempted: suite deadline exceeded`;
  const timebox = openDeadline(ctx, performance.now());
  const exchange = await send(
    {
      method: cleanup.method,
      url: joinUrl(ctx.base, path),
      headers: requestHeaders(check, ctx.token, undefined),
      body: undefined,
      followRedirects: 0,
    },
    ctx,
    timebox.signal,
    timebox.timeoutReason,
  ).finally(() => timebox.close());
  if (!exchange.ok) return `cleanup ${cleanup.method} ${path} failed: ${exchange.reason}`;
  if (!cleanup.status.includes(exchange.status)) {
    return `cleanup ${cleanup.method} ${path} failed: expected status ${cleanup.status.join('/')}, got ${exchange.status}`;
  }
  return undefined;
}

function perform(
  check: Check,
  ctx: SuiteContext,
  signal: AbortSignal,
  timeoutReason: (waitingFor: WaitingFor) => string,
): Promise<Exchange> {
  const body = check.body === undefined ? undefined : Buffer.from(JSON.stringify(check.body));
  return send(
    {
      method: check.method,
      url: check.plainHttp ? plainHttpUrl(ctx.base, check.path, ctx.httpPort) : joinUrl(ctx.base, check.path),
      headers: requestHeaders(check, ctx.token, body),
      body,
      followRedirects: check.followRedirects,
    },
    ctx,
    signal,
    timeoutReason,
  );
}

function requestHeaders(check: Check, token: string | undefined, body: Buffer | undefined): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: '*/*' };
  for (const [name, value] of Object.entries(check.headers)) headers[name.toLowerCase()] = value;
  if (body) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(body.length);
  }
  if (check.auth === 'bearer' && token) headers['authorization'] = `Bearer ${token}`;
  if (check.auth === 'invalid-token') headers['authorization'] = `Bearer ${INVALID_TOKEN}`;
  if (check.auth === 'demo-token' || check.auth === 'test-token') {
    headers['authorization'] = `Bearer ${SHARED_TEST_TOKENS[check.auth]}`;
  }
  return headers;
}

/** The base URL's host over plain HTTP on `port` (the path prefix kept), for `plainHttp` checks. */
function plainHttpUrl(base: URL, path: string, port: number): URL {
  const url = joinUrl(base, path);
  url.protocol = 'http:';
  url.port = port === 80 ? '' : String(port);
  return url;
}

function joinUrl(base: URL, path: string): URL {
  const prefix = base.pathname.replace(/\/+$/, '');
  return new URL(prefix + path, base.origin);
}

/** One request, plus any redirects the check allows, under one signal. */
async function send(
  request: Request,
  ctx: SuiteContext,
  signal: AbortSignal,
  timeoutReason: (waitingFor: WaitingFor) => string,
): Promise<Exchange> {
  const started = performance.now();
  const visited = new Set<string>([request.url.href]);
  let current = request;
  for (let hop = 0; ; hop++) {
    const result = await exchangeOnce(current, ctx, signal, timeoutReason);
    if (!result.ok) return { ...result, latencyMs: performance.now() - started };
    const location = firstHeader(result.headers['location']);
    const isRedirect = result.status >= 300 && result.status < 400 && location !== undefined;
    if (!isRedirect || request.followRedirects === 0) {
      return { ...result, latencyMs: performance.now() - started, redirectedTo: isRedirect ? location : undefined };
    }
    let next: URL;
    try {
      next = new URL(location, current.url);
    } catch {
      return {
        ...result,
        ok: false,
        kind: 'assertion',
        reason: `redirect to an invalid Location: ${location}`,
        latencyMs: performance.now() - started,
      };
    }
    if (visited.has(next.href)) {
      return {
        ...result,
        ok: false,
        kind: 'assertion',
        reason: `redirect loop: ${current.url.pathname} -> ${next.pathname} was already visited`,
        latencyMs: performance.now() - started,
      };
    }
    if (hop + 1 > request.followRedirects) {
      return {
        ...result,
        ok: false,
        kind: 'assertion',
        reason: `more than ${request.followRedirects} redirect(s) (last Location: ${location})`,
        latencyMs: performance.now() - started,
      };
    }
    if (next.protocol !== current.url.protocol) {
      return {
        ...result,
        ok: false,
        kind: 'assertion',
        reason: `redirect to another scheme (${next.protocol}) is not followed`,
        latencyMs: performance.now() - started,
      };
    }
    visited.add(next.href);
    const headers = { ...current.headers };
    // Never hand the bearer token to another origin.
    if (next.origin !== current.url.origin) delete headers['authorization'];
    const becomesGet =
      result.status === 303 || ((result.status === 301 || result.status === 302) && current.method === 'POST');
    if (becomesGet) {
      delete headers['content-type'];
      delete headers['content-length'];
    }
    current = {
      ...current,
      url: next,
      headers,
      method: becomesGet ? 'GET' : current.method,
      body: becomesGet ? undefined : current.body,
    };
  }
}
