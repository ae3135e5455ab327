/**
 * The AWS runner's core, as a custom resource behind the CDK Provider framework (onEvent + isComplete polling).
 * onEvent only names the resource; each isComplete invocation loads as many rowid segments as its time allows,
 * committing a checkpoint with each, and answers "not yet" until the load is done; a later invocation verifies.
 * A verification failure (or bad data) throws, which fails the custom resource and so the deployment.
 * AWS access comes through ports, so this module is driven in tests against a real PostgreSQL.
 *
 * The engine (and with it the SQLite reader, whose WebAssembly file only the worker's bundle ships) is imported
 * lazily, in `isComplete`: the starter function bundles this same module for `onEvent`, and must load without it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Client, ClientConfig } from 'pg';
import { z } from 'zod';
import type { MigrateOptions } from './engine';
import type { MigrateConfig } from './env';
import { type MigrationReport, problemTotal, reportJson } from './report';

export const resourcePropertiesSchema = z.object({
  /** s3://bucket/key of the SQLite file (an uploaded asset or a configured object). */
  SourceUri: z.string().regex(/^s3:\/\/[^/]+\/.+/, 'SourceUri must be s3://bucket/key'),
  /** Changes when the source object changes (asset hash or object ETag): a new value triggers a new migration. */
  SourceVersion: z.string().min(1),
});

export const customResourceEventSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  ResourceProperties: resourcePropertiesSchema.passthrough(),
  PhysicalResourceId: z.string().optional(),
  /**
   * Epoch ms when the starter took the request: onEvent returns it and the provider framework passes "any other
   * field included in the response" on to isComplete
   * (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html#handling-lifecycle-events-onevent).
   */
  StartedAt: z.number().int().nonnegative().optional(),
});
export type CustomResourceEvent = z.infer<typeof customResourceEventSchema>;

export interface RunnerPorts {
  /** Downloads the source object to a local file (reusing a previous download of the same version). */
  fetchSource(uri: string, version: string): Promise<string>;
  /** Stores a report or the rejected-rows file; returns its s3:// URI. */
  putObject(key: string, body: string | Buffer, contentType: string): Promise<string>;
  /** The PostgreSQL connection (credential from Secrets Manager, TLS verified against the RDS CA bundle). */
  connection(): Promise<ClientConfig>;
  /** Milliseconds left in this invocation. */
  remainingMs(): number;
  log(message: string, fields?: Record<string, unknown>): void;
}

export function physicalId(props: z.infer<typeof resourcePropertiesSchema>): string {
  const digest = createHash('sha256').update(`${props.SourceUri}\n${props.SourceVersion}`).digest('hex');
  return `sfdeploy-migrate-${digest.slice(0, 16)}`;
}

/**
 * Provider `onEvent`: cheap; the work happens in `isComplete`. Deleting never touches the data. It stamps the
 * operation's start, from which every isComplete invocation knows how much of CloudFormation's hour is left.
 */
export function onEvent(
  event: CustomResourceEvent,
  now: number = Date.now(),
): { PhysicalResourceId: string; StartedAt?: number } {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId ?? 'sfdeploy-migrate' };
  return { PhysicalResourceId: physicalId(event.ResourceProperties), StartedAt: now };
}

export type StepDecision = 'continue' | 'verify-next' | 'done' | 'failed';

/**
 * What a finished `runMigration` call means for the custom resource. Skip-row accepts rejected rows (they are in the
 * stored report and file) as long as what was loaded verifies; everything else must be clean.
 */
export function decide(report: MigrationReport, onError: 'fail' | 'skip-row'): StepDecision {
  if (report.schemaIssues.some((i) => i.severity === 'error')) return 'failed';
  if (report.tables.some((t) => t.status === 'failed')) return 'failed';
  if (onError === 'fail' && problemTotal(report) > 0) return 'failed';
  if (report.incomplete) return 'continue';
  if (report.action === 'migrate') return 'verify-next';
  return report.verification?.ok ? 'done' : 'failed';
}

export interface IsCompleteResult {
  readonly IsComplete: boolean;
  readonly Data?: Record<string, string>;
}

/** The engine's sessions name themselves so (target.ts `connectTarget`); the guard cancels only those. */
const ENGINE_APPLICATION_NAME = 'sfdeploy-migrate';
/** A continuation is worth it only with this much work time left in the operation after the next pause. */
const MIN_USEFUL_MS = 60_000;

/** Keys, indexes and constraints in the target schema: what the finalize step adds, one by one. */
async function catalogObjects(client: Client): Promise<number> {
  const r = await client.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema())
          + (SELECT count(*) FROM pg_constraint c JOIN pg_namespace s ON s.oid = c.connamespace
             WHERE s.nspname = current_schema()) AS n`,
  );
  return Number(r.rows[0]?.n ?? 0);
}

/**
 * From `at` on, cancels (every 2 s, until stopped) any statement the engine's sessions opened since `since` are
 * still running: pg_cancel_backend ends the statement, not the session
 * (https://www.postgresql.org/docs/17/functions-admin.html#FUNCTIONS-ADMIN-SIGNAL), so the engine sees an error,
 * rolls back what that statement did, and returns or throws well before Lambda's hard stop.
 */
class HardStop {
  fired = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private client: Client | null = null;

  constructor(
    private readonly connection: ClientConfig,
    at: number,
    private readonly since: Date,
    private readonly log: RunnerPorts['log'],
  ) {
    this.timer = setTimeout(() => void this.tick(), Math.max(0, at - Date.now()));
  }

  private async tick(): Promise<void> {
    this.fired = true;
    try {
      this.client ??= await this.open();
      const r = await this.client.query(
        `SELECT pg_cancel_backend(pid) FROM pg_stat_activity
         WHERE application_name = $1 AND usename = current_user AND pid <> pg_backend_pid()
           AND backend_start >= $2 AND state = 'active'`,
        [ENGINE_APPLICATION_NAME, this.since],
      );
      if (r.rowCount) this.log('cancelled statements at the invocation deadline', { statements: r.rowCount });
    } catch (error) {
      this.log('could not cancel at the invocation deadline', { error: (error as Error).message });
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), 2000);
  }

  async open(): Promise<Client> {
    const { Client: PgClient } = await import('pg');
    const client = new PgClient({ ...this.connection, application_name: 'sfdeploy-migrate-guard' });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  async objects(): Promise<number | null> {
    try {
      this.client ??= await this.open();
      return await catalogObjects(this.client);
    } catch {
      return null;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.client?.end().catch(() => undefined);
  }
}

/** Rows loaded so far, of the source's total, over a load report's tables. */
function progress(report: MigrationReport): { loaded: number; total: number } {
  return report.tables.reduce((a, t) => ({ loaded: a.loaded + t.loadedRows, total: a.total + t.sourceRows }), {
    loaded: 0,
    total: 0,
  });
}

const BEYOND =
  'migrate this database from a machine in the VPC instead: `sfdeploy migrate <file> --pg-url …` (no time limit)';

/** Provider `isComplete`: one time-boxed step of the migration. */
export async function isComplete(
  event: CustomResourceEvent,
  config: MigrateConfig,
  ports: RunnerPorts,
): Promise<IsCompleteResult> {
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const { runMigration } = await import('./engine');
  const invocationStart = Date.now();
  const lambdaDeadline = invocationStart + ports.remainingMs();
  // CloudFormation's limit for the whole operation (every invocation), when the starter stamped its start.
  const operationDeadline =
    event.StartedAt !== undefined && config.OPERATION_BUDGET_MS !== undefined
      ? event.StartedAt + config.OPERATION_BUDGET_MS
      : Number.POSITIVE_INFINITY;
  const stopAt = Math.min(lambdaDeadline, operationDeadline);
  const props = event.ResourceProperties;
  const id = event.PhysicalResourceId ?? physicalId(props);
  const sqlitePath = await ports.fetchSource(props.SourceUri, props.SourceVersion);
  const connection = await ports.connection();
  const rejectedFile = `/tmp/${id}.rejected.jsonl`;
  const workStart = Date.now();
  // What this invocation's migrate call did, as the engine's progress sink tells it: a table's loading began, or
  // its one message, the start of adding keys, indexes and foreign keys.
  let loadedThisTime = false;
  let finalizing = false;
  const base: MigrateOptions = {
    sqlitePath,
    target: connection,
    targetDescription: `${connection.host ?? 'rds'}/${connection.database ?? ''}`,
    rehearsal: false,
    schemaMode: config.SCHEMA_MODE,
    action: 'migrate',
    onError: config.ON_ERROR,
    verify: false,
    rejectedFile: config.ON_ERROR === 'skip-row' ? rejectedFile : null,
    segmentRows: config.SEGMENT_ROWS,
    deadline: stopAt - config.TIME_MARGIN_MS,
    progress: {
      tableStart: (_table, _rows, phase) => {
        if (phase === 'load') loadedThisTime = true;
      },
      rows: () => {},
      tableEnd: () => {},
      message: () => {
        finalizing = true;
      },
    },
  };
  const guard = new HardStop(connection, stopAt - config.HARD_STOP_MS, new Date(workStart - 5000), ports.log);
  let load: MigrationReport | null = null;
  let report: MigrationReport | null = null;
  let decision: StepDecision;
  let cut: 'migrate' | 'verify' | null = null;
  let objectsBefore: number | null = null;
  try {
    objectsBefore = await guard.objects();
    load = await runMigration(base).catch((error: unknown) => {
      if (guard.fired) return null;
      throw error;
    });
    report = load;
    if (load === null || guard.fired) {
      cut = 'migrate';
      decision = 'continue';
    } else {
      decision = decide(load, config.ON_ERROR);
      ports.log('migration step', { decision, incomplete: load.incomplete, tables: load.tables.length });
      const left = Math.min(ports.remainingMs(), operationDeadline - Date.now());
      if (decision === 'verify-next' && left > config.TIME_MARGIN_MS) {
        const verifyStart = Date.now();
        const verified = await runMigration({ ...base, action: 'verify-only', rejectedFile: null }).catch(
          (error: unknown) => {
            if (guard.fired) return null;
            throw error;
          },
        );
        if (verified === null || guard.fired) {
          // Verification is one pass over every table. Begun with (nearly) the whole invocation, it cannot fit.
          if (verifyStart - workStart < MIN_USEFUL_MS) {
            throw new Error(
              `SQLite → PostgreSQL migration: the data is loaded and keyed, but verifying it takes longer than one ` +
                `${Math.round((lambdaDeadline - invocationStart) / 60_000)}-minute Lambda invocation; verify it from a ` +
                'machine in the VPC: `sfdeploy migrate <file> --pg-url … --verify-only`',
            );
          }
          cut = 'verify';
          decision = 'verify-next';
        } else {
          report = verified;
          report.tables.push(...load.tables);
          report.rejectedRows = load.rejectedRows;
          decision = decide(report, config.ON_ERROR);
        }
      }
    }
    if (cut === 'migrate' && finalizing && !loadedThisTime) {
      // Keys, indexes and foreign keys only: cut at the deadline, it must at least have added one of them.
      const objectsAfter = await guard.objects();
      if (objectsBefore !== null && objectsAfter !== null && objectsAfter <= objectsBefore) {
        throw new Error(
          'SQLite → PostgreSQL migration: the data is loaded, but adding one of its keys, indexes or foreign keys ' +
            `takes longer than one ${Math.round((lambdaDeadline - invocationStart) / 60_000)}-minute Lambda ` +
            `invocation; ${BEYOND}`,
        );
      }
    }
  } finally {
    await guard.stop();
  }
  if (cut) ports.log('step cut at the invocation deadline; the next invocation continues', { step: cut });

  if (decision === 'continue' || decision === 'verify-next') {
    // Another invocation follows only if it would still have time to work before CloudFormation gives up.
    if (operationDeadline - Date.now() - config.RETRY_INTERVAL_MS >= config.TIME_MARGIN_MS + MIN_USEFUL_MS) {
      return { IsComplete: false };
    }
    const counts = load ? progress(load) : null;
    const stored = report ? await store(report, config, ports, id, load?.rejectedFile ?? null) : null;
    throw new Error(
      'SQLite → PostgreSQL migration did not finish within one deployment (CloudFormation waits at most 1 hour for ' +
        `a custom resource)${counts ? `: ${counts.loaded} of ${counts.total} rows loaded` : ''}` +
        `${decision === 'verify-next' ? ', not yet verified' : ''}. What is loaded stays (committed checkpoints): ` +
        `deploying again continues from there; or ${BEYOND}${stored ? `; report ${stored.reportUri}` : ''}`,
    );
  }
  if (!load || !report) throw new Error('unreachable: a finished step has its report');

  const { reportUri, rejectedUri } = await store(report, config, ports, id, load.rejectedFile);
  if (decision === 'failed') {
    const mismatched = report.verification?.rows.filter((r) => !r.ok).map((r) => r.table) ?? [];
    throw new Error(
      `SQLite → PostgreSQL migration failed: ${problemTotal(report)} data problem(s)` +
        (mismatched.length > 0 ? `, verification mismatch in ${mismatched.join(', ')}` : '') +
        `; report ${reportUri}`,
    );
  }
  return {
    IsComplete: true,
    Data: {
      ReportUri: reportUri,
      RejectedRowsUri: rejectedUri,
      Rows: String(report.verification?.rows.reduce((n, r) => n + r.targetRows, 0) ?? 0),
      RejectedRows: String(report.rejectedRows),
    },
  };
}

/** Stores the report (and the rejected rows, if any) in the report bucket. */
async function store(
  report: MigrationReport,
  config: MigrateConfig,
  ports: RunnerPorts,
  id: string,
  rejectedFile: string | null,
): Promise<{ reportUri: string; rejectedUri: string }> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const reportUri = await ports.putObject(
    `${config.REPORT_PREFIX}${stamp}-${id}.json`,
    reportJson(report),
    'application/json',
  );
  let rejectedUri = '';
  if (rejectedFile && existsSync(rejectedFile)) {
    rejectedUri = await ports.putObject(
      `${config.REPORT_PREFIX}${stamp}-${id}.rejected.jsonl`,
      readFileSync(rejectedFile),
      'application/x-ndjson',
    );
  }
  return { reportUri, rejectedUri };
}
