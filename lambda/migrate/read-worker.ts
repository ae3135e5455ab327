/**
 * The SQLite reader thread (see row-batches.ts): opens its own read-only handle on the file and answers scan
 * requests with batches, never more than two ahead of the consumer's acknowledgements.
 */
import fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { BufferPool, packBatches, type RowBatch, type ScanRequest } from './row-batches';
import { SqliteSource } from './sqlite-source';

type Incoming =
  | ({ type: 'scan'; id: number } & ScanRequest)
  | { type: 'ack'; id: number }
  | { type: 'cancel'; id: number }
  | { type: 'close'; id: number }
  | { type: 'recycle'; id: number; buffer: ArrayBuffer };

/**
 * Read-ahead for this thread's page reads: node-sqlite3-wasm's file VFS reads one 4 KiB page per `fs.readSync` call
 * (about 10 µs each here, a third of a second per million rows). A read that continues exactly where the last one
 * ended is served from a 1 MiB chunk read in one call; any other read goes straight to the file. The handle is
 * read-only and holds its read lock for the whole run (sqlite-source.ts), and SQLite caches the pages it read just
 * the same, so the chunk holds nothing SQLite would not already assume unchanged.
 */
function installReadAhead(): void {
  const original = fs.readSync;
  const CHUNK = 1 << 20;
  const chunk = Buffer.allocUnsafe(CHUNK);
  let chunkFd = -1;
  let chunkStart = 0;
  let chunkLen = 0;
  let lastFd = -1;
  let lastEnd = -1;
  const patched = function (this: unknown, ...args: unknown[]): number {
    const [fd, buffer, offset, length, position] = args;
    if (
      args.length !== 5 ||
      typeof fd !== 'number' ||
      !(buffer instanceof Uint8Array) ||
      typeof offset !== 'number' ||
      typeof length !== 'number' ||
      length > CHUNK / 4 ||
      (typeof position !== 'number' && typeof position !== 'bigint')
    ) {
      return (original as (...a: unknown[]) => number).apply(fs, args);
    }
    const pos = Number(position);
    const hit = fd === chunkFd && pos >= chunkStart && pos + length <= chunkStart + chunkLen;
    if (!hit) {
      const sequential = fd === lastFd && pos === lastEnd;
      lastFd = fd;
      lastEnd = pos + length;
      if (!sequential) return original(fd, buffer, offset, length, pos);
      chunkFd = -1;
      chunkLen = original(fd, chunk, 0, CHUNK, pos);
      chunkFd = fd;
      chunkStart = pos;
    }
    lastFd = fd;
    lastEnd = pos + length;
    const n = Math.max(0, Math.min(length, chunkStart + chunkLen - pos));
    buffer.set(chunk.subarray(pos - chunkStart, pos - chunkStart + n), offset);
    return n;
  };
  (fs as { readSync: unknown }).readSync = patched;
}
if (process.env['SFDEPLOY_READ_AHEAD'] !== '0') installReadAhead();

const port = parentPort;
if (!port) throw new Error('read-worker must run as a worker thread');
const source = new SqliteSource((workerData as { sqlitePath: string }).sqlitePath);

const pool = new BufferPool();
const scans: (Incoming & { type: 'scan' })[] = [];
const signals = new Map<number, { acks: number; cancelled: boolean }>();
let wake: (() => void) | null = null;

port.on('message', (m: Incoming) => {
  if (m.type === 'close') {
    // Removes this handle's private lock directory (sqlite-source.ts) before the thread is terminated.
    source.close();
    port.postMessage({ type: 'closed', id: m.id });
    return;
  }
  if (m.type === 'recycle') {
    pool.put(m.buffer);
    return;
  }
  if (m.type === 'scan') {
    scans.push(m);
    signals.set(m.id, { acks: 0, cancelled: false });
  } else {
    const s = signals.get(m.id);
    if (s && m.type === 'ack') s.acks++;
    if (s && m.type === 'cancel') s.cancelled = true;
  }
  wake?.();
});

const waitForMessage = () =>
  new Promise<void>((resolve) => {
    wake = resolve;
  }).then(() => {
    wake = null;
  });

async function serve(): Promise<void> {
  for (;;) {
    const req = scans.shift();
    if (!req) {
      await waitForMessage();
      continue;
    }
    const signal = signals.get(req.id) ?? { acks: 0, cancelled: false };
    try {
      let sent = 0;
      for (const batch of packBatches(source, req, pool)) {
        while (!signal.cancelled && sent - signal.acks >= 2) await waitForMessage();
        if (signal.cancelled) break;
        const out: RowBatch = batch;
        const transfer = [out.bytes.buffer as ArrayBuffer, out.ends.buffer as ArrayBuffer];
        if (out.starts) transfer.push(out.starts.buffer as ArrayBuffer);
        port?.postMessage({ type: 'batch', id: req.id, batch: out }, transfer);
        sent++;
      }
      port?.postMessage({ type: 'end', id: req.id });
    } catch (error) {
      port?.postMessage({ type: 'error', id: req.id, message: (error as Error).message });
    } finally {
      signals.delete(req.id);
    }
  }
}

void serve();
