/**
 * The fast path, pure: SQL that lets SQLite itself render the common, provably valid values of a row as COPY text
 * (and as canonical checksum text), so that JavaScript handles one byte string per row instead of one call per value.
 *
 * Only "simple" kinds qualify — integers, booleans, text/varchar, canonical naive datetimes and dates, json — and
 * only values whose validity SQL can prove: the right storage class, the range, the length in characters, a real
 * calendar date, no U+0001 (the CSV quote character). Each row carries a flag; a row with any value not proven valid is re-read and converted by the
 * ordinary converters (convert.ts), which also name the problem. UTF-8 validity and NUL bytes, which SQL cannot see,
 * are checked on the row's bytes in JavaScript (one native `isUtf8` call per row). Floats, numerics, binary, jsonb,
 * UUIDs, times and zoned timestamps always take the ordinary path.
 *
 * Columns travel in "copy order": the simple ones first, then the others (COPY names its columns, and the checksum
 * renders in the same order on both sides), so the SQL-rendered part of a line is one contiguous byte string.
 */
import type { Kind, TargetType } from './schema';

export function isSimple(type: TargetType): boolean {
  switch (type.kind) {
    case 'int2':
    case 'int4':
    case 'int8':
    case 'bool':
    case 'text':
    case 'date':
    case 'json':
      return true;
    case 'timestamp':
      return type.precision === undefined || type.precision === 6;
    default:
      return false;
  }
}

/** Dates and datetimes: rendered by SQLite as written, but validated in JavaScript (cheaper than SQL's date()). */
export function isTemporal(type: TargetType): boolean {
  return isSimple(type) && (type.kind === 'timestamp' || type.kind === 'date');
}

/**
 * Column indexes in copy order: simple temporal columns first (so JavaScript finds them at the start of the row's
 * bytes), then the other simple ones, then the rest; each group in table order.
 */
export function copyOrder(types: readonly TargetType[]): number[] {
  const idx = types.map((_, i) => i);
  const t = (i: number) => types[i] as TargetType;
  return [
    ...idx.filter((i) => isTemporal(t(i))),
    ...idx.filter((i) => isSimple(t(i)) && !isTemporal(t(i))),
    ...idx.filter((i) => !isSimple(t(i))),
  ];
}

/** The decimal digit at b[i], or a large negative number (so that any sum it enters fails the range checks). */
function digitAt(b: Uint8Array, i: number): number {
  const c = (b[i] as number) - 48;
  return c >= 0 && c <= 9 ? c : -100000;
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Validates a date (`YYYY-MM-DD`) or naive datetime (`YYYY-MM-DD HH:MM:SS[.f{1,6}]`) written as bytes at
 * `[start, end)`: the exact formats the fast path passes through unchanged. Anything else (other layouts, offsets,
 * impossible dates or times) returns false and takes the ordinary converter, which names the problem.
 */
export function validTemporalBytes(b: Uint8Array, start: number, end: number, withTime: boolean): boolean {
  const len = end - start;
  if (withTime ? len !== 19 && (len < 21 || len > 26) : len !== 10) return false;
  if (b[start + 4] !== 45 || b[start + 7] !== 45) return false;
  const year =
    digitAt(b, start + 0) * 1000 + digitAt(b, start + 1) * 100 + digitAt(b, start + 2) * 10 + digitAt(b, start + 3);
  const month = digitAt(b, start + 5) * 10 + digitAt(b, start + 6);
  const day = digitAt(b, start + 8) * 10 + digitAt(b, start + 9);
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (day > (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month] as number))) return false;
  if (!withTime) return true;
  if (b[start + 10] !== 32 || b[start + 13] !== 58 || b[start + 16] !== 58) return false;
  const hour = digitAt(b, start + 11) * 10 + digitAt(b, start + 12);
  const minute = digitAt(b, start + 14) * 10 + digitAt(b, start + 15);
  const second = digitAt(b, start + 17) * 10 + digitAt(b, start + 18);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  if (len === 19) return true;
  if (b[start + 19] !== 46) return false;
  for (let i = 20; i < len; i++) if (digitAt(b, start + i) < 0) return false;
  return true;
}

const INT_RANGE: Partial<Record<Kind, readonly [string, string]>> = {
  int2: ['-32768', '32767'],
  int4: ['-2147483648', '2147483647'],
  int8: ['-9223372036854775808', '9223372036854775807'],
};

/**
 * What SQLite's own rules already guarantee about a source column's stored values (https://sqlite.org/datatype3.html):
 * a TEXT-affinity column holds only text, blobs and NULLs (numbers are turned into text on insert); a NUMERIC or
 * INTEGER one turns any well-formed numeric text into a number; a rowid alias holds only integers.
 */
export interface SourceFacts {
  readonly affinity: 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC';
  readonly rowidAlias: boolean;
}

/**
 * SQL that is true when the value is NULL or certainly converts on the fast path. Type checks that the column's
 * affinity makes redundant are left out (each costs a function call per row): a blob in a TEXT column renders
 * its bytes, which JavaScript checks as UTF-8 exactly like the converter does for blobs in text columns.
 */
export function okSql(
  type: TargetType,
  c: string,
  facts: SourceFacts = { affinity: 'BLOB', rowidAlias: false },
): string {
  switch (type.kind) {
    case 'int2':
    case 'int4':
    case 'int8': {
      const [lo, hi] = INT_RANGE[type.kind] ?? ['0', '0'];
      if (facts.rowidAlias) return type.kind === 'int8' ? '1' : `(${c} BETWEEN ${lo} AND ${hi})`;
      return `(${c} IS NULL OR (typeof(${c}) = 'integer' AND ${c} BETWEEN ${lo} AND ${hi}))`;
    }
    case 'bool':
      // NUMERIC/INTEGER affinity: text '1' became integer 1, so only an integer (or NULL) can equal 0 or 1.
      return facts.affinity === 'NUMERIC' || facts.affinity === 'INTEGER'
        ? `(${c} IS NULL OR ${c} IN (0, 1))`
        : `(${c} IS NULL OR (typeof(${c}) = 'integer' AND ${c} IN (0, 1)))`;
    case 'text': {
      const kindCheck = facts.affinity === 'TEXT' ? '' : `typeof(${c}) = 'text' AND `;
      const lengthCheck = type.maxLength === undefined ? '' : `length(${c}) <= ${type.maxLength} AND `;
      return `(${c} IS NULL OR (${kindCheck}${lengthCheck}instr(${c}, char(1)) = 0))`;
    }
    case 'json':
      return `(${c} IS NULL OR (typeof(${c}) = 'text' AND instr(${c}, char(1)) = 0 AND json_valid(${c})))`;
    case 'date':
      // The layout and the calendar are checked in JavaScript on the row's bytes (validTemporalBytes).
      return `(${c} IS NULL OR typeof(${c}) = 'text')`;
    case 'timestamp':
      // As for dates; beyond the seconds only '.' and digits may follow, or copySql's trimming would drop junk
      // ("…:00.." would become "…:00").
      return (
        `(${c} IS NULL OR (typeof(${c}) = 'text' AND (length(${c}) <= 19 OR (length(${c}) > 20 AND ` +
        `substr(${c}, 20, 1) = '.' AND substr(${c}, 21) NOT GLOB '*[^0-9]*'))))`
      );
    default:
      return '0';
  }
}

/**
 * SQL rendering of a proven-valid value as a COPY CSV field (see CSV_QUOTE in convert.ts; NULL is empty). It is
 * also the value's canonical checksum field, so one byte string per row serves both.
 */
export function copySql(type: TargetType, c: string): string {
  switch (type.kind) {
    case 'bool':
      return `CASE ${c} WHEN 1 THEN 't' WHEN 0 THEN 'f' ELSE '' END`;
    case 'text':
    case 'json':
      return `CASE WHEN ${c} IS NULL THEN '' ELSE char(1) || ${c} || char(1) END`;
    case 'timestamp':
      // Fractional seconds without trailing zeros: PostgreSQL's own output form, so this is also the canonical
      // rendering the checksum hashes (checksum.ts). The stored value is the same.
      return `CASE WHEN ${c} IS NULL THEN '' WHEN length(${c}) > 19 THEN rtrim(rtrim(${c}, '0'), '.') ELSE ${c} END`;
    default:
      // Integers render exactly; dates go as written.
      return `coalesce(CAST(${c} AS TEXT), '')`;
  }
}

/**
 * SQL encoding of a complex column's raw value inside the row's byte string, so that the whole table can be read in
 * SQLite-joined batches (sqlite-source.ts selectGrouped) like the all-simple ones. Self-delimiting, and exact: the
 * reader rebuilds the very RawValue the library would have returned (decodeComplex in engine.ts), and the ordinary
 * converter runs on it. `n` NULL; `i<integer>:`; `r<printf('%!.17g')>:` — 17 significant digits round-trip every
 * finite double (checked on SQLite 3.53 against millions of random bit patterns, both ways); `t<bytes>:<text bytes>`;
 * `b<bytes>:<blob bytes>` (|| copies bytes by length, NULs and invalid UTF-8 included); `z` for a real zero (printf
 * drops the sign of -0) or infinity: that row takes the ordinary path.
 */
export function complexSql(c: string): string {
  return (
    `CASE typeof(${c}) WHEN 'null' THEN 'n' WHEN 'integer' THEN 'i' || ${c} || ':' ` +
    `WHEN 'real' THEN CASE WHEN ${c} = 0 OR abs(${c}) > 1.7976931348623157e308 THEN 'z' ` +
    `ELSE 'r' || printf('%!.17g', ${c}) || ':' END ` +
    `WHEN 'text' THEN 't' || length(CAST(${c} AS BLOB)) || ':' || ${c} ELSE 'b' || length(${c}) || ':' || ${c} END`
  );
}

/**
 * The select list of the fast path for a rowid table: one value `s` = "<rowid>:<0 or -1>:" + each complex value
 * encoded by complexSql + the CSV segment of the simple columns (the mask is -1 when a simple value is not proven
 * valid). `simple` and `complex` are quoted SQLite column names with their target types.
 */
export function fastSelect(
  simple: readonly { col: string; type: TargetType; facts?: SourceFacts }[],
  complex: readonly { col: string; type: TargetType }[],
): string {
  const ok = simple.length > 0 ? simple.map((s) => okSql(s.type, s.col, s.facts)).join(' AND ') : '1';
  const seg = simple.length > 0 ? simple.map((s) => copySql(s.type, s.col)).join(' || char(9) || ') : "''";
  const enc = complex.map((c) => ` || ${complexSql(c.col)}`).join('');
  // One value per row (and SQLite joins a batch of them into one): each value costs the library a round trip.
  return `CAST(rowid || ':' || (CASE WHEN ${ok} THEN 0 ELSE -1 END) || ':'${enc} || ${seg} AS BLOB) AS "s"`;
}
