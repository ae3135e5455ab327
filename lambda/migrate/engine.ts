/**
 * The migration core shared by `sfdeploy migrate` and the AWS runner: plan, check, load with COPY, finalise keys,
 * verify. Ports (the SQLite file, a PostgreSQL client config, a progress sink, a clock/deadline) come in as options;
 * decisions live in the pure modules (schema, convert, checksum, report).
 *
 * Crash safety: a table is loaded in one transaction (TRUNCATE + COPY + its checkpoint row), or — for the AWS
 * runner's time-boxed invocations — in rowid-ordered segments, each committed together with a checkpoint that
 * says "partial, up to rowid N". Keys, indexes and foreign keys are added only when every table is loaded, each step
 * idempotent, and the run is marked complete last. A table is never "loaded" unless all its rows are.
 *
 * The phases live in their own modules: run-context (options, plans, shared state), plan, pump (the hot loop and
 * the COPY writer), raw-row, rejections (bad rows and orphans), load-table, finisher (keys, indexes, foreign keys)
 * and verify. This module tells the story: reconcile with the target, load table by table, finish, mark complete.
 */

import { closeSync, openSync } from 'node:fs';
import type { Client } from 'pg';
import { Finisher } from './finisher';
import { loadTable, nextScan, scanOnly } from './load-table';
import { fingerprint, plan } from './plan';
import { findOrphans, type RejectedRows, scanForProblems, skipRowForecast } from './rejections';
import { finalizeVerdict, type MigrationReport, plural, type TableReport } from './report';
import { ReaderThread } from './row-batches';
import { type MigrateOptions, type Run, requireClient, silentProgress, type TablePlan } from './run-context';
import { quoteIdent } from './schema';
import { SourceFileError, SqliteSource } from './sqlite-source';
import {
  catalogCounts,
  clearState,
  connectTarget,
  createTables,
  dropTables,
  ensureStateTables,
  existingTables,
  readRunState,
  readTableStates,
  saveAndDropForeignKeys,
  TargetStateError,
  tableRowCounts,
  truncateTables,
  writeRunState,
} from './target';
import { verify } from './verify';

export { type MigrateOptions, type ProgressSink, silentProgress } from './run-context';

/** `users (3 rows), products (1 row)`. */
function describeCounts(counts: ReadonlyMap<string, number>): string {
  return [...counts].map(([t, n]) => `${t} (${plural(n, 'row')})`).join(', ');
}

export async function runMigration(options: MigrateOptions): Promise<MigrationReport> {
  const started = Date.now();
  const source = new SqliteSource(options.sqlitePath);
  const progress = options.progress ?? silentProgress;
  let client: Client | null = null;
  let reader: ReaderThread | null = null;
  try {
    // A damaged source is refused before anything is read or written: row counts and checksums would only prove
    // that the target holds what a corrupt file yields. The explicit audit (`--check`) runs the full check.
    const corrupt = source.integrityProblem(options.action === 'check' ? 'full' : 'quick');
    if (corrupt) throw new SourceFileError(`${options.sqlitePath} is corrupt: ${corrupt}`);
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
    const present = new Set(schema.tables.map((t) => t.name));
    for (const table of options.expectTables ?? []) {
      if (present.has(table)) continue;
      report.schemaIssues.push({
        table,
        column: null,
        severity: 'error',
        message: `the app needs table ${table}; the SQLite file has no such table (wrong or incomplete database file?)`,
      });
    }
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

export { TargetStateError };
