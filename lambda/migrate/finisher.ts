/** Keys, indexes, sequences, foreign keys and ANALYZE, queued on a second connection while later tables load. */

import type { Client } from 'pg';
import { orphansOf } from './rejections';
import type { Run, TablePlan } from './run-context';
import { quoteIdent } from './schema';
import {
  addConstraint,
  addForeignKey,
  addKeys,
  createIndex,
  resetSequence,
  savedForeignKeys,
  targetChecksum,
} from './target';

/**
 * Keys, indexes, sequences and foreign keys run on a second connection while the next tables load: PostgreSQL
 * builds them on the other core while this process reads SQLite. Steps run one after another in a queue; each
 * skips what already exists (so a resumed run re-issues them cheaply). A failing step (an orphan key, a duplicate
 * that PostgreSQL's comparison finds) is reported with the rows concerned instead of aborting the run.
 */
export class Finisher {
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
