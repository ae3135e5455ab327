/**
 * The smoke engine's sockets: one keep-alive pool per scheme per suite, one DNS lookup per host (with `connectTo`),
 * and one request/response that always ends, with its body capped. Split from engine.ts (which decides what to send
 * and what the answer means) so each file holds one concern.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { describeRequestError, hostPort, type Unreachable } from './network-errors';
import type { FailureKind } from './result';

/** The timeout reason when the suite's deadline, not the check's, cut a request short. */
export const SUITE_DEADLINE_EXCEEDED = 'suite deadline exceeded';

/** What the request was waiting for when its deadline came. */
export type WaitingFor = 'connection' | 'response' | 'body';

export interface Transport {
  /** The connection pool for a URL's scheme. */
  agentFor(url: URL): http.Agent;
  /** The `host:port` a request to this URL connects to (`connectTo` applied). */
  addressOf(url: URL): string;
  destroy(): void;
}

export function createTransport(
  ca: string | Buffer | undefined,
  connectTo: Readonly<Record<string, string>>,
): Transport {
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
    addressOf: (url) =>
      hostPort(
        Object.hasOwn(connectTo, url.hostname) ? connectTo[url.hostname]! : url.hostname.replace(/^\[|\]$/g, ''),
        url.port || (url.protocol === 'https:' ? 443 : 80),
      ),
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

export interface Request {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
  readonly followRedirects: number;
}

/** What one HTTP exchange (redirects included) produced. */
export type Exchange =
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
      /** Set when no connection was made: the server was never reached. */
      readonly unreachable?: Unreachable;
    };

export type RawExchange =
  | { readonly ok: true; readonly status: number; readonly headers: IncomingHttpHeaders; readonly body: Buffer }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly kind: FailureKind;
      readonly status?: number;
      readonly headers?: IncomingHttpHeaders;
      readonly body?: Buffer;
      readonly unreachable?: Unreachable;
    };

/** What exchangeOnce needs of the suite. */
export interface ExchangeContext {
  readonly transport: Transport;
  readonly maxBodyBytes: number;
}

/**
 * One HTTP request/response. Resolves exactly once: with the full (capped) body, or with a failure the moment
 * the signal fires, whatever state the socket is in.
 */
export function exchangeOnce(
  request: Request,
  ctx: ExchangeContext,
  signal: AbortSignal,
  timeoutReason: (waitingFor: WaitingFor) => string,
): Promise<RawExchange> {
  const target = ctx.transport.addressOf(request.url);
  return new Promise<RawExchange>((resolve) => {
    let settled = false;
    let response: http.IncomingMessage | undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    // A pooled keep-alive socket is connected already; a new one is until its TCP handshake completes.
    let connected = false;

    const finish = (outcome: RawExchange) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const partial = () =>
      response ? { status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks) } : {};
    const onAbort = () => {
      const reason = timeoutReason(response ? 'body' : connected ? 'response' : 'connection');
      // No TCP connection by the check's own deadline (a firewall or security group dropping the packets): the
      // target was never reached. Not said when the suite's deadline cut the attempt short.
      const unreachable =
        !connected && reason !== SUITE_DEADLINE_EXCEEDED ? { unreachable: { address: target, cause: reason } } : {};
      finish({ ok: false, kind: 'timeout', reason, ...unreachable, ...partial() });
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
          finish({ ok: false, ...describeRequestError(error, target, true), ...partial() }),
        );
        res.on('close', () => {
          if (!res.complete) finish({ ok: false, kind: 'network', reason: 'connection reset mid-body', ...partial() });
        });
      },
    );
    req.on('socket', (socket) => {
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      finish({ ok: false, ...describeRequestError(error, target, response !== undefined), ...partial() }),
    );
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    req.end(request.body);
  });
}

export function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
