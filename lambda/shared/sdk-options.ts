/**
 * The SDK client options every function uses, with the retry bound spelled out. The standard retry strategy
 * retries throttling and transient errors with exponential backoff and jitter; after AWS_MAX_ATTEMPTS the
 * error reaches the handler, which throws, so Lambda's retries (or ECS's hook handling) take over. Nothing here
 * retries forever.
 */
/** Attempts per AWS call, the first included. */
export const AWS_MAX_ATTEMPTS = 3;

/**
 * Socket timeouts of every SDK client in our Lambdas (the SDK's own default is none: a call to an endpoint that
 * accepts and never answers would hang until the function times out, and ECS reads a hook that timed out as a
 * failure). With AWS_MAX_ATTEMPTS attempts one call gives up after at most 3 × (2 + 5) s plus back-off, well inside the
 * rollback function's 60 s and the snapshot hook's 60 s. `requestHandler` as an options object is the SDK v3 way to
 * configure the default NodeHttpHandler
 * (https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/node-configuring-maxsockets.html,
 * https://github.com/aws/aws-sdk-js-v3/blob/main/supplemental-docs/CLIENTS.md#request-handler-requesthandler).
 */
export const SDK_CONNECTION_TIMEOUT_MS = 2_000;
export const SDK_REQUEST_TIMEOUT_MS = 5_000;
export const SDK_REQUEST_HANDLER = {
  connectionTimeout: SDK_CONNECTION_TIMEOUT_MS,
  requestTimeout: SDK_REQUEST_TIMEOUT_MS,
  // Without it @smithy/node-http-handler only logs "[WARN] a request has exceeded the configured … requestTimeout"
  // and keeps waiting (its HttpHandlerOptions: "a warning will be emitted unless throwOnRequestTimeout=true").
  throwOnRequestTimeout: true,
} as const;

/** Options shared by every client; `extra` exists for tests that exercise the real retry loop. */
export function clientOptions(region: string, extra: Record<string, unknown> = {}) {
  return {
    region,
    maxAttempts: AWS_MAX_ATTEMPTS,
    retryMode: 'standard',
    requestHandler: SDK_REQUEST_HANDLER,
    ...extra,
  } as const;
}
