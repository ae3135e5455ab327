/**
 * Bad rows and orphans: the scan that finds every bad value (`--check`, and skip-row's first pass), the orphan-key
 * queries, the cascade that rejects the rows referencing a rejected one, and the forecast of what skip-row leaves out.
 */

import { excerpt } from './convert';
import { pump } from './pump';
import { isText, rowKey, rowKeyLabel, writeRejected } from './raw-row';
import { plural, type SkipRowForecast } from './report';
import { addProblem, type Run, type TablePlan } from './run-context';
import type { SourceForeignKey } from './schema';
import { quoteSqliteIdent, type RawValue } from './sqlite-source';

export type RejectedRows = Map<string, Map<string, string[]>>;

/**
 * What `--on-error skip-row` would leave out, per table and reason: rows with bad values, orphans, and — through
 * the foreign keys, transitively — every row that references a rejected one.
 */
export function skipRowForecast(run: Run, rejected: RejectedRows): SkipRowForecast[] {
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

/** Finds rows whose foreign key points at no parent row (`NOT EXISTS` in SQLite, one query per key). */
export function findOrphans(run: Run, rejected: RejectedRows | null): number {
  let found = 0;
  for (const name of run.order) {
    const planned = run.plans.get(name);
    if (!planned) continue;
    for (const fk of planned.source.foreignKeys) found += orphansOf(run, planned, fk, rejected);
  }
  return found;
}

/** Reports the rows of one foreign key that point at no parent row (a `NOT EXISTS` query in SQLite). */
export function orphansOf(run: Run, planned: TablePlan, fk: SourceForeignKey, rejected: RejectedRows | null): number {
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

export function addRejected(rejected: RejectedRows, table: string, key: string, reason: string): boolean {
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
export function cascadeRejections(run: Run, rejected: RejectedRows, reportProblems: boolean): void {
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
export async function scanForProblems(run: Run, collect: boolean, cascadeProblems = true): Promise<RejectedRows> {
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
