/**
 * Which AWS SDK errors are worth another try later, for the hooks that answer IN_PROGRESS and ask again.
 *
 * Node's socket error codes the SDK passes through unchanged (`error.code`; `error.name` stays `Error`). The SDK's
 * own retry strategy treats the same codes as transient (@smithy/core retry service-error-classification,
 * NODEJS_NETWORK_ERROR_CODES / NODEJS_TIMEOUT_ERROR_CODES); so do we, once its attempts are used up.
 */
const SOCKET_ERROR_CODES = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
];

/** Worth another try later: throttling, 5xx, network. Client mistakes (access, validation) are not. */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const meta = error as Error & { $fault?: string; $retryable?: unknown; code?: unknown };
  if (/Throttl|TooManyRequests|RequestLimitExceeded/.test(error.name)) return true;
  if (meta.$fault === 'server' || meta.$retryable) return true;
  if (typeof meta.code === 'string' && SOCKET_ERROR_CODES.includes(meta.code)) return true;
  return ['TimeoutError', 'RequestTimeout', 'NetworkingError', ...SOCKET_ERROR_CODES].includes(error.name);
}
