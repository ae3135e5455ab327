/**
 * The fast path rendered in JavaScript from raw records (sqlite-pages.ts), byte for byte what fastpath.ts's SQL makes
 * SQLite render: per row "<rowid>:<mask>:" + each complex value's encoding + the simple columns' CSV segment.
 *
 * It only has to be right for rows it vouches for (mask 0); any row it has the least doubt about gets mask -1 and is
 * re-read and converted by the ordinary converters (convert.ts), which also name the problem. Because every value
 * arrives with its exact storage class, it can be stricter than the SQL without costing anything: a value whose
 * storage class is not the expected one (a blob in a text column, a real in a boolean one) always takes the ordinary
 * path. What it must reproduce exactly, for rows it passes, is the rendering: the checksum hashes these bytes.
 *
 * Complex values use the SQL's encoding (fastpath.ts complexSql) except reals, which travel as `d` + their 8 bytes
 * exactly as stored (big-endian IEEE 754), so no text round trip is needed.
 */
import type { Kind, TargetType } from './schema';
import { readVarint as readVarintExport, type TableCursor, varint as varintExport } from './sqlite-pages';
import type { RawValue } from './sqlite-source';

// Bound once: a cross-module reference compiled to CommonJS is a property read on every use, and these run per value.
const readVarint = readVarintExport;
const varint = varintExport;

export interface RenderColumn {
  /** The column's field in the record (its position in the table). */
  readonly field: number;
  readonly kind: Kind;
  /** varchar(n): the limit in characters. */
  readonly maxLength: number | null;
  /**
   * `alias`: the INTEGER PRIMARY KEY column, whose record field is NULL and whose value is the rowid. `maybe`: a
   * column SQLite might treat as one although the schema reader did not (a NULL field then takes the ordinary path,
   * which asks SQLite). `no`: any other column.
   */
  readonly rowid: 'alias' | 'maybe' | 'no';
}

/** What the renderer needs of a table; plain data, so it can be posted to the reader thread. */
export interface RenderSpec {
  /** Number of fields in a full record (the table's columns). */
  readonly fields: number;
  /** The simple columns, in copy order (fastpath.ts copyOrder). */
  readonly simple: readonly RenderColumn[];
  /** The complex columns, in copy order. */
  readonly complex: readonly RenderColumn[];
}

export function renderColumn(field: number, type: TargetType, rowid: RenderColumn['rowid']): RenderColumn {
  return { field, kind: type.kind, maxLength: type.maxLength ?? null, rowid };
}

/** Content size of each serial type 0–11 (https://sqlite.org/fileformat2.html#record_format). */
const FIXED = [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0];
const INT_LIMIT: Partial<Record<Kind, number>> = { int2: 32767, int4: 2147483647 };

/** A growable output buffer of rows, each ending at `ends[i]`. */
export class RowSink {
  bytes: Buffer;
  pos = 0;
  count = 0;
  ends: Uint32Array;

  constructor(
    capacityRows: number,
    /** Where fresh buffers come from (the reader thread recycles the ones the consumer is done with). */
    private readonly allocate: (minBytes: number) => Buffer = (n) => Buffer.allocUnsafeSlow(n),
    private readonly initialBytes = 1 << 18,
  ) {
    this.bytes = allocate(initialBytes);
    this.ends = new Uint32Array(capacityRows);
  }

  reserve(n: number): void {
    if (this.pos + n <= this.bytes.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, this.pos + n + 1024));
    this.bytes.copy(bigger, 0, 0, this.pos);
    this.bytes = bigger;
  }

  /** Hands over the rows so far and starts an empty buffer. */
  take(): { count: number; bytes: Uint8Array; ends: Uint32Array } {
    const out = { count: this.count, bytes: this.bytes.subarray(0, this.pos), ends: this.ends.subarray(0, this.count) };
    // Unpooled buffers only (never Buffer.allocUnsafe's shared pool): the reader thread transfers them.
    this.bytes = this.allocate(this.initialBytes);
    this.ends = new Uint32Array(this.ends.length);
    this.pos = 0;
    this.count = 0;
    return out;
  }
}

function writeAscii(sink: RowSink, s: string): void {
  sink.reserve(s.length);
  for (let i = 0; i < s.length; i++) sink.bytes[sink.pos++] = s.charCodeAt(i);
}

function writeInt(sink: RowSink, v: number | bigint): void {
  if (typeof v === 'bigint' || v < 0 || v > 0x7fffffff) {
    writeAscii(sink, String(v));
    return;
  }
  sink.reserve(10);
  const b = sink.bytes;
  let digits = 1;
  for (let t = v; t >= 10; t = (t / 10) | 0) digits++;
  let p = sink.pos + digits;
  sink.pos = p;
  let t = v;
  do {
    const q = (t / 10) | 0;
    b[--p] = 48 + t - q * 10;
    t = q;
  } while (t > 0);
}

function copyBytes(sink: RowSink, src: Uint8Array, from: number, to: number): void {
  sink.reserve(to - from);
  const b = sink.bytes;
  if (to - from < 64) {
    let p = sink.pos;
    for (let i = from; i < to; i++) b[p++] = src[i] as number;
    sink.pos = p;
  } else {
    b.set(src.subarray(from, to), sink.pos);
    sink.pos += to - from;
  }
}

/** The integer a serial type 1–6, 8 or 9 stores at `p` (exact: bigint beyond 2^53). */
function readInt(b: Uint8Array, p: number, type: number): number | bigint {
  switch (type) {
    case 8:
      return 0;
    case 9:
      return 1;
    case 1:
      return ((b[p] as number) << 24) >> 24;
    case 2:
      return (((b[p] as number) << 24) >> 16) | (b[p + 1] as number);
    case 3:
      return (((b[p] as number) << 24) >> 8) | ((b[p + 1] as number) << 8) | (b[p + 2] as number);
    case 4:
      return (
        ((b[p] as number) << 24) | ((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)
      );
    case 5: {
      const hi = (((b[p] as number) << 24) >> 16) | (b[p + 1] as number);
      const lo =
        (((b[p + 2] as number) << 24) >>> 0) +
        ((b[p + 3] as number) << 16) +
        ((b[p + 4] as number) << 8) +
        (b[p + 5] as number);
      return hi * 4294967296 + lo;
    }
    default: {
      const v = new DataView(b.buffer, b.byteOffset + p, 8).getBigInt64(0);
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
  }
}

const K_INT = 1;
const K_BOOL = 2;
const K_TEXT = 3;
const K_JSON = 4;
const K_DATE = 5;
const K_TIMESTAMP = 6;
const R_NO = 0;
const R_ALIAS = 1;
const R_MAYBE = 2;

/** A render column in the renderer's own form: numeric codes; `limit` is the integer range's top, 0 for none. */
interface Col {
  readonly field: number;
  readonly kind: number;
  readonly intKind8: boolean;
  readonly limit: number;
  readonly maxLength: number;
  readonly rowid: number;
}

function compile(c: RenderColumn): Col {
  const code: Partial<Record<Kind, number>> = {
    int2: K_INT,
    int4: K_INT,
    int8: K_INT,
    bool: K_BOOL,
    text: K_TEXT,
    json: K_JSON,
    date: K_DATE,
    timestamp: K_TIMESTAMP,
  };
  return {
    field: c.field,
    kind: code[c.kind] ?? 0,
    intKind8: c.kind === 'int8',
    limit: INT_LIMIT[c.kind] ?? 0,
    maxLength: c.maxLength ?? -1,
    rowid: c.rowid === 'alias' ? R_ALIAS : c.rowid === 'maybe' ? R_MAYBE : R_NO,
  };
}

/** A big-endian IEEE 754 double at `p` is a NaN: all exponent bits set and a non-zero fraction. */
function isNaNBytes(b: Uint8Array, p: number): boolean {
  if (((b[p] as number) & 0x7f) !== 0x7f || ((b[p + 1] as number) & 0xf0) !== 0xf0) return false;
  let fraction = (b[p + 1] as number) & 0x0f;
  for (let i = 2; i < 8; i++) fraction |= b[p + i] as number;
  return fraction !== 0;
}

const isInt = (t: number) => (t >= 1 && t <= 6) || t === 8 || t === 9;
const isText = (t: number) => t >= 13 && (t & 1) === 1;

/**
 * Renders one row; returns false when the row must take the ordinary path (then only "<rowid>:-1:" and, with
 * complex columns, a `z` are written, which the consumer reads as "re-read this row").
 */
export class RowRenderer {
  private readonly types: Int32Array;
  private readonly offsets: Int32Array;
  private readonly simple: Col[];
  private readonly complex: Col[];

  constructor(private readonly spec: RenderSpec) {
    this.types = new Int32Array(spec.fields);
    this.offsets = new Int32Array(spec.fields);
    // One object shape and numeric codes for the per-value loop (the spec arrives structured-cloned from the thread).
    this.simple = spec.simple.map(compile);
    this.complex = spec.complex.map(compile);
  }

  render(cursor: TableCursor, sink: RowSink): void {
    const rowStart = sink.pos;
    writeInt(sink, cursor.rowid);
    writeAscii(sink, ':00:');
    const maskAt = sink.pos - 3;
    if (!this.body(cursor, sink)) {
      sink.pos = maskAt;
      writeAscii(sink, this.spec.complex.length > 0 ? '-1:z' : '-1:');
    }
    if (sink.pos < rowStart) throw new Error('internal: row renderer');
    sink.ends[sink.count++] = sink.pos;
  }

  private header(cursor: TableCursor): boolean {
    const b = cursor.payload;
    const end = cursor.end;
    let headerSize: number | bigint = b[cursor.start] as number;
    let p = cursor.start + 1;
    if (headerSize >= 0x80) {
      headerSize = readVarint(b, cursor.start);
      p = varint.end;
    }
    if (typeof headerSize !== 'number' || cursor.start + headerSize > end) return false;
    const headerEnd = cursor.start + headerSize;
    let off = headerEnd;
    let n = 0;
    const fields = this.spec.fields;
    while (p < headerEnd) {
      // A record with more fields than the table has columns is not one SQLite wrote for this table.
      if (n === fields) return false;
      let t: number | bigint = b[p] as number;
      if (t < 0x80) p++;
      else {
        t = readVarint(b, p);
        p = varint.end;
      }
      if (typeof t !== 'number' || t === 10 || t === 11) return false;
      this.types[n] = t;
      this.offsets[n] = off;
      off += t >= 12 ? (t - 12) >> 1 : (FIXED[t] as number);
      n++;
    }
    // Fewer fields: columns added later by ALTER TABLE take their default, which only SQLite knows here.
    return n === this.spec.fields && off === end && p === headerEnd;
  }

  private body(cursor: TableCursor, sink: RowSink): boolean {
    if (!this.header(cursor)) return false;
    const b = cursor.payload;
    const complex = this.complex;
    for (let j = 0; j < complex.length; j++) if (!this.complexValue(cursor, complex[j] as Col, sink)) return false;
    const simple = this.simple;
    const types = this.types;
    const offsets = this.offsets;
    for (let j = 0; j < simple.length; j++) {
      const c = simple[j] as Col;
      if (j > 0) {
        sink.reserve(1);
        sink.bytes[sink.pos++] = 9;
      }
      const t = types[c.field] as number;
      const at = offsets[c.field] as number;
      if (c.rowid === R_ALIAS) {
        // SQLite stores NULL in the alias column's field; the value is the rowid.
        if (t !== 0) return false;
        const v = cursor.rowid;
        if (!c.intKind8 && (c.limit === 0 || typeof v !== 'number' || v > c.limit || v < -c.limit - 1)) return false;
        writeInt(sink, v);
        continue;
      }
      if (t === 0) {
        if (c.rowid === R_MAYBE) return false;
        continue; // NULL: an empty field
      }
      switch (c.kind) {
        case K_INT: {
          if (!isInt(t)) return false;
          const v = readInt(b, at, t);
          if (c.limit !== 0 && (typeof v !== 'number' || v > c.limit || v < -c.limit - 1)) return false;
          writeInt(sink, v);
          break;
        }
        case K_BOOL: {
          if (!isInt(t)) return false;
          const v = readInt(b, at, t);
          if (v !== 0 && v !== 1) return false;
          sink.reserve(1);
          sink.bytes[sink.pos++] = v === 1 ? 116 : 102;
          break;
        }
        case K_TEXT:
        case K_JSON: {
          if (!isText(t)) return false;
          const len = (t - 13) >> 1;
          const end = at + len;
          if (c.maxLength >= 0 && len > c.maxLength) {
            // More bytes than the limit: count characters (UTF-8 lead bytes) to know.
            let chars = 0;
            for (let i = at; i < end; i++) if (((b[i] as number) & 0xc0) !== 0x80) chars++;
            if (chars > c.maxLength) return false;
          }
          sink.reserve(len + 2);
          const out = sink.bytes;
          let p = sink.pos;
          out[p++] = 1;
          if (len < 48) {
            // Copy and look for the CSV quote character in one pass.
            for (let i = at; i < end; i++) {
              const x = b[i] as number;
              if (x === 1) return false;
              out[p++] = x;
            }
            out[p++] = 1;
          } else {
            // Natively: copy, write the closing quote, and the first quote character found must be that one.
            out.set(b.subarray(at, end), p);
            out[p + len] = 1;
            if (out.indexOf(1, p) !== p + len) return false;
            p += len + 1;
          }
          if (c.kind === K_JSON) {
            try {
              JSON.parse(b.toString('utf8', at, end));
            } catch {
              return false;
            }
          }
          sink.pos = p;
          break;
        }
        case K_DATE: {
          if (!isText(t)) return false;
          copyBytes(sink, b, at, at + ((t - 13) >> 1));
          break;
        }
        case K_TIMESTAMP: {
          if (!isText(t)) return false;
          const len = (t - 13) >> 1;
          let to = at + len;
          if (len > 19) {
            // "…SS.ffffff": a dot, then digits only; trailing zeros and then the dot go (PostgreSQL's output form).
            if (len === 20 || b[at + 19] !== 46) return false;
            for (let i = at + 20; i < to; i++) {
              const x = b[i] as number;
              if (x < 48 || x > 57) return false;
            }
            while (to > at + 20 && b[to - 1] === 48) to--;
            if (to === at + 20) to--;
          }
          copyBytes(sink, b, at, to);
          break;
        }
        default:
          return false;
      }
    }
    return true;
  }

  private complexValue(cursor: TableCursor, c: Col, sink: RowSink): boolean {
    const b = cursor.payload;
    const t = this.types[c.field] as number;
    const at = this.offsets[c.field] as number;
    if (c.rowid === R_ALIAS) {
      if (t !== 0) return false;
      writeAscii(sink, 'i');
      writeInt(sink, cursor.rowid);
      writeAscii(sink, ':');
      return true;
    }
    if (t === 0) {
      if (c.rowid === R_MAYBE) return false;
      writeAscii(sink, 'n');
    } else if (isInt(t)) {
      writeAscii(sink, 'i');
      writeInt(sink, readInt(b, at, t));
      writeAscii(sink, ':');
    } else if (t === 7) {
      // SQLite reads a stored NaN as NULL; leave that to it.
      if (isNaNBytes(b, at)) return false;
      sink.reserve(9);
      sink.bytes[sink.pos++] = 100; // 'd'
      copyBytes(sink, b, at, at + 8);
    } else {
      const len = (t - 12) >> 1;
      writeAscii(sink, isText(t) ? 't' : 'b');
      writeInt(sink, len);
      writeAscii(sink, ':');
      copyBytes(sink, b, at, at + len);
    }
    return true;
  }
}

// ---- Reading the rows back (the consumer's side, for either renderer) ----

const prefix = { key: 0 as number | bigint, mask: 0, start: 0 };

/**
 * Reads the fast path's "<rowid>:<mask>:" prefix of the row starting at `from` (reusing one object: this runs once
 * per row); `start` is where the row's CSV segment begins.
 */
export function parsePrefix(b: Uint8Array, from: number): typeof prefix {
  let p = from;
  const negative = b[p] === 45;
  if (negative) p++;
  let key = 0;
  while (b[p] !== 58) key = key * 10 + ((b[p++] as number) - 48);
  // Rowids beyond 2^53 (rare, but SQLite allows 64-bit rowids) are re-read exactly.
  prefix.key = p - from > 16 ? BigInt(Buffer.from(b.subarray(from, p)).toString('latin1')) : negative ? -key : key;
  p++;
  if (b[p] === 45) {
    prefix.mask = -1;
    while (b[p] !== 58) p++;
  } else {
    let mask = 0;
    while (b[p] !== 58) mask = mask * 10 + ((b[p++] as number) - 48);
    prefix.mask = mask;
  }
  prefix.start = p + 1;
  return prefix;
}

/** Reads a decimal number up to the next ':' at `p` (into `decoded.n`); returns the position after the ':'. */
const decoded = { n: 0 };
function readLength(b: Uint8Array, p: number): number {
  let n = 0;
  while (b[p] !== 58) n = n * 10 + ((b[p++] as number) - 48);
  decoded.n = n;
  return p + 1;
}

/**
 * Decodes the row's complex values (fastpath.ts complexSql, or this module's renderer) at `p` into `raw`/`isText`,
 * exactly the values and text flags the library's per-row read gave: integers as numbers when safe (else BigInt),
 * reals parsed from 17 significant digits (`r`) or taken from their stored 8 bytes (`d`), text and blobs as their
 * bytes. Returns where the CSV segment starts, or -1 when a value must take the ordinary path (`z`) — then the row
 * is re-read, so the rest need not be decoded.
 */
export function decodeComplex(b: Uint8Array, p: number, n: number, raw: RawValue[], isText: boolean[]): number {
  for (let j = 0; j < n; j++) {
    const tag = b[p++];
    isText[j] = false;
    if (tag === 110) {
      raw[j] = null;
    } else if (tag === 105 || tag === 114) {
      const from = p;
      while (b[p] !== 58) p++;
      const text = latin1(b, from, p);
      p++;
      if (tag === 114) raw[j] = Number(text);
      else {
        // The library's rule: a number when safe, else an exact BigInt.
        const v = Number(text);
        raw[j] = Number.isSafeInteger(v) ? v : BigInt(text);
      }
    } else if (tag === 116 || tag === 98) {
      p = readLength(b, p);
      raw[j] = b.subarray(p, p + decoded.n);
      isText[j] = tag === 116;
      p += decoded.n;
    } else if (tag === 100) {
      // A real as stored: 8 bytes, big-endian (fast-render.ts).
      raw[j] = new DataView(b.buffer, b.byteOffset + p, 8).getFloat64(0);
      p += 8;
    } else if (tag === 122) {
      return -1;
    } else {
      throw new Error('internal: malformed complex value on the fast path');
    }
  }
  return p;
}

function latin1(b: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(b[i] as number);
  return s;
}
