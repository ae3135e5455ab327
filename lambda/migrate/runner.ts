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
import type { ClientConfig } from 'pg';
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

/** Provider `onEvent`: cheap; the work happens in `isComplete`. Deleting never touches the data. */
export function onEvent(event: CustomResourceEvent): { PhysicalResourceId: string } {
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId ?? 'sfdeploy-migrate' };
  return { PhysicalResourceId: physicalId(event.ResourceProperties) };
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

/** Provider `isComplete`: one time-boxed step of the migration. */
export async function isComplete(
  event: CustomResourceEvent,
  config: MigrateConfig,
  ports: RunnerPorts,
): Promise<IsCompleteResult> {
  if (event.RequestType === 'Delete') return { IsComplete: true };
  const { runMigration } = await import('./engine');
  const props = event.ResourceProperties;
  const id = event.PhysicalResourceId ?? physicalId(props);
  const sqlitePath = await ports.fetchSource(props.SourceUri, props.SourceVersion);
  const connection = await ports.connection();
  const rejectedFile = `/tmp/${id}.rejected.jsonl`;
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
    deadline: Date.now() + ports.remainingMs() - config.TIME_MARGIN_MS,
  };
  const load = await runMigration(base);
  let decision = decide(load, config.ON_ERROR);
  let report = load;
  ports.log('migration step', { decision, incomplete: load.incomplete, tables: load.tables.length });
  if (decision === 'verify-next' && ports.remainingMs() > config.TIME_MARGIN_MS) {
    report = await runMigration({ ...base, action: 'verify-only', rejectedFile: null });
    report.tables.push(...load.tables);
    report.rejectedRows = load.rejectedRows;
    decision = decide(report, config.ON_ERROR);
  }
  if (decision === 'continue' || decision === 'verify-next') return { IsComplete: false };

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const reportUri = await ports.putObject(
    `${config.REPORT_PREFIX}${stamp}-${id}.json`,
    reportJson(report),
    'application/json',
  );
  let rejectedUri = '';
  if (load.rejectedFile && existsSync(load.rejectedFile)) {
    rejectedUri = await ports.putObject(
      `${config.REPORT_PREFIX}${stamp}-${id}.rejected.jsonl`,
      readFileSync(load.rejectedFile),
      'application/x-ndjson',
    );
  }
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
