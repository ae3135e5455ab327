/**
 * The migration core shared by `sfdeploy migrate` and the AWS runner: plan, check, load with COPY, finalise keys,
 * verify. Ports (the SQLite file, a PostgreSQL client config, a progress sink, a clock/deadline) come in as options;
 * decisions live in the pure modules (schema, convert, checksum, report).
 *
 * Crash safety: a table is loaded in one transaction (TRUNCATE + COPY + its checkpoint row), or — for the AWS
 * runner's time-boxed invocations — in rowid-ordered segments, each committed together with a checkpoint that
 * says "partial, up to rowid N". Keys, indexes and foreign keys are added only when every table is loaded, each step
 * idempotent, and the run is marked complete last. A table is never "loaded" unless all its rows are.
 */

import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, openSync, writeSync } from 'node:fs';
import type { Client, ClientConfig } from 'pg';
import { type ChecksumState, checksumDigest, emptyChecksum, RowChecksum } from './checksum';
import {
  type Converter,
  converterFor,
  convertLiteral,
  csvField,
  excerpt,
  needsCopyEscape,
  ValueProblem,
} from './convert';
import {
  decodeComplex as decodeComplexExport,
  parsePrefix as parsePrefixExport,
  type RenderSpec,
  renderColumn,
} from './fast-render';
import { copyOrder, fastSelect, isSimple, isTemporal, validTemporalBytes } from './fastpath';
import {
  finalizeVerdict,
  MAX_PROBLEMS_KEPT,
  type MigrationReport,
  type Problem,
  type ProblemGroup,
  plural,
  type SkipRowForecast,
  type TableReport,
  type VerifyRow,
} from './report';
import { packBatches, ReaderThread, type ScanRequest } from './row-batches';
import {
  affinity,
  dependencyOrder,
  type Kind,
  quoteIdent,
  type SchemaIssue,
  type SourceForeignKey,
  type SourceSchema,
  type SourceTable,
  type TargetColumn,
  type TargetTable,
  translateSchema,
} from './schema';
import { quoteSqliteIdent, type RawValue, type RowLayout, rowLayout, SqliteSource } from './sqlite-source';
import {
  addConstraint,
  addForeignKey,
  addKeys,
  catalogCounts,
  clearState,
  connectTarget,
  copyStream,
  createIndex,
  createTables,
  dropTables,
  ensureStateTables,
  existingTables,
  foreignKeyViolations,
  introspectTables,
  readRunState,
  readTableStates,
  resetSequence,
  saveAndDropForeignKeys,
  savedForeignKeys,
  type TableState,
  TargetStateError,
  tableRowCounts,
  targetChecksum,
  truncateTables,
  writeRunState,
  writeTableState,
} from './target';

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
}

/** `users (3 rows), products (1 row)`. */
function describeCounts(counts: ReadonlyMap<string, number>): string {
  return [...counts].map(([t, n]) => `${t} (${plural(n, 'row')})`).join(', ');
}

/** A table as the engine moves it: source shape, target shape, and the per-column conversion plan. */
interface TablePlan {
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

type RejectedRows = Map<string, Map<string, string[]>>;

interface Run {
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

export async function runMigration(options: MigrateOptions): Promise<MigrationReport> {
  const started = Date.now();
  const source = new SqliteSource(options.sqlitePath);
  const progress = options.progress ?? silentProgress;
  let client: Client | null = null;
  let reader: ReaderThread | null = null;
  try {
    // Started first: the thread's own start-up (module load, WebAssembly, opening the file) overlaps planning.
    reader = options.readerThread === false ? null : ReaderThread.start(options.sqlitePath);
    const schema = source.readSchema();
    SqliteSource.resolveForeignKeys(schema);
    const counts = new Map(schema.tables.map((t) => [t.name, source.countRows(t.name)]));
    const report: MigrationReport = {
      source: {
        path: options.sqlitePath,
        sizeBytes: source.sizeBytes,
        tables: schema.tables.length,
        rows: [...counts.values()].reduce((a, b) => a + b, 0),
      },
      target: { description: options.targetDescription, mode: options.schemaMode, rehearsal: options.rehearsal },
      action: options.action,
      onError: options.onError,
      tables: [],
      problems: [],
      problemsOmitted: 0,
      schemaIssues: [],
      rejectedRows: 0,
      rejectedFile: null,
      verification: null,
      incomplete: false,
      notes: [],
      seconds: 0,
      ok: false,
    };
    if (options.target) client = await connectTarget(options.target);
    const run: Run = {
      options,
      source,
      schema,
      report,
      progress,
      client,
      plans: new Map(),
      order: [],
      expected: {},
      loadedChecksums: new Map(),
      targetSums: new Map(),
      reader: null,
      rejectedFd: null,
      summary: new Map(),
    };
    await plan(run, counts);
    run.reader = reader;
    const schemaErrors = report.schemaIssues.some((i) => i.severity === 'error');
    if (options.action === 'check') {
      if (options.schemaMode === 'existing' && run.client) await forecastExistingRows(run);
      // The cascade a skip-row run would apply is forecast, not listed as problems (they are consequences).
      report.skipRowForecast = skipRowForecast(run, await scanForProblems(run, true, false));
    } else if (schemaErrors) {
      report.notes.push('Nothing was written: fix the schema problems first.');
    } else if (options.action === 'verify-only') {
      await verify(run, await readTableStates(requireClient(run)));
    } else {
      await migrate(run, fingerprint(source, schema, counts));
    }
    report.problemSummary = [...run.summary.values()].sort((a, b) => b.rows - a.rows);
    report.seconds = (Date.now() - started) / 1000;
    return finalizeVerdict(report);
  } finally {
    await reader?.stop().catch(() => undefined);
    source.close();
    await client?.end().catch(() => undefined);
  }
}

/**
 * What `--on-error skip-row` would leave out, per table and reason: rows with bad values, orphans, and — through
 * the foreign keys, transitively — every row that references a rejected one.
 */
function skipRowForecast(run: Run, rejected: RejectedRows): SkipRowForecast[] {
  const out: SkipRowForecast[] = [];
  for (const name of run.order) {
    const rows = rejected.get(name);
    if (!rows || rows.size === 0) continue;
    const reasons = new Map<string, number>();
    for (const why of rows.values()) {
      const first = why[0] ?? 'rejected';
      reasons.set(first, (reasons.get(first) ?? 0) + 1);
    }
    const t = run.report.tables.find((x) => x.table === name);
    if (t) t.rejectedRows = rows.size;
    out.push({
      table: name,
      rows: rows.size,
      reasons: [...reasons].map(([reason, n]) => ({ reason, rows: n })).sort((a, b) => b.rows - a.rows),
    });
  }
  return out;
}

/** `--check --schema existing`: what the migration would do about rows already in the target tables. */
async function forecastExistingRows(run: Run): Promise<void> {
  const names = run.schema.tables.map((t) => t.name).filter((n) => run.plans.has(n));
  const occupied = await tableRowCounts(requireClient(run), names);
  run.report.existingTargetRows = [...occupied].map(([table, rows]) => ({ table, rows }));
  if (occupied.size === 0) return;
  if (run.options.replaceExistingRows) {
    run.report.notes.push(`--replace-existing-rows would delete ${describeCounts(occupied)} before loading.`);
  } else {
    for (const [table, rows] of occupied) {
      run.report.schemaIssues.push({
        table,
        column: null,
        severity: 'error',
        message: `target table already has ${plural(rows, 'row')}: the migration refuses to load without --replace-existing-rows`,
      });
    }
  }
}

function requireClient(run: Run): Client {
  if (!run.client) throw new Error('internal: this step needs a PostgreSQL connection');
  return run.client;
}

/** Identifies the source content: size, SQLite's change counter, the schema text and every table's row count. */
function fingerprint(source: SqliteSource, schema: SourceSchema, counts: Map<string, number>): string {
  const h = createHash('sha256');
  h.update(`${source.sizeBytes}:${source.changeCounter}\n`);
  for (const t of schema.tables) h.update(`${t.name}:${counts.get(t.name)}:${t.sql}\n`);
  return h.digest('hex');
}

async function plan(run: Run, counts: Map<string, number>): Promise<void> {
  const { schema, report, options } = run;
  let targets: Map<string, TargetTable>;
  const issues: SchemaIssue[] = [];
  const needsIntrospection = options.schemaMode === 'existing' || options.action === 'verify-only';
  const translated = translateSchema(schema, convertLiteral);
  if (options.schemaMode === 'translate') issues.push(...translated.issues);
  run.expected = Object.fromEntries(
    translated.tables.map((t) => [
      t.name,
      {
        indexes: (t.primaryKey ? 1 : 0) + t.uniques.length + t.indexes.length,
        constraints: (t.primaryKey ? 1 : 0) + t.uniques.length + t.foreignKeys.length,
      },
    ]),
  );
  if (needsIntrospection) {
    const client = requireClient(run);
    const names = schema.tables.map((t) => t.name);
    const found = await introspectTables(client, names);
    issues.push(...found.issues);
    targets = new Map();
    for (const table of schema.tables) {
      const target = found.tables.get(table.name);
      if (!target) {
        issues.push({ table: table.name, column: null, severity: 'error', message: 'table missing in the target' });
        continue;
      }
      const targetCols = new Map(target.columns.map((c) => [c.name, c]));
      const columns = [];
      for (const c of table.columns) {
        const tc = targetCols.get(c.name);
        if (!tc) {
          issues.push({
            table: table.name,
            column: c.name,
            severity: 'error',
            message: 'column missing in the target',
          });
          continue;
        }
        columns.push(tc);
        targetCols.delete(c.name);
      }
      for (const extra of targetCols.values()) {
        if (extra.notNull && extra.defaultSql === null) {
          issues.push({
            table: table.name,
            column: extra.name,
            severity: 'error',
            message: 'target column is NOT NULL without a default and has no source column',
          });
        } else {
          issues.push({
            table: table.name,
            column: extra.name,
            severity: 'note',
            message: 'target column has no source column; it gets its default',
          });
        }
      }
      targets.set(table.name, { ...target, columns });
    }
  } else {
    targets = new Map(translated.tables.map((t) => [t.name, t]));
  }
  report.schemaIssues.push(...issues);
  for (const table of schema.tables) {
    const target = targets.get(table.name);
    if (!target) continue;
    const columns = copyOrder(target.columns.map((c) => c.type)).map((i) => target.columns[i] as TargetColumn);
    const sourceIndex = columns.map((c) => table.columns.findIndex((s) => s.name === c.name));
    const simple = columns.filter((c) => isSimple(c.type));
    const complex = columns.filter((c) => !isSimple(c.type));
    const named = (c: TargetColumn) => {
      const declared = table.columns.find((x) => x.name === c.name)?.declaredType ?? '';
      return {
        col: quoteSqliteIdent(c.name),
        type: c.type,
        facts: { affinity: affinity(declared), rowidAlias: table.rowidAlias === c.name },
      };
    };
    run.plans.set(table.name, {
      source: table,
      target,
      columns,
      sourceIndex,
      converters: columns.map((c) => converterFor(c.type)),
      kinds: columns.map((c) => c.type.kind),
      escape: columns.map((c) => needsCopyEscape(c.type.kind)),
      layout: rowLayout(table),
      totalRows: counts.get(table.name) ?? 0,
      fast:
        table.withoutRowid || complex.length > 30
          ? null
          : {
              select: fastSelect(simple.map(named), complex.map(named)),
              render: table.generatedColumns.length > 0 ? null : renderSpecOf(table, simple, complex),
              simpleCount: simple.length,
              temporal: simple.filter((c) => isTemporal(c.type)).map((c) => c.type.kind === 'timestamp'),
            },
    });
  }
  const { order, cycles } = dependencyOrder(
    schema.tables.map((t) => ({ name: t.name, refs: t.foreignKeys.map((fk) => fk.refTable) })),
  );
  run.order = order.filter((name) => run.plans.has(name));
  if (cycles.length > 0) {
    report.notes.push(`Foreign-key cycle broken at ${cycles.join(', ')}: keys are added after the load anyway.`);
  }
}

/** Renders how to find a row in the SQLite file. */
function rowKeyLabel(table: SourceTable, layout: RowLayout, row: readonly RawValue[]): string {
  // A rowid table with a composite (or non-INTEGER) primary key is named by its key columns, which is how the
  // operator finds the row; only a table without a declared key is named by its rowid.
  if (layout.keyIsRowid && (table.rowidAlias !== null || table.primaryKey.length === 0)) {
    return `${table.rowidAlias ?? 'rowid'}=${String(row[layout.maskCount])}`;
  }
  const parts = table.primaryKey.map((name) => {
    const i = table.columns.findIndex((c) => c.name === name);
    return `${name}=${excerpt(row[layout.firstColumn + i] ?? null, isText(row, i), 40)}`;
  });
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(', ')})`;
}

/** The key a row is remembered by (rejected sets, checkpoints): its rowid, or its rendered primary key. */
function rowKey(table: SourceTable, layout: RowLayout, row: readonly RawValue[]): string {
  return layout.keyIsRowid ? String(row[layout.maskCount]) : rowKeyLabel(table, layout, row);
}

function isText(row: readonly RawValue[], i: number): boolean {
  const mask = row[(i / 62) | 0];
  const bit = i % 62;
  if (typeof mask === 'number') return bit < 31 ? ((mask >>> bit) & 1) === 1 : Math.floor(mask / 2 ** bit) % 2 === 1;
  if (typeof mask === 'bigint') return ((mask >> BigInt(bit)) & 1n) === 1n;
  return false;
}

function addProblem(run: Run, problem: Problem, summary: string = problem.reason): void {
  if (run.report.problems.length < MAX_PROBLEMS_KEPT) run.report.problems.push(problem);
  else run.report.problemsOmitted++;
  const id = `${problem.table}\u0000${problem.column ?? ''}\u0000${summary}`;
  const group = run.summary.get(id);
  if (group) group.rows++;
  else run.summary.set(id, { table: problem.table, column: problem.column, reason: summary, rows: 1 });
}

interface PumpResult {
  rows: number;
  badRows: number;
  rejected: number;
  lastKey: string | null;
  exhausted: boolean;
}

interface PumpOptions {
  /** Where converted rows go; null when only scanning. */
  copy: CopyWriter | null;
  checksum: RowChecksum | null;
  /** Rows to leave out (skip-row), with the reasons to write to the rejected file. */
  skip: Map<string, string[]> | null;
  afterKey: string | null;
  limit: number;
  /** Report conversion problems (false when they were already reported by a scan). */
  reportProblems: boolean;
  /** Fail mode: on the first bad row, abandon the COPY and keep scanning. */
  abortOnProblem: boolean;
  /** Collects bad rows' keys (skip-row pre-scan). */
  badKeys: Map<string, string[]> | null;
  /** The scan the reader thread can start on once this one is read (the next table to load). */
  readAhead?: ScanRequest | null;
}

// Bound once: both run per row, and a cross-module call compiled to CommonJS would read a property each time.
const parsePrefix = parsePrefixExport;
const decodeComplex = decodeComplexExport;

/** The fast path's columns as the record renderer sees them (fast-render.ts). */
function renderSpecOf(
  table: SourceTable,
  simple: readonly TargetColumn[],
  complex: readonly TargetColumn[],
): RenderSpec {
  const column = (c: TargetColumn) => {
    const field = table.columns.findIndex((s) => s.name === c.name);
    const source = table.columns[field];
    const integerKey =
      table.primaryKey.length === 1 &&
      table.primaryKey[0] === c.name &&
      source?.declaredType.toUpperCase() === 'INTEGER';
    return renderColumn(field, c.type, table.rowidAlias === c.name ? 'alias' : integerKey ? 'maybe' : 'no');
  };
  return { fields: table.columns.length, simple: simple.map(column), complex: complex.map(column) };
}

/** Converts one raw row (slow path) in copy order; reports problems. Returns the values, or null for a bad row. */
async function convertRow(
  run: Run,
  planned: TablePlan,
  row: readonly RawValue[],
  values: (string | null)[],
  opts: PumpOptions,
  result: PumpResult,
): Promise<boolean> {
  const { source: table, layout, converters, sourceIndex, columns } = planned;
  const first = layout.firstColumn;
  let bad: string[] | null = null;
  for (let i = 0; i < converters.length; i++) {
    const si = sourceIndex[i] as number;
    const raw = row[first + si] as RawValue;
    const v = (converters[i] as Converter)(raw, isText(row, si));
    if (v instanceof ValueProblem) {
      const column = columns[i]?.name ?? '';
      if (bad === null) bad = [];
      bad.push(`${column}: ${v.reason}`);
      if (opts.reportProblems) {
        addProblem(
          run,
          {
            table: table.name,
            rowKey: rowKeyLabel(table, layout, row),
            column,
            value: excerpt(raw, isText(row, si)),
            reason: v.reason,
          },
          v.summary,
        );
      }
      values[i] = null;
    } else {
      values[i] = v;
    }
  }
  if (!bad) return true;
  result.badRows++;
  if (opts.badKeys) {
    const columnsOf = bad.map((b) => b.slice(0, b.indexOf(': ')));
    opts.badKeys.set(rowKey(table, layout, row), [`bad value in ${[...new Set(columnsOf)].join(', ')}`]);
    writeRejected(run, planned, row, rowKeyLabel(table, layout, row), bad);
  }
  if (opts.abortOnProblem && opts.copy) {
    await opts.copy.abort(`bad value in ${table.name} ${rowKeyLabel(table, layout, row)}`);
    opts.copy = null;
    opts.checksum = null;
  }
  return false;
}

/** Sends one converted row (all values in copy order) to COPY and the checksum. */
function emitRow(planned: TablePlan, values: readonly (string | null)[], opts: PumpOptions): Promise<void> | null {
  opts.checksum?.add(values);
  if (!opts.copy) return null;
  let line = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as string | null;
    if (i > 0) line += '\t';
    line += csvField(v, planned.escape[i] === true);
  }
  opts.copy.text(`${line}\n`);
  return opts.copy.endRow();
}

/**
 * Reads a table's rows, converts every value, and sends good rows to COPY and the checksum. Returns how far it got.
 * The hot loop of the migration. Rowid tables take the fast path (fastpath.ts): SQLite renders the proven-valid
 * simple values as one byte string per row; only rows it cannot vouch for are re-read and converted value by value.
 */
async function pump(run: Run, planned: TablePlan, opts: PumpOptions): Promise<PumpResult> {
  const { source: table, layout } = planned;
  const values: (string | null)[] = new Array(planned.converters.length).fill(null);
  const result: PumpResult = { rows: 0, badRows: 0, rejected: 0, lastKey: opts.afterKey, exhausted: true };
  let sinceProgress = 0;
  let seen = 0;
  const afterKey = opts.afterKey === null ? null : layout.keyIsRowid ? BigInt(opts.afterKey) : null;
  const tick = () => {
    seen++;
    if (++sinceProgress === 5000) {
      sinceProgress = 0;
      run.progress.rows(table.name, seen);
    }
  };
  const full = () => result.rows + result.rejected + result.badRows >= opts.limit;
  const fast = planned.fast;
  if (fast) {
    const slowStmt = run.source.rowByRowid(table, layout);
    const nSimple = fast.simpleCount;
    const nTemporal = fast.temporal.length;
    const complexConverters = planned.converters.slice(nSimple);
    const complexValues: (string | null)[] = new Array(complexConverters.length).fill(null);
    let lastKey: number | bigint | null = null;
    const nComplex = complexConverters.length;
    const complexRaw: RawValue[] = new Array(nComplex).fill(null);
    const complexText: boolean[] = new Array(nComplex).fill(false);
    const request = { table, select: fast.select, afterKey, nComplex: 0, render: fast.render };
    const batches = run.reader ? run.reader.scan(request, opts.readAhead ?? null) : packBatches(run.source, request);
    try {
      scan: for await (const batch of batches) {
        let start = 0;
        // One native check per batch instead of two per row. Sound only without complex values: each row's segment
        // then sits between ASCII bytes (the prefix's ':' and the next row's length digits, or the end), so a
        // batch that is valid UTF-8 without NUL has segments that are too. Otherwise, or when it fails, per row.
        const clean = nComplex === 0 && batch.bytes.indexOf(0) === -1 && isUtf8(batch.bytes);
        for (let r = 0; r < batch.count; r++) {
          tick();
          // "<rowid>:<mask or -1>:<CSV segment>" — one value per row keeps the library's per-value cost down.
          const end = batch.ends[r] as number;
          const head = parsePrefix(batch.bytes, batch.starts ? (batch.starts[r] as number) : start);
          start = end;
          const key = head.key;
          // Checkpoints record the last rowid sent: rows must come in rising rowid order for that to be safe.
          if (lastKey !== null && key <= lastKey) throw new Error(`internal: ${table.name} rows out of rowid order`);
          lastKey = key;
          if (opts.skip && opts.skip.size > 0 && opts.skip.has(String(key))) {
            result.rejected++;
            continue;
          }
          let wait: Promise<void> | null = null;
          const mask = head.mask;
          const segStart =
            nComplex > 0 ? decodeComplex(batch.bytes, head.start, nComplex, complexRaw, complexText) : head.start;
          const seg = batch.bytes.subarray(segStart < 0 ? head.start : segStart, end);
          let ok = mask >= 0 && segStart >= 0 && (clean || (seg.indexOf(0) === -1 && isUtf8(seg)));
          // The temporal fields lead the segment: check their layout and calendar on the bytes.
          for (let t = 0, pos = 0; ok && t < nTemporal; t++) {
            let end = seg.indexOf(9, pos);
            if (end === -1) end = seg.length;
            if (end > pos) ok = validTemporalBytes(seg, pos, end, fast.temporal[t] as boolean);
            pos = end + 1;
          }
          for (let j = 0; ok && j < complexConverters.length; j++) {
            const v = (complexConverters[j] as Converter)(complexRaw[j] as RawValue, complexText[j] as boolean);
            if (v instanceof ValueProblem) ok = false;
            else complexValues[j] = v;
          }
          if (ok) {
            result.rows++;
            if (opts.checksum) opts.checksum.addParts(seg, complexValues, nSimple);
            const copy = opts.copy;
            if (copy) {
              copy.bytes(seg);
              for (let j = 0; j < complexValues.length; j++) {
                if (j > 0 || nSimple > 0) copy.byte(9);
                copy.text(csvField(complexValues[j] as string | null, planned.escape[nSimple + j] === true));
              }
              copy.byte(10);
              wait = copy.endRow();
            }
          } else {
            // Not proven valid on the fast path: re-read the row as raw values and convert it the ordinary way.
            const raw = slowStmt.get([key]);
            if (raw && (await convertRow(run, planned, raw, values, opts, result))) {
              result.rows++;
              wait = emitRow(planned, values, opts);
            }
          }
          if (wait) await wait;
          if (full()) {
            result.exhausted = false;
            break scan;
          }
        }
      }
    } finally {
      slowStmt.finalize();
      if (lastKey !== null) result.lastKey = String(lastKey);
    }
  } else {
    for (const row of run.source.rows(table, layout, afterKey)) {
      tick();
      if (layout.keyIsRowid) result.lastKey = String(row[layout.maskCount]);
      if (opts.skip && opts.skip.size > 0 && opts.skip.has(rowKey(table, layout, row))) {
        result.rejected++;
        continue;
      }
      if (await convertRow(run, planned, row, values, opts, result)) {
        result.rows++;
        const wait = emitRow(planned, values, opts);
        if (wait) await wait;
      }
      if (full()) {
        result.exhausted = false;
        break;
      }
    }
  }
  run.progress.rows(table.name, seen);
  return result;
}

/** Builds COPY data in large byte buffers (SQLite's bytes go in untouched) and honours the socket's back-pressure. */
class CopyWriter {
  private buffer = Buffer.allocUnsafe(1 << 20);
  private pos = 0;
  private failed: Error | null = null;
  private readonly done: Promise<void>;

  constructor(private readonly stream: ReturnType<typeof copyStream>) {
    this.done = new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', (error: Error) => {
        this.failed = error;
        reject(error);
      });
    });
    this.done.catch(() => undefined);
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buffer.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.pos + extra));
    this.buffer.copy(bigger, 0, 0, this.pos);
    this.buffer = bigger;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buffer.set(data, this.pos);
    this.pos += data.length;
  }

  byte(value: number): void {
    this.ensure(1);
    this.buffer[this.pos++] = value;
  }

  text(data: string): void {
    this.ensure(data.length * 3);
    this.pos += this.buffer.write(data, this.pos, 'utf8');
  }

  /** Call after each row: flushes a full buffer, returning a promise only when the socket asks us to wait. */
  endRow(): Promise<void> | null {
    return this.pos >= 1 << 19 ? this.flush() : null;
  }

  private flush(): Promise<void> | null {
    if (this.failed) throw this.failed;
    const ok = this.stream.write(this.buffer.subarray(0, this.pos));
    this.buffer = Buffer.allocUnsafe(1 << 20);
    this.pos = 0;
    if (ok) return null;
    return Promise.race([once(this.stream, 'drain').then(() => undefined), this.done]);
  }

  async end(): Promise<void> {
    if (this.pos > 0) await this.flush();
    this.stream.end();
    await this.done;
  }

  /** Sends CopyFail: PostgreSQL discards the COPY; the caller rolls back. */
  async abort(reason: string): Promise<void> {
    this.pos = 0;
    this.stream.destroy(new Error(reason));
    await this.done.catch(() => undefined);
  }
}

function writeRejected(
  run: Run,
  planned: TablePlan,
  row: readonly RawValue[],
  rowKeyText: string,
  reasons: readonly string[],
): void {
  if (run.rejectedFd === null) return;
  const values: Record<string, unknown> = {};
  planned.source.columns.forEach((c, i) => {
    const raw = row[planned.layout.firstColumn + i] ?? null;
    if (raw === null || typeof raw === 'number') values[c.name] = raw;
    else if (typeof raw === 'bigint') values[c.name] = { $int: raw.toString() };
    else if (isText(row, i)) {
      const text = Buffer.from(raw).toString('utf8');
      values[c.name] = Buffer.from(text, 'utf8').equals(Buffer.from(raw))
        ? text
        : { $textHex: Buffer.from(raw).toString('hex') };
    } else values[c.name] = { $blobHex: Buffer.from(raw).toString('hex') };
  });
  const line = JSON.stringify({ table: planned.source.name, row: rowKeyText, reasons, values });
  writeSync(run.rejectedFd, `${line}\n`);
  run.report.rejectedRows++;
}

/** Finds rows whose foreign key points at no parent row (`NOT EXISTS` in SQLite, one query per key). */
function findOrphans(run: Run, rejected: RejectedRows | null): number {
  let found = 0;
  for (const name of run.order) {
    const planned = run.plans.get(name);
    if (!planned) continue;
    for (const fk of planned.source.foreignKeys) found += orphansOf(run, planned, fk, rejected);
  }
  return found;
}

/** Reports the rows of one foreign key that point at no parent row (a `NOT EXISTS` query in SQLite). */
function orphansOf(run: Run, planned: TablePlan, fk: SourceForeignKey, rejected: RejectedRows | null): number {
  const table = planned.source;
  const parent = run.plans.get(fk.refTable)?.source;
  if (!parent || fk.refColumns.length !== fk.columns.length || fk.refColumns.some((c) => c === '')) return 0;
  const notNull = fk.columns.map((c) => `c.${quoteSqliteIdent(c)} IS NOT NULL`).join(' AND ');
  const match = fk.columns
    .map((c, i) => `p.${quoteSqliteIdent(fk.refColumns[i] ?? '')} = c.${quoteSqliteIdent(c)}`)
    .join(' AND ');
  const sql =
    `SELECT ${planned.layout.selectList} FROM ${quoteSqliteIdent(table.name)} c ` +
    `WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${quoteSqliteIdent(parent.name)} p WHERE ${match})`;
  let found = 0;
  for (const rec of run.source.query(sql)) {
    const row = Object.values(rec) as RawValue[];
    const label = rowKeyLabel(table, planned.layout, row);
    const value = fk.columns
      .map((c) => {
        const i = table.columns.findIndex((x) => x.name === c);
        return excerpt(row[planned.layout.firstColumn + i] ?? null, isText(row, i), 40);
      })
      .join(', ');
    const reason = `orphan foreign key: no ${fk.refTable} row with ${fk.refColumns.join(', ')} = ${value}`;
    const summary = `orphan foreign key: no such ${fk.refTable} row`;
    addProblem(run, { table: table.name, rowKey: label, column: fk.columns.join(', '), value, reason }, summary);
    found++;
    const key = rowKey(table, planned.layout, row);
    if (rejected && addRejected(rejected, table.name, key, `${summary} (${fk.columns.join(', ')})`)) {
      writeRejected(run, planned, row, label, [`${fk.columns.join(', ')}: ${reason}`]);
    }
  }
  return found;
}

function addRejected(rejected: RejectedRows, table: string, key: string, reason: string): boolean {
  let map = rejected.get(table);
  if (!map) {
    map = new Map();
    rejected.set(table, map);
  }
  const existing = map.get(key);
  if (existing) {
    existing.push(reason);
    return false;
  }
  map.set(key, [reason]);
  return true;
}

/**
 * Skip-row: rows that reference a rejected row must go too (their key would dangle), transitively. Runs SQLite
 * queries per foreign key until nothing new is rejected.
 */
function cascadeRejections(run: Run, rejected: RejectedRows, reportProblems: boolean): void {
  for (let changed = true; changed; ) {
    changed = false;
    for (const name of run.order) {
      const planned = run.plans.get(name);
      if (!planned) continue;
      for (const fk of planned.source.foreignKeys) {
        const parentPlan = run.plans.get(fk.refTable);
        const parentRejected = rejected.get(fk.refTable);
        if (!parentPlan || !parentRejected || parentRejected.size === 0) continue;
        const parent = parentPlan.source;
        const keys = [...parentRejected.keys()];
        for (let start = 0; start < keys.length; start += 400) {
          const batch = keys.slice(start, start + 400);
          // WITHOUT ROWID parents are keyed by their rendered primary key, which SQL cannot match: not cascaded.
          if (!parentPlan.layout.keyIsRowid) continue;
          const parentFilter = `p.rowid IN (${batch.map(() => '?').join(', ')})`;
          const match = fk.columns
            .map((c, i) => `p.${quoteSqliteIdent(fk.refColumns[i] ?? '')} = c.${quoteSqliteIdent(c)}`)
            .join(' AND ');
          const sql =
            `SELECT ${planned.layout.selectList} FROM ${quoteSqliteIdent(planned.source.name)} c WHERE EXISTS ` +
            `(SELECT 1 FROM ${quoteSqliteIdent(parent.name)} p WHERE ${match} AND ${parentFilter})`;
          for (const rec of run.source.query(
            sql,
            batch.map((k) => BigInt(k)),
          )) {
            const row = Object.values(rec) as RawValue[];
            const key = rowKey(planned.source, planned.layout, row);
            const reason = `references rejected ${fk.refTable} row (${fk.columns.join(', ')})`;
            if (addRejected(rejected, planned.source.name, key, reason)) {
              changed = true;
              const label = rowKeyLabel(planned.source, planned.layout, row);
              const value = fk.columns
                .map((c) => {
                  const i = planned.source.columns.findIndex((x) => x.name === c);
                  return excerpt(row[planned.layout.firstColumn + i] ?? null, isText(row, i), 40);
                })
                .join(', ');
              if (reportProblems) {
                addProblem(run, {
                  table: planned.source.name,
                  rowKey: label,
                  column: fk.columns.join(', '),
                  value,
                  reason,
                });
              }
              writeRejected(run, planned, row, label, [`${fk.columns.join(', ')}: ${reason}`]);
            }
          }
        }
      }
    }
  }
}

/** `--check`, and skip-row's first pass: convert every value of every table, then look for orphan keys. */
async function scanForProblems(run: Run, collect: boolean, cascadeProblems = true): Promise<RejectedRows> {
  const rejected: RejectedRows = new Map();
  for (const name of run.order) {
    const planned = run.plans.get(name) as TablePlan;
    const started = Date.now();
    run.progress.tableStart(name, planned.totalRows, 'scan');
    const badKeys = new Map<string, string[]>();
    const before = run.report.problems.length + run.report.problemsOmitted;
    const r = await pump(run, planned, {
      copy: null,
      checksum: null,
      skip: null,
      afterKey: null,
      limit: Number.POSITIVE_INFINITY,
      reportProblems: true,
      abortOnProblem: false,
      badKeys,
    });
    if (collect) rejected.set(name, badKeys);
    const problems = run.report.problems.length + run.report.problemsOmitted - before;
    run.progress.tableEnd(
      name,
      `${plural(r.rows + r.badRows, 'row')}, ${problems > 0 ? plural(problems, 'problem') : 'ok'}`,
    );
    run.report.tables.push({
      table: name,
      sourceRows: planned.totalRows,
      loadedRows: 0,
      rejectedRows: r.badRows,
      problems,
      status: 'checked',
      seconds: (Date.now() - started) / 1000,
    });
  }
  const orphans = findOrphans(run, collect ? rejected : null);
  if (orphans > 0) {
    for (const t of run.report.tables) {
      t.problems = run.report.problems.filter((p) => p.table === t.table).length;
    }
  }
  if (collect) cascadeRejections(run, rejected, cascadeProblems);
  return rejected;
}

async function migrate(run: Run, sourceFingerprint: string): Promise<void> {
  const client = requireClient(run);
  const { options, report } = run;
  const names = run.order;

  // 1. Reconcile with what a previous run left in the target.
  let state = await readRunState(client);
  if (state && state.mode !== options.schemaMode) {
    throw new TargetStateError(
      `the target holds a ${state.mode}-mode migration; rerun with --schema ${state.mode} or use a fresh database`,
    );
  }
  if (state && state.fingerprint !== sourceFingerprint) {
    if (state.status === 'complete') {
      throw new TargetStateError(
        'the target already holds a completed migration of a different version of this SQLite file; ' +
          'refusing to overwrite it (migrate into a fresh database)',
      );
    }
    report.notes.push('The source changed since the interrupted run: starting over.');
    await client.query('BEGIN');
    if (state.mode === 'translate') await dropTables(client, names);
    else {
      for (const name of (await readTableStates(client)).keys()) {
        await client.query(`TRUNCATE ${quoteIdent(name)}`);
      }
    }
    await clearState(client);
    await client.query('COMMIT');
    state = null;
  }
  if (!state) {
    await client.query('BEGIN');
    await ensureStateTables(client);
    if (options.schemaMode === 'translate') {
      const clash = await existingTables(client, names);
      if (clash.size > 0) {
        await client.query('ROLLBACK');
        throw new TargetStateError(
          `the target already has table(s) ${[...clash].slice(0, 5).join(', ')}; ` +
            'use --schema existing to load into tables the app created, or an empty database',
        );
      }
      await createTables(
        client,
        names.map((n) => (run.plans.get(n) as TablePlan).target),
      );
    } else {
      const occupied = await tableRowCounts(client, names);
      if (occupied.size > 0 && !options.replaceExistingRows) {
        await client.query('ROLLBACK');
        throw new TargetStateError(
          `target table(s) ${describeCounts(occupied)} already have rows (the app's own, e.g. seeded at its first ` +
            'start); rerun with --replace-existing-rows to delete them before loading, or empty them first',
        );
      }
      run.expected = await catalogCounts(client, names);
      await saveAndDropForeignKeys(client, names);
      if (occupied.size > 0) {
        // In this transaction, before anything is loaded (and after the foreign keys among these tables are set
        // aside): either they are all emptied and the run is recorded, or neither happens. Never CASCADE: a table
        // outside the migration that references them stops it instead of losing its rows.
        try {
          await truncateTables(client, [...occupied.keys()]);
        } catch (error) {
          await client.query('ROLLBACK');
          throw new TargetStateError(`--replace-existing-rows could not empty the tables: ${(error as Error).message}`);
        }
        report.notes.push(`Replaced the rows already in the target: deleted ${describeCounts(occupied)}.`);
      }
    }
    state = { fingerprint: sourceFingerprint, mode: options.schemaMode, status: 'loading', expected: run.expected };
    await writeRunState(client, state);
    await client.query('COMMIT');
  } else if (options.schemaMode === 'existing') {
    run.expected = state.expected;
  }
  const tableStates = await readTableStates(client);

  // 2. Skip-row: find every bad row first, so the load can leave them (and rows pointing at them) out.
  let rejected: RejectedRows | null = null;
  let writing = true;
  if (options.onError === 'skip-row') {
    // The rejected-rows file is written by this scan, complete on every run (a resumed run rewrites it whole).
    if (options.rejectedFile) {
      run.rejectedFd = openSync(options.rejectedFile, 'w');
      report.rejectedFile = options.rejectedFile;
    }
    try {
      rejected = await scanForProblems(run, true);
    } finally {
      if (run.rejectedFd !== null) closeSync(run.rejectedFd);
      run.rejectedFd = null;
    }
    report.tables.length = 0;
  }
  // Fail mode does not pre-scan for orphan keys: PostgreSQL's own validation of each foreign key finds them far
  // faster, and only when one fails are its orphans listed (finalize).

  // 3. Load, table by table, in dependency order.
  const segment = options.segmentRows ?? Number.POSITIVE_INFINITY;
  let didWork = false;
  const background = writing && options.target ? await connectTarget(options.target) : null;
  // Target checksums get a connection of their own when verifying: queued behind the keys they would wait for
  // every index build, and at the end of the load (when this process is idle) the two run side by side.
  const checksums = writing && options.target && options.verify !== false ? await connectTarget(options.target) : null;
  const finisher = new Finisher(run, background ?? client, checksums);
  try {
    for (const [index, name] of names.entries()) {
      const planned = run.plans.get(name) as TablePlan;
      const previous = tableStates.get(name);
      const row: TableReport = {
        table: name,
        sourceRows: planned.totalRows,
        loadedRows: 0,
        rejectedRows: 0,
        problems: 0,
        status: 'not-loaded',
        seconds: 0,
      };
      report.tables.push(row);
      if (previous?.status === 'loaded') {
        row.status = 'already-loaded';
        row.loadedRows = previous.rows;
        row.rejectedRows = previous.rejectedKeys.length;
        continue;
      }
      // Time-boxed runs (the AWS runner) stop starting tables at the deadline, after doing at least one.
      if (options.deadline !== undefined && didWork && Date.now() > options.deadline) {
        report.incomplete = true;
        continue;
      }
      didWork = true;
      const started = Date.now();
      const before = report.problems.length + report.problemsOmitted;
      run.progress.tableStart(name, planned.totalRows, writing ? 'load' : 'scan');
      const skip = rejected?.get(name) ?? null;
      const outcome = writing
        ? await loadTable(run, planned, previous ?? null, skip, segment, nextScan(run, names, index, tableStates))
        : await scanOnly(run, planned);
      row.loadedRows = outcome.loadedRows;
      row.rejectedRows = outcome.rejected;
      row.problems = report.problems.length + report.problemsOmitted - before;
      row.status = outcome.status;
      row.seconds = (Date.now() - started) / 1000;
      if (outcome.status === 'failed' && options.onError === 'fail') writing = false;
      if (outcome.status === 'partial') report.incomplete = true;
      if (outcome.status === 'loaded') finisher.tableLoaded(name, options.verify !== false);
      run.progress.tableEnd(
        name,
        `${plural(row.loadedRows, 'row')} ${row.status === 'loaded' ? 'loaded' : `(${row.status})`}` +
          (row.rejectedRows > 0 ? `, ${row.rejectedRows} rejected` : ''),
      );
    }
    if (!writing && options.onError === 'fail') {
      // Loading stopped anyway: list orphan keys too, so that one run shows every problem.
      findOrphans(run, null);
      report.notes.push(
        'Loading stopped at the first bad value; the remaining tables were scanned so that every problem is listed. ' +
          'Tables marked loaded are complete and will not be loaded again.',
      );
    }
    for (const t of report.tables) {
      if (t.problems === 0) t.problems = report.problems.filter((p) => p.table === t.table).length;
    }
    if (!writing || report.incomplete) return;

    // 4. Keys, indexes, sequences, foreign keys — each step skips what already exists.
    const loadedAt = Date.now();
    run.progress.message('adding keys, indexes and foreign keys');
    const finalized = await finisher.finish();
    const finalizedAt = Date.now();
    report.notes.push(`keys, indexes and foreign keys: ${((finalizedAt - loadedAt) / 1000).toFixed(2)} s`);
    if (!finalized) {
      report.notes.push('Keys or foreign keys could not be added (see the problems); the migration is not complete.');
      return;
    }
    // Nothing holds a writer off the file (the library's lock is its own): make sure nobody wrote to it meanwhile.
    const changed = run.source.changedSinceOpen();
    if (changed) {
      report.schemaIssues.push({ table: '*', column: null, severity: 'error', message: changed });
      report.notes.push('The SQLite file changed during the run; the migration is not marked complete.');
      return;
    }
    await writeRunState(client, { ...state, status: 'complete', expected: run.expected });
    if (options.verify !== false) {
      await verify(run, await readTableStates(client));
      report.notes.push(`verification: ${((Date.now() - finalizedAt) / 1000).toFixed(2)} s`);
    }
  } finally {
    await finisher.drain().catch(() => undefined);
    await background?.end().catch(() => undefined);
    await checksums?.end().catch(() => undefined);
  }
}

/**
 * The fast-path scan of the next table this run will load, so the reader thread reads ahead while the current
 * table's COPY drains and commits. Reading is all it does: nothing is written until that table's own turn.
 */
function nextScan(
  run: Run,
  names: readonly string[],
  index: number,
  states: Map<string, TableState>,
): ScanRequest | null {
  if (!run.reader || run.options.deadline !== undefined || run.options.segmentRows !== undefined) return null;
  const name = names.slice(index + 1).find((n) => states.get(n)?.status !== 'loaded');
  const planned = name === undefined ? undefined : run.plans.get(name);
  if (!planned?.fast) return null;
  return {
    table: planned.source,
    select: planned.fast.select,
    afterKey: null,
    nComplex: 0,
    render: planned.fast.render,
  };
}

interface LoadOutcome {
  status: TableReport['status'];
  loadedRows: number;
  rejected: number;
}

async function scanOnly(run: Run, planned: TablePlan): Promise<LoadOutcome> {
  const r = await pump(run, planned, {
    copy: null,
    checksum: null,
    skip: null,
    afterKey: null,
    limit: Number.POSITIVE_INFINITY,
    reportProblems: true,
    abortOnProblem: false,
    badKeys: null,
  });
  return { status: r.badRows > 0 ? 'failed' : 'not-loaded', loadedRows: 0, rejected: 0 };
}

/** Loads one table: one transaction, or rowid segments each committed with its checkpoint. */
async function loadTable(
  run: Run,
  planned: TablePlan,
  previous: TableState | null,
  skip: Map<string, string[]> | null,
  segmentRows: number,
  readAhead: ScanRequest | null,
): Promise<LoadOutcome> {
  const client = requireClient(run);
  const { options } = run;
  const segmented = Number.isFinite(segmentRows) && planned.layout.keyIsRowid;
  let afterKey = previous?.status === 'partial' && segmented ? previous.lastKey : null;
  let checksumState = afterKey !== null && previous ? previous.checksum : emptyChecksum();
  let loaded = afterKey !== null && previous ? previous.rows : 0;
  let rejectedCount = afterKey !== null && previous ? previous.rejectedKeys.length : 0;
  // Skip-row: the scan found every rejected row of this table up front; the checkpoint remembers their keys.
  const rejectedKeys = skip ? [...skip.keys()] : [];
  const columns = planned.columns.map((c) => c.name);
  for (;;) {
    const fresh = afterKey === null;
    try {
      // One round trip: dozens of small tables make per-statement latency count.
      await client.query(fresh ? `BEGIN; TRUNCATE ${quoteIdent(planned.source.name)}` : 'BEGIN');
      const copy = new CopyWriter(copyStream(client, planned.source.name, columns, fresh));
      // Without verification the source checksum is not needed: skipping it saves a hash per row.
      const checksum = options.verify === false ? null : new RowChecksum(planned.kinds, checksumState);
      const r = await pump(run, planned, {
        copy,
        checksum,
        skip,
        afterKey,
        limit: segmented ? segmentRows : Number.POSITIVE_INFINITY,
        reportProblems: true,
        abortOnProblem: options.onError === 'fail',
        badKeys: null,
        readAhead: segmented ? null : readAhead,
      });
      if (r.badRows > 0) {
        await client.query('ROLLBACK');
        // Fail mode: the COPY was abandoned at the first bad row; the scan went on to list the others.
        return { status: 'failed', loadedRows: 0, rejected: 0 };
      }
      await copy.end();
      loaded += r.rows;
      rejectedCount += r.rejected;
      checksumState = checksum?.state ?? { ...emptyChecksum(), rows: loaded };
      const done = r.exhausted;
      await writeTableState(client, {
        table: planned.source.name,
        status: done ? 'loaded' : 'partial',
        rows: loaded,
        lastKey: r.lastKey,
        checksum: checksumState,
        rejectedKeys,
      });
      await client.query('COMMIT');
      if (done) {
        if (checksum) run.loadedChecksums.set(planned.source.name, checksumState);
        return { status: 'loaded', loadedRows: loaded, rejected: rejectedCount };
      }
      afterKey = r.lastKey;
      if (options.deadline !== undefined && Date.now() > options.deadline) {
        return { status: 'partial', loadedRows: loaded, rejected: rejectedCount };
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}

/**
 * Keys, indexes, sequences and foreign keys run on a second connection while the next tables load: PostgreSQL
 * builds them on the other core while this process reads SQLite. Steps run one after another in a queue; each
 * skips what already exists (so a resumed run re-issues them cheaply). A failing step (an orphan key, a duplicate
 * that PostgreSQL's comparison finds) is reported with the rows concerned instead of aborting the run.
 */
class Finisher {
  private queue: Promise<void> = Promise.resolve();
  /** Target checksums, on their own connection when there is one (else behind the keys, on the same queue). */
  private checksumQueue: Promise<void> = Promise.resolve();
  ok = true;
  private readonly keyed = new Set<string>();
  private readonly fksDone = new Set<string>();
  /** Tables analyzed right after their keys, while later tables load (the rest are analyzed at the end). */
  private readonly analyzed = new Set<string>();
  private finishing = false;

  constructor(
    private readonly run: Run,
    private readonly client: Client,
    private readonly checksumClient: Client | null = null,
  ) {}

  private enqueue(table: string, what: string, step: () => Promise<void>, onFail?: () => number): void {
    this.queue = this.queue.then(() => this.attempt(table, what, step, onFail));
  }

  /** Runs one step; a failure is reported (or its rows listed by `onFail`) and the run goes on. */
  private async attempt(table: string, what: string, step: () => Promise<void>, onFail?: () => number): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.ok = false;
      const listed = onFail?.() ?? 0;
      if (listed === 0) {
        this.run.report.schemaIssues.push({
          table,
          column: null,
          severity: 'error',
          message: `${what} failed: ${(error as Error).message}`,
        });
      }
    }
  }

  /** A table is complete: queue its keys, indexes and sequence, then every foreign key that can now be added. */
  tableLoaded(name: string, targetChecksumWanted: boolean): void {
    const client = this.client;
    const t = (this.run.plans.get(name) as TablePlan).target;
    const pk = t.primaryKey;
    const analyze = !this.finishing;
    const parts: { what: string; step: () => Promise<void> }[] = [
      ...(pk ? [{ what: `primary key ${pk.name}`, step: () => addConstraint(client, name, pk) }] : []),
      ...t.uniques.map((u) => ({ what: `unique constraint ${u.name}`, step: () => addConstraint(client, name, u) })),
      ...t.indexes.map((idx) => ({ what: `index ${idx.name}`, step: () => createIndex(client, idx.name, idx.sql) })),
      ...t.sequenceColumns.map((col) => ({ what: `sequence of ${col}`, step: () => resetSequence(client, name, col) })),
      ...(analyze
        ? [
            {
              what: 'ANALYZE',
              step: async () => {
                await client.query(`ANALYZE ${quoteIdent(name)}`);
              },
            },
          ]
        : []),
    ];
    // All of it in one statement; only if that fails (or cannot be built), part by part, to name the culprit.
    this.queue = this.queue.then(async () => {
      const done = await addKeys(client, t, analyze).catch(() => false);
      if (!done) for (const part of parts) await this.attempt(name, part.what, part.step);
    });
    this.keyed.add(name);
    if (analyze) this.analyzed.add(name);
    if (targetChecksumWanted) {
      const planned = this.run.plans.get(name) as TablePlan;
      const step = async () => {
        const on = this.checksumClient ?? client;
        this.run.targetSums.set(name, await targetChecksum(on, { ...planned.target, columns: planned.columns }));
      };
      if (this.checksumClient) {
        this.checksumQueue = this.checksumQueue.then(() => this.attempt(name, 'target checksum', step));
      } else this.enqueue(name, 'target checksum', step);
    }
    if (this.run.options.schemaMode === 'translate') this.foreignKeys(false);
  }

  /** Queues the translated foreign keys whose tables are keyed (all of them when `all`). */
  private foreignKeys(all: boolean): void {
    for (const name of this.run.order) {
      const planned = this.run.plans.get(name) as TablePlan;
      planned.target.foreignKeys.forEach((fk, i) => {
        const source = planned.source.foreignKeys[i];
        const id = `${name}.${fk.name}`;
        if (this.fksDone.has(id)) return;
        if (!all && !(this.keyed.has(name) && source && this.keyed.has(source.refTable))) return;
        this.fksDone.add(id);
        this.enqueue(
          name,
          `foreign key ${fk.name}`,
          () => addForeignKey(this.client, name, fk),
          () => (source ? orphansOf(this.run, planned, source, null) : 0),
        );
      });
    }
  }

  /** Every table is loaded: queue whatever is missing (tables loaded by earlier runs too), then wait for it all. */
  async finish(): Promise<boolean> {
    this.finishing = true;
    for (const name of this.run.order) if (!this.keyed.has(name)) this.tableLoaded(name, false);
    if (this.run.options.schemaMode === 'translate') this.foreignKeys(true);
    else {
      const saved = await savedForeignKeys(this.client);
      for (const { table, constraint } of saved) {
        this.enqueue(table, `foreign key ${constraint.name}`, () => addForeignKey(this.client, table, constraint));
      }
    }
    const rest = this.run.order.filter((name) => !this.analyzed.has(name));
    this.enqueue('*', 'ANALYZE', async () => {
      // The state tables too, as the database-wide ANALYZE this replaces did.
      const tables = [
        ...rest.map((name) => quoteIdent(name)),
        'sfdeploy_migrate.run',
        'sfdeploy_migrate.table_state',
        'sfdeploy_migrate.saved_fk',
      ];
      await this.client.query(`ANALYZE ${tables.join(', ')}`);
    });
    await Promise.all([this.queue, this.checksumQueue]);
    return this.ok;
  }

  /** Waits for queued work without adding any (an interrupted or failed run). */
  async drain(): Promise<void> {
    await Promise.all([this.queue, this.checksumQueue]);
  }
}

/** Per table: counts and checksums on both sides, foreign-key integrity, index and constraint counts. */
async function verify(run: Run, states: Map<string, TableState>): Promise<void> {
  const client = requireClient(run);
  const rows: VerifyRow[] = [];
  const names = run.order;
  const found = await introspectTables(client, names);
  const counts = await catalogCounts(client, names);
  const runState = await readRunState(client);
  const expected = runState?.mode === 'existing' ? runState.expected : run.expected;
  for (const name of names) {
    const planned = run.plans.get(name) as TablePlan;
    run.progress.tableStart(name, planned.totalRows, 'verify');
    let sourceState = run.loadedChecksums.get(name);
    const precomputedSource = sourceState !== undefined;
    if (!sourceState) {
      const rejectedKeys = states.get(name)?.rejectedKeys ?? [];
      const checksum = new RowChecksum(planned.kinds);
      await pump(run, planned, {
        copy: null,
        checksum,
        skip: rejectedKeys.length > 0 ? new Map(rejectedKeys.map((k) => [k, []])) : null,
        afterKey: null,
        limit: Number.POSITIVE_INFINITY,
        reportProblems: run.options.action === 'verify-only',
        abortOnProblem: false,
        badKeys: null,
      });
      sourceState = checksum.state;
    }
    const target = found.tables.get(name);
    const targetColumns = target
      ? planned.columns.map((c) => target.columns.find((t) => t.name === c.name) ?? c)
      : planned.columns;
    const kindsMatch = targetColumns.every((c, i) => c.type.kind === planned.kinds[i]);
    const precomputed = kindsMatch ? run.targetSums.get(name) : undefined;
    const t = target
      ? (precomputed ?? (await targetChecksum(client, { ...planned.target, columns: targetColumns })))
      : { rows: -1, state: emptyChecksum() };
    const fk = target ? await foreignKeyViolations(client, name) : 0;
    const have = counts[name] ?? { indexes: 0, constraints: 0 };
    const want = expected[name] ?? have;
    const sourceDigest = checksumDigest(sourceState);
    const targetDigest = checksumDigest(t.state);
    rows.push({
      table: name,
      sourceRows: sourceState.rows,
      targetRows: t.rows,
      sourceChecksum: sourceDigest,
      targetChecksum: targetDigest,
      expectedIndexes: want.indexes,
      indexes: have.indexes,
      expectedConstraints: want.constraints,
      constraints: have.constraints,
      fkViolations: fk,
      ok:
        kindsMatch &&
        sourceState.rows === t.rows &&
        sourceDigest === targetDigest &&
        have.indexes === want.indexes &&
        have.constraints === want.constraints &&
        fk === 0,
    });
    // Checksums computed during the load (source side while streaming, target side on the background connection)
    // are only compared here: saying so keeps the phase's time (and rate) from being read as the verification's.
    run.progress.tableEnd(
      name,
      `${plural(sourceState.rows, 'row')}, ${rows[rows.length - 1]?.ok ? 'ok' : 'MISMATCH'}` +
        (precomputedSource && precomputed ? ' (checksums computed during the load)' : ''),
    );
  }
  run.report.verification = { rows, ok: rows.every((r) => r.ok) };
}

export { TargetStateError };
