/**
 * A raw SQLite row as the reader returns it: which of its values are TEXT, the key it is remembered by, the label
 * an operator finds it by, and its line in the rejected-rows file (JSON Lines).
 */

import { writeSync } from 'node:fs';
import { excerpt } from './convert';
import type { Run, TablePlan } from './run-context';
import type { SourceTable } from './schema';
import type { RawValue, RowLayout } from './sqlite-source';

/** Renders how to find a row in the SQLite file. */
export function rowKeyLabel(table: SourceTable, layout: RowLayout, row: readonly RawValue[]): string {
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
export function rowKey(table: SourceTable, layout: RowLayout, row: readonly RawValue[]): string {
  return layout.keyIsRowid ? String(row[layout.maskCount]) : rowKeyLabel(table, layout, row);
}

export function isText(row: readonly RawValue[], i: number): boolean {
  const mask = row[(i / 62) | 0];
  const bit = i % 62;
  if (typeof mask === 'number') return bit < 31 ? ((mask >>> bit) & 1) === 1 : Math.floor(mask / 2 ** bit) % 2 === 1;
  if (typeof mask === 'bigint') return ((mask >> BigInt(bit)) & 1n) === 1n;
  return false;
}

/** Writes one rejected row, with every value as SQLite holds it, to the rejected-rows file (when there is one). */
export function writeRejected(
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
