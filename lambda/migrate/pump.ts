/**
 * The hot loop: reads a table's rows (fast path or value by value), converts them, and streams the good ones to
 * COPY through a byte buffer that honours the socket's back-pressure. Everything that runs per row lives here, in
 * one module, so that the loop makes no cross-module property reads (see the bindings below).
 */

import { isUtf8 } from 'node:buffer';
import { once } from 'node:events';
import type { RowChecksum } from './checksum';
import { type Converter, csvField, excerpt, ValueProblem } from './convert';
import { decodeComplex as decodeComplexExport, parsePrefix as parsePrefixExport } from './fast-render';
import { validTemporalBytes } from './fastpath';
import { isText as isTextExport, rowKey as rowKeyExport, rowKeyLabel, writeRejected } from './raw-row';
import { packBatches, type ScanRequest } from './row-batches';
import { addProblem, type Run, type TablePlan } from './run-context';
import type { RawValue } from './sqlite-source';
import type { copyStream } from './target';

export interface PumpResult {
  rows: number;
  badRows: number;
  rejected: number;
  lastKey: string | null;
  exhausted: boolean;
}

export interface PumpOptions {
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

// Bound once: they run per row (isText per value), and a cross-module call compiled to CommonJS would read a
// property each time.
const parsePrefix = parsePrefixExport;
const decodeComplex = decodeComplexExport;
const isText = isTextExport;
const rowKey = rowKeyExport;

/** Converts one raw row (slow path) in copy order; reports problems. Returns the values, or null for a bad row. */
export async function convertRow(
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
export function emitRow(
  planned: TablePlan,
  values: readonly (string | null)[],
  opts: PumpOptions,
): Promise<void> | null {
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
export async function pump(run: Run, planned: TablePlan, opts: PumpOptions): Promise<PumpResult> {
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
export class CopyWriter {
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
