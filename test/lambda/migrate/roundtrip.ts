/**
 * The property-based round trip (issue 15): random SQLite tables over every declared type the schema translator
 * knows, nullable and NOT NULL, with defaults and columns added later by ALTER TABLE, filled with random values
 * (NULL in every nullable column, integer limits, 2^53±1, ±0.0, subnormal and huge floats, empty strings,
 * max-length varchar, leap days, `:00` and fractional seconds, Korean/emoji/ZWJ, JSON scalars/`null`/nested, blobs,
 * values long enough for overflow pages), migrated into a real PostgreSQL, then judged by an oracle that shares
 * nothing with the migration's checksum: SQLite read back through its own driver, PostgreSQL through `pg` as text,
 * compared value by value by type.
 *
 * The property: the oracle says equal ⇔ verification says ok — after the migration, and again after one random
 * mutation of the target (a cell nudged to a near value, NULL ↔ false/0/''/'null', a row deleted) checked with
 * verify-only. Used by roundtrip-property.test.ts (bounded, fixed seed) and bench/migrate/fuzz.ts (long runs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Database, type SQLiteValue } from 'node-sqlite3-wasm';
import { Client } from 'pg';
import { runMigration } from '../../../lambda/migrate/engine';
import type { MigrationReport } from '../../../lambda/migrate/report';
import type { PgHarness } from './pg-harness';

type ValueKind =
  | 'int'
  | 'smallint'
  | 'bigint'
  | 'bool'
  | 'float'
  | 'numeric'
  | 'varchar'
  | 'text'
  | 'date'
  | 'datetime'
  | 'time'
  | 'json'
  | 'blob'
  | 'untyped';

export interface ColumnSpec {
  readonly name: string;
  readonly decl: string;
  readonly kind: ValueKind;
  readonly notNull: boolean;
  /** The DEFAULT clause's expression, or null. */
  readonly defaultSql: string | null;
  readonly maxLength?: number;
  readonly precision?: number;
  readonly scale?: number;
  /** Added by ALTER TABLE ADD COLUMN after the first rows were inserted. */
  readonly addedLater: boolean;
}

type Shape = 'alias' | 'alias-constraint' | 'composite' | 'without-rowid' | 'bigint-pk';
const OMIT = Symbol('omit');
type Cell = SQLiteValue | typeof OMIT;

export interface TableSpec {
  readonly name: string;
  readonly shape: Shape;
  readonly columns: readonly ColumnSpec[];
  readonly keys: readonly (readonly SQLiteValue[])[];
  readonly rows: readonly (readonly Cell[])[];
  /** Rows inserted before the ALTER TABLE that adds the later columns. */
  readonly earlyRows: number;
}

export interface CaseSpec {
  readonly pageSize: number;
  readonly pageReader: boolean;
  readonly readerThread: boolean;
  readonly tables: readonly TableSpec[];
  /** Picks the mutation: [table index, row index, column index, variant] (each taken modulo what exists). */
  readonly mutation: readonly [number, number, number, number];
}

// ---------- value generators ----------

const I32 = [-2147483648, 2147483647, 0, -1, 1];
const I16 = [-32768, 32767, 0, -1, 1];
const I64 = [
  -(2n ** 63n),
  2n ** 63n - 1n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 53n + 1n,
  -(2n ** 53n) - 1n,
  -(2n ** 53n) + 1n,
  0n,
];
const DOUBLES = [
  0,
  -0,
  Number.MIN_VALUE,
  -Number.MIN_VALUE,
  2.2250738585072014e-308,
  2.225073858507201e-308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0.1,
  1e-300,
  2 ** 53 + 2,
  2 ** 53 - 1,
  123456789.125,
  -1.5,
];
const STRINGS = [
  '',
  ' ',
  '한국어 텍스트',
  '👨‍👩‍👧‍👦',
  '🏳️‍🌈 flag',
  'e\u0301',
  '\t\n\r\\',
  '\u0001',
  'a\u0001b\u0001\u0001',
  '\uFEFFbom',
  'NULL',
  '\\N',
  '"quoted"',
  "it's",
  '0',
  '1.50',
  '2024-02-29',
];
const codePoints = (s: string) => [...s].length;

function stringValue(maxChars: number): fc.Arbitrary<string> {
  const long = Math.min(maxChars, 3000);
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...STRINGS) },
      { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: Math.min(maxChars, 12) }) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: Math.min(maxChars, 20) }) },
      // Past the renderer's 48-byte branch, and (on small pages) into overflow pages.
      {
        weight: 1,
        arbitrary:
          maxChars >= 40 ? fc.string({ unit: 'grapheme-ascii', minLength: 40, maxLength: long }) : fc.constant('x'),
      },
      {
        weight: 1,
        arbitrary: fc.integer({ min: 1, max: Math.max(1, Math.min(maxChars, 400)) }).map((n) => '가'.repeat(n)),
      },
    )
    .map((s) => s.replaceAll('\u0000', ''))
    .filter((s) => codePoints(s) <= maxChars && Buffer.from(s, 'utf8').toString('utf8') === s);
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const leap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;

const dateValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('2024-02-29', '2000-02-29', '1900-02-28', '0001-01-01', '9999-12-31', '2023-12-31'),
  fc
    .record({
      y: fc.integer({ min: 1, max: 9999 }),
      m: fc.integer({ min: 1, max: 12 }),
      d: fc.integer({ min: 1, max: 31 }),
    })
    .map(({ y, m, d }) => {
      const max = m === 2 && leap(y) ? 29 : (DAYS[m - 1] as number);
      return `${pad(y, 4)}-${pad(m, 2)}-${pad(Math.min(d, max), 2)}`;
    }),
);

const clock = fc.record({
  h: fc.integer({ min: 0, max: 23 }),
  mi: fc.integer({ min: 0, max: 59 }),
  s: fc.oneof(fc.constant(0), fc.constant(59), fc.integer({ min: 0, max: 59 })),
  // none | '.000000'-style trailing zeros | random digits
  frac: fc.oneof(fc.constant(''), fc.constant('.000000'), fc.constant('.500000'), fc.stringMatching(/^\.\d{1,6}$/)),
  form: fc.constantFrom('full', 'full', 'full', 'minutes'),
});
const timeText = clock.map(({ h, mi, s, frac, form }) =>
  form === 'minutes' ? `${pad(h, 2)}:${pad(mi, 2)}` : `${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${frac}`,
);
const datetimeValue = fc
  .tuple(dateValue, timeText, fc.constantFrom(' ', ' ', ' ', 'T'))
  .map(([d, t, sep]) => `${d}${sep}${t}`);

const jsonValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'null',
    'true',
    'false',
    '0',
    '-0',
    '1.5',
    '1.50',
    '1e3',
    '"\\u0000"',
    '"한국어"',
    '"👨‍👩‍👧"',
    '[]',
    '{}',
    '""',
    '{"b":1,"a":[1,{"c":null}],"b ":2}',
    ' {"a" : 1 } ',
    '{"a":1,"a":2}',
    '12345678901234567890',
    '[1, 2.5, "x\\ty", null, {"k": [true]}]',
  ),
  fc.json({ maxDepth: 3 }),
);

function decimalValue(precision: number | undefined, scale: number | undefined): fc.Arbitrary<string> {
  const intDigits = precision === undefined ? 30 : precision - (scale ?? 0);
  const fracDigits = precision === undefined ? 12 : (scale ?? 0);
  return fc
    .record({
      neg: fc.boolean(),
      int: intDigits > 0 ? fc.stringMatching(new RegExp(`^\\d{1,${intDigits}}$`)) : fc.constant('0'),
      frac:
        fracDigits > 0
          ? fc.oneof(fc.constant(''), fc.stringMatching(new RegExp(`^\\d{1,${fracDigits}}$`)))
          : fc.constant(''),
    })
    .map(({ neg, int, frac }) => `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`);
}

function valuesOf(c: ColumnSpec): fc.Arbitrary<SQLiteValue> {
  switch (c.kind) {
    case 'int':
      return fc.oneof(fc.constantFrom(...I32), fc.integer({ min: I32[0] as number, max: I32[1] as number }));
    case 'smallint':
      return fc.oneof(fc.constantFrom(...I16), fc.integer({ min: -32768, max: 32767 }));
    case 'bigint':
      return fc.oneof(fc.constantFrom(...I64), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }));
    case 'bool':
      return fc.constantFrom(0, 1);
    case 'float':
      return fc.oneof(fc.constantFrom(...DOUBLES), fc.double({ noNaN: true }));
    case 'numeric':
      // Text, as an app writes a Decimal; SQLite's NUMERIC affinity stores it as a number when that is lossless.
      return c.precision === undefined
        ? fc.oneof(
            decimalValue(undefined, undefined),
            fc.double({ noNaN: true }),
            fc.constantFrom(Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0),
          )
        : decimalValue(c.precision, c.scale);
    case 'varchar':
      return fc.oneof(
        stringValue(c.maxLength ?? 1),
        // Exactly the maximum length, in multi-byte characters.
        fc.constantFrom('한', 'a', '😀').map((ch) => ch.repeat(c.maxLength ?? 1)),
      );
    case 'text':
      return stringValue(5000);
    case 'date':
      return dateValue;
    case 'datetime':
      return datetimeValue;
    case 'time':
      return timeText;
    case 'json':
      return jsonValue;
    case 'blob':
      return fc.oneof(
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ minLength: 600, maxLength: 6000 }),
        fc.constant(new Uint8Array(0)),
      );
    case 'untyped':
      return fc.oneof(
        fc.integer(),
        fc.constantFrom(...I64),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        stringValue(200),
      );
  }
}

// ---------- schema generators ----------

interface TypeChoice {
  decl: string;
  kind: ValueKind;
  maxLength?: number;
  precision?: number;
  scale?: number;
}

const typeChoice: fc.Arbitrary<TypeChoice> = fc.oneof(
  fc.constantFrom<TypeChoice>(
    { decl: 'INTEGER', kind: 'int' },
    { decl: 'BIGINT', kind: 'bigint' },
    { decl: 'SMALLINT', kind: 'smallint' },
    { decl: 'BOOLEAN', kind: 'bool' },
    { decl: 'FLOAT', kind: 'float' },
    { decl: 'REAL', kind: 'float' },
    { decl: 'NUMERIC', kind: 'numeric' },
    { decl: 'TEXT', kind: 'text' },
    { decl: 'DATE', kind: 'date' },
    { decl: 'DATETIME', kind: 'datetime' },
    { decl: 'TIME', kind: 'time' },
    { decl: 'JSON', kind: 'json' },
    { decl: 'BLOB', kind: 'blob' },
    { decl: '', kind: 'untyped' },
  ),
  fc.integer({ min: 1, max: 60 }).map((n): TypeChoice => ({ decl: `VARCHAR(${n})`, kind: 'varchar', maxLength: n })),
  fc
    .integer({ min: 1, max: 18 })
    .chain((p) => fc.integer({ min: 0, max: Math.min(p, 6) }).map((s) => [p, s] as const))
    .map(([p, s]): TypeChoice => ({ decl: `NUMERIC(${p}, ${s})`, kind: 'numeric', precision: p, scale: s })),
);

function sqlLiteral(kind: ValueKind, v: SQLiteValue): string | null {
  if (v === null) return 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || Object.is(v, -0)) return null;
    return String(v);
  }
  if (v instanceof Uint8Array) return `X'${Buffer.from(v).toString('hex')}'`;
  if (kind === 'bool') return null;
  return `'${v.replaceAll("'", "''")}'`;
}

/** A DEFAULT clause for a column of this type: a literal of its own kind, a keyword, or none. */
function defaultOf(t: TypeChoice): fc.Arbitrary<string | null> {
  const literal = valuesOf({ name: '', notNull: false, defaultSql: null, addedLater: false, ...t })
    .map((v) => sqlLiteral(t.kind, v))
    .filter((s): s is string => s !== null && s.length < 200);
  const keywords: Record<string, string[]> = {
    bool: ['0', '1', 'TRUE', 'FALSE'],
    datetime: ['CURRENT_TIMESTAMP'],
    date: ['CURRENT_DATE'],
    time: ['CURRENT_TIME'],
  };
  const extra = keywords[t.kind] ?? [];
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: t.kind === 'bool' ? fc.constantFrom('0', '1') : literal },
    ...(extra.length > 0 ? [{ weight: 1, arbitrary: fc.constantFrom(...extra) }] : []),
  );
}

const NAMES = ['c', 'Mixed Case', '한글', 'sel"ect', 'order', 'v'];

function columnSpecs(): fc.Arbitrary<ColumnSpec[]> {
  return fc
    .array(
      fc.record({
        t: typeChoice,
        notNull: fc.boolean(),
        later: fc.integer({ min: 0, max: 5 }),
        name: fc.constantFrom(...NAMES),
      }),
      { minLength: 1, maxLength: 7 },
    )
    .chain((cols) =>
      fc.tuple(...cols.map((c) => defaultOf(c.t))).map((defaults) =>
        cols.map((c, i): ColumnSpec => {
          let defaultSql = defaults[i] ?? null;
          const addedLater = c.later === 0;
          // ALTER TABLE ADD COLUMN: a NOT NULL column needs a non-NULL default, and none may be non-constant.
          if (addedLater && defaultSql !== null && /^CURRENT_/.test(defaultSql)) defaultSql = null;
          const notNull = c.notNull && (!addedLater || (defaultSql !== null && defaultSql !== 'NULL'));
          return { name: `${c.name}${i}`, ...c.t, notNull, defaultSql, addedLater };
        }),
      ),
    );
}

const shape = fc.constantFrom<Shape>(
  'alias',
  'alias-constraint',
  'alias-constraint',
  'composite',
  'without-rowid',
  'bigint-pk',
);

function keysFor(s: Shape, n: number): fc.Arbitrary<SQLiteValue[][]> {
  if (s === 'composite' || s === 'without-rowid') {
    return fc.uniqueArray(fc.tuple(fc.integer({ min: -3, max: 3 }), stringValue(10)), {
      maxLength: n,
      minLength: n,
      selector: ([a, b]) => `${a}\u0000${b}`,
    });
  }
  if (s === 'bigint-pk') {
    return fc
      .uniqueArray(fc.oneof(fc.constantFrom(...I64), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), {
        minLength: n,
        maxLength: n,
      })
      .map((ks) => ks.map((k) => [k]));
  }
  return fc
    .uniqueArray(fc.oneof(fc.constantFrom(1, 2, -1, 0, 2147483647, -2147483648), fc.integer()), {
      minLength: n,
      maxLength: n,
    })
    .map((ks) => ks.map((k) => [k]));
}

/** A cell: NULL often in nullable columns, the default (column omitted) sometimes, else a value. */
function cellOf(c: ColumnSpec): fc.Arbitrary<Cell> {
  const options: { weight: number; arbitrary: fc.Arbitrary<Cell> }[] = [{ weight: 5, arbitrary: valuesOf(c) }];
  if (!c.notNull) options.push({ weight: 2, arbitrary: fc.constant(null) });
  if (c.defaultSql !== null) options.push({ weight: 1, arbitrary: fc.constant(OMIT) });
  return fc.oneof(...options);
}

const tableSpec = (name: string): fc.Arbitrary<TableSpec> =>
  fc.record({ shape, columns: columnSpecs(), n: fc.integer({ min: 0, max: 24 }) }).chain(({ shape, columns, n }) =>
    fc
      .record({
        keys: keysFor(shape, n),
        rows: fc.array(fc.tuple(...columns.map(cellOf)), { minLength: n, maxLength: n }),
        earlyRows: fc.integer({ min: 0, max: n }),
      })
      .map(({ keys, rows, earlyRows }): TableSpec => ({ name, shape, columns, keys, rows, earlyRows })),
  );

export const caseSpec: fc.Arbitrary<CaseSpec> = fc.record({
  pageSize: fc.constantFrom(512, 1024, 4096, 65536),
  pageReader: fc.boolean(),
  readerThread: fc.boolean(),
  tables: fc
    .integer({ min: 1, max: 3 })
    .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => tableSpec(`t${i}`)))),
  mutation: fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()),
});

// ---------- building the SQLite file ----------

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

function keyColumns(t: TableSpec): { name: string; decl: string }[] {
  switch (t.shape) {
    case 'composite':
    case 'without-rowid':
      return [
        { name: 'k1', decl: 'INTEGER NOT NULL' },
        { name: 'k2', decl: 'VARCHAR(10) NOT NULL' },
      ];
    case 'bigint-pk':
      return [{ name: 'id', decl: 'BIGINT NOT NULL' }];
    default:
      return [{ name: 'id', decl: t.shape === 'alias' ? 'INTEGER PRIMARY KEY' : 'INTEGER NOT NULL' }];
  }
}

function columnDdl(c: ColumnSpec): string {
  return [q(c.name), c.decl, c.notNull ? 'NOT NULL' : '', c.defaultSql !== null ? `DEFAULT ${c.defaultSql}` : '']
    .filter(Boolean)
    .join(' ');
}

export function tableDdl(t: TableSpec): string {
  const keys = keyColumns(t);
  const cols = [...keys.map((k) => `${q(k.name)} ${k.decl}`), ...t.columns.filter((c) => !c.addedLater).map(columnDdl)];
  if (t.shape !== 'alias') cols.push(`PRIMARY KEY (${keys.map((k) => q(k.name)).join(', ')})`);
  return `CREATE TABLE ${q(t.name)} (${cols.join(', ')})${t.shape === 'without-rowid' ? ' WITHOUT ROWID' : ''}`;
}

export function writeSqlite(path: string, spec: CaseSpec): void {
  rmSync(path, { force: true });
  const db = new Database(path);
  try {
    db.exec(`PRAGMA page_size = ${spec.pageSize}`);
    for (const t of spec.tables) {
      db.exec(tableDdl(t));
      const keys = keyColumns(t);
      const insert = (from: number, to: number, withLater: boolean) => {
        for (let r = from; r < to; r++) {
          const row = t.rows[r] as readonly Cell[];
          const names = keys.map((k) => k.name);
          const values: SQLiteValue[] = [...(t.keys[r] as readonly SQLiteValue[])];
          t.columns.forEach((c, i) => {
            if (c.addedLater && !withLater) return;
            const v = row[i] as Cell;
            if (v === OMIT) return;
            names.push(c.name);
            values.push(v);
          });
          db.run(
            `INSERT INTO ${q(t.name)} (${names.map(q).join(', ')}) VALUES (${values.map(() => '?').join(', ')})`,
            values,
          );
        }
      };
      const later = t.columns.filter((c) => c.addedLater);
      const early = later.length > 0 ? t.earlyRows : t.rows.length;
      db.exec('BEGIN');
      insert(0, early, false);
      db.exec('COMMIT');
      for (const c of later) db.exec(`ALTER TABLE ${q(t.name)} ADD COLUMN ${columnDdl(c)}`);
      db.exec('BEGIN');
      insert(early, t.rows.length, true);
      db.exec('COMMIT');
    }
  } finally {
    db.close();
  }
}

/** Human-readable description of a case, for failure messages. */
export function describeCase(spec: CaseSpec): string {
  return [
    `page_size=${spec.pageSize} pageReader=${spec.pageReader} readerThread=${spec.readerThread}`,
    ...spec.tables.map(
      (t) =>
        `${tableDdl(t)}; -- ${t.rows.length} rows${
          t.columns.some((c) => c.addedLater)
            ? `, then ${t.columns
                .filter((c) => c.addedLater)
                .map(columnDdl)
                .join(', ')} after ${t.earlyRows}`
            : ''
        }`,
    ),
  ].join('\n');
}

// ---------- the oracle ----------

/** What a column's values are compared as. */
function columnKinds(t: TableSpec): { name: string; kind: ValueKind }[] {
  const keys = keyColumns(t).map((k) => ({
    name: k.name,
    kind: (k.name === 'k2' ? 'varchar' : k.decl.startsWith('BIGINT') ? 'bigint' : 'int') as ValueKind,
  }));
  return [...keys, ...t.columns.map((c) => ({ name: c.name, kind: c.kind }))];
}

function keyText(values: readonly (SQLiteValue | string)[]): string {
  return JSON.stringify(
    values.map((v) => (typeof v === 'bigint' ? v.toString() : typeof v === 'number' ? String(v) : v)),
  );
}

function readSqlite(path: string, t: TableSpec): Map<string, Record<string, SQLiteValue>> {
  const db = new Database(path, { readOnly: true });
  try {
    const rows = db.all(`SELECT * FROM ${q(t.name)}`) as Record<string, SQLiteValue>[];
    const keys = keyColumns(t).map((k) => k.name);
    return new Map(rows.map((r) => [keyText(keys.map((k) => r[k] as SQLiteValue)), r]));
  } finally {
    db.close();
  }
}

/** Every value as PostgreSQL prints it (no type parsing: the oracle reads the text). */
async function readPg(client: Client, t: TableSpec): Promise<Map<string, Record<string, string | null>>> {
  const result = await client.query<Record<string, string | null>>({
    text: `SELECT * FROM ${q(t.name)}`,
    types: { getTypeParser: () => (v: string) => v },
  });
  const keys = keyColumns(t);
  return new Map(
    result.rows.map((r) => [
      keyText(keys.map((k) => (k.name === 'k2' ? (r[k.name] ?? '') : BigInt(r[k.name] ?? '0')))),
      r,
    ]),
  );
}

const TEMPORAL = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$/;
const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/;

function temporalParts(text: string, re: RegExp): number[] | null {
  const m = re.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map((p) => p ?? '');
  const frac = parts.pop() ?? '';
  return [...parts.map((p) => Number(p || '0')), Number(frac.padEnd(6, '0'))];
}

/** Exact decimal comparison of two decimal texts (no floating point). */
function decimalKey(text: string): string | null {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text.trim());
  if (!m) return null;
  const digits = `${m[2] ?? ''}${m[3] ?? ''}`.replace(/^0+/, '');
  const scale = (m[3] ?? '').length;
  if (digits === '') return '0';
  let value = BigInt(digits);
  let s = scale;
  while (s > 0 && value % 10n === 0n) {
    value /= 10n;
    s--;
  }
  return `${m[1] === '-' ? '-' : ''}${value}e-${s}`;
}

const asNumber = (text: string): number => Number(text);
const NUMBER_TEXT = /^(-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|-?Infinity|NaN)$/;

/** One value pair, by type: null when equal, else why not. */
export function compareValue(kind: ValueKind, src: SQLiteValue, pg: string | null): string | null {
  const bad = (why: string) => `${why}: sqlite ${show(src)} vs pg ${pg === null ? 'NULL' : JSON.stringify(pg)}`;
  if (src === null || pg === null) return src === null && pg === null ? null : bad('NULL on one side only');
  switch (kind) {
    case 'int':
    case 'smallint':
    case 'bigint':
      return (typeof src === 'number' && Number.isInteger(src)) || typeof src === 'bigint'
        ? BigInt(src) === BigInt(pg)
          ? null
          : bad('integers differ')
        : bad('source is not an integer');
    case 'bool':
      return (src === 1 && pg === 't') || (src === 0 && pg === 'f') ? null : bad('booleans differ');
    case 'float':
      return typeof src === 'number' || typeof src === 'bigint'
        ? Object.is(Number(src), asNumber(pg))
          ? null
          : bad('floats differ')
        : bad('source is not a number');
    case 'numeric': {
      if (typeof src === 'number') {
        if (!Number.isFinite(src)) return Object.is(src, asNumber(pg)) ? null : bad('numerics differ');
        // The stored double, compared as a double (and -0 has no numeric: it is 0).
        return asNumber(pg) === src ? null : bad('numerics differ');
      }
      if (typeof src === 'bigint') return decimalKey(src.toString()) === decimalKey(pg) ? null : bad('numerics differ');
      if (typeof src === 'string') return decimalKey(src) === decimalKey(pg) ? null : bad('numerics differ');
      return bad('source is not a number');
    }
    case 'varchar':
    case 'text':
    case 'untyped':
      if (typeof src === 'string') return src === pg ? null : bad('texts differ');
      if (typeof src === 'bigint') return /^-?\d+$/.test(pg) && BigInt(pg) === src ? null : bad('texts differ');
      if (typeof src === 'number') {
        if (Number.isInteger(src) && Math.abs(src) < 2 ** 53 && !Object.is(src, -0)) {
          return pg === String(src) ? null : bad('texts differ');
        }
        // Any spelling of the very same double, but nothing more (Number() would also accept "1.5 ").
        return NUMBER_TEXT.test(pg) && Object.is(asNumber(pg), src) ? null : bad('texts differ');
      }
      return Buffer.from(src).toString('utf8') === pg ? null : bad('texts differ');
    case 'date':
    case 'datetime': {
      if (typeof src !== 'string') return bad('source is not text');
      const a = temporalParts(src, TEMPORAL);
      const b = temporalParts(pg, TEMPORAL);
      return a && b && a.join() === b.join() ? null : bad('dates/times differ');
    }
    case 'time': {
      if (typeof src !== 'string') return bad('source is not text');
      const a = temporalParts(src, TIME);
      const b = temporalParts(pg, TIME);
      return a && b && a.join() === b.join() ? null : bad('times differ');
    }
    case 'json':
      // json keeps its input text exactly; SQLite's NUMERIC affinity may have made a number of a numeric text.
      if (typeof src === 'string') return src === pg ? null : bad('json texts differ');
      if (typeof src === 'bigint') return /^-?\d+$/.test(pg) && BigInt(pg) === src ? null : bad('json numbers differ');
      if (typeof src === 'number') {
        try {
          const parsed: unknown = JSON.parse(pg);
          // json keeps its text: a number, spelled without surrounding whitespace.
          return NUMBER_TEXT.test(pg) && typeof parsed === 'number' && (parsed === src || Object.is(parsed, src))
            ? null
            : bad('json numbers differ');
        } catch {
          return bad('pg json is not JSON');
        }
      }
      return bad('source is a blob');
    case 'blob':
      return src instanceof Uint8Array && pg === `\\x${Buffer.from(src).toString('hex')}` ? null : bad('bytes differ');
  }
}

function show(v: SQLiteValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
  if (v instanceof Uint8Array) return `x'${Buffer.from(v).toString('hex').slice(0, 40)}'`;
  return JSON.stringify(v.length > 80 ? `${v.slice(0, 80)}…` : v);
}

/** The oracle: every difference between SQLite and PostgreSQL, table by table (empty when equal). */
export async function oracleDifferences(path: string, client: Client, spec: CaseSpec): Promise<string[]> {
  const out: string[] = [];
  for (const t of spec.tables) {
    const source = readSqlite(path, t);
    const target = await readPg(client, t);
    const kinds = columnKinds(t);
    for (const [key, row] of source) {
      const other = target.get(key);
      if (!other) {
        out.push(`${t.name} ${key}: missing in pg`);
        continue;
      }
      for (const { name, kind } of kinds) {
        const why = compareValue(kind, row[name] ?? null, other[name] ?? null);
        if (why) out.push(`${t.name} ${key} ${name} (${kind}): ${why}`);
      }
    }
    for (const key of target.keys()) if (!source.has(key)) out.push(`${t.name} ${key}: extra in pg`);
  }
  return out;
}

// ---------- mutations of the target ----------

const MUTATIONS: Record<ValueKind, string[]> = {
  int: ['c + 1', 'c - 1', 'NULL', '0', '-c'],
  smallint: ['c + 1', 'c - 1', 'NULL', '0'],
  bigint: ['c + 1', 'c - 1', 'NULL', '0'],
  bool: ['NOT c', 'NULL', 'false', 'true'],
  float: ['c * (1 + 2.3e-16) + 5e-324', '-c', 'NULL', '0', "'-0'::float8", "'Infinity'"],
  numeric: ['c + 1', 'NULL', '0', '-c'],
  varchar: ["''", 'NULL', 'left(c, length(c) - 1)', "c || E'\\x01'", "E'\\x01' || c"],
  text: ["c || ' '", "''", 'NULL', "c || E'\\x01'", "c || E'\\t'"],
  untyped: ["c || ' '", "''", 'NULL', "'0'"],
  date: ['c + 1', 'NULL', 'c - 1'],
  datetime: ["c + interval '1 microsecond'", 'NULL', "c - interval '1 second'"],
  time: ["c + interval '1 microsecond'", 'NULL', "c - interval '1 minute'"],
  json: ["'null'::json", 'NULL', "(c::text || ' ')::json", '\'""\'::json', "'0'::json"],
  blob: ["''::bytea", 'NULL', "c || '\\x00'::bytea"],
};

/** Applies one mutation picked by `pick` to the target; returns what it did, or null when none applied. */
export async function mutate(client: Client, spec: CaseSpec): Promise<string | null> {
  const [ti, ri, ci, vi] = spec.mutation;
  const withRows = spec.tables.filter((t) => t.rows.length > 0);
  if (withRows.length === 0) return null;
  const t = withRows[ti % withRows.length] as TableSpec;
  const kinds = columnKinds(t).slice(keyColumns(t).length);
  const target = await client.query<{ ctid: string }>(`SELECT ctid::text FROM ${q(t.name)} ORDER BY ctid`);
  const row = target.rows[ri % target.rows.length];
  if (!row) return null;
  // One mutation in seven deletes the row; the others change one cell (trying variants until one applies).
  if (vi % 7 === 0 || kinds.length === 0) {
    await client.query(`DELETE FROM ${q(t.name)} WHERE ctid = $1::tid`, [row.ctid]);
    return `deleted ${t.name} row at ${row.ctid}`;
  }
  const { name, kind } = kinds[ci % kinds.length] as { name: string; kind: ValueKind };
  const variants = MUTATIONS[kind];
  for (let k = 0; k < variants.length; k++) {
    const expr = (variants[(vi + k) % variants.length] as string).replaceAll(/\bc\b/g, q(name));
    // Each attempt is its own statement: one that fails (NOT NULL, out of range) changes nothing.
    const r = await client
      .query(`UPDATE ${q(t.name)} SET ${q(name)} = ${expr} WHERE ctid = $1::tid`, [row.ctid])
      .catch(() => null);
    if (r?.rowCount === 1) return `${t.name}.${name} (${kind}) at ${row.ctid} set to ${expr}`;
  }
  return null;
}

// ---------- the property ----------

export interface RoundTrip {
  readonly pg: PgHarness;
}

function verdict(report: MigrationReport): string {
  return JSON.stringify(
    {
      ok: report.ok,
      problems: report.problems.slice(0, 5),
      schemaErrors: report.schemaIssues.filter((i) => i.severity === 'error'),
      verification: report.verification?.rows.map((r) => ({
        t: r.table,
        ok: r.ok,
        rows: [r.sourceRows, r.targetRows],
      })),
    },
    null,
    1,
  );
}

/**
 * One case: build the file, migrate, compare with the oracle; then mutate the target and verify again.
 * Throws (with the case described) when the oracle and the verification disagree.
 */
export async function checkRoundTrip(pg: PgHarness, spec: CaseSpec): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sfdeploy-roundtrip-'));
  const path = join(dir, 'case.db');
  const url = await pg.freshDatabase();
  const saved = process.env['SFDEPLOY_PAGE_READER'];
  const fail = (message: string): never => {
    throw new Error(`${message}\n-- case --\n${describeCase(spec)}`);
  };
  try {
    writeSqlite(path, spec);
    if (spec.pageReader) delete process.env['SFDEPLOY_PAGE_READER'];
    else process.env['SFDEPLOY_PAGE_READER'] = '0';
    const options = {
      sqlitePath: path,
      target: { connectionString: url },
      targetDescription: 'roundtrip',
      rehearsal: false,
      schemaMode: 'translate' as const,
      onError: 'fail' as const,
      readerThread: spec.readerThread,
    };
    const report = await runMigration({ ...options, action: 'migrate' }).catch((error: Error) =>
      fail(`the migration threw: ${error.stack}`),
    );
    if (report.problems.length > 0 || report.schemaIssues.some((i) => i.severity === 'error')) {
      fail(`the migration refused valid data:\n${verdict(report)}`);
    }
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const diff = await oracleDifferences(path, client, spec);
      const verified = report.verification?.ok === true;
      if (diff.length === 0 && !verified) fail(`oracle: equal, but verification failed:\n${verdict(report)}`);
      if (diff.length > 0 && verified)
        fail(`oracle: different, but verification passed:\n${diff.slice(0, 10).join('\n')}`);
      if (diff.length > 0)
        fail(`the migration changed data (and verification caught it):\n${diff.slice(0, 10).join('\n')}`);

      const change = await mutate(client, spec);
      if (change === null) return;
      const after = await oracleDifferences(path, client, spec);
      const again = await runMigration({ ...options, action: 'verify-only' }).catch((error: Error) =>
        fail(`verify-only threw: ${error.stack}`),
      );
      const ok = again.verification?.ok === true;
      if (after.length === 0 && !ok) fail(`after ${change}: oracle equal, but verify-only failed:\n${verdict(again)}`);
      if (after.length > 0 && ok) {
        fail(`after ${change}: oracle different, but verify-only passed:\n${after.slice(0, 10).join('\n')}`);
      }
    } finally {
      await client.end();
    }
  } finally {
    if (saved === undefined) delete process.env['SFDEPLOY_PAGE_READER'];
    else process.env['SFDEPLOY_PAGE_READER'] = saved;
    rmSync(dir, { recursive: true, force: true });
    const name = new URL(url).pathname.slice(1);
    await pg.query(pg.server.url(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => undefined);
  }
}
