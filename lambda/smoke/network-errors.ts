/**
 * A failed request in plain words: what the socket or TLS layer said, turned into a reason an operator can act on,
 * plus whether the target could not be reached at all (no connection was made), so a run where every check failed
 * that way can be told in one line instead of one identical row per check.
 *
 * The codes are Node's: socket errors by their errno name (ECONNREFUSED, ENOTFOUND, …;
 * https://nodejs.org/api/errors.html#common-system-errors) and certificate verification failures by OpenSSL's
 * X509_V_ERR_* names without the prefix (https://nodejs.org/api/tls.html#x509-certificate-error-codes).
 */
import type { FailureKind, Unreachable } from './result';

export type { Unreachable } from './result';

export interface RequestFailure {
  readonly kind: FailureKind;
  readonly reason: string;
  readonly unreachable?: Unreachable;
}

const TRUST_HINT = 'if you trust it, give its CA certificate (sfdeploy smoke --ca <file>)';

/** Certificate verification failures, by the code Node gives them. */
const TLS_REASONS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: `TLS: unknown CA: the certificate is self-signed, no trusted CA vouches for it; ${TRUST_HINT}`,
  SELF_SIGNED_CERT_IN_CHAIN: `TLS: unknown CA: the certificate chain ends in a CA this machine does not trust; ${TRUST_HINT}`,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    'TLS: unknown CA: the certificate was issued by a CA this machine does not trust ' +
    `(or the server does not send its intermediate certificate); ${TRUST_HINT}`,
  UNABLE_TO_GET_ISSUER_CERT: `TLS: unknown CA: the certificate's issuer is not known here; ${TRUST_HINT}`,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    'TLS: unknown CA: the certificate cannot be traced to a trusted CA ' +
    `(is the server missing its intermediate certificate?); ${TRUST_HINT}`,
  CERT_HAS_EXPIRED: 'TLS: the certificate has expired: the server must be given a renewed certificate',
  CERT_NOT_YET_VALID: "TLS: the certificate is not valid yet (or this machine's clock is behind)",
  CERT_REVOKED: 'TLS: the certificate has been revoked by its CA',
  CERT_SIGNATURE_FAILURE: 'TLS: the certificate signature does not verify (a damaged or forged certificate)',
};

/**
 * OpenSSL's words for a peer that does not speak TLS at all: most often an https:// URL pointed at a plain-HTTP port
 * (the server's "HTTP/1.1 400" is read as a TLS record with an impossible version or length).
 */
const NOT_TLS = /wrong version number|packet length too long|unknown protocol/i;

/** "TLS: name mismatch: the certificate is not valid for app.example.com: it names other.example.com". */
function describeNameMismatch(error: NodeJS.ErrnoException): string {
  const { host, cert } = error as { host?: string; cert?: { subjectaltname?: string; subject?: { CN?: unknown } } };
  const names = (cert?.subjectaltname ?? '')
    .split(',')
    .map((name) => name.trim().replace(/^(?:DNS|IP Address):/, ''))
    .filter((name) => name !== '');
  if (names.length === 0 && typeof cert?.subject?.CN === 'string') names.push(cert.subject.CN);
  const what = host ? `the certificate is not valid for ${host}` : 'the certificate does not match the host name';
  return `TLS: name mismatch: ${what}${names.length > 0 ? `: it names ${names.join(', ')}` : ''}`;
}

/**
 * @param target the `host:port` the request went to (after `connectTo`), named when the error itself does not.
 * @param headersReceived whether the response had begun (a reset then is "mid-body").
 */
export function describeRequestError(
  error: NodeJS.ErrnoException,
  target: string,
  headersReceived: boolean,
): RequestFailure {
  const code = error.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return { kind: 'assertion', reason: describeNameMismatch(error) };
  const tls = TLS_REASONS[code];
  if (tls) return { kind: 'assertion', reason: tls };
  if (NOT_TLS.test(error.message)) {
    return {
      kind: 'assertion',
      reason: `TLS: wrong protocol: ${target} did not answer in TLS (a plain-HTTP port?); use http:// or the HTTPS port`,
    };
  }
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /certificate|SSL routines/i.test(error.message)) {
    return { kind: 'assertion', reason: `TLS: ${tlsDetail(error.message)}` };
  }
  const { address, port, hostname } = error as { address?: string; port?: number; hostname?: string };
  const connected = address !== undefined && port !== undefined ? hostPort(address, port) : target;
  const unreachable = (kind: FailureKind, cause: string, where: string): RequestFailure => ({
    kind,
    reason: `${cause} (${where})`,
    unreachable: { address: where, cause },
  });
  switch (code) {
    case 'ECONNREFUSED':
      return unreachable('network', 'connection refused', connected);
    case 'ENOTFOUND':
      return unreachable('assertion', 'host not found', hostname ?? target.replace(/:\d+$/, ''));
    case 'EAI_AGAIN':
      return unreachable('network', 'DNS lookup failed temporarily', hostname ?? target.replace(/:\d+$/, ''));
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return unreachable('network', 'host unreachable', connected);
    case 'ETIMEDOUT':
      return unreachable('timeout', 'connection timed out', connected);
    case 'ECONNRESET':
    case 'EPIPE':
      return {
        kind: 'network',
        reason: headersReceived ? 'connection reset mid-body' : 'connection reset before a response',
      };
    default:
      if (code.startsWith('HPE_')) return { kind: 'assertion', reason: `invalid HTTP response (${error.message})` };
      if (error.message === 'socket hang up') {
        return { kind: 'network', reason: 'connection closed before a response' };
      }
      return { kind: 'network', reason: error.message || code || 'request failed' };
  }
}

/** `127.0.0.1:443`, `[::1]:443`. */
export function hostPort(host: string, port: number | string): string {
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
}

/** OpenSSL's "…:error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify failed:…" → "certificate verify failed". */
function tlsDetail(message: string): string {
  const parts = message.split(':');
  const routines = parts.findIndex((part) => /routines$/.test(part));
  return routines >= 0 && parts[routines + 2] ? parts[routines + 2]!.trim() : message.trim();
}
