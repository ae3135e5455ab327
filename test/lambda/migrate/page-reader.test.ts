/**
 * The direct record reader (sqlite-pages.ts) and the JavaScript renderer (fast-render.ts) against SQLite itself:
 * the same rows in the same order, the same raw values, and — for every row the renderer vouches for — the very
 * bytes fastpath.ts's SQL makes SQLite render. Files of several page sizes, with overflow pages, multi-level
 * B-trees, sparse/negative/64-bit rowids, every integer width, reals, blobs, and records shortened by ALTER TABLE.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Database } from 'node-sqlite3-wasm';
import { decodeComplex, parsePrefix, type RenderColumn, type RenderSpec } from '../../../lambda/migrate/fast-render';
import { fastSelect } from '../../../lambda/migrate/fastpath';
import { packBatches, type RowBatch } from '../../../lambda/migrate/row-batches';
import type { Kind, SourceTable, TargetType } from '../../../lambda/migrate/schema';
import { PageFile, PageFormatError, TableCursor } from '../../../lambda/migrate/sqlite-pages';
import { quoteSqliteIdent, type RawValue, SqliteSource } from '../../../lambda/migrate/sqlite-source';

const dir = mkdtempSync(join(tmpdir(), 'sfdeploy-pages-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A small deterministic generator, so a failure names a reproducible row. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 4294967296;
  };
}

const INTS: (number | bigint | null)[] = [
  null,
  0,
  1,
  -1,
  127,
  -128,
  128,
  32767,
  -32768,
  32768,
  8388607,
  -8388608,
  2147483647,
  -2147483648,
  2147483648,
  140737488355327,
  -140737488355328,
  9007199254740993n,
  -9223372036854775808n,
  9223372036854775807n,
];
const REALS: (number | null)[] = [null, 0, -0, 1.5, 2, -2.25, 1e308, -1e-308, 5e-324, 0.1 + 0.2, 123456789.125, 1e20];
const TEXTS = [
  '',
  'a',
  '가나다 🎉',
  'x'.repeat(600),
  '한'.repeat(5000),
  'tab\there',
  'line\nbreak',
  'quote"d',
  // The CSV quote character (U+0001) in a short and in a long value: both must be left to the converters.
  'a\u0001b',
  `${'y'.repeat(100)}\u0001z`,
];
const DDL =
  'CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB, v VARCHAR(5), ' +
  'flag BOOLEAN, ts DATETIME, d DATE, j JSON, n NUMERIC)';

interface Shape {
  readonly name: string;
  readonly pageSize: number;
  readonly rows: number;
  /** Adds a column after half the rows, so older records are shorter than the table. */
  readonly alter?: boolean;
}

/** Builds a file; returns the rowids whose value the renderer must leave to SQLite (see the assertions). */
function build(shape: Shape): { path: string; conservative: Set<string> } {
  const path = join(dir, `${shape.name}.db`);
  const db = new Database(path);
  const conservative = new Set<string>();
  db.exec(`PRAGMA page_size = ${shape.pageSize}; ${DDL}`);
  db.exec('BEGIN');
  const next = rng(shape.pageSize + shape.rows);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  let rowid = -5000;
  for (let k = 0; k < shape.rows; k++) {
    if (shape.alter && k === Math.floor(shape.rows / 2)) {
      db.exec('COMMIT');
      db.exec("ALTER TABLE t ADD COLUMN extra TEXT DEFAULT 'dflt'");
      db.exec('BEGIN');
    }
    rowid += 1 + Math.floor(next() * (k % 97 === 0 ? 100000 : 3));
    const id: number | bigint = k === shape.rows - 1 ? 9223372036854775807n : k === 0 ? -9223372036854775808n : rowid;
    const text = pick(TEXTS);
    const special = k % 53;
    const values: (number | bigint | string | Uint8Array | null)[] = [
      id,
      pick(INTS),
      pick(REALS),
      next() < 0.1 ? null : text,
      next() < 0.2 ? null : Uint8Array.from({ length: Math.floor(next() * 3000) }, (_, i) => (i * 7 + k) & 255),
      pick([null, 'abc', 'abcde', 'abcdef', '가나다라마', '가나다라마바']),
      pick([null, 0, 1, 2]),
      pick([
        null,
        '2024-01-01 10:00:00',
        '2024-02-29 23:59:59.250000',
        '2024-01-01 10:00:00.000',
        '2024-01-01 10:00:00..',
      ]),
      pick([null, '2024-01-31', '2023-02-29']),
      pick([null, '{"a": [1, 2, {"b": null}]}', '[1,', '"x"', 'not json']),
      pick([null, 1.25, 7, '12.50', 'abc']),
    ];
    // Values the renderer is stricter about than the SQL (their storage class is unexpected): the ordinary path
    // converts them, so both readers still agree on what is loaded.
    if (special === 1) values[3] = Uint8Array.from([104, 105]); // a blob in a TEXT column
    if (special === 2) values[6] = 1.0 + 0.5; // a real in a BOOLEAN column (NUMERIC affinity keeps 1.5 a real)
    if (special === 1) conservative.add(String(id));
    const columns = shape.alter && k >= Math.floor(shape.rows / 2) ? `${values.length + 1}` : `${values.length}`;
    const marks = Array.from({ length: Number(columns) }, () => '?').join(', ');
    db.run(`INSERT INTO t VALUES (${marks})`, columns === `${values.length}` ? values : [...values, `e${k}`]);
  }
  db.exec('COMMIT');
  db.close();
  return { path, conservative };
}

const T = (kind: Kind, extra: Partial<TargetType> = {}): TargetType => ({ kind, sql: kind, ...extra });

/** The columns of `t` as the engine would plan them: simple ones in copy order, then complex ones. */
function plan(table: SourceTable, allComplex: boolean) {
  const types: Record<string, TargetType> = {
    id: T('int8'),
    i: T('int4'),
    r: T('float8'),
    s: T('text'),
    b: T('bytea'),
    v: T('text', { maxLength: 5 }),
    flag: T('bool'),
    ts: T('timestamp'),
    d: T('date'),
    j: T('json'),
    n: T('numeric'),
    extra: T('text'),
  };
  const order = ['ts', 'd', 'id', 'i', 's', 'v', 'flag', 'j', 'r', 'b', 'n', 'extra'].filter((n) =>
    table.columns.some((c) => c.name === n),
  );
  const isSimple = (n: string) => !allComplex && !['r', 'b', 'n'].includes(n);
  const col = (n: string): RenderColumn => ({
    field: table.columns.findIndex((c) => c.name === n),
    kind: types[n]?.kind ?? 'text',
    maxLength: types[n]?.maxLength ?? null,
    rowid: n === 'id' ? 'alias' : 'no',
  });
  const named = (n: string) => ({
    col: quoteSqliteIdent(n),
    type: types[n] as TargetType,
    facts: {
      affinity: (n === 'id' || n === 'i'
        ? 'INTEGER'
        : n === 'r'
          ? 'REAL'
          : n === 'b'
            ? 'BLOB'
            : ['flag', 'ts', 'd', 'j', 'n'].includes(n)
              ? 'NUMERIC'
              : 'TEXT') as 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC',
      rowidAlias: n === 'id',
    },
  });
  const simple = order.filter(isSimple);
  const complex = order.filter((n) => !isSimple(n));
  const spec: RenderSpec = { fields: table.columns.length, simple: simple.map(col), complex: complex.map(col) };
  return { spec, select: fastSelect(simple.map(named), complex.map(named)), nComplex: complex.length };
}

interface Decoded {
  key: string;
  ok: boolean;
  raw: RawValue[] | null;
  segment: string;
}

function decode(batches: Iterable<RowBatch>, nComplex: number): Decoded[] {
  const out: Decoded[] = [];
  for (const batch of batches) {
    let start = 0;
    for (let r = 0; r < batch.count; r++) {
      const end = batch.ends[r] as number;
      const head = parsePrefix(batch.bytes, batch.starts ? (batch.starts[r] as number) : start);
      start = end;
      const raw: RawValue[] = new Array(nComplex).fill(null);
      const texts: boolean[] = new Array(nComplex).fill(false);
      const seg = nComplex > 0 ? decodeComplex(batch.bytes, head.start, nComplex, raw, texts) : head.start;
      out.push({
        key: String(head.key),
        ok: head.mask >= 0 && seg >= 0,
        raw: seg >= 0 ? raw.map((v) => (v instanceof Uint8Array ? Uint8Array.from(v) : v)) : null,
        segment: seg >= 0 ? Buffer.from(batch.bytes.subarray(seg, end)).toString('latin1') : '',
      });
    }
  }
  return out;
}

const SHAPES: Shape[] = [
  { name: 'p512', pageSize: 512, rows: 1500 },
  { name: 'p4096-altered', pageSize: 4096, rows: 3000, alter: true },
  { name: 'p65536', pageSize: 65536, rows: 400 },
];

describe('direct record reader and renderer', () => {
  const files = new Map<string, { path: string; conservative: Set<string> }>();
  // These tests are about the direct reader: run them with it whatever the environment says.
  const saved = process.env['SFDEPLOY_PAGE_READER'];
  before(() => {
    delete process.env['SFDEPLOY_PAGE_READER'];
    for (const shape of SHAPES) files.set(shape.name, build(shape));
  });
  after(() => {
    if (saved !== undefined) process.env['SFDEPLOY_PAGE_READER'] = saved;
  });

  for (const shape of SHAPES) {
    test(`${shape.name}: same rows, values and rendering as SQLite`, () => {
      const file = files.get(shape.name);
      assert.ok(file);
      const source = new SqliteSource(file.path);
      try {
        assert.ok(source.pageFile(), 'the reader accepts an ordinary UTF-8 rollback-journal file');
        const table = source.readSchema().tables.find((t) => t.name === 't');
        assert.ok(table);
        for (const allComplex of [true, false]) {
          const { spec, select, nComplex } = plan(table, allComplex);
          const base = { table, select, afterKey: null, nComplex: 0 };
          const viaSql = decode(packBatches(source, { ...base, render: null }), nComplex);
          const viaJs = decode(packBatches(source, { ...base, render: spec }), nComplex);
          assert.equal(viaJs.length, shape.rows);
          assert.deepEqual(
            viaJs.map((r) => r.key),
            viaSql.map((r) => r.key),
          );
          let compared = 0;
          const stricter: string[] = [];
          const shortRecords = shape.alter ? Math.floor(shape.rows / 2) : 0;
          let shortSeen = 0;
          for (let i = 0; i < viaJs.length; i++) {
            const js = viaJs[i] as Decoded;
            const sql = viaSql[i] as Decoded;
            const short = i < shortRecords;
            if (short && !js.ok) shortSeen++;
            if (js.ok && sql.ok) {
              compared++;
              assert.equal(js.segment, sql.segment, `row ${js.key}: segment`);
              assert.deepEqual(js.raw, sql.raw, `row ${js.key}: complex values`);
            } else if (js.ok && sql.raw !== null) {
              // (A row whose SQL encoding gave up on a real — zero or infinity, `z` — is not comparable.)
              assert.fail(`row ${js.key}: the renderer passed a row SQLite's checks refused: ${js.segment}`);
            } else if (sql.ok && !short) {
              stricter.push(js.key);
            }
          }
          // Records older than ALTER TABLE lack the new column: their default is SQLite's to supply.
          assert.equal(shortSeen, shortRecords);
          const full = shape.rows - shortRecords;
          assert.ok(compared > (allComplex ? full / 2 : full / 12), `compared ${compared} rows`);
          // Stricter than the SQL only where planted (a blob in a TEXT column), and there at least once.
          for (const key of stricter) assert.ok(file.conservative.has(key), `row ${key}: refused by the renderer only`);
          if (!allComplex) assert.ok(stricter.length > 0, 'the planted stricter cases occur');
        }
      } finally {
        source.close();
      }
    });
  }

  test('seeks: rows after a key, whatever the key, match SQLite', () => {
    const file = files.get('p512');
    assert.ok(file);
    const source = new SqliteSource(file.path);
    const pages = source.pageFile();
    assert.ok(pages);
    try {
      const table = source.readSchema().tables.find((t) => t.name === 't') as SourceTable;
      const root = source.rootPage(table);
      const all = (source.db.all('SELECT rowid AS k FROM t ORDER BY rowid') as { k: number | bigint }[]).map(
        (r) => r.k,
      );
      const keys: (number | bigint)[] = [-9223372036854775808n, -6000, 0, 9223372036854775807n, 10 ** 12];
      for (let i = 0; i < all.length; i += 37) keys.push(all[i] as number | bigint);
      for (const key of keys) {
        const expected = (
          source.db.all('SELECT rowid AS k FROM t WHERE rowid > ? ORDER BY rowid', [key]) as { k: number | bigint }[]
        ).map((r) => String(r.k));
        const cursor = new TableCursor(pages, root, key);
        const got: string[] = [];
        while (cursor.next()) got.push(String(cursor.rowid));
        assert.deepEqual(got, expected, `after ${key}`);
      }
    } finally {
      source.close();
    }
  });

  test('files it cannot read exactly are left to SQLite; a damaged page is an error, not a guess', () => {
    const file = files.get('p4096-altered');
    assert.ok(file);
    const wal = join(dir, 'wal-header.db');
    copyFileSync(file.path, wal);
    const bytes = readFileSync(wal);
    bytes[18] = 2;
    bytes[19] = 2;
    writeFileSync(wal, bytes);
    assert.equal(PageFile.open(wal), null, 'a WAL-mode header');
    assert.equal(PageFile.open(join(dir, 'missing.db')), null);

    const source = new SqliteSource(file.path);
    const table = source.readSchema().tables.find((t) => t.name === 't') as SourceTable;
    const root = source.rootPage(table);
    source.close();
    const damaged = join(dir, 'damaged.db');
    const copy = readFileSync(file.path);
    // The root of a 3,000-row table on 4 KiB pages is an interior page: make it claim to be an index page.
    copy[(root - 1) * 4096] = 0x02;
    writeFileSync(damaged, copy);
    const pages = PageFile.open(damaged);
    assert.ok(pages);
    try {
      assert.throws(() => new TableCursor(pages, root, null), PageFormatError);
      assert.throws(() => pages.page(pages.pageCount + 1), /outside the file/);
    } finally {
      pages.close();
    }
  });

  test('SFDEPLOY_PAGE_READER=0 reads through SQLite throughout', () => {
    const file = files.get('p512');
    assert.ok(file);
    process.env['SFDEPLOY_PAGE_READER'] = '0';
    try {
      const source = new SqliteSource(file.path);
      assert.equal(source.pageFile(), null);
      source.close();
    } finally {
      delete process.env['SFDEPLOY_PAGE_READER'];
    }
  });
});
