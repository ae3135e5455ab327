/**
 * The smoke engine: runs a spec's checks against one base URL and returns a verdict per check with evidence.
 * Pure core (node:http/https only, no AWS): the CLI, the ECS hook and the benchmark all call `runSuite`.
 *
 * Guarantees: every check ends by its own deadline and the suite by its deadline whatever the server does
 * (hangs, resets, endless bodies, redirect loops); bodies are read up to a cap, never buffered unbounded;
 * TLS certificates are verified; redirects are not followed unless a check says so; retries happen only
 * where a check says so; a check that did not run is `skipped`, never `pass`.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { setMaxListeners } from 'node:events';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AppMode,
  type BodyAssertion,
  type Check,
  fillPlaceholders,
  type HeaderAssertion,
  INVALID_TOKEN,
  resolveJsonPath,
  SHARED_TEST_TOKENS,
  type SmokeSpec,
} from './spec';

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
}

export interface SuiteResult {
  readonly target: string;
  /** The address connected to instead of the target's host (`connectTo`), null when the host was resolved. */
  readonly connectedTo: string | null;
  /** True iff no check failed and at least one check ran. */
  readonly passed: boolean;
  readonly durationMs: number;
  readonly checks: readonly CheckResult[];
}

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
  /** Runs `writes: true` checks; otherwise they are skipped. @default false */
  readonly allowWrites?: boolean;
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
const EXCERPT_CHARS = 200;
const HTML_PREFIX = /^\s*(?:<!doctype\s+html|<html[\s>])/i;

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
  const selected = options.spec.checks.filter(
    (check) => !options.tags || options.tags.length === 0 || check.tags.some((tag) => options.tags!.includes(tag)),
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
    const ran = checks.filter((c) => c.verdict !== 'skipped');
    return {
      target: base.href,
      connectedTo: options.connectTo ?? null,
      passed: ran.length > 0 && ran.every((c) => c.verdict === 'pass'),
      durationMs: Math.round(performance.now() - started),
      checks,
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
    const again = await runCheck(check, ctx);
    const first = outcome.result;
    const attempts = first.attempts + again.result.attempts;
    results[index] =
      again.result.verdict === 'pass' || !again.latencyOnly
        ? { ...again.result, attempts }
        : {
            ...again.result,
            attempts,
            reason: `${again.result.reason} (alone; ${first.latencyMs} ms in the concurrent run)`,
          };
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

interface SuiteContext {
  readonly base: URL;
  readonly transport: Transport;
  readonly token: string | undefined;
  readonly tokenUnavailableReason: string;
  readonly appMode: AppMode | undefined;
  readonly httpPort: number;
  readonly allowWrites: boolean;
  readonly checkTimeoutMs: number;
  readonly suiteDeadline: number;
  readonly suiteSignal: AbortSignal;
  readonly expireSuite: () => void;
  readonly maxBodyBytes: number;
}

interface Transport {
  /** The connection pool for a URL's scheme. */
  agentFor(url: URL): http.Agent;
  destroy(): void;
}

function createTransport(ca: string | Buffer | undefined, connectTo: Readonly<Record<string, string>>): Transport {
  const lookup = cachingLookup(connectTo);
  // One pool per scheme per suite: keep-alive lets retries, redirects and cleanups reuse a warm (TLS) connection.
  // Each is made on first use: most suites speak one scheme only.
  let secure: https.Agent | undefined;
  let plain: http.Agent | undefined;
  return {
    agentFor: (url) => {
      if (url.protocol === 'https:') {
        secure ??= new https.Agent({ keepAlive: true, lookup, rejectUnauthorized: true, ...(ca ? { ca } : {}) });
        return secure;
      }
      plain ??= new http.Agent({ keepAlive: true, lookup });
      return plain;
    },
    destroy: () => {
      secure?.destroy();
      plain?.destroy();
    },
  };
}

/**
 * One DNS lookup per host per suite. Node resolves through getaddrinfo on a 4-thread pool, so forty
 * concurrent checks against one host would otherwise queue forty identical lookups.
 *
 * `connectTo` maps a URL host to the host actually resolved and connected to. Node's TLS layer takes the server
 * name (SNI) and the name the certificate is checked against from the request's host, not from the address the
 * socket reaches, so overriding only the lookup keeps both on the URL's host.
 */
function cachingLookup(connectTo: Readonly<Record<string, string>>): LookupFunction {
  const cache = new Map<string, Promise<LookupAddress[]>>();
  const resolveAll = (requested: string) => {
    const hostname = Object.hasOwn(connectTo, requested) ? connectTo[requested]! : requested;
    let pending = cache.get(hostname);
    if (!pending) {
      pending = new Promise<LookupAddress[]>((resolve, reject) =>
        dnsLookup(hostname, { all: true }, (error, addresses) => {
          if (!error) return resolve(addresses);
          // Name the host that failed to resolve: with connectTo it is not the one in the URL.
          (error as { hostname?: string }).hostname = hostname;
          reject(error);
        }),
      );
      cache.set(hostname, pending);
    }
    return pending;
  };
  return (hostname, options, callback) => {
    resolveAll(hostname).then(
      (addresses) => {
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const usable = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
        if (usable.length === 0) {
          const error: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          error.code = 'ENOTFOUND';
          callback(error, '', 0);
        } else if (options.all) {
          callback(null, usable);
        } else {
          callback(null, usable[0]!.address, usable[0]!.family);
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
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

/** What one HTTP exchange (redirects included) produced. */
type Exchange =
  | {
      readonly ok: true;
      readonly status: number;
      readonly headers: IncomingHttpHeaders;
      readonly body: Buffer;
      readonly latencyMs: number;
      readonly redirectedTo?: string;
    }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly kind: FailureKind;
      readonly status?: number;
      readonly headers?: IncomingHttpHeaders;
      readonly body?: Buffer;
      readonly latencyMs?: number;
    };

interface Evaluation {
  readonly verdict: 'pass' | 'fail';
  readonly reason: string | null;
  readonly kind: FailureKind | null;
  /** The answer was right but slower than the budget. */
  readonly latencyOnly?: boolean;
  /** Parsed JSON body when it parsed, for cleanups. */
  readonly json: { readonly parsed: boolean; readonly value?: unknown };
}

interface CheckOutcome {
  readonly result: CheckResult;
  /** Failed on its latency budget alone (a candidate for an uncontended re-measurement). */
  readonly latencyOnly: boolean;
}

async function runCheck(check: Check, ctx: SuiteContext): Promise<CheckOutcome> {
  const base = {
    id: check.id,
    title: check.title,
    method: check.method,
    path: check.path,
    tags: check.tags,
  };
  const skip = (reason: string): CheckResult => ({
    ...base,
    verdict: 'skipped',
    status: null,
    contentType: null,
    latencyMs: null,
    reason,
    excerpt: null,
    attempts: 0,
    failureKind: null,
  });
  const plain = (result: CheckResult): CheckOutcome => ({ result, latencyOnly: false });
  if (check.appMode !== undefined && check.appMode !== ctx.appMode) {
    return plain(
      skip(
        ctx.appMode === undefined
          ? `checks ${check.appMode} mode: runs when the app mode is given (--app-mode ${check.appMode})`
          : `checks ${check.appMode} mode; this target runs the app in ${ctx.appMode} mode`,
      ),
    );
  }
  if (check.writes && !ctx.allowWrites) {
    return plain(skip('writes data: runs only when writes are allowed (--allow-writes)'));
  }
  if (check.auth === 'bearer' && !ctx.token) {
    return plain(skip(ctx.tokenUnavailableReason));
  }
  const started = performance.now();
  if (ctx.suiteSignal.aborted || started >= ctx.suiteDeadline) {
    const reason = 'suite deadline exceeded before the check started';
    return plain({ ...skip(reason), verdict: 'fail', failureKind: 'timeout' });
  }

  const timebox = openDeadline(ctx, started);
  const { signal, timeoutReason } = timebox;

  try {
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

    let verdict = evaluation.verdict;
    let reason = evaluation.reason;
    let kind = evaluation.kind;
    if (check.cleanup && exchange.ok && evaluation.json.parsed) {
      const cleanupProblem = await runCleanup(check, ctx, evaluation.json.value);
      if (cleanupProblem) {
        verdict = 'fail';
        reason = reason ? `${reason}; ${cleanupProblem}` : cleanupProblem;
        kind ??= 'assertion';
      }
    }

    const status = 'status' in exchange && exchange.status !== undefined ? exchange.status : null;
    const headers = exchange.headers;
    const contentType = headers ? (firstHeader(headers['content-type']) ?? null) : null;
    const body = exchange.body;
    return {
      result: {
        ...base,
        verdict,
        status,
        contentType,
        latencyMs: exchange.latencyMs === undefined ? null : Math.round(exchange.latencyMs),
        reason,
        excerpt: verdict === 'fail' && body && body.length > 0 ? excerptOf(body, ctx.token) : null,
        attempts,
        failureKind: verdict === 'fail' ? kind : null,
      },
      latencyOnly: verdict === 'fail' && reason === evaluation.reason && evaluation.latencyOnly === true,
    };
  } finally {
    timebox.close();
  }
}

interface DeadlineWindow {
  readonly signal: AbortSignal;
  readonly deadline: number;
  readonly timeoutReason: (waitingFor: 'response' | 'body') => string;
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
        ? 'suite deadline exceeded'
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
  timeoutReason: (waitingFor: 'response' | 'body') => string,
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

interface Request {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
  readonly followRedirects: number;
}

/** One request, plus any redirects the check allows, under one signal. */
async function send(
  request: Request,
  ctx: SuiteContext,
  signal: AbortSignal,
  timeoutReason: (waitingFor: 'response' | 'body') => string,
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

type RawExchange =
  | { readonly ok: true; readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: Buffer }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly kind: FailureKind;
      readonly status?: number;
      readonly headers?: IncomingHttpHeaders;
      readonly body?: Buffer;
    };

/**
 * One HTTP request/response. Resolves exactly once: with the full (capped) body, or with a failure the moment
 * the signal fires, whatever state the socket is in.
 */
function exchangeOnce(
  request: Request,
  ctx: SuiteContext,
  signal: AbortSignal,
  timeoutReason: (waitingFor: 'response' | 'body') => string,
): Promise<RawExchange> {
  return new Promise<RawExchange>((resolve) => {
    let settled = false;
    let response: http.IncomingMessage | undefined;
    const chunks: Buffer[] = [];
    let received = 0;

    const finish = (outcome: RawExchange) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const partial = () =>
      response ? { status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) } : {};
    const onAbort = () => {
      finish({ ok: false, kind: 'timeout', reason: timeoutReason(response ? 'body' : 'response'), ...partial() });
      req.destroy();
    };

    const module = request.url.protocol === 'https:' ? https : http;
    const req = module.request(
      request.url,
      { method: request.method, headers: request.headers, agent: ctx.transport.agentFor(request.url) },
      (res) => {
        response = res;
        const declared = Number(firstHeader(res.headers['content-length']));
        if (Number.isFinite(declared) && declared > ctx.maxBodyBytes) {
          finish({
            ok: false,
            kind: 'assertion',
            reason: `response body of ${declared} bytes is over the ${ctx.maxBodyBytes}-byte limit`,
            status: res.statusCode,
            headers: res.headers,
          });
          req.destroy();
          return;
        }
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          received += chunk.length;
          if (received > ctx.maxBodyBytes) {
            finish({
              ok: false,
              kind: 'assertion',
              reason: `response body over the ${ctx.maxBodyBytes}-byte limit`,
              ...partial(),
            });
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          finish({ ok: true, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', (error: NodeJS.ErrnoException) =>
          finish({ ok: false, ...describeNetworkError(error, true), ...partial() }),
        );
        res.on('close', () => {
          if (!res.complete) finish({ ok: false, kind: 'network', reason: 'connection reset mid-body', ...partial() });
        });
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, ...describeNetworkError(error, response !== undefined), ...partial() }),
    );
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    req.end(request.body);
  });
}

const TLS_REASONS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS: self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS: self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS: certificate not issued by a trusted CA (missing intermediate?)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TLS: certificate not issued by a trusted CA',
  CERT_HAS_EXPIRED: 'TLS: certificate expired',
  CERT_NOT_YET_VALID: 'TLS: certificate not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS: certificate does not match the host name',
};

/** "TLS: the certificate is not valid for app.example.com: it names other.example.com, *.example.org". */
function describeNameMismatch(error: NodeJS.ErrnoException): string {
  const { host, cert } = error as { host?: string; cert?: { subjectaltname?: string; subject?: { CN?: unknown } } };
  const names = (cert?.subjectaltname ?? '')
    .split(',')
    .map((name) => name.trim().replace(/^(?:DNS|IP Address):/, ''))
    .filter((name) => name !== '');
  if (names.length === 0 && typeof cert?.subject?.CN === 'string') names.push(cert.subject.CN);
  const what = host ? `the certificate is not valid for ${host}` : 'the certificate does not match the host name';
  return `TLS: ${what}${names.length > 0 ? `: it names ${names.join(', ')}` : ''}`;
}

function describeNetworkError(
  error: NodeJS.ErrnoException,
  headersReceived: boolean,
): { kind: FailureKind; reason: string } {
  const code = error.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return { kind: 'assertion', reason: describeNameMismatch(error) };
  const tls = TLS_REASONS[code];
  if (tls) return { kind: 'assertion', reason: tls };
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /certificate|SSL/i.test(error.message)) {
    return { kind: 'assertion', reason: `TLS: ${error.message}` };
  }
  const host = (error as { hostname?: string }).hostname;
  switch (code) {
    case 'ECONNREFUSED':
      return { kind: 'network', reason: 'connection refused' };
    case 'ECONNRESET':
    case 'EPIPE':
      return {
        kind: 'network',
        reason: headersReceived ? 'connection reset mid-body' : 'connection reset before a response',
      };
    case 'ENOTFOUND':
      return { kind: 'assertion', reason: `host not found${host ? ` (${host})` : ''}` };
    case 'EAI_AGAIN':
      return { kind: 'network', reason: `DNS lookup failed temporarily${host ? ` (${host})` : ''}` };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { kind: 'network', reason: 'host unreachable' };
    case 'ETIMEDOUT':
      return { kind: 'timeout', reason: 'connection timed out' };
    default:
      if (code.startsWith('HPE_')) return { kind: 'assertion', reason: `invalid HTTP response (${error.message})` };
      if (error.message === 'socket hang up') {
        return { kind: 'network', reason: 'connection closed before a response' };
      }
      return { kind: 'network', reason: error.message || code || 'request failed' };
  }
}

function evaluate(check: Check, exchange: Exchange): Evaluation {
  const noJson = { parsed: false } as const;
  if (!exchange.ok) return { verdict: 'fail', reason: exchange.reason, kind: exchange.kind, json: noJson };
  const { status, headers, body } = exchange;
  const text = body.toString('utf8');
  const contentType = firstHeader(headers['content-type']) ?? '';
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  const looksHtml = mediaType === 'text/html' || HTML_PREFIX.test(text);
  const json = parseJson(text, mediaType);
  const fail = (reason: string, kind: FailureKind = 'assertion'): Evaluation => ({
    verdict: 'fail',
    reason,
    kind,
    json,
  });

  if (!check.expect.status.includes(status)) {
    const detail =
      exchange.redirectedTo !== undefined
        ? ` (redirect to ${exchange.redirectedTo})`
        : looksHtml && check.expect.contentType !== 'text/html'
          ? ' (HTML error page)'
          : '';
    const kind: FailureKind = status === 502 || status === 503 || status === 504 ? 'gateway' : 'assertion';
    return fail(`expected status ${check.expect.status.join('/')}, got ${status}${detail}`, kind);
  }

  const expectedType = check.expect.contentType?.toLowerCase();
  if (expectedType !== undefined) {
    const wantsJson = isJsonMediaType(expectedType);
    const matches = wantsJson ? isJsonMediaType(mediaType) : mediaType === expectedType;
    if (!matches) {
      const what = wantsJson ? 'JSON' : expectedType;
      const got = mediaType || 'no Content-Type';
      return fail(`expected ${what} but got ${got}${looksHtml && wantsJson ? ' (HTML error page)' : ''}`);
    }
    if (wantsJson && !json.parsed) return fail(`invalid JSON body (${json.error})`);
  }

  const problems: string[] = [];
  for (const assertion of check.expect.body) {
    const problem = checkBody(assertion, text, json);
    if (problem) problems.push(problem);
  }
  for (const assertion of check.expect.headers) {
    const problem = checkHeader(assertion, headers);
    if (problem) problems.push(problem);
  }
  const overBudget = check.latencyBudgetMs !== undefined && exchange.latencyMs > check.latencyBudgetMs;
  if (overBudget) {
    problems.push(`latency ${Math.round(exchange.latencyMs)} ms over budget ${check.latencyBudgetMs} ms`);
  }
  if (problems.length > 0) return { ...fail(problems.join('; ')), latencyOnly: overBudget && problems.length === 1 };
  return { verdict: 'pass', reason: null, kind: null, json };
}

type JsonParse = { parsed: true; value: unknown; error?: undefined } | { parsed: false; error: string };

function parseJson(text: string, mediaType: string): JsonParse {
  if (text.length === 0 && !isJsonMediaType(mediaType)) return { parsed: false, error: 'empty body' };
  try {
    return { parsed: true, value: JSON.parse(text) };
  } catch (error) {
    return { parsed: false, error: error instanceof Error ? error.message : String(error) };
  }
}

function isJsonMediaType(mediaType: string): boolean {
  return /^[\w.+-]+\/(?:[\w.-]+\+)?json$/.test(mediaType);
}

function checkBody(assertion: BodyAssertion, text: string, json: JsonParse): string | undefined {
  switch (assertion.kind) {
    case 'doctype':
      return /^\uFEFF?\s*(?:<!--[\s\S]*?-->\s*)*<!doctype\s+html/i.test(text)
        ? undefined
        : 'expected an HTML document starting with <!DOCTYPE html>';
    case 'contains': {
      const haystack = assertion.ignoreCase ? text.toLowerCase() : text;
      const found = assertion.anyOf.some((needle) =>
        haystack.includes(assertion.ignoreCase ? needle.toLowerCase() : needle),
      );
      return found ? undefined : `body contains none of ${assertion.anyOf.map((n) => JSON.stringify(n)).join(', ')}`;
    }
    case 'json': {
      if (!json.parsed) return `expected a JSON body (${json.error})`;
      if (assertion.type === 'object' && !isPlainObject(json.value))
        return `expected a JSON object, got ${jsonType(json.value)}`;
      if (assertion.type === 'array' && !Array.isArray(json.value))
        return `expected a JSON array, got ${jsonType(json.value)}`;
      return undefined;
    }
    case 'json-path': {
      if (!json.parsed) return `expected a JSON body with ${assertion.path} (${json.error})`;
      const { found, value } = resolveJsonPath(json.value, assertion.path);
      if (!found) return assertion.optional ? undefined : `JSON field ${assertion.path} is missing`;
      if (assertion.equals !== undefined && !deepEqual(value, assertion.equals)) {
        return `expected JSON field ${assertion.path} = ${JSON.stringify(assertion.equals)}, got ${truncate(JSON.stringify(value), 80)}`;
      }
      if (assertion.type !== undefined && jsonType(value) !== assertion.type) {
        return `expected JSON field ${assertion.path} to be ${assertion.type}, got ${jsonType(value)}`;
      }
      if (
        assertion.matches !== undefined &&
        (typeof value !== 'string' || !new RegExp(assertion.matches).test(value))
      ) {
        return `expected JSON field ${assertion.path} to match /${assertion.matches}/, got ${truncate(JSON.stringify(value), 80)}`;
      }
      return undefined;
    }
  }
}

function checkHeader(assertion: HeaderAssertion, headers: IncomingHttpHeaders): string | undefined {
  const wanted = assertion.name.toLowerCase();
  const isPrefix = wanted.endsWith('*');
  const names = Object.keys(headers).filter((name) =>
    isPrefix ? name.startsWith(wanted.slice(0, -1)) : name === wanted,
  );
  if (!assertion.present) return names.length === 0 ? undefined : `unexpected response header ${names[0]}`;
  if (names.length === 0) return `missing response header ${assertion.name}`;
  const values = names.map((name) => headerText(headers[name]));
  const describe = () => `header ${names[0]}: got ${JSON.stringify(values[0])}`;
  if (assertion.equals !== undefined && !values.includes(assertion.equals)) {
    return `${describe()}, expected ${JSON.stringify(assertion.equals)}`;
  }
  if (assertion.oneOf !== undefined && !values.some((v) => assertion.oneOf!.includes(v))) {
    return `${describe()}, expected one of ${assertion.oneOf.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (assertion.matches !== undefined && !values.some((v) => new RegExp(assertion.matches!).test(v))) {
    return `${describe()}, expected to match /${assertion.matches}/`;
  }
  return undefined;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function excerptOf(body: Buffer, token: string | undefined): string {
  let text = body
    .subarray(0, EXCERPT_CHARS * 4)
    .toString('utf8')
    .replace(/\s+/g, ' ')
    .trim();
  if (token) text = text.split(token).join('[token]');
  return truncate(text, EXCERPT_CHARS);
}
