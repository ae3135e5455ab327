/**
 * Content checksums, computed independently on each side over a canonical rendering of every row.
 *
 * A row renders like a line of the COPY data (see CSV_QUOTE in convert.ts), column by column in copy order, joined
 * by tabs: NULL is an empty field; text and JSON are wrapped in U+0001 (doubled inside); every other kind is its
 * canonical form (`canonicalizer` in canonical.ts: integers in decimal, booleans t/f, dates and naive timestamps as
 * PostgreSQL prints them, floats as the hex of their bits, numerics without trailing zeros, binary as an MD5). The
 * rendering is unambiguous, and for the fast path's columns it is exactly the bytes SQLite produced (fastpath.ts).
 *
 * Each row is hashed with PostgreSQL's own `hashtextextended(row, 0)` (Bob Jenkins' lookup3, reimplemented below
 * bit for bit) and the signed 64-bit hashes are summed, with the rendered byte lengths, over the table: an
 * order-independent multiset hash, so PostgreSQL needs no sort and the source side can add rows in any order and
 * across invocations. The source side renders what the converter produced from the SQLite value; the target side
 * renders what PostgreSQL stored (`pgCanonicalExpr`). lookup3 is no cryptographic hash: this detects accidental
 * change (a lost, extra, truncated or altered row), which is what verification is for, at a tenth of MD5's cost.
 */
import * as crypto from 'node:crypto';
import { canonicalizer, canonicalQuoted, pgCanonicalExpr } from './canonical';
import { CSV_QUOTE, csvField } from './convert';
import { type Kind, quoteIdent } from './schema';

export interface ChecksumState {
  rows: number;
  sumHigh: bigint;
  sumLow: bigint;
}

export function emptyChecksum(): ChecksumState {
  return { rows: 0, sumHigh: 0n, sumLow: 0n };
}

/** A compact printable digest of a checksum state (equal states ⇔ equal digests, for practical purposes). */
export function checksumDigest(state: ChecksumState): string {
  return crypto
    .createHash('sha256')
    .update(`${state.rows}:${state.sumHigh}:${state.sumLow}`)
    .digest('hex')
    .slice(0, 16);
}

/** Serialisable form (BigInt does not survive JSON). */
export function checksumToJson(state: ChecksumState): { rows: number; sumHigh: string; sumLow: string } {
  return { rows: state.rows, sumHigh: state.sumHigh.toString(), sumLow: state.sumLow.toString() };
}

export function checksumFromJson(json: { rows: number; sumHigh: string; sumLow: string }): ChecksumState {
  return { rows: json.rows, sumHigh: BigInt(json.sumHigh), sumLow: BigInt(json.sumLow) };
}

const rot = (x: number, k: number) => (x << k) | (x >>> (32 - k));

/**
 * PostgreSQL's `hash_bytes_extended(k, len, 0)` (src/common/hashfn.c, little-endian reading), as a pair of
 * unsigned 32-bit halves: `hashtextextended(text, 0)` is `(hi << 32) | lo` read as a signed 64-bit integer.
 */
export function hashBytesExtended(k: Uint8Array, start: number, length: number, out: Uint32Array): void {
  let a = (0x9e3779b9 + length + 3923095) >>> 0;
  let b = a;
  let c = a;
  let i = start;
  let len = length;
  while (len >= 12) {
    a =
      (a +
        ((k[i] as number) |
          ((k[i + 1] as number) << 8) |
          ((k[i + 2] as number) << 16) |
          ((k[i + 3] as number) << 24))) |
      0;
    b =
      (b +
        ((k[i + 4] as number) |
          ((k[i + 5] as number) << 8) |
          ((k[i + 6] as number) << 16) |
          ((k[i + 7] as number) << 24))) |
      0;
    c =
      (c +
        ((k[i + 8] as number) |
          ((k[i + 9] as number) << 8) |
          ((k[i + 10] as number) << 16) |
          ((k[i + 11] as number) << 24))) |
      0;
    a = (a - c) | 0;
    a ^= rot(c, 4);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 6);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 8);
    b = (b + a) | 0;
    a = (a - c) | 0;
    a ^= rot(c, 16);
    c = (c + b) | 0;
    b = (b - a) | 0;
    b ^= rot(a, 19);
    a = (a + c) | 0;
    c = (c - b) | 0;
    c ^= rot(b, 4);
    b = (b + a) | 0;
    i += 12;
    len -= 12;
  }
  // The last 0–11 bytes, little-endian, c's lowest byte left for the length (as in the C switch).
  if (len >= 11) c = (c + ((k[i + 10] as number) << 24)) | 0;
  if (len >= 10) c = (c + ((k[i + 9] as number) << 16)) | 0;
  if (len >= 9) c = (c + ((k[i + 8] as number) << 8)) | 0;
  if (len >= 8) b = (b + ((k[i + 7] as number) << 24)) | 0;
  if (len >= 7) b = (b + ((k[i + 6] as number) << 16)) | 0;
  if (len >= 6) b = (b + ((k[i + 5] as number) << 8)) | 0;
  if (len >= 5) b = (b + (k[i + 4] as number)) | 0;
  if (len >= 4) a = (a + ((k[i + 3] as number) << 24)) | 0;
  if (len >= 3) a = (a + ((k[i + 2] as number) << 16)) | 0;
  if (len >= 2) a = (a + ((k[i + 1] as number) << 8)) | 0;
  if (len >= 1) a = (a + (k[i] as number)) | 0;
  c ^= b;
  c = (c - rot(b, 14)) | 0;
  a ^= c;
  a = (a - rot(c, 11)) | 0;
  b ^= a;
  b = (b - rot(a, 25)) | 0;
  c ^= b;
  c = (c - rot(b, 16)) | 0;
  a ^= c;
  a = (a - rot(c, 4)) | 0;
  b ^= a;
  b = (b - rot(a, 14)) | 0;
  c ^= b;
  c = (c - rot(b, 24)) | 0;
  out[0] = b;
  out[1] = c;
}

/** Builds canonical renderings of converted rows and folds them into a checksum. */
export class RowChecksum {
  private readonly canon: (((v: string) => string) | null)[];
  private readonly quoted: boolean[];
  private readonly base: ChecksumState;
  // The signed 64-bit hashes are summed as a signed upper and an unsigned lower 32-bit part in plain numbers
  // (exact while fewer than 2^20 rows are pending) and folded into BigInts now and then: a BigInt add per row
  // would allocate.
  private pending = 0;
  private hi = 0;
  private lo = 0;
  private bytes = 0;
  private readonly pair = new Uint32Array(2);
  private scratch = Buffer.allocUnsafe(1 << 16);

  constructor(kinds: readonly Kind[], initial: ChecksumState = emptyChecksum()) {
    this.canon = kinds.map(canonicalizer);
    this.quoted = kinds.map(canonicalQuoted);
    this.base = { ...initial };
  }

  /** The running total (rows and both sums). */
  get state(): ChecksumState {
    this.fold();
    return { ...this.base };
  }

  private fold(): void {
    if (this.pending === 0) return;
    this.base.rows += this.pending;
    this.base.sumHigh += (BigInt(this.hi) << 32n) + BigInt(this.lo);
    this.base.sumLow += BigInt(this.bytes);
    this.pending = this.hi = this.lo = this.bytes = 0;
  }

  private addBytes(data: Uint8Array, length: number): void {
    hashBytesExtended(data, 0, length, this.pair);
    this.hi += (this.pair[0] as number) | 0;
    this.lo += this.pair[1] as number;
    this.bytes += length;
    if (++this.pending === 1 << 20) this.fold();
  }

  /** The canonical field of value i (in copy order). */
  private field(i: number, v: string | null): string {
    if (v === null) return '';
    const fn = this.canon[i];
    return csvField(fn ? fn(v) : v, this.quoted[i] === true);
  }

  /** The canonical rendering of one converted row (exposed for tests). */
  render(values: readonly (string | null)[]): string {
    let out = '';
    for (let i = 0; i < values.length; i++) {
      if (i > 0) out += '\t';
      out += this.field(i, values[i] ?? null);
    }
    return out;
  }

  add(values: readonly (string | null)[]): void {
    const text = this.render(values);
    const length = Buffer.byteLength(text);
    if (length > this.scratch.length) this.scratch = Buffer.allocUnsafe(length * 2);
    this.scratch.write(text, 0, 'utf8');
    this.addBytes(this.scratch, length);
  }

  /**
   * Adds a row whose first `nSimple` fields SQLite already rendered (`segment`, fastpath.ts; identical to `render`
   * for those columns) and whose remaining values are converted strings.
   */
  addParts(segment: Uint8Array, rest: readonly (string | null)[], nSimple: number): void {
    if (rest.length === 0) {
      this.addBytes(segment, segment.length);
      return;
    }
    let tail = '';
    for (let j = 0; j < rest.length; j++) {
      if (j > 0 || nSimple > 0) tail += '\t';
      tail += this.field(nSimple + j, rest[j] ?? null);
    }
    const need = segment.length + tail.length * 3;
    if (need > this.scratch.length) this.scratch = Buffer.allocUnsafe(need * 2);
    this.scratch.set(segment, 0);
    const length = segment.length + this.scratch.write(tail, segment.length, 'utf8');
    this.addBytes(this.scratch, length);
  }
}

/** The query that computes the same checksum inside PostgreSQL for a table, reading every stored row. */
export function pgChecksumSql(table: string, columns: readonly { name: string; kind: Kind }[]): string {
  const q = `E'\\x01'`;
  const fields = columns.map(({ name, kind }) => {
    const r = pgCanonicalExpr(kind, quoteIdent(name));
    const value = canonicalQuoted(kind) ? `${q} || replace(${r}, ${q}, ${q} || ${q}) || ${q}` : r;
    return `coalesce(${value}, '')`;
  });
  const row = fields.length > 0 ? fields.join(` || E'\\t' || `) : "''";
  // `OFFSET 0` keeps the subquery from being flattened: flattened, PostgreSQL copies the rendering `r` into both
  // aggregates and renders every row twice (EXPLAIN VERBOSE shows it); a subquery with OFFSET is planned on its own
  // (https://www.postgresql.org/docs/17/queries-limit.html, "OFFSET 0 is the same as omitting the OFFSET clause",
  // and the planner does not pull up subqueries with LIMIT/OFFSET). That halves the server's CPU per table
  // (bench/migrate-checksum.ts). `sum(bigint)` is already exact: it returns numeric
  // (https://www.postgresql.org/docs/17/functions-aggregate.html), so no per-row cast to numeric is needed.
  return (
    `SELECT count(*)::bigint AS rows, ` +
    `coalesce(sum(hashtextextended(r, 0)), 0)::text AS high, ` +
    `coalesce(sum(octet_length(r)), 0)::text AS low ` +
    `FROM (SELECT ${row} AS r FROM ${quoteIdent(table)} OFFSET 0) AS rendered`
  );
}

/** The quote character, re-exported for tests of the rendering. */
export { CSV_QUOTE };
