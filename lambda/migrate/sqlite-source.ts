/**
 * Reading a SQLite file: its schema through PRAGMAs and its rows as exact raw values.
 *
 * Library choice (measured on this 2-core machine, Node 20, one table of 1,000,000 rows × 8 columns, 157 MB file;
 * "plain" = SELECT of the columns, "bytes" = the query this module runs, text as bytes plus a type mask):
 *   node-sqlite3-wasm 0.8.60  plain 1.70 s (588k rows/s)  bytes 2.44 s (410k rows/s)  RSS 80 MB
 *   sql.js 1.16.0 (useBigInt) plain 2.23 s (448k rows/s)  bytes 3.21 s (311k rows/s)  RSS 218 MB
 * node-sqlite3-wasm wins on speed and memory: it reads the file through Node's `fs` page by page (sql.js copies the
 * whole file into a WebAssembly heap capped at 2 GiB), and returns integers beyond 2^53 as exact BigInts.
 * @sqlite.org/sqlite-wasm was not measured: in Node it has no file VFS, only in-memory databases (the sql.js limit).
 * It is WebAssembly, not a native addon, so an esbuild bundle runs it unchanged in Lambda — provided the .wasm file
 * sits next to the bundle (see SQLITE_WASM_FILE in env.ts). Node 22's `node:sqlite` would do, but tests run on Node 20.
 *
 * Text is always read as bytes (`CAST(x AS BLOB)`): the library's own UTF-8 decoding replaces invalid sequences and
 * stops at NUL, which would hide exactly the bad data the migration must report.
 */
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Database, type SQLiteValue } from 'node-sqlite3-wasm';
import type { SourceColumn, SourceForeignKey, SourceIndex, SourceSchema, SourceTable } from './schema';
import { parseTableConstraints } from './sqlite-ddl';
import { PageFile } from './sqlite-pages';

/** A raw SQLite value: text arrives as its bytes (Uint8Array) with its bit set in the row's text mask. */
export type RawValue = number | bigint | Uint8Array | null;

export class SourceFileError extends Error {
  override readonly name = 'SourceFileError';
}

const HEADER = 'SQLite format 3\u0000';

/** Checks that the path is a readable SQLite 3 file before the library gets a chance to create or misread it. */
export function assertSqliteFile(path: string): { sizeBytes: number; changeCounter: number } {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new SourceFileError(`${path} is not a file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof SourceFileError) throw error;
    throw new SourceFileError(`cannot read ${path}: no such file`);
  }
  const header = Buffer.alloc(100);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, 100, 0);
  } finally {
    closeSync(fd);
  }
  if (size < 100 || header.toString('latin1', 0, 16) !== HEADER) {
    throw new SourceFileError(`${path} is not a SQLite 3 database (bad header)`);
  }
  const encoding = header.readUInt32BE(56);
  if (encoding > 1) {
    throw new SourceFileError(
      `${path} stores text as UTF-16 (encoding ${encoding}); only UTF-8 databases are supported`,
    );
  }
  // A reader cannot apply a crashed writer's journal or a WAL file; reading around them would miss committed data.
  for (const suffix of ['-journal', '-wal']) {
    const side = `${path}${suffix}`;
    if (existsSync(side) && statSync(side).size > 0) {
      throw new SourceFileError(
        `${path} has a non-empty ${suffix} file: open it once with sqlite3 (and run PRAGMA wal_checkpoint(TRUNCATE)) so the changes are in the database file`,
      );
    }
  }
  return { sizeBytes: size, changeCounter: header.readUInt32BE(24) };
}

function str(value: SQLiteValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return String(value);
}

function num(value: SQLiteValue | undefined): number {
  return typeof value === 'bigint' ? Number(value) : Number(value ?? 0);
}

export function quoteSqliteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** An open, read-only SQLite source. Close it when done (it holds a file descriptor and a WebAssembly heap). */
export class SqliteSource {
  readonly db: Database;
  readonly sizeBytes: number;
  readonly changeCounter: number;

  /** A private directory holding a symlink to the source (see the constructor). */
  private readonly workDir: string;

  constructor(readonly path: string) {
    const header = assertSqliteFile(path);
    this.sizeBytes = header.sizeBytes;
    this.changeCounter = header.changeCounter;
    // node-sqlite3-wasm locks a file by creating `<file>.lock/` beside it, even read-only: a killed run would leave
    // the lock behind (the rerun then sees "database is locked") and a read-only directory (an asset) would refuse
    // it. Opening through a symlink in a private temp directory keeps the lock there instead.
    this.workDir = mkdtempSync(join(tmpdir(), 'sfdeploy-sqlite-'));
    const link = join(this.workDir, 'source.db');
    symlinkSync(resolve(path), link);
    try {
      this.db = new Database(link, { readOnly: true });
      // Hold the read lock for the whole run: the wasm VFS implements each lock/unlock as mkdir/rmdir.
      this.db.exec('PRAGMA locking_mode = EXCLUSIVE; PRAGMA cache_size = -65536');
      this.get('SELECT count(*) FROM sqlite_master');
    } catch (error) {
      rmSync(this.workDir, { recursive: true, force: true });
      throw new SourceFileError(`${path} cannot be opened as SQLite: ${(error as Error).message}`);
    }
  }

  private all(sql: string, params: (number | bigint | string)[] = []): Record<string, SQLiteValue>[] {
    return this.db.all(sql, params) as Record<string, SQLiteValue>[];
  }

  private get(sql: string, params: (number | bigint | string)[] = []): Record<string, SQLiteValue> | null {
    return this.db.get(sql, params) as Record<string, SQLiteValue> | null;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
    this.pages?.close();
    this.pages = null;
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /**
   * Null while the file is as it was when opened (same size and change counter, header bytes 24–27, which every
   * committed write increments); otherwise what changed, for the report. The library's lock is a directory of its
   * own, which another SQLite process (the app) does not honour, so a writer is only detected, not held off.
   */
  changedSinceOpen(): string | null {
    let now: { sizeBytes: number; changeCounter: number };
    try {
      now = assertSqliteFile(this.path);
    } catch (error) {
      return `the SQLite file cannot be read any more: ${(error as Error).message}`;
    }
    if (now.changeCounter === this.changeCounter && now.sizeBytes === this.sizeBytes) return null;
    return (
      `the SQLite file changed while it was being read (change counter ${this.changeCounter} → ${now.changeCounter}, ` +
      `${this.sizeBytes} → ${now.sizeBytes} bytes): stop whatever writes to it and run again`
    );
  }

  /**
   * Null when SQLite finds the file sound; otherwise its first problem as one line, naming the table or index whose
   * B-tree it is in. `quick` runs `PRAGMA quick_check(1)`: every page of every B-tree is walked and checked
   * (structure, page accounting, record format), in O(N). `full` runs `PRAGMA integrity_check(1)`, which also checks
   * that every index holds exactly its table's rows and that UNIQUE and NOT NULL hold, in O(N log N)
   * (https://www.sqlite.org/pragma.html#pragma_integrity_check). The migration reads tables and builds its indexes
   * anew in PostgreSQL, so the quick check covers what it reads; `--check` runs the full one.
   */
  integrityProblem(mode: 'quick' | 'full'): string | null {
    const pragma = mode === 'quick' ? 'quick_check' : 'integrity_check';
    let result: string;
    try {
      result = str(this.get(`PRAGMA ${pragma}(1)`)?.[pragma]);
    } catch (error) {
      return `PRAGMA ${pragma} failed: ${(error as Error).message}`;
    }
    if (result === 'ok') return null;
    // "*** in database main ***\nTree 4 page 479: btreeInitPage() returns error code 11": drop the header line, and
    // say which table or index tree 4 is (sqlite_master.rootpage), if the schema itself is still readable.
    let line = result.replace(/^\*\*\* in database \w+ \*\*\*\s*/, '').replace(/\s*\n\s*/g, '; ');
    const tree = /^Tree (\d+) /.exec(line);
    if (tree) {
      try {
        const owner = this.get('SELECT type, name FROM sqlite_master WHERE rootpage = ?', [Number(tree[1])]);
        if (owner) line = `${line} (${str(owner['type'])} ${str(owner['name'])})`;
      } catch {
        // The schema page itself is damaged: the tree number is all there is to say.
      }
    }
    return `PRAGMA ${pragma}: ${line}`;
  }

  private pages: PageFile | null | undefined;

  /**
   * The file for direct record reads (sqlite-pages.ts), or null when this reader cannot read it exactly (another
   * text encoding, WAL mode) or `SFDEPLOY_PAGE_READER=0` asks for SQLite throughout. Opened once, beside the
   * library's handle, whose read lock covers it.
   */
  pageFile(): PageFile | null {
    if (this.pages === undefined) {
      this.pages = process.env['SFDEPLOY_PAGE_READER'] === '0' ? null : PageFile.open(this.path);
    }
    return this.pages;
  }

  /** The root page of a rowid table's B-tree (sqlite_master.rootpage). */
  rootPage(table: SourceTable): number {
    const row = this.get("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", [table.name]);
    const root = num(row?.['rootpage']);
    if (!Number.isInteger(root) || root < 1) throw new Error(`internal: no root page for ${table.name}`);
    return root;
  }

  /** Reads tables, columns, keys, foreign keys and indexes. Internal `sqlite_*` tables are left out. */
  readSchema(): SourceSchema {
    const tables: SourceTable[] = [];
    const list = this.all(
      "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid",
    );
    const info = new Map(
      this.all('PRAGMA table_list').map((r) => [str(r['name']), { wr: num(r['wr']), type: str(r['type']) }]),
    );
    for (const row of list) {
      const name = str(row['name']);
      const sql = str(row['sql']);
      const meta = info.get(name);
      if (meta && meta.type !== 'table') continue;
      tables.push(this.readTable(name, sql, meta?.wr === 1));
    }
    return { tables };
  }

  private readTable(name: string, sql: string, withoutRowid: boolean): SourceTable {
    const q = quoteSqliteIdent(name);
    const columns: SourceColumn[] = this.all(`PRAGMA table_xinfo(${q})`).map((r) => ({
      name: str(r['name']),
      declaredType: str(r['type']),
      notNull: num(r['notnull']) === 1,
      defaultSql: r['dflt_value'] === null ? null : str(r['dflt_value']),
      pkOrdinal: num(r['pk']),
      hidden: num(r['hidden']),
    }));
    const visible = columns.filter((c) => c.hidden === 0);
    const primaryKey = visible
      .filter((c) => c.pkOrdinal > 0)
      .sort((a, b) => a.pkOrdinal - b.pkOrdinal)
      .map((c) => c.name);
    const constraints = parseTableConstraints(sql);

    const fkRows = this.all(`PRAGMA foreign_key_list(${q})`);
    const byId = new Map<number, SourceForeignKey>();
    for (const r of fkRows) {
      const id = num(r['id']);
      let fk = byId.get(id);
      if (!fk) {
        fk = {
          columns: [],
          refTable: str(r['table']),
          refColumns: [],
          onUpdate: str(r['on_update']) || 'NO ACTION',
          onDelete: str(r['on_delete']) || 'NO ACTION',
          name: null,
        };
        byId.set(id, fk);
      }
      fk.columns.push(str(r['from']));
      fk.refColumns.push(r['to'] === null ? '' : str(r['to']));
    }
    const foreignKeys = [...byId.entries()].sort((a, b) => b[0] - a[0]).map(([, fk]) => fk);
    for (const fk of foreignKeys) {
      fk.name = constraints.foreignKeys.find((c) => sameColumns(c.columns, fk.columns))?.name ?? null;
    }

    const indexes: SourceIndex[] = [];
    for (const r of this.all(`PRAGMA index_list(${q})`)) {
      const indexName = str(r['name']);
      const origin = str(r['origin']) as SourceIndex['origin'];
      const xinfo = this.all(`PRAGMA index_xinfo(${quoteSqliteIdent(indexName)})`).filter((x) => num(x['key']) === 1);
      const idxSql =
        origin === 'c'
          ? str(this.get("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", [indexName])?.['sql'])
          : '';
      const cols = xinfo.map((x) => ({ name: str(x['name']), desc: num(x['desc']) === 1, cid: num(x['cid']) }));
      const index: SourceIndex = {
        name: indexName,
        unique: num(r['unique']) === 1,
        origin,
        columns: cols.map((c) => ({ name: c.name, desc: c.desc })),
        expression: cols.some((c) => c.cid < 0),
        partial: num(r['partial']) === 1,
        sql: idxSql,
        constraintName: null,
      };
      if (origin === 'u') {
        index.constraintName =
          constraints.uniques.find((c) =>
            sameColumns(
              c.columns,
              cols.map((x) => x.name),
            ),
          )?.name ?? null;
      }
      indexes.push(index);
    }
    indexes.sort((a, b) => a.name.localeCompare(b.name));

    const rowidAlias =
      !withoutRowid && primaryKey.length === 1
        ? (visible.find((c) => c.name === primaryKey[0] && c.declaredType.toUpperCase() === 'INTEGER')?.name ?? null)
        : null;
    return {
      name,
      sql,
      columns: visible,
      generatedColumns: columns.filter((c) => c.hidden !== 0).map((c) => c.name),
      primaryKey,
      primaryKeyName: constraints.primaryKeyName,
      rowidAlias: rowidAlias && !constraints.primaryKeyDesc ? rowidAlias : null,
      withoutRowid,
      foreignKeys,
      indexes,
      checks: constraints.checks,
    };
  }

  /** Resolves foreign keys that name no parent columns (they mean the parent's primary key). */
  static resolveForeignKeys(schema: SourceSchema): void {
    const byName = new Map(schema.tables.map((t) => [t.name, t]));
    for (const table of schema.tables) {
      for (const fk of table.foreignKeys) {
        if (fk.refColumns.every((c) => c === '')) {
          const parent = byName.get(fk.refTable);
          fk.refColumns = parent ? [...parent.primaryKey] : fk.refColumns;
        }
      }
    }
  }

  countRows(table: string): number {
    return num(this.get(`SELECT count(*) AS n FROM ${quoteSqliteIdent(table)}`)?.['n']);
  }

  /**
   * Iterates a table's rows as raw values in rowid (or primary-key) order. Each row is
   * `[textMask..., key?, col1, col2, ...]`: see RowLayout. `afterKey` resumes after a rowid (rowid tables only).
   */
  *rows(table: SourceTable, layout: RowLayout, afterKey?: bigint | number | null): Generator<readonly RawValue[]> {
    let sql = `SELECT ${layout.selectList} FROM ${quoteSqliteIdent(table.name)}`;
    const params: (number | bigint)[] = [];
    if (layout.keyIsRowid) {
      if (afterKey !== undefined && afterKey !== null) {
        sql += ' WHERE rowid > ?';
        params.push(afterKey);
      }
      sql += ' ORDER BY rowid';
    } else if (table.primaryKey.length > 0) {
      sql += ` ORDER BY ${table.primaryKey.map(quoteSqliteIdent).join(', ')}`;
    }
    const stmt = this.db.prepare(sql);
    try {
      for (const row of stmt.iterate(params)) {
        yield Object.values(row) as RawValue[];
      }
    } finally {
      if (!stmt.isFinalized) stmt.finalize();
    }
  }

  /** Iterates records of an arbitrary select list (the fast path) in rowid order, optionally after a rowid. */
  *selectRecords(
    table: SourceTable,
    selectList: string,
    afterKey?: bigint | number | null,
  ): Generator<Record<string, SQLiteValue>> {
    let sql = `SELECT ${selectList} FROM ${quoteSqliteIdent(table.name)}`;
    const params: (number | bigint)[] = [];
    if (afterKey !== undefined && afterKey !== null) {
      sql += ' WHERE rowid > ?';
      params.push(afterKey);
    }
    sql += ' ORDER BY rowid';
    const stmt = this.db.prepare(sql);
    try {
      for (const row of stmt.iterate(params)) yield row as Record<string, SQLiteValue>;
    } finally {
      if (!stmt.isFinalized) stmt.finalize();
    }
  }

  /**
   * The fast path's `s` values (see fastpath.ts) of up to `limit` rows at a time, in rowid order, optionally after a
   * rowid: each batch is one blob of "<byte length>:<s>" per row, end to end, which SQLite concatenates itself
   * (group_concat and || copy bytes by length, NULs and invalid UTF-8 included). One value per batch instead of one
   * per row: the library's per-row cost is most of a simple table's read. Only for select lists with no other column.
   */
  *selectGrouped(
    table: SourceTable,
    selectList: string,
    afterKey: bigint | number | null,
    limit: number,
  ): Generator<{ blob: Uint8Array; count: number }> {
    const inner = (where: string) =>
      `SELECT CAST(group_concat(length("s") || ':' || "s", '') AS BLOB) AS "b", count(*) AS "n", max("r") AS "k" ` +
      `FROM (SELECT rowid AS "r", ${selectList} FROM ${quoteSqliteIdent(table.name)}${where} ORDER BY rowid LIMIT ${limit})`;
    const first = afterKey === null ? this.db.prepare(inner('')) : null;
    const next = this.db.prepare(inner(' WHERE rowid > ?'));
    try {
      let rec = (first ? first.get([]) : next.get([afterKey as number | bigint])) as Record<string, SQLiteValue> | null;
      for (;;) {
        const count = num(rec?.['n']);
        if (!rec || count === 0) return;
        const blob = rec['b'];
        const last = rec['k'];
        if (!(blob instanceof Uint8Array) || (typeof last !== 'number' && typeof last !== 'bigint')) {
          throw new Error(`internal: unexpected batch from ${table.name}`);
        }
        yield { blob, count };
        if (count < limit) return;
        rec = next.get([last]) as Record<string, SQLiteValue> | null;
      }
    } finally {
      if (first && !first.isFinalized) first.finalize();
      if (!next.isFinalized) next.finalize();
    }
  }

  /** A prepared lookup of one row (in `layout`) by rowid; finalize it when done. */
  rowByRowid(
    table: SourceTable,
    layout: RowLayout,
  ): { get(params: (number | bigint)[]): RawValue[] | null; finalize(): void } {
    const stmt = this.db.prepare(`SELECT ${layout.selectList} FROM ${quoteSqliteIdent(table.name)} WHERE rowid = ?`);
    return {
      get: (params) => {
        const row = stmt.get(params);
        return row ? (Object.values(row) as RawValue[]) : null;
      },
      finalize: () => {
        if (!stmt.isFinalized) stmt.finalize();
      },
    };
  }

  /** Runs a read-only query (used for orphan detection). */
  query(sql: string, params: (number | bigint | string)[] = []): Record<string, SQLiteValue>[] {
    return this.all(sql, params);
  }
}

/**
 * How a table's rows come back from `SqliteSource.rows`: the first `maskCount` values are integers whose bit i
 * says value i is text (read as bytes); then, for rowid tables, the rowid; then the columns in order.
 */
export interface RowLayout {
  readonly selectList: string;
  readonly maskCount: number;
  readonly keyIsRowid: boolean;
  /** Index in the row array of the first column. */
  readonly firstColumn: number;
}

export function rowLayout(table: SourceTable): RowLayout {
  const cols = table.columns.map((c) => quoteSqliteIdent(c.name));
  const masks: string[] = [];
  for (let start = 0; start < cols.length; start += 62) {
    const bits = cols
      .slice(start, start + 62)
      .map((c, i) => `((typeof(${c}) = 'text') << ${i})`)
      .join(' | ');
    masks.push(`(${bits}) AS "m${start}"`);
  }
  const keyIsRowid = !table.withoutRowid;
  const values = cols.map((c, i) => `CASE WHEN typeof(${c}) = 'text' THEN CAST(${c} AS BLOB) ELSE ${c} END AS "c${i}"`);
  const select = [...masks, ...(keyIsRowid ? ['rowid AS "k"'] : []), ...values];
  return {
    selectList: select.join(', '),
    maskCount: masks.length,
    keyIsRowid,
    firstColumn: masks.length + (keyIsRowid ? 1 : 0),
  };
}

/** True when value i of the row was text (its bytes are in the row). */
export function isTextAt(row: readonly RawValue[], i: number): boolean {
  const mask = row[(i / 62) | 0];
  const bit = i % 62;
  if (typeof mask === 'bigint') return ((mask >> BigInt(bit)) & 1n) === 1n;
  if (typeof mask !== 'number') return false;
  return bit < 31 ? ((mask >>> bit) & 1) === 1 : Math.floor(mask / 2 ** bit) % 2 === 1;
}

function sameColumns(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x.toLowerCase() === b[i]?.toLowerCase());
}
