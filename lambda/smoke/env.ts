/**
 * The smoke hook's environment: one schema shared by the handler (which validates it at run time) and the CDK
 * construct (which types the function's `environment` from `SmokeEnvironment`), so the two cannot drift.
 * Every value is a string in Lambda's environment; numbers are parsed here.
 */
import { z } from 'zod';
import type { LambdaEnvironment } from '../shared/env';
import { APP_MODES } from './spec';

/** Metric names and dimensions the handler emits, for alarms and dashboards to reference. */
export const SMOKE_METRICS = {
  defaultNamespace: 'SoftFactory/Smoke',
  checksFailed: 'ChecksFailed',
  suiteDurationMs: 'SuiteDurationMs',
  /** Dimension names; values are the STAGE variable and `test` | `production`. */
  dimensions: ['Stage', 'Phase'],
} as const;

/**
 * What the stack writes into the token secret it creates, so that a new stage deploys before anyone has a token:
 * the handler recognises it and skips the authenticated checks (with this reason) until an operator puts the smoke
 * user's token in its place. Not a credential; it names what belongs there.
 */
export const SMOKE_TOKEN_PLACEHOLDER = 'PLACEHOLDER: replace with the bearer token of the smoke-check user';

const url = (name: string) =>
  z.url({
    protocol: /^https?$/,
    error: (issue) => (issue.input === undefined ? `${name} is required` : `${name} must be an http(s) URL`),
  });

const integer = (name: string, min: number, max: number, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: `${name} must be a whole number` })
    .transform(Number)
    .pipe(
      z
        .int()
        .min(min, { error: `${name} must be at least ${min}` })
        .max(max, { error: `${name} must be at most ${max}` }),
    )
    .optional()
    .transform((value) => value ?? fallback);

export const smokeEnvSchema = z.object({
  /** Public URL, smoked at POST_PRODUCTION_TRAFFIC_SHIFT. */
  PRODUCTION_URL: url('PRODUCTION_URL'),
  /** Green through the test listener rule, smoked at POST_TEST_TRAFFIC_SHIFT. */
  TEST_URL: url('TEST_URL'),
  /**
   * Connect to this host instead of resolving the URLs' host: the stage's load balancer DNS name, while the URLs name
   * the configured domain (sent as TLS server name and Host header, the certificate checked for it). Absent → the URLs'
   * host is resolved (it is then the load balancer's DNS name itself).
   */
  CONNECT_TO: z
    .string()
    .regex(/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/, { error: 'CONNECT_TO must be a host name' })
    .optional(),
  /** Secrets Manager secret holding the smoke user's bearer token (plain string or JSON `{"token": "..."}`). */
  TOKEN_SECRET_ARN: z.string().startsWith('arn:', { error: 'TOKEN_SECRET_ARN must be an ARN' }).optional(),
  /** SNS topic told about failures; optional. */
  TOPIC_ARN: z.string().startsWith('arn:', { error: 'TOPIC_ARN must be an ARN' }).optional(),
  METRICS_NAMESPACE: z.string().min(1).default(SMOKE_METRICS.defaultNamespace),
  /**
   * The mode this stage runs SoftFactory in (staging and prod: production; dev: test): the default spec's checks for
   * the other mode are skipped. Production when unset, the stricter of the two.
   */
  APP_MODE: z.enum(APP_MODES, { error: 'APP_MODE must be "production" or "test"' }).default('production'),
  /**
   * The origins the app allows (CORS), comma-separated, exactly as the task's CORS_ORIGINS: the CORS checks assert
   * each. Absent → the URL's origin (PRODUCTION_URL is `https://<domainName>`, the configuration's default).
   */
  CORS_ALLOWED_ORIGINS: z
    .string()
    .transform((text) => text.split(',').map((o) => o.trim()))
    .pipe(
      z.array(
        z.string().regex(/^https?:\/\/[^/\s,]+$/, {
          error: 'CORS_ALLOWED_ORIGINS must list origins such as https://app.example.com, comma-separated',
        }),
      ),
    )
    .optional(),
  /**
   * `true`: the POST_TEST_TRAFFIC_SHIFT run also makes the spec's unattended writes (they delete what they create, or
   * start what the app runs on its own schedule) against green; never the production-shift run. @default false
   */
  SMOKE_WRITES: z
    .enum(['true', 'false'], { error: 'SMOKE_WRITES must be "true" or "false"' })
    .default('false')
    .transform((v) => v === 'true'),
  /** dev | staging | prod: the Stage metric dimension and the notification's subject. */
  STAGE: z.string({ error: 'STAGE is required' }).min(1, { error: 'STAGE is required' }),
  /** Invocations per hook execution before transient failures become FAILED (1 = no second chance). */
  MAX_ATTEMPTS: integer('MAX_ATTEMPTS', 1, 20, 5),
  /** Seconds between IN_PROGRESS re-invocations. */
  CALLBACK_DELAY_SECONDS: integer('CALLBACK_DELAY_SECONDS', 1, 900, 30),
  CHECK_TIMEOUT_MS: integer('CHECK_TIMEOUT_MS', 100, 60_000, 5_000),
  /** Must stay below the function timeout, with room for the secret read and the notification. */
  SUITE_TIMEOUT_MS: integer('SUITE_TIMEOUT_MS', 100, 600_000, 60_000),
  MAX_BODY_BYTES: integer('MAX_BODY_BYTES', 1_024, 50 * 1_048_576, 1_048_576),
});

export type SmokeEnv = z.output<typeof smokeEnvSchema>;
/** What the CDK construct passes as the function's environment. */
export type SmokeEnvironment = LambdaEnvironment<typeof smokeEnvSchema>;
export type SmokeEnvName = keyof SmokeEnvironment;
export const SMOKE_ENV_NAMES = Object.keys(smokeEnvSchema.shape) as SmokeEnvName[];

/** Parses the environment; throws an Error whose message lists every problem on one line. */
export function parseSmokeEnv(env: Readonly<Record<string, string | undefined>>): SmokeEnv {
  const picked = Object.fromEntries(
    SMOKE_ENV_NAMES.flatMap((name) => (env[name] === undefined || env[name] === '' ? [] : [[name, env[name]]])),
  );
  const result = smokeEnvSchema.safeParse(picked);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '');
    return issue.message.includes(name) ? issue.message : `${name}: ${issue.message}`;
  });
  throw new Error(`invalid smoke environment: ${problems.join('; ')}`);
}
