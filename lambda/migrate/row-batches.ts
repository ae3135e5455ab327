/**
 * Rows of the fast path in batches: each row's "<rowid>:<mask>:<segment>" bytes packed end to end in one buffer,
 * plus the row's raw complex values. The rows come from the file's records rendered in JavaScript (sqlite-pages.ts,
 * fast-render.ts) or, where that reader does not apply, from SQLite's own rendering (fastpath.ts): the same bytes
 * either way. On a machine with a spare core the reading runs in a worker thread (read-worker.ts) while this thread
 * converts and streams the previous batch; otherwise in this thread. Either way the consumer sees the same batches.
 */

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type RenderSpec, RowRenderer, RowSink } from './fast-render';
import type { SourceTable } from './schema';
import { TableCursor } from './sqlite-pages';
import type { RawValue, SqliteSource } from './sqlite-source';

export interface RowBatch {
  readonly count: number;
  readonly bytes: Uint8Array;
  /** End offset in `bytes` of each row. */
  readonly ends: Uint32Array;
  /** Start offset in `bytes` of each row, when rows are not end to end (else each starts where the last ended). */
  readonly starts?: Uint32Array;
  /** `count × nComplex` raw complex values, row-major. */
  readonly complex: RawValue[];
}

export interface ScanRequest {
  readonly table: SourceTable;
  readonly select: string;
  readonly afterKey: bigint | number | null;
  readonly nComplex: number;
  /** The same rows rendered from the records in JavaScript (fast-render.ts), when the file allows it. */
  readonly render?: RenderSpec | null;
}

export const BATCH_ROWS = Number(process.env['SF_BATCH'] ?? 2000);

/**
 * Batch buffers the consumer has finished with, sent back to the reader thread for reuse: a fresh 256 KiB buffer per
 * batch would put some 130 MB of short-lived external memory through the garbage collector on a million rows.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];

  put(buffer: ArrayBuffer): void {
    if (this.free.length < 8 && buffer.byteLength > 0) this.free.push(buffer);
  }

  get(minBytes: number): Buffer {
    const i = this.free.findIndex((b) => b.byteLength >= minBytes);
    if (i < 0) return Buffer.allocUnsafeSlow(minBytes);
    const [buffer] = this.free.splice(i, 1);
    return Buffer.from(buffer as ArrayBuffer);
  }
}

/** Packs records from `selectRecords` into batches (the in-thread reader). */
export function* packBatches(source: SqliteSource, req: ScanRequest, pool?: BufferPool): Generator<RowBatch> {
  if (req.nComplex === 0) {
    const file = req.render ? source.pageFile() : null;
    if (file && req.render) {
      yield* renderedBatches(new TableCursor(file, source.rootPage(req.table), req.afterKey), req.render, pool);
    } else {
      yield* groupedBatches(source, req);
    }
    return;
  }
  let bytes = new Uint8Array(1 << 18);
  let ends = new Uint32Array(BATCH_ROWS);
  let complex: RawValue[] = [];
  let count = 0;
  let pos = 0;
  const keys = Array.from({ length: req.nComplex }, (_, j) => `x${j}`);
  for (const rec of source.selectRecords(req.table, req.select, req.afterKey)) {
    const s = rec['s'] as Uint8Array;
    if (pos + s.length > bytes.length) {
      const bigger = new Uint8Array(Math.max(bytes.length * 2, pos + s.length));
      bigger.set(bytes.subarray(0, pos));
      bytes = bigger;
    }
    bytes.set(s, pos);
    pos += s.length;
    ends[count++] = pos;
    for (const k of keys) complex.push(rec[k] as RawValue);
    if (count === BATCH_ROWS) {
      yield { count, bytes, ends, complex };
      bytes = new Uint8Array(bytes.length);
      ends = new Uint32Array(BATCH_ROWS);
      complex = [];
      count = 0;
      pos = 0;
    }
  }
  if (count > 0) yield { count, bytes, ends, complex };
}

/** The fast path's rows rendered from the table's records (sqlite-pages.ts, fast-render.ts), in rowid order. */
function* renderedBatches(cursor: TableCursor, spec: RenderSpec, pool?: BufferPool): Generator<RowBatch> {
  const renderer = new RowRenderer(spec);
  const sink = new RowSink(BATCH_ROWS, pool ? (n) => pool.get(n) : undefined);
  while (cursor.next()) {
    renderer.render(cursor, sink);
    if (sink.count === BATCH_ROWS) yield { ...sink.take(), complex: [] };
  }
  if (sink.count > 0) yield { ...sink.take(), complex: [] };
}

/**
 * Tables whose columns are all simple: SQLite packs each batch into one "<length>:<s>" blob (selectGrouped); this
 * only finds where each row's bytes start and end, and checks that the lengths account for the whole blob.
 */
function* groupedBatches(source: SqliteSource, req: ScanRequest): Generator<RowBatch> {
  for (const { blob, count } of source.selectGrouped(req.table, req.select, req.afterKey, BATCH_ROWS)) {
    const starts = new Uint32Array(count);
    const ends = new Uint32Array(count);
    let p = 0;
    for (let r = 0; r < count; r++) {
      let len = 0;
      let digits = 0;
      while (p < blob.length && blob[p] !== 58) {
        len = len * 10 + ((blob[p++] as number) - 48);
        digits++;
      }
      if (digits === 0 || p >= blob.length) break;
      p++;
      starts[r] = p;
      p += len;
      ends[r] = p;
    }
    if (p !== blob.length) throw new Error(`internal: malformed row batch from ${req.table.name}`);
    yield { count, bytes: blob, ends, starts, complex: [] };
  }
}

function scanKey(req: ScanRequest): string {
  return `${req.table.name}\u0000${req.select}\u0000${String(req.afterKey)}\u0000${req.nComplex}`;
}

type WorkerMessage =
  | { type: 'batch'; id: number; batch: RowBatch }
  | { type: 'end'; id: number }
  | { type: 'closed'; id: number }
  | { type: 'error'; id: number; message: string };

/**
 * A reader thread with its own read-only handle on the SQLite file, serving one scan at a time. At most two
 * batches are in flight, so memory stays flat however far the database lags behind.
 */
export class ReaderThread {
  private readonly worker: Worker;
  private nextId = 0;
  private readonly inbox: WorkerMessage[] = [];
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  /** A scan posted ahead of its consumer (the next table's), so the thread reads it while this one finishes. */
  private prefetched: { key: string; id: number } | null = null;

  private constructor(file: string, sqlitePath: string) {
    // Running from TypeScript sources (tsx), the thread registers tsx's CommonJS hook itself: a worker does not
    // always inherit the loader the main thread was started with (it does not under the tsx CLI).
    const code = file.endsWith('.ts')
      ? `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(file)});`
      : `require(${JSON.stringify(file)});`;
    this.worker = new Worker(code, { eval: true, workerData: { sqlitePath } });
    this.worker.on('message', (m: WorkerMessage) => {
      this.inbox.push(m);
      this.wake?.();
    });
    this.worker.on('error', (e) => {
      this.failure = e;
      this.wake?.();
    });
    this.worker.on('exit', (code) => {
      this.failure ??= new Error(`SQLite reader thread exited (code ${code})`);
      this.wake?.();
    });
  }

  /**
   * Starts a reader thread when it can help: a spare core, and the worker script beside this module (true when
   * running from the repository; a bundle that did not ship read-worker.js reads in-thread instead).
   */
  static start(sqlitePath: string): ReaderThread | null {
    if (availableParallelism() < 2 || process.env['SFDEPLOY_READER_THREAD'] === '0') return null;
    const file = join(__dirname, `read-worker${extname(__filename)}`);
    if (!existsSync(file)) return null;
    return new ReaderThread(file, sqlitePath);
  }

  private async next(id: number): Promise<WorkerMessage> {
    for (;;) {
      const i = this.inbox.findIndex((m) => m.id === id);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as WorkerMessage;
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = null;
    }
  }

  private post(req: ScanRequest): number {
    const id = ++this.nextId;
    this.worker.postMessage({ type: 'scan', id, ...req });
    return id;
  }

  /** Cancels a prefetched scan nobody asked for, reading off whatever it already sent. */
  private async dropPrefetch(): Promise<void> {
    const p = this.prefetched;
    if (!p) return;
    this.prefetched = null;
    this.worker.postMessage({ type: 'cancel', id: p.id });
    for (;;) {
      const m = await this.next(p.id);
      if (m.type !== 'batch') break;
      this.worker.postMessage({ type: 'ack', id: p.id });
    }
  }

  /**
   * Streams a scan's batches; leaving the loop early cancels the scan in the worker. `then` is the scan expected
   * next: it is queued in the thread right behind this one, and served by the next matching `scan` call.
   */
  async *scan(req: ScanRequest, then: ScanRequest | null = null): AsyncGenerator<RowBatch> {
    let id: number;
    if (this.prefetched && this.prefetched.key === scanKey(req)) {
      id = this.prefetched.id;
      this.prefetched = null;
    } else {
      await this.dropPrefetch();
      id = this.post(req);
    }
    if (then) this.prefetched = { key: scanKey(then), id: this.post(then) };
    let ended = false;
    try {
      for (;;) {
        const m = await this.next(id);
        if (m.type === 'end' || m.type === 'closed') {
          ended = true;
          return;
        }
        if (m.type === 'error') {
          ended = true;
          throw new Error(`SQLite reader thread: ${m.message}`);
        }
        this.worker.postMessage({ type: 'ack', id });
        yield m.batch;
        // The consumer asked for the next batch, so it is done with this one: its buffer goes back for reuse.
        const buffer = m.batch.bytes.buffer as ArrayBuffer;
        this.worker.postMessage({ type: 'recycle', id, buffer }, [buffer]);
      }
    } finally {
      if (!ended) {
        this.worker.postMessage({ type: 'cancel', id });
        for (;;) {
          const m = await this.next(id);
          if (m.type !== 'batch') break;
          this.worker.postMessage({ type: 'ack', id });
        }
      }
    }
  }

  async stop(): Promise<void> {
    if (!this.failure) {
      await this.dropPrefetch().catch(() => undefined);
      const id = ++this.nextId;
      this.worker.postMessage({ type: 'close', id });
      await Promise.race([this.next(id), new Promise((resolve) => setTimeout(resolve, 2000).unref())]).catch(
        () => undefined,
      );
    }
    await this.worker.terminate();
  }
}
