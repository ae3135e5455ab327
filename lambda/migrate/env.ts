/**
 * Environment of the SQLite → PostgreSQL migration runner (a custom resource in the Data stack). The CDK construct
 * types its `environment` from `MigrateEnv`; the handler parses `process.env` with the same schema.
 *
 * Bundling requirement for the construct: node-sqlite3-wasm loads `node-sqlite3-wasm.wasm` from the directory of
 * the bundle, so copy `node_modules/node-sqlite3-wasm/dist/node-sqlite3-wasm.wasm` next to `index.js` (NodejsFunction
 * `bundling.commandHooks.afterBundling`), and ship the RDS CA bundle (global-bundle.pem) the same way.
 */
import { z } from 'zod';

/**
 * The WebAssembly file node-sqlite3-wasm loads from the directory of the running script. Defined here (not in
 * sqlite-source.ts) so that importing this module, as the CDK construct does at synth time, loads no SQLite.
 */
export const SQLITE_WASM_FILE = 'node-sqlite3-wasm.wasm';

/** Where the wasm file lives in the repository, for the construct's copy step. */
export const SQLITE_WASM_SOURCE_PATH = 'node_modules/node-sqlite3-wasm/dist/node-sqlite3-wasm.wasm';

export const migrateEnvSchema = z.object({
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
});

export type MigrateEnv = z.input<typeof migrateEnvSchema>;
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
