/**
 * The ceiling leg: what PostgreSQL alone needs for the same result. The rows are exported beforehand (untimed) to
 * COPY text files; the timed part is server-side `COPY FROM '<file>'` into bare tables, then the same keys, indexes,
 * sequence resets, validated foreign keys and ANALYZE that `sfdeploy migrate` adds.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { converterFor, convertLiteral, copyEscape, needsCopyEscape, ValueProblem } from '../../lambda/migrate/convert';
import { createTableSql, quoteIdent, type TargetTable, translateSchema } from '../../lambda/migrate/schema';
import { isTextAt, rowLayout, SqliteSource } from '../../lambda/migrate/sqlite-source';

/** Writes one COPY text file per table into `dir` (readable by the server's OS user). */
export function exportCopyFiles(sqlitePath: string, dir: string): TargetTable[] {
  const source = new SqliteSource(sqlitePath);
  try {
    const schema = source.readSchema();
    SqliteSource.resolveForeignKeys(schema);
    const tables = [...translateSchema(schema, convertLiteral).tables];
    for (const [t, table] of schema.tables.entries()) {
      const target = tables[t] as TargetTable;
      const layout = rowLayout(table);
      const converters = target.columns.map((c) => converterFor(c.type));
      const escapes = target.columns.map((c) => needsCopyEscape(c.type.kind));
      const chunks: string[] = [];
      for (const row of source.rows(table, layout)) {
        const fields = converters.map((convert, i) => {
          const v = convert(row[layout.firstColumn + i] ?? null, isTextAt(row, i));
          if (v instanceof ValueProblem) throw new Error(`bench file has a bad value: ${table.name} ${v.reason}`);
          return v === null ? '\\N' : escapes[i] ? copyEscape(v) : v;
        });
        chunks.push(`${fields.join('\t')}\n`);
      }
      writeFileSync(join(dir, `${table.name}.copy`), chunks.join(''), { mode: 0o644 });
    }
    return tables;
  } finally {
    source.close();
  }
}

/** The timed part: bare tables, server-side COPY, then keys, indexes, sequences, foreign keys, ANALYZE. */
export async function runCeiling(url: string, tables: readonly TargetTable[], dir: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    for (const t of tables) {
      await client.query('BEGIN');
      await client.query(createTableSql(t));
      await client.query(`COPY ${quoteIdent(t.name)} FROM '${join(dir, `${t.name}.copy`)}' WITH (FREEZE)`);
      await client.query('COMMIT');
    }
    for (const t of tables) {
      if (t.primaryKey)
        await client.query(
          `ALTER TABLE ${quoteIdent(t.name)} ADD CONSTRAINT ${quoteIdent(t.primaryKey.name)} ${t.primaryKey.definition}`,
        );
      for (const u of t.uniques)
        await client.query(`ALTER TABLE ${quoteIdent(t.name)} ADD CONSTRAINT ${quoteIdent(u.name)} ${u.definition}`);
      for (const i of t.indexes) await client.query(i.sql);
      for (const c of t.sequenceColumns) {
        await client.query(
          `SELECT setval(pg_get_serial_sequence($1, $2), coalesce((SELECT max(${quoteIdent(c)}) FROM ${quoteIdent(t.name)}), 0) + 1, false)`,
          [quoteIdent(t.name), c],
        );
      }
    }
    for (const t of tables) {
      for (const fk of t.foreignKeys) {
        await client.query(
          `ALTER TABLE ${quoteIdent(t.name)} ADD CONSTRAINT ${quoteIdent(fk.name)} ${fk.definition} NOT VALID`,
        );
        await client.query(`ALTER TABLE ${quoteIdent(t.name)} VALIDATE CONSTRAINT ${quoteIdent(fk.name)}`);
      }
    }
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
}
