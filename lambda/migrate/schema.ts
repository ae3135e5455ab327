/**
 * Schema translation, pure: SQLite declared types and constraints → PostgreSQL 17 DDL with the names, order and
 * semantics a Flask-SQLAlchemy app relies on, plus the dependency order for loading.
 */

export interface SourceColumn {
  readonly name: string;
  readonly declaredType: string;
  readonly notNull: boolean;
  /** The default as SQL text, exactly as PRAGMA table_info returns it. */
  readonly defaultSql: string | null;
  /** 1-based position in the primary key; 0 when not part of it. */
  readonly pkOrdinal: number;
  /** PRAGMA table_xinfo's `hidden`: 0 for ordinary columns. */
  readonly hidden: number;
}

export interface SourceForeignKey {
  name: string | null;
  readonly columns: string[];
  readonly refTable: string;
  refColumns: string[];
  readonly onUpdate: string;
  readonly onDelete: string;
}

export interface SourceIndex {
  readonly name: string;
  readonly unique: boolean;
  /** 'c' CREATE INDEX, 'u' UNIQUE constraint, 'pk' PRIMARY KEY. */
  readonly origin: 'c' | 'u' | 'pk';
  readonly columns: readonly { readonly name: string; readonly desc: boolean }[];
  readonly expression: boolean;
  readonly partial: boolean;
  readonly sql: string;
  constraintName: string | null;
}

export interface SourceTable {
  readonly name: string;
  readonly sql: string;
  readonly columns: readonly SourceColumn[];
  readonly generatedColumns: readonly string[];
  readonly primaryKey: readonly string[];
  readonly primaryKeyName: string | null;
  /** The INTEGER PRIMARY KEY column that aliases the rowid, if any. */
  readonly rowidAlias: string | null;
  readonly withoutRowid: boolean;
  readonly foreignKeys: readonly SourceForeignKey[];
  readonly indexes: readonly SourceIndex[];
  readonly checks: readonly string[];
}

export interface SourceSchema {
  readonly tables: readonly SourceTable[];
}

/** The PostgreSQL type families the converter knows how to produce exactly. */
export type Kind =
  | 'int2'
  | 'int4'
  | 'int8'
  | 'bool'
  | 'float4'
  | 'float8'
  | 'numeric'
  | 'text'
  | 'timestamp'
  | 'timestamptz'
  | 'date'
  | 'time'
  | 'json'
  | 'jsonb'
  | 'bytea'
  | 'uuid';

export interface TargetType {
  readonly kind: Kind;
  /** The SQL type name as written in DDL, e.g. `character varying(120)`. */
  readonly sql: string;
  /** Maximum length in characters for varchar(n)/char(n). */
  readonly maxLength?: number;
  /** numeric(p,s) precision and scale. */
  readonly precision?: number;
  readonly scale?: number;
}

export interface TargetColumn {
  readonly name: string;
  readonly type: TargetType;
  readonly notNull: boolean;
  /** PostgreSQL default expression, already translated. */
  readonly defaultSql: string | null;
  readonly identity: boolean;
}

export interface TargetIndex {
  readonly name: string;
  readonly sql: string;
}

export interface TargetConstraint {
  readonly name: string;
  readonly kind: 'p' | 'u' | 'f';
  /** The ALTER TABLE … ADD CONSTRAINT clause after the name, e.g. `UNIQUE ("email")`. */
  readonly definition: string;
}

export interface TargetTable {
  readonly name: string;
  readonly columns: readonly TargetColumn[];
  readonly primaryKey: TargetConstraint | null;
  readonly uniques: readonly TargetConstraint[];
  readonly indexes: readonly TargetIndex[];
  readonly foreignKeys: readonly TargetConstraint[];
  /** Columns whose sequence must be set past the highest value after the load. */
  readonly sequenceColumns: readonly string[];
}

export interface SchemaIssue {
  readonly table: string;
  readonly column: string | null;
  readonly message: string;
  /** An error stops the migration; a note is reported only. */
  readonly severity: 'error' | 'note';
}

export interface TranslatedSchema {
  readonly tables: readonly TargetTable[];
  readonly issues: readonly SchemaIssue[];
}

export const PG_MAX_IDENTIFIER = 63;

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** SQLite's column affinity rules (https://sqlite.org/datatype3.html §3.1), in their order of precedence. */
export function affinity(declaredType: string): 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC' {
  const t = declaredType.toUpperCase();
  if (t.includes('INT')) return 'INTEGER';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'TEXT';
  if (t.includes('BLOB') || t === '') return 'BLOB';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'REAL';
  return 'NUMERIC';
}

/**
 * Maps a declared SQLite type to the PostgreSQL type the app expects (what SQLAlchemy would create on PostgreSQL).
 * Returns a note when the mapping is a judgement call.
 */
export function mapDeclaredType(declaredType: string): { type: TargetType; note?: string } {
  const raw = declaredType.trim();
  const t = raw.toUpperCase().replace(/\s+/g, ' ');
  const args = /\(\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?\)/.exec(t);
  const base = t.replace(/\(.*$/, '').trim();
  const n1 = args?.[1] === undefined ? undefined : Number(args[1]);
  const n2 = args?.[2] === undefined ? undefined : Number(args[2]);
  switch (base) {
    case 'INTEGER':
    case 'INT':
    case 'INT4':
    case 'MEDIUMINT':
      return { type: { kind: 'int4', sql: 'integer' } };
    case 'BIGINT':
    case 'INT8':
    case 'BIGINTEGER':
    case 'UNSIGNED BIG INT':
      return { type: { kind: 'int8', sql: 'bigint' } };
    case 'SMALLINT':
    case 'INT2':
    case 'TINYINT':
      return { type: { kind: 'int2', sql: 'smallint' } };
    case 'BOOLEAN':
    case 'BOOL':
      return { type: { kind: 'bool', sql: 'boolean' } };
    case 'DATETIME':
    case 'TIMESTAMP':
    case 'TIMESTAMP WITHOUT TIME ZONE':
      return { type: { kind: 'timestamp', sql: 'timestamp(6) without time zone' } };
    case 'TIMESTAMP WITH TIME ZONE':
    case 'TIMESTAMPTZ':
      return { type: { kind: 'timestamptz', sql: 'timestamp(6) with time zone' } };
    case 'DATE':
      return { type: { kind: 'date', sql: 'date' } };
    case 'TIME':
      return { type: { kind: 'time', sql: 'time(6) without time zone' } };
    case 'FLOAT':
    case 'REAL':
    case 'DOUBLE':
    case 'DOUBLE PRECISION':
    case 'FLOAT8':
      return { type: { kind: 'float8', sql: 'double precision' } };
    case 'NUMERIC':
    case 'DECIMAL':
      if (n1 !== undefined) {
        const scale = n2 ?? 0;
        return {
          type: { kind: 'numeric', sql: `numeric(${n1},${scale})`, precision: n1, scale },
        };
      }
      return { type: { kind: 'numeric', sql: 'numeric' } };
    case 'VARCHAR':
    case 'NVARCHAR':
    case 'CHARACTER VARYING':
    case 'VARYING CHARACTER':
    case 'NATIVE CHARACTER':
    case 'STRING':
      return n1 === undefined
        ? { type: { kind: 'text', sql: 'character varying' } }
        : { type: { kind: 'text', sql: `character varying(${n1})`, maxLength: n1 } };
    case 'CHAR':
    case 'NCHAR':
    case 'CHARACTER':
      // PostgreSQL's char(n) pads with blanks, which would change every shorter value the app reads back.
      return n1 === undefined
        ? { type: { kind: 'text', sql: 'character varying(1)', maxLength: 1 }, note: 'CHAR → varchar(1)' }
        : {
            type: { kind: 'text', sql: `character varying(${n1})`, maxLength: n1 },
            note: `${raw} → varchar(${n1}) (char(n) would blank-pad values)`,
          };
    case 'TEXT':
    case 'CLOB':
      return { type: { kind: 'text', sql: 'text' } };
    case 'JSON':
      return { type: { kind: 'json', sql: 'json' } };
    case 'JSONB':
      return { type: { kind: 'jsonb', sql: 'jsonb' } };
    case 'BLOB':
    case 'BYTEA':
    case 'VARBINARY':
    case 'BINARY':
    case 'LARGEBINARY':
      return { type: { kind: 'bytea', sql: 'bytea' } };
    case 'UUID':
      return { type: { kind: 'uuid', sql: 'uuid' } };
    case '':
      return { type: { kind: 'text', sql: 'text' }, note: 'no declared type → text' };
  }
  // Unknown names follow SQLite's own affinity rules.
  const fallback: Record<ReturnType<typeof affinity>, TargetType> = {
    INTEGER: { kind: 'int8', sql: 'bigint' },
    TEXT: { kind: 'text', sql: 'text' },
    BLOB: { kind: 'bytea', sql: 'bytea' },
    REAL: { kind: 'float8', sql: 'double precision' },
    NUMERIC: { kind: 'numeric', sql: 'numeric' },
  };
  const type = fallback[affinity(raw)];
  return { type, note: `unknown type ${raw} → ${type.sql} (by SQLite affinity)` };
}

/**
 * Maps a PostgreSQL column type (`format_type` output) to a Kind, for `--schema existing` and verification.
 * Returns null for types the converter cannot produce exactly.
 */
export function kindOfPgType(formatted: string): TargetType | null {
  const t = formatted.toLowerCase();
  const args = /\((\d+)(?:,(\d+))?\)/.exec(t);
  const base = t.replace(/\(.*?\)/, '').trim();
  const n1 = args?.[1] === undefined ? undefined : Number(args[1]);
  const n2 = args?.[2] === undefined ? undefined : Number(args[2]);
  switch (base) {
    case 'smallint':
      return { kind: 'int2', sql: formatted };
    case 'integer':
      return { kind: 'int4', sql: formatted };
    case 'bigint':
      return { kind: 'int8', sql: formatted };
    case 'boolean':
      return { kind: 'bool', sql: formatted };
    case 'real':
      return { kind: 'float4', sql: formatted };
    case 'double precision':
      return { kind: 'float8', sql: formatted };
    case 'numeric':
      return n1 === undefined
        ? { kind: 'numeric', sql: formatted }
        : { kind: 'numeric', sql: formatted, precision: n1, scale: n2 ?? 0 };
    case 'text':
      return { kind: 'text', sql: formatted };
    case 'character varying':
      return n1 === undefined ? { kind: 'text', sql: formatted } : { kind: 'text', sql: formatted, maxLength: n1 };
    case 'timestamp without time zone':
      return { kind: 'timestamp', sql: formatted, ...(n1 === undefined ? {} : { precision: n1 }) };
    case 'timestamp with time zone':
      return { kind: 'timestamptz', sql: formatted, ...(n1 === undefined ? {} : { precision: n1 }) };
    case 'date':
      return { kind: 'date', sql: formatted };
    case 'time without time zone':
      return { kind: 'time', sql: formatted, ...(n1 === undefined ? {} : { precision: n1 }) };
    case 'json':
      return { kind: 'json', sql: formatted };
    case 'jsonb':
      return { kind: 'jsonb', sql: formatted };
    case 'bytea':
      return { kind: 'bytea', sql: formatted };
    case 'uuid':
      return { kind: 'uuid', sql: formatted };
    default:
      return null;
  }
}

const SQL_KEYWORD_DEFAULTS: Record<string, Partial<Record<Kind, string>>> = {
  CURRENT_TIMESTAMP: {
    // SQLite's CURRENT_TIMESTAMP is UTC; PostgreSQL's, cast to a naive timestamp, would be the server's local time.
    timestamp: "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')",
    timestamptz: 'CURRENT_TIMESTAMP',
    text: "to_char(CURRENT_TIMESTAMP AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')",
  },
  CURRENT_DATE: {
    date: "((CURRENT_TIMESTAMP AT TIME ZONE 'UTC')::date)",
    timestamp: "((CURRENT_TIMESTAMP AT TIME ZONE 'UTC')::date::timestamp)",
  },
  CURRENT_TIME: { time: "((CURRENT_TIMESTAMP AT TIME ZONE 'UTC')::time(0))" },
};

/**
 * Translates a SQLite column default into a PostgreSQL default for a column of `kind`.
 * `validate` checks a literal with the same converter the rows go through (so a default can't be silently bent).
 */
export function translateDefault(
  defaultSql: string | null,
  kind: Kind,
  validate: (literal: string) => string | null,
): { sql: string | null; error?: string } {
  if (defaultSql === null) return { sql: null };
  let expr = defaultSql.trim();
  while (/^\(.*\)$/s.test(expr) && balanced(expr.slice(1, -1))) expr = expr.slice(1, -1).trim();
  const upper = expr.toUpperCase();
  if (upper === 'NULL') return { sql: null };
  if (/^datetime\s*\(\s*'now'\s*\)$/i.test(expr) || upper === 'CURRENT_TIMESTAMP') {
    const pg = SQL_KEYWORD_DEFAULTS['CURRENT_TIMESTAMP']?.[kind];
    return pg ? { sql: pg } : { sql: null, error: `default ${defaultSql} does not fit a ${kind} column` };
  }
  if (/^date\s*\(\s*'now'\s*\)$/i.test(expr) || upper === 'CURRENT_DATE' || upper === 'CURRENT_TIME') {
    const key = upper === 'CURRENT_TIME' ? 'CURRENT_TIME' : 'CURRENT_DATE';
    const pg = SQL_KEYWORD_DEFAULTS[key]?.[kind];
    return pg ? { sql: pg } : { sql: null, error: `default ${defaultSql} does not fit a ${kind} column` };
  }
  if (upper === 'TRUE' || upper === 'FALSE') {
    if (kind === 'bool') return { sql: upper.toLowerCase() };
    if (kind === 'int2' || kind === 'int4' || kind === 'int8') return { sql: upper === 'TRUE' ? '1' : '0' };
    return { sql: null, error: `default ${defaultSql} does not fit a ${kind} column` };
  }
  const numberLiteral = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(expr);
  const stringLiteral = /^'(?:[^']|'')*'$/s.test(expr);
  const blobLiteral = /^[xX]'([0-9a-fA-F]{2})*'$/.test(expr);
  let literal: string;
  if (numberLiteral) literal = expr.replace(/^\+/, '');
  else if (stringLiteral) literal = expr.slice(1, -1).replace(/''/g, "'");
  else if (blobLiteral && kind === 'bytea') return { sql: `'\\x${expr.slice(2, -1).toLowerCase()}'::bytea` };
  else return { sql: null, error: `default ${defaultSql} is an expression that has no PostgreSQL translation` };
  if (kind === 'bool' && numberLiteral) {
    if (Number(literal) === 0) return { sql: 'false' };
    if (Number(literal) === 1) return { sql: 'true' };
  }
  const converted = validate(literal);
  if (converted === null) return { sql: null, error: `default ${defaultSql} is not a valid ${kind} value` };
  if (kind === 'bool') return { sql: converted === 't' ? 'true' : 'false' };
  const isNumeric = ['int2', 'int4', 'int8', 'float4', 'float8', 'numeric'].includes(kind);
  return { sql: isNumeric && /^-?[\d.]+$/.test(converted) ? converted : quoteLiteral(converted) };
}

function balanced(s: string): boolean {
  let depth = 0;
  for (const ch of s) {
    if (ch === '(') depth++;
    else if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

/** PostgreSQL's default constraint naming: `<table>_<cols>_<suffix>`, truncated the way PostgreSQL truncates. */
export function defaultConstraintName(table: string, columns: readonly string[], suffix: string): string {
  let name = [table, ...columns, suffix].join('_');
  while (Buffer.byteLength(name) > PG_MAX_IDENTIFIER) {
    // PostgreSQL shortens the table and column parts, keeping the suffix; a plain cut keeps names unique enough here.
    name = `${name.slice(0, name.length - suffix.length - 2)}_${suffix}`;
  }
  return name;
}

/**
 * Orders tables so that every table comes after the tables it references. Self-references are ignored; a cycle is
 * broken at the table that comes first in the source and reported. Ties keep the source order.
 */
export function dependencyOrder(tables: readonly { name: string; refs: readonly string[] }[]): {
  order: string[];
  cycles: string[];
} {
  const names = new Set(tables.map((t) => t.name));
  const pending = new Map(
    tables.map((t) => [t.name, new Set(t.refs.filter((r) => r !== t.name && names.has(r)))] as const),
  );
  const order: string[] = [];
  const cycles: string[] = [];
  while (pending.size > 0) {
    const ready = [...pending.keys()].find((name) => pending.get(name)?.size === 0);
    const next = ready ?? [...pending.keys()][0]!;
    if (ready === undefined) cycles.push(next);
    order.push(next);
    pending.delete(next);
    for (const deps of pending.values()) deps.delete(next);
  }
  return { order, cycles };
}

/**
 * Translates a SQLite schema into PostgreSQL tables. `validateDefault(kind, literal)` converts a default literal
 * with the row converter and returns the PostgreSQL text or null.
 */
export function translateSchema(
  schema: SourceSchema,
  validateDefault: (type: TargetType, literal: string) => string | null,
): TranslatedSchema {
  const issues: SchemaIssue[] = [];
  const usedNames = new Set<string>(schema.tables.map((t) => t.name.toLowerCase()));
  const checkName = (table: string, name: string) => {
    if (Buffer.byteLength(name) > PG_MAX_IDENTIFIER) {
      issues.push({
        table,
        column: null,
        severity: 'error',
        message: `name ${name} is longer than PostgreSQL's ${PG_MAX_IDENTIFIER}-byte limit and would be truncated`,
      });
    }
  };
  const uniqueName = (name: string) => {
    let candidate = name;
    for (let i = 1; usedNames.has(candidate.toLowerCase()); i++) candidate = `${name.slice(0, 60)}${i}`;
    usedNames.add(candidate.toLowerCase());
    return candidate;
  };
  const byName = new Map(schema.tables.map((t) => [t.name, t]));
  const tables = schema.tables.map((table): TargetTable => {
    checkName(table.name, table.name);
    for (const g of table.generatedColumns) {
      issues.push({ table: table.name, column: g, severity: 'note', message: 'generated column not migrated' });
    }
    for (const check of table.checks) {
      issues.push({ table: table.name, column: null, severity: 'note', message: `not translated: ${check}` });
    }
    const columns = table.columns.map((c): TargetColumn => {
      checkName(table.name, c.name);
      const { type, note } = mapDeclaredType(c.declaredType);
      if (note) issues.push({ table: table.name, column: c.name, severity: 'note', message: note });
      const identity = table.rowidAlias === c.name;
      const def = translateDefault(c.defaultSql, type.kind, (literal) => validateDefault(type, literal));
      if (def.error) issues.push({ table: table.name, column: c.name, severity: 'error', message: def.error });
      return {
        name: c.name,
        type,
        // A primary-key column is NOT NULL in PostgreSQL whatever SQLite's (buggy, documented) leniency allowed.
        notNull: c.notNull || c.pkOrdinal > 0,
        defaultSql: identity ? null : def.sql,
        identity,
      };
    });
    const pkName = table.primaryKeyName ?? defaultConstraintName(table.name, [], 'pkey');
    const primaryKey: TargetConstraint | null =
      table.primaryKey.length > 0
        ? {
            name: uniqueName(pkName),
            kind: 'p',
            definition: `PRIMARY KEY (${table.primaryKey.map(quoteIdent).join(', ')})`,
          }
        : null;
    const uniques: TargetConstraint[] = [];
    const indexes: TargetIndex[] = [];
    for (const idx of table.indexes) {
      if (idx.origin === 'pk') continue;
      if (idx.expression || idx.partial) {
        issues.push({
          table: table.name,
          column: null,
          severity: 'error',
          message: `index ${idx.name} uses an expression or a WHERE clause, which is not translated: ${idx.sql}`,
        });
        continue;
      }
      const cols = idx.columns.map((c) => quoteIdent(c.name) + (c.desc ? ' DESC' : '')).join(', ');
      if (idx.origin === 'u') {
        const name = uniqueName(
          idx.constraintName ??
            defaultConstraintName(
              table.name,
              idx.columns.map((c) => c.name),
              'key',
            ),
        );
        checkName(table.name, name);
        uniques.push({ name, kind: 'u', definition: `UNIQUE (${cols})` });
      } else {
        checkName(table.name, idx.name);
        const name = uniqueName(idx.name);
        if (name !== idx.name) {
          issues.push({
            table: table.name,
            column: null,
            severity: 'error',
            message: `index name ${idx.name} clashes with another relation name in PostgreSQL's shared namespace`,
          });
        }
        indexes.push({
          name,
          sql: `CREATE ${idx.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(name)} ON ${quoteIdent(table.name)} (${cols})`,
        });
      }
    }
    const foreignKeys: TargetConstraint[] = [];
    const fkNames = new Set<string>();
    for (const fk of table.foreignKeys) {
      const parent = byName.get(fk.refTable);
      if (!parent) {
        issues.push({
          table: table.name,
          column: fk.columns.join(', '),
          severity: 'error',
          message: `foreign key references missing table ${fk.refTable}`,
        });
        continue;
      }
      let name = fk.name ?? defaultConstraintName(table.name, fk.columns, 'fkey');
      for (let i = 1; fkNames.has(name); i++) name = `${defaultConstraintName(table.name, fk.columns, 'fkey')}${i}`;
      fkNames.add(name);
      checkName(table.name, name);
      const actions = [
        fk.onUpdate !== 'NO ACTION' ? ` ON UPDATE ${fk.onUpdate}` : '',
        fk.onDelete !== 'NO ACTION' ? ` ON DELETE ${fk.onDelete}` : '',
      ].join('');
      foreignKeys.push({
        name,
        kind: 'f',
        definition:
          `FOREIGN KEY (${fk.columns.map(quoteIdent).join(', ')}) REFERENCES ${quoteIdent(fk.refTable)} ` +
          `(${fk.refColumns.map(quoteIdent).join(', ')})${actions}`,
      });
    }
    return {
      name: table.name,
      columns,
      primaryKey,
      uniques,
      indexes,
      foreignKeys,
      sequenceColumns: table.rowidAlias ? [table.rowidAlias] : [],
    };
  });
  return { tables, issues };
}

/** CREATE TABLE without keys, indexes or foreign keys: those come after the load, when they are cheapest to build. */
export function createTableSql(table: TargetTable): string {
  const cols = table.columns.map((c) => {
    const parts = [quoteIdent(c.name), c.type.sql];
    if (c.identity) parts.push('GENERATED BY DEFAULT AS IDENTITY');
    if (c.defaultSql !== null) parts.push(`DEFAULT ${c.defaultSql}`);
    if (c.notNull) parts.push('NOT NULL');
    return parts.join(' ');
  });
  return `CREATE TABLE ${quoteIdent(table.name)} (\n  ${cols.join(',\n  ')}\n)`;
}
