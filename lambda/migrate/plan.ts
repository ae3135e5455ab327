/**
 * Planning: which target table and columns each source table goes to, in which copy order, with which converters
 * and fast-path query; the tables' load order; and the fingerprint that ties a target's progress to one source.
 */

import { createHash } from 'node:crypto';
import { converterFor, convertLiteral, needsCopyEscape } from './convert';
import { type RenderSpec, renderColumn } from './fast-render';
import { copyOrder, fastSelect, isSimple, isTemporal } from './fastpath';
import { type Run, requireClient } from './run-context';
import {
  affinity,
  dependencyOrder,
  type SchemaIssue,
  type SourceSchema,
  type SourceTable,
  type TargetColumn,
  type TargetTable,
  translateSchema,
} from './schema';
import { quoteSqliteIdent, rowLayout, type SqliteSource } from './sqlite-source';
import { introspectTables } from './target';

/** Identifies the source content: size, SQLite's change counter, the schema text and every table's row count. */
export function fingerprint(source: SqliteSource, schema: SourceSchema, counts: Map<string, number>): string {
  const h = createHash('sha256');
  h.update(`${source.sizeBytes}:${source.changeCounter}\n`);
  for (const t of schema.tables) h.update(`${t.name}:${counts.get(t.name)}:${t.sql}\n`);
  return h.digest('hex');
}

export async function plan(run: Run, counts: Map<string, number>): Promise<void> {
  const { schema, report, options } = run;
  let targets: Map<string, TargetTable>;
  const issues: SchemaIssue[] = [];
  const needsIntrospection = options.schemaMode === 'existing' || options.action === 'verify-only';
  const translated = translateSchema(schema, convertLiteral);
  if (options.schemaMode === 'translate') issues.push(...translated.issues);
  run.expected = Object.fromEntries(
    translated.tables.map((t) => [
      t.name,
      {
        indexes: (t.primaryKey ? 1 : 0) + t.uniques.length + t.indexes.length,
        constraints: (t.primaryKey ? 1 : 0) + t.uniques.length + t.foreignKeys.length,
      },
    ]),
  );
  if (needsIntrospection) {
    const client = requireClient(run);
    const names = schema.tables.map((t) => t.name);
    const found = await introspectTables(client, names);
    issues.push(...found.issues);
    targets = new Map();
    for (const table of schema.tables) {
      const target = found.tables.get(table.name);
      if (!target) {
        issues.push({ table: table.name, column: null, severity: 'error', message: 'table missing in the target' });
        continue;
      }
      const targetCols = new Map(target.columns.map((c) => [c.name, c]));
      const columns = [];
      for (const c of table.columns) {
        const tc = targetCols.get(c.name);
        if (!tc) {
          issues.push({
            table: table.name,
            column: c.name,
            severity: 'error',
            message: 'column missing in the target',
          });
          continue;
        }
        columns.push(tc);
        targetCols.delete(c.name);
      }
      for (const extra of targetCols.values()) {
        if (extra.notNull && extra.defaultSql === null) {
          issues.push({
            table: table.name,
            column: extra.name,
            severity: 'error',
            message: 'target column is NOT NULL without a default and has no source column',
          });
        } else {
          issues.push({
            table: table.name,
            column: extra.name,
            severity: 'note',
            message: 'target column has no source column; it gets its default',
          });
        }
      }
      targets.set(table.name, { ...target, columns });
    }
  } else {
    targets = new Map(translated.tables.map((t) => [t.name, t]));
  }
  report.schemaIssues.push(...issues);
  for (const table of schema.tables) {
    const target = targets.get(table.name);
    if (!target) continue;
    const columns = copyOrder(target.columns.map((c) => c.type)).map((i) => target.columns[i] as TargetColumn);
    const sourceIndex = columns.map((c) => table.columns.findIndex((s) => s.name === c.name));
    const simple = columns.filter((c) => isSimple(c.type));
    const complex = columns.filter((c) => !isSimple(c.type));
    const named = (c: TargetColumn) => {
      const declared = table.columns.find((x) => x.name === c.name)?.declaredType ?? '';
      return {
        col: quoteSqliteIdent(c.name),
        type: c.type,
        facts: { affinity: affinity(declared), rowidAlias: table.rowidAlias === c.name },
      };
    };
    run.plans.set(table.name, {
      source: table,
      target,
      columns,
      sourceIndex,
      converters: columns.map((c) => converterFor(c.type)),
      kinds: columns.map((c) => c.type.kind),
      escape: columns.map((c) => needsCopyEscape(c.type.kind)),
      layout: rowLayout(table),
      totalRows: counts.get(table.name) ?? 0,
      fast:
        table.withoutRowid || complex.length > 30
          ? null
          : {
              select: fastSelect(simple.map(named), complex.map(named)),
              render: table.generatedColumns.length > 0 ? null : renderSpecOf(table, simple, complex),
              simpleCount: simple.length,
              temporal: simple.filter((c) => isTemporal(c.type)).map((c) => c.type.kind === 'timestamp'),
            },
    });
  }
  const { order, cycles } = dependencyOrder(
    schema.tables.map((t) => ({ name: t.name, refs: t.foreignKeys.map((fk) => fk.refTable) })),
  );
  run.order = order.filter((name) => run.plans.has(name));
  if (cycles.length > 0) {
    report.notes.push(`Foreign-key cycle broken at ${cycles.join(', ')}: keys are added after the load anyway.`);
  }
}

/** The fast path's columns as the record renderer sees them (fast-render.ts). */
function renderSpecOf(
  table: SourceTable,
  simple: readonly TargetColumn[],
  complex: readonly TargetColumn[],
): RenderSpec {
  const column = (c: TargetColumn) => {
    const field = table.columns.findIndex((s) => s.name === c.name);
    const source = table.columns[field];
    const integerKey =
      table.primaryKey.length === 1 &&
      table.primaryKey[0] === c.name &&
      source?.declaredType.toUpperCase() === 'INTEGER';
    return renderColumn(field, c.type, table.rowidAlias === c.name ? 'alias' : integerKey ? 'maybe' : 'no');
  };
  return { fields: table.columns.length, simple: simple.map(column), complex: complex.map(column) };
}
