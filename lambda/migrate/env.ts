/**
 * Environment of the SQLite → PostgreSQL migration runner (a custom resource in the Data stack). The CDK construct
 * types its `environment` from `MigrateEnv`; the handler parses `process.env` with the same schema.
 *
 * Bundling requirement for the construct: node-sqlite3-wasm loads `node-sqlite3-wasm.wasm` from the directory of
 * the bundle, so copy `node_modules/node-sqlite3-wasm/dist/node-sqlite3-wasm.wasm` next to `index.js` (NodejsFunction
 * `bundling.commandHooks.afterBundling`), and ship the RDS CA bundle (global-bundle.pem) the same way.
 */
import { z } from 'zod';
import type { LambdaEnvironment } from '../shared/env';

/**
 * The WebAssembly file node-sqlite3-wasm loads from the directory of the running script. Defined here (not in
 * sqlite-source.ts) so that importing this module, as the CDK construct does at synth time, loads no SQLite.
 */
export const SQLITE_WASM_FILE = 'node-sqlite3-wasm.wasm';

/** Where the wasm file lives in the repository, for the construct's copy step. */
export const SQLITE_WASM_SOURCE_PATH = 'node_modules/node-sqlite3-wasm/dist/node-sqlite3-wasm.wasm';

export const migrateEnvSchema = z
  .object({
    /** Secrets Manager ARN of the RDS credential (JSON with username, password, host, port, dbname). */
    DB_SECRET_ARN: z.string().min(1),
    /** Database name when the secret has none. Default `softfactory`. */
    DB_NAME: z.string().min(1).default('softfactory'),
    /** Path (inside the function) of the RDS CA bundle the server certificate is verified against. */
    RDS_CA_BUNDLE_PATH: z.string().min(1),
    /** Bucket that receives the JSON report (and the rejected rows file, if any). */
    REPORT_BUCKET: z.string().min(3),
    /** Key prefix for reports. Default `migrations/`. */
    REPORT_PREFIX: z.string().default('migrations/'),
    /** translate: create tables from the SQLite schema; existing: load into tables the app created. */
    SCHEMA_MODE: z.enum(['translate', 'existing']).default('translate'),
    /** fail: refuse bad values (the deployment fails); skip-row: load the rest and keep the rejected rows. */
    ON_ERROR: z.enum(['fail', 'skip-row']).default('fail'),
    /** Rows per committed segment, the checkpoint granularity across invocations. Default 200,000. */
    SEGMENT_ROWS: z.coerce.number().int().min(1000).default(200_000),
    /** Stop starting new work this many ms before the invocation's deadline. Default 180,000 (3 minutes). */
    TIME_MARGIN_MS: z.coerce.number().int().min(10_000).default(180_000),
    /**
     * This many ms before the invocation's deadline, whatever statement is still running (a key, an index, a
     * verification checksum) is cancelled, so that no step outlives the invocation (Lambda stops a function at its
     * timeout, at most 900 s: https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html). Default 30,000.
     */
    HARD_STOP_MS: z.coerce.number().int().min(1000).default(30_000),
    /**
     * What one migration may take, from the starter's `StartedAt`: CloudFormation fails a custom resource after its
     * ServiceTimeout (at most 3600 s). Past it, the worker fails with what to do instead of leaving it to the timeout.
     * Default: no limit (the construct always sets it).
     */
    OPERATION_BUDGET_MS: z.coerce.number().int().min(60_000).optional(),
    /** The provider's query interval: the pause before the next invocation. Default 60,000. */
    RETRY_INTERVAL_MS: z.coerce.number().int().min(0).default(60_000),
  })
  .refine((c) => c.HARD_STOP_MS < c.TIME_MARGIN_MS, {
    path: ['HARD_STOP_MS'],
    message: 'must be less than TIME_MARGIN_MS (new work stops first, running work is cancelled after)',
  });

/** What the CDK construct sets (lambda/shared/env.ts): the schema's keys, string values. */
export type MigrateEnv = LambdaEnvironment<typeof migrateEnvSchema>;
export type MigrateConfig = z.output<typeof migrateEnvSchema>;

/** Parses the environment; the message names every bad variable. */
export function parseMigrateEnv(env: Record<string, string | undefined>): MigrateConfig {
  const parsed = migrateEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`migration runner environment is invalid: ${problems}`);
  }
  return parsed.data;
}
