/**
 * What every phase of a migration shares: the options and the progress sink it was started with, the plan of each
 * table, and the run's mutable state (the report being written, the connection, the checksums computed so far).
 */

import type { Client, ClientConfig } from 'pg';
import type { ChecksumState } from './checksum';
import type { Converter } from './convert';
import type { RenderSpec } from './fast-render';
import { MAX_PROBLEMS_KEPT, type MigrationReport, type Problem, type ProblemGroup } from './report';
import type { ReaderThread } from './row-batches';
import type { Kind, SourceSchema, SourceTable, TargetColumn, TargetTable } from './schema';
import type { RowLayout, SqliteSource } from './sqlite-source';

export interface ProgressSink {
  tableStart(table: string, totalRows: number, phase: 'load' | 'scan' | 'verify'): void;
  rows(table: string, done: number): void;
  tableEnd(table: string, status: string): void;
  message(text: string): void;
}

export const silentProgress: ProgressSink = {
  tableStart: () => {},
  rows: () => {},
  tableEnd: () => {},
  message: () => {},
};

export interface MigrateOptions {
  readonly sqlitePath: string;
  /** Null only for `check` in translate mode, which needs no database. */
  readonly target: ClientConfig | null;
  readonly targetDescription: string;
  readonly rehearsal: boolean;
  readonly schemaMode: 'translate' | 'existing';
  readonly action: 'migrate' | 'check' | 'verify-only';
  readonly onError: 'fail' | 'skip-row';
  /** Verify after loading (default true). `verify-only` always verifies. */
  readonly verify?: boolean;
  /** Where skip-row writes rejected rows (JSON Lines). */
  readonly rejectedFile?: string | null;
  /** Epoch ms after which no new segment or table is started (the AWS runner's invocation budget). */
  readonly deadline?: number;
  /** Commit every N rows (rowid tables); default: one transaction per table. */
  readonly segmentRows?: number;
  readonly progress?: ProgressSink;
  /** Read SQLite in a worker thread when a core is spare (default true; false in single-vCPU Lambda). */
  readonly readerThread?: boolean;
  /**
   * `existing` mode: target tables that already have rows (the app seeded them at its first start) are emptied, in
   * the transaction that starts the migration, instead of refusing to load. `check` lists what would be deleted.
   */
  readonly replaceExistingRows?: boolean;
  /**
   * Tables the app needs: one missing from the SQLite file is a schema error (pre-3-schema-complete), so an
   * incomplete file never migrates "successfully".
   * @default - none required
   */
  readonly expectTables?: readonly string[];
}

/** A table as the engine moves it: source shape, target shape, and the per-column conversion plan. */
export interface TablePlan {
  readonly source: SourceTable;
  readonly target: TargetTable;
  /** The target columns in copy order (fast-path kinds first; see fastpath.ts). */
  readonly columns: readonly TargetColumn[];
  /** For each column in copy order, the index of its source column. */
  readonly sourceIndex: readonly number[];
  readonly converters: readonly Converter[];
  readonly kinds: readonly Kind[];
  readonly escape: readonly boolean[];
  readonly layout: RowLayout;
  readonly totalRows: number;
  /** Fast-path queries; null for WITHOUT ROWID tables (their rows cannot be re-read by rowid). */
  readonly fast: {
    select: string;
    /** The same rendering from raw records (fast-render.ts); null when the table's records hold hidden columns. */
    render: RenderSpec | null;
    simpleCount: number;
    /** For each leading temporal column: true for a datetime, false for a date. */
    temporal: boolean[];
  } | null;
}

export interface Run {
  readonly options: MigrateOptions;
  readonly source: SqliteSource;
  readonly schema: SourceSchema;
  readonly report: MigrationReport;
  readonly progress: ProgressSink;
  client: Client | null;
  plans: Map<string, TablePlan>;
  order: string[];
  expected: Record<string, { indexes: number; constraints: number }>;
  /** Source checksums computed while loading in this run. */
  loadedChecksums: Map<string, ChecksumState>;
  /** The SQLite reader thread, when there is a core to spare for it. */
  reader: ReaderThread | null;
  /** Target checksums computed right after a table's load, on the background connection. */
  targetSums: Map<string, { rows: number; state: ChecksumState }>;
  rejectedFd: number | null;
  /** Problems counted by table, column and summary reason (all of them, kept or not). */
  summary: Map<string, ProblemGroup>;
}

export function requireClient(run: Run): Client {
  if (!run.client) throw new Error('internal: this step needs a PostgreSQL connection');
  return run.client;
}

export function addProblem(run: Run, problem: Problem, summary: string = problem.reason): void {
  if (run.report.problems.length < MAX_PROBLEMS_KEPT) run.report.problems.push(problem);
  else run.report.problemsOmitted++;
  const id = `${problem.table}\u0000${problem.column ?? ''}\u0000${summary}`;
  const group = run.summary.get(id);
  if (group) group.rows++;
  else run.summary.set(id, { table: problem.table, column: problem.column, reason: summary, rows: 1 });
}
