/**
 * The PostgreSQL side: migration state (checkpoints), DDL, COPY, catalog introspection and verification queries.
 * Every statement that changes the target is idempotent or guarded by the state tables, so a run can be repeated
 * or resumed after a crash at any point.
 */
import { Client, type ClientConfig } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { type ChecksumState, checksumFromJson, checksumToJson, pgChecksumSql } from './checksum';
import { COPY_CSV_OPTIONS } from './convert';
import {
  createTableSql,
  kindOfPgType,
  quoteIdent,
  quoteLiteral,
  type SchemaIssue,
  type TargetColumn,
  type TargetConstraint,
  type TargetTable,
} from './schema';

export const STATE_SCHEMA = 'sfdeploy_migrate';

/** The target is in a state this run must not touch (a different source already completed there, say). */
export class TargetStateError extends Error {
  override readonly name = 'TargetStateError';
}

export async function connectTarget(config: ClientConfig): Promise<Client> {
  const client = new Client({ ...config, application_name: 'sfdeploy-migrate' });
  // pg emits 'error' on an idle client whose connection drops (the server shut down, a network failure); with no
  // listener that would crash the process with a stack trace. The next query on it fails with the error anyway.
  client.on('error', () => {});
  await client.connect();
  // Wall-clock values travel as text and are read back as text: pin the session's rendering, not the server's.
  await client.query("SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET client_encoding = 'UTF8'");
  return client;
}

export interface RunState {
  readonly fingerprint: string;
  readonly mode: 'translate' | 'existing';
  readonly status: 'loading' | 'complete';
  readonly expected: Record<string, { indexes: number; constraints: number }>;
}

export interface TableState {
  readonly table: string;
  readonly status: 'partial' | 'loaded';
  readonly rows: number;
  readonly lastKey: string | null;
  readonly checksum: ChecksumState;
  readonly rejectedKeys: string[];
}

export async function ensureStateTables(client: Client): Promise<void> {
  await client.query(`
    CREATE SCHEMA IF NOT EXISTS ${STATE_SCHEMA};
    CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.run (
      id integer PRIMARY KEY CHECK (id = 1),
      fingerprint text NOT NULL,
      mode text NOT NULL,
      status text NOT NULL,
      expected jsonb NOT NULL DEFAULT '{}',
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    );
    CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.table_state (
      table_name text PRIMARY KEY,
      status text NOT NULL,
      rows bigint NOT NULL,
      last_key text,
      checksum jsonb NOT NULL,
      rejected_keys jsonb NOT NULL DEFAULT '[]',
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE IF NOT EXISTS ${STATE_SCHEMA}.saved_fk (
      table_name text NOT NULL,
      name text NOT NULL,
      definition text NOT NULL,
      PRIMARY KEY (table_name, name)
    );`);
}

export async function stateSchemaExists(client: Client): Promise<boolean> {
  const r = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [`${STATE_SCHEMA}.run`]);
  return r.rows[0]?.present === true;
}

export async function readRunState(client: Client): Promise<RunState | null> {
  if (!(await stateSchemaExists(client))) return null;
  const r = await client.query(`SELECT fingerprint, mode, status, expected FROM ${STATE_SCHEMA}.run WHERE id = 1`);
  const row = r.rows[0];
  return row
    ? { fingerprint: row.fingerprint, mode: row.mode, status: row.status, expected: row.expected ?? {} }
    : null;
}

export async function readTableStates(client: Client): Promise<Map<string, TableState>> {
  const out = new Map<string, TableState>();
  if (!(await stateSchemaExists(client))) return out;
  const r = await client.query(
    `SELECT table_name, status, rows::text AS rows, last_key, checksum, rejected_keys FROM ${STATE_SCHEMA}.table_state`,
  );
  for (const row of r.rows) {
    out.set(row.table_name, {
      table: row.table_name,
      status: row.status,
      rows: Number(row.rows),
      lastKey: row.last_key,
      checksum: checksumFromJson(row.checksum),
      rejectedKeys: row.rejected_keys ?? [],
    });
  }
  return out;
}

export async function writeRunState(client: Client, state: RunState): Promise<void> {
  await client.query(
    `INSERT INTO ${STATE_SCHEMA}.run (id, fingerprint, mode, status, expected) VALUES (1, $1, $2, $3, $4)
     ON CONFLICT (id) DO UPDATE SET fingerprint = $1, mode = $2, status = $3, expected = $4,
       finished_at = CASE WHEN $3 = 'complete' THEN now() END`,
    [state.fingerprint, state.mode, state.status, JSON.stringify(state.expected)],
  );
}

export async function writeTableState(client: Client, state: TableState): Promise<void> {
  await client.query(
    `INSERT INTO ${STATE_SCHEMA}.table_state (table_name, status, rows, last_key, checksum, rejected_keys, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, now())
     ON CONFLICT (table_name) DO UPDATE SET status = $2, rows = $3, last_key = $4, checksum = $5,
       rejected_keys = $6, updated_at = now()`,
    [
      state.table,
      state.status,
      state.rows,
      state.lastKey,
      JSON.stringify(checksumToJson(state.checksum)),
      JSON.stringify(state.rejectedKeys),
    ],
  );
}

export async function clearState(client: Client): Promise<void> {
  await client.query(`DELETE FROM ${STATE_SCHEMA}.table_state; DELETE FROM ${STATE_SCHEMA}.run;`);
}

export async function existingTables(client: Client, names: readonly string[]): Promise<Set<string>> {
  const r = await client.query(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname = ANY($1)`,
    [names],
  );
  return new Set(r.rows.map((row) => row.relname as string));
}

export async function createTables(client: Client, tables: readonly TargetTable[]): Promise<void> {
  if (tables.length > 0) await client.query(tables.map((t) => createTableSql(t)).join(';\n'));
}

export async function dropTables(client: Client, names: readonly string[]): Promise<void> {
  for (const name of names) await client.query(`DROP TABLE IF EXISTS ${quoteIdent(name)} CASCADE`);
}

/**
 * Describes tables the app created, for `--schema existing`: column types mapped to converter kinds, sequences to
 * reset, and what the app already has in place (counted for verification).
 */
export async function introspectTables(
  client: Client,
  names: readonly string[],
): Promise<{ tables: Map<string, TargetTable>; issues: SchemaIssue[] }> {
  const issues: SchemaIssue[] = [];
  const tables = new Map<string, TargetTable>();
  const cols = await client.query(
    `SELECT c.relname AS table_name, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            a.attnotnull AS not_null, a.atthasdef AS has_default, a.attidentity <> '' AS identity,
            pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL AS has_sequence
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attgenerated = ''
     ORDER BY c.relname, a.attnum`,
    [names],
  );
  const byTable = new Map<string, (TargetColumn & { hasDefault: boolean; hasSequence: boolean })[]>();
  for (const row of cols.rows) {
    const type = kindOfPgType(row.type);
    if (!type) {
      issues.push({
        table: row.table_name,
        column: row.name,
        severity: 'error',
        message: `target type ${row.type} is not supported by the converter`,
      });
      continue;
    }
    const list = byTable.get(row.table_name) ?? [];
    list.push({
      name: row.name,
      type,
      notNull: row.not_null,
      defaultSql: null,
      identity: row.identity,
      hasDefault: row.has_default || row.identity,
      hasSequence: row.has_sequence,
    });
    byTable.set(row.table_name, list);
  }
  for (const [name, columns] of byTable) {
    tables.set(name, {
      name,
      columns: columns.map(({ hasDefault: _d, hasSequence: _s, ...c }) => ({
        ...c,
        defaultSql: _d ? 'DEFAULT' : null,
      })),
      primaryKey: null,
      uniques: [],
      indexes: [],
      foreignKeys: [],
      sequenceColumns: columns.filter((c) => c.hasSequence).map((c) => c.name),
    });
  }
  return { tables, issues };
}

/** Index and key-constraint counts per table as the catalog has them now. */
export async function catalogCounts(
  client: Client,
  names: readonly string[],
): Promise<Record<string, { indexes: number; constraints: number }>> {
  const r = await client.query(
    `SELECT c.relname AS name,
       (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.oid)::int AS indexes,
       (SELECT count(*) FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype IN ('p', 'u', 'f'))::int AS constraints
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relname = ANY($1) AND c.relkind IN ('r', 'p')`,
    [names],
  );
  return Object.fromEntries(r.rows.map((row) => [row.name, { indexes: row.indexes, constraints: row.constraints }]));
}

/** Foreign keys that involve the given tables (as child or parent), with their definitions. */
export async function foreignKeysOf(
  client: Client,
  names: readonly string[],
): Promise<{ table: string; name: string; definition: string }[]> {
  const r = await client.query(
    `SELECT c.relname AS table_name, k.conname AS name, pg_get_constraintdef(k.oid) AS definition
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE k.contype = 'f' AND n.nspname = current_schema() AND (c.relname = ANY($1) OR p.relname = ANY($1))
     ORDER BY c.relname, k.conname`,
    [names],
  );
  return r.rows.map((row) => ({ table: row.table_name, name: row.name, definition: row.definition }));
}

/** `--schema existing`: foreign keys are set aside (remembered in the state schema) for the load and restored after. */
export async function saveAndDropForeignKeys(client: Client, names: readonly string[]): Promise<void> {
  for (const fk of await foreignKeysOf(client, names)) {
    await client.query(
      `INSERT INTO ${STATE_SCHEMA}.saved_fk (table_name, name, definition) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [fk.table, fk.name, fk.definition],
    );
    await client.query(`ALTER TABLE ${quoteIdent(fk.table)} DROP CONSTRAINT ${quoteIdent(fk.name)}`);
  }
}

export async function savedForeignKeys(client: Client): Promise<{ table: string; constraint: TargetConstraint }[]> {
  const r = await client.query(`SELECT table_name, name, definition FROM ${STATE_SCHEMA}.saved_fk ORDER BY 1, 2`);
  return r.rows.map((row) => ({
    table: row.table_name as string,
    constraint: { name: row.name as string, kind: 'f' as const, definition: row.definition as string },
  }));
}

/** The number of rows in each of `tables` that has any (one round trip; tables must exist). */
export async function tableRowCounts(client: Client, tables: readonly string[]): Promise<Map<string, number>> {
  if (tables.length === 0) return new Map();
  const sql = tables.map((t, i) => `SELECT ${i} AS i, count(*)::bigint AS n FROM ${quoteIdent(t)}`).join(' UNION ALL ');
  const r = await client.query<{ i: number; n: string }>(sql);
  const out = new Map<string, number>();
  for (const row of r.rows) if (Number(row.n) > 0) out.set(tables[row.i] as string, Number(row.n));
  return out;
}

/** Empties tables in one statement (inside the caller's transaction); fails rather than CASCADE to other tables. */
export async function truncateTables(client: Client, tables: readonly string[]): Promise<void> {
  if (tables.length > 0) await client.query(`TRUNCATE ${tables.map(quoteIdent).join(', ')}`);
}

async function constraintExists(client: Client, table: string, name: string): Promise<{ validated: boolean } | null> {
  const r = await client.query(
    `SELECT k.convalidated FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relname = $1 AND k.conname = $2`,
    [table, name],
  );
  return r.rows[0] ? { validated: r.rows[0].convalidated } : null;
}

async function indexExists(client: Client, name: string): Promise<boolean> {
  const r = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = current_schema() AND c.relname = $1 AND c.relkind = 'i'`,
    [name],
  );
  return r.rowCount === 1;
}

/** Adds a key constraint or index unless it is already there (so finalising can be resumed). */
export async function addConstraint(client: Client, table: string, c: TargetConstraint): Promise<void> {
  if (await constraintExists(client, table, c.name)) return;
  await client.query(`ALTER TABLE ${quoteIdent(table)} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.definition}`);
}

export async function createIndex(client: Client, name: string, sql: string): Promise<void> {
  if (await indexExists(client, name)) return;
  await client.query(sql);
}

/** PL/pgSQL that adds a constraint unless the table already has one of that name. */
function addConstraintUnlessExists(table: string, c: TargetConstraint, suffix = ''): string {
  return (
    `IF NOT EXISTS (SELECT 1 FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid ` +
    `JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() ` +
    `AND c.relname = ${quoteLiteral(table)} AND k.conname = ${quoteLiteral(c.name)}) THEN ` +
    `ALTER TABLE ${quoteIdent(table)} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.definition}${suffix}; END IF;`
  );
}

/** Wraps PL/pgSQL in a DO block; null when the text could end the dollar quote (then go step by step). */
function doBlock(body: string): string | null {
  const tag = '$sfdeploy$';
  return body.includes(tag) ? null : `DO ${tag} BEGIN ${body} END ${tag}`;
}

/**
 * A loaded table's primary key, unique constraints, indexes, sequences and (with `analyze`) statistics, in one round
 * trip and one transaction; each part skips what already exists, so a resumed run re-issues it cheaply. Dozens of
 * small tables each cost several round trips and commits otherwise. Returns false, having done nothing, when the
 * statement cannot be built safely; if it fails, none of it stays: the caller then goes part by part (addConstraint,
 * createIndex, resetSequence), which names the part that fails and keeps the others.
 */
export async function addKeys(client: Client, table: TargetTable, analyze: boolean): Promise<boolean> {
  const constraints = [...(table.primaryKey ? [table.primaryKey] : []), ...table.uniques];
  const block = doBlock(constraints.map((c) => addConstraintUnlessExists(table.name, c)).join(' '));
  const indexes = table.indexes.map((i) => i.sql.replace(/^CREATE (UNIQUE )?INDEX /, 'CREATE $1INDEX IF NOT EXISTS '));
  if (block === null || indexes.some((sql) => !sql.includes(' IF NOT EXISTS '))) return false;
  const statements = [
    ...(constraints.length > 0 ? [block] : []),
    ...indexes,
    ...table.sequenceColumns.map((col) => resetSequenceSql(table.name, col)),
    ...(analyze ? [`ANALYZE ${quoteIdent(table.name)}`] : []),
  ];
  if (statements.length > 0) await client.query(statements.join(';\n'));
  return true;
}

/**
 * Adds a foreign key without checking it (a cheap catalog change) and then validates it, which checks every row
 * under a lighter lock; a failure leaves it NOT VALID, which verification reports. Validating a valid one is a no-op.
 */
export async function addForeignKey(client: Client, table: string, c: TargetConstraint): Promise<void> {
  const block = doBlock(addConstraintUnlessExists(table, c, ' NOT VALID'));
  if (block !== null) await client.query(block);
  else if (!(await constraintExists(client, table, c.name))) {
    await client.query(
      `ALTER TABLE ${quoteIdent(table)} ADD CONSTRAINT ${quoteIdent(c.name)} ${c.definition} NOT VALID`,
    );
  }
  await client.query(`ALTER TABLE ${quoteIdent(table)} VALIDATE CONSTRAINT ${quoteIdent(c.name)}`);
}

/** Sets a column's sequence past the highest value present (or back to 1 for an empty table). */
export async function resetSequence(client: Client, table: string, column: string): Promise<void> {
  await client.query(resetSequenceSql(table, column));
}

/**
 * `setval(seq, max, true)` (the next value is max + 1) rather than `setval(seq, max + 1, false)`: the latter
 * overflows when the highest key is already the type's maximum (2147483647 in an integer column), and both are
 * outside the sequence's bounds when every key is below 1 — then the sequence starts at 1.
 * https://www.postgresql.org/docs/17/functions-sequence.html
 */
function resetSequenceSql(table: string, column: string): string {
  return (
    `SELECT setval(s, greatest(m, 1), m >= 1) FROM (SELECT ` +
    `pg_get_serial_sequence(${quoteLiteral(quoteIdent(table))}, ${quoteLiteral(column)}) AS s, ` +
    `coalesce((SELECT max(${quoteIdent(column)}) FROM ${quoteIdent(table)}), 0) AS m) AS highest`
  );
}

/** Opens `COPY table (columns) FROM STDIN`; FREEZE when the table was truncated in this transaction. */
export function copyStream(client: Client, table: string, columns: readonly string[], freeze: boolean) {
  const options = `${COPY_CSV_OPTIONS}${freeze ? ', FREEZE' : ''}`;
  const sql = `COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) FROM STDIN WITH (${options})`;
  return client.query(copyFrom(sql, { highWaterMark: 1 << 20 }));
}

export async function targetChecksum(
  client: Client,
  table: TargetTable,
): Promise<{ rows: number; state: ChecksumState }> {
  const sql = pgChecksumSql(
    table.name,
    table.columns.map((c) => ({ name: c.name, kind: c.type.kind })),
  );
  const r = await client.query(sql);
  const row = r.rows[0];
  const state = { rows: Number(row.rows), sumHigh: BigInt(row.high), sumLow: BigInt(row.low) };
  return { rows: state.rows, state };
}

/** Foreign-key violations per table: each constraint left NOT VALID, plus the rows it would reject. */
export async function foreignKeyViolations(client: Client, table: string): Promise<number> {
  const r = await client.query(
    `SELECT k.conname, k.convalidated, p.relname AS parent,
       (SELECT array_agg(a.attname::text ORDER BY x.ord) FROM unnest(k.conkey) WITH ORDINALITY x(n, ord)
          JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.n) AS cols,
       (SELECT array_agg(a.attname::text ORDER BY x.ord) FROM unnest(k.confkey) WITH ORDINALITY x(n, ord)
          JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = x.n) AS refcols
     FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
     JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE k.contype = 'f' AND n.nspname = current_schema() AND c.relname = $1`,
    [table],
  );
  let violations = 0;
  for (const fk of r.rows) {
    // A validated constraint is PostgreSQL's proof that every row has its parent; only others are checked by hand.
    if (fk.convalidated) continue;
    violations++;
    const cols = fk.cols as string[];
    const refs = fk.refcols as string[];
    const notNull = cols.map((c) => `c.${quoteIdent(c)} IS NOT NULL`).join(' AND ');
    const join = cols.map((c, i) => `p.${quoteIdent(refs[i] ?? '')} = c.${quoteIdent(c)}`).join(' AND ');
    const q = await client.query(
      `SELECT count(*)::int AS n FROM ${quoteIdent(table)} c WHERE ${notNull}
       AND NOT EXISTS (SELECT 1 FROM ${quoteIdent(fk.parent)} p WHERE ${join})`,
    );
    violations += q.rows[0]?.n ?? 0;
  }
  return violations;
}

/** Redacts the password from a connection string for reports and messages. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable connection string)';
  }
}

export { quoteLiteral };
