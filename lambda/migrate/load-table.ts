/**
 * Loading one table: TRUNCATE + COPY + its checkpoint row in one transaction, or rowid-ordered segments each
 * committed with a checkpoint that says "partial, up to rowid N"; and the read-ahead of the next table.
 */

import { emptyChecksum, RowChecksum } from './checksum';
import { CopyWriter, pump } from './pump';
import type { TableReport } from './report';
import type { ScanRequest } from './row-batches';
import { type Run, requireClient, type TablePlan } from './run-context';
import { quoteIdent } from './schema';
import { copyStream, type TableState, writeTableState } from './target';

/**
 * The fast-path scan of the next table this run will load, so the reader thread reads ahead while the current
 * table's COPY drains and commits. Reading is all it does: nothing is written until that table's own turn.
 */
export function nextScan(
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

export interface LoadOutcome {
  status: TableReport['status'];
  loadedRows: number;
  rejected: number;
}

export async function scanOnly(run: Run, planned: TablePlan): Promise<LoadOutcome> {
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
export async function loadTable(
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
