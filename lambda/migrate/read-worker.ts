/**
 * The SQLite reader thread (see row-batches.ts): opens its own read-only handle on the file and answers scan
 * requests with batches, never more than two ahead of the consumer's acknowledgements.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { packBatches, type RowBatch, type ScanRequest } from './row-batches';
import { SqliteSource } from './sqlite-source';

type Incoming =
  | ({ type: 'scan'; id: number } & ScanRequest)
  | { type: 'ack'; id: number }
  | { type: 'cancel'; id: number }
  | { type: 'close'; id: number };

const port = parentPort;
if (!port) throw new Error('read-worker must run as a worker thread');
const source = new SqliteSource((workerData as { sqlitePath: string }).sqlitePath);

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
      for (const batch of packBatches(source, req)) {
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
