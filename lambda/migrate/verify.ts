/** Verification: both sides' row counts and checksums, foreign-key integrity, and index and constraint counts. */

import { checksumDigest, emptyChecksum, RowChecksum } from './checksum';
import { pump } from './pump';
import { plural, type VerifyRow } from './report';
import { type Run, requireClient, type TablePlan } from './run-context';
import {
  catalogCounts,
  foreignKeyViolations,
  introspectTables,
  readRunState,
  type TableState,
  targetChecksum,
} from './target';

/** Per table: counts and checksums on both sides, foreign-key integrity, index and constraint counts. */
export async function verify(run: Run, states: Map<string, TableState>): Promise<void> {
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
