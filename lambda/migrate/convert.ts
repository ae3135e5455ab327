/**
 * Value conversion, pure: one raw SQLite value → the exact PostgreSQL text representation for a target type, or the
 * reason it cannot be converted without loss. Nothing here rounds, truncates, trims, re-zones or guesses.
 *
 * A converted value is PostgreSQL's own output form for that value (e.g. `2024-01-02 03:04:05.5` for a timestamp),
 * so the same string serves the COPY stream and the canonical rendering the checksum is computed over.
 */
import type { Kind, TargetType } from './schema';

export type RawValue = number | bigint | Uint8Array | null;

/** Why a value was refused. An instance, not a thrown error: bad values are data, and rows have many of them. */
export class ValueProblem {
  constructor(
    readonly reason: string,
    /** The reason without the value's particulars, so that reports can count problems of one kind. */
    readonly summary: string = reason,
  ) {}
}

export type Converted = string | null | ValueProblem;
export type Converter = (raw: RawValue, isText: boolean) => Converted;

// ignoreBOM: a leading U+FEFF is part of the value; the default would drop it silently.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes text bytes strictly: invalid UTF-8 and NUL (which PostgreSQL text cannot hold) are problems. */
export function decodeText(bytes: Uint8Array): string | ValueProblem {
  const nul = bytes.indexOf(0);
  if (nul !== -1)
    return new ValueProblem(
      `contains a NUL byte at byte ${nul}; PostgreSQL text cannot store it`,
      'contains a NUL byte; PostgreSQL text cannot store it',
    );
  try {
    return utf8.decode(bytes);
  } catch {
    return new ValueProblem(`invalid UTF-8 at byte ${firstInvalidUtf8(bytes)}`, 'invalid UTF-8');
  }
}

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    const need =
      b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
    }
    if (need === 2) {
      const c = bytes[i + 1] as number;
      if ((b === 0xe0 && c < 0xa0) || (b === 0xed && c >= 0xa0)) return i;
    }
    if (need === 3) {
      const c = bytes[i + 1] as number;
      if ((b === 0xf0 && c < 0x90) || (b === 0xf4 && c >= 0x90)) return i;
    }
    i += need + 1;
  }
  return i;
}

/** A short, printable rendering of a raw value for reports: control bytes and invalid UTF-8 shown as escapes. */
export function excerpt(raw: RawValue, isText: boolean, max = 60): string {
  if (raw === null) return 'NULL';
  if (typeof raw === 'number') return formatDouble(raw);
  if (typeof raw === 'bigint') return raw.toString();
  if (!isText) {
    const hex = Buffer.from(raw.subarray(0, 24)).toString('hex');
    return `x'${hex}${raw.length > 24 ? '…' : ''}' (${raw.length} bytes)`;
  }
  let out = '';
  let i = 0;
  while (i < raw.length && out.length < max) {
    const bad = firstInvalidUtf8(raw.subarray(i));
    const goodEnd = i + bad;
    const good = Buffer.from(raw.subarray(i, goodEnd)).toString('utf8');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rendering control characters visibly is the point
    out += good.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
    if (goodEnd < raw.length) {
      out += `\\x${(raw[goodEnd] as number).toString(16).padStart(2, '0')}`;
      i = goodEnd + 1;
    } else {
      i = goodEnd;
    }
  }
  const chars = [...out];
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : out;
}

/** JavaScript's shortest round-trip rendering of a double, keeping the sign of zero; PostgreSQL parses it exactly. */
export function formatDouble(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * A decimal literal (optionally with exponent) in PostgreSQL numeric's output form: no exponent, no leading zeros,
 * the scale the literal implies (`1.50` stays `1.50`, `1.5e1` → `15`, `1e-2` → `0.01`). Null if not a decimal.
 */
export function plainDecimal(literal: string): string | null {
  const m = DECIMAL.exec(literal);
  if (!m) return null;
  const [, sign, intPart = '', fracPart = '', expPart] = m;
  if (intPart === '' && fracPart === '') return null;
  const exp = expPart === undefined ? 0 : Number(expPart);
  if (!Number.isSafeInteger(exp) || Math.abs(exp) > 100_000) return null;
  const digits = intPart + fracPart;
  let point = intPart.length + exp;
  let scale = Math.max(0, fracPart.length - exp);
  let whole: string;
  let frac: string;
  if (point <= 0) {
    whole = '0';
    frac = '0'.repeat(-point) + digits;
    point = 0;
  } else if (point >= digits.length) {
    whole = digits + '0'.repeat(point - digits.length);
    frac = '';
  } else {
    whole = digits.slice(0, point);
    frac = digits.slice(point);
  }
  frac = frac.padEnd(scale, '0').slice(0, Math.max(scale, 0));
  whole = whole.replace(/^0+(?=\d)/, '');
  if (whole === '') whole = '0';
  scale = frac.length;
  const body = scale > 0 ? `${whole}.${frac}` : whole;
  const zero = /^0(\.0*)?$/.test(body);
  return (sign === '-' && !zero ? '-' : '') + body;
}

/** PostgreSQL `trim_scale(numeric)::text`: trailing fractional zeros removed. */
export function trimScale(decimal: string): string {
  if (!decimal.includes('.')) return decimal;
  const trimmed = decimal.replace(/\.?0+$/, '');
  return trimmed === '-0' ? '0' : trimmed;
}

const INT_LIMITS: Record<'int2' | 'int4' | 'int8', readonly [bigint, bigint]> = {
  int2: [-32768n, 32767n],
  int4: [-2147483648n, 2147483647n],
  int8: [-9223372036854775808n, 9223372036854775807n],
};
const INT_NAMES = { int2: 'smallint', int4: 'integer', int8: 'bigint' } as const;

function integerConverter(kind: 'int2' | 'int4' | 'int8'): Converter {
  const [lo, hi] = INT_LIMITS[kind];
  const loN = Number(lo);
  const hiN = Number(hi);
  const outside = (v: string) =>
    new ValueProblem(
      `${v} is outside the ${INT_NAMES[kind]} range [${lo}, ${hi}]`,
      `outside the ${INT_NAMES[kind]} range [${lo}, ${hi}]`,
    );
  return (raw, isText) => {
    if (raw === null) return null;
    if (typeof raw === 'number') {
      if (!Number.isInteger(raw))
        return new ValueProblem(
          `real value ${formatDouble(raw)} in an integer column`,
          'real value in an integer column',
        );
      if (raw < loN || raw > hiN) return outside(formatDouble(raw));
      return Number.isSafeInteger(raw) ? String(raw) : BigInt(raw).toString();
    }
    if (typeof raw === 'bigint') return raw < lo || raw > hi ? outside(raw.toString()) : raw.toString();
    if (!isText) return new ValueProblem('binary (BLOB) value in an integer column');
    const text = decodeText(raw);
    if (text instanceof ValueProblem) return text;
    if (!/^-?(0|[1-9]\d*)$/.test(text)) return new ValueProblem('text that is not an integer in an integer column');
    const big = BigInt(text);
    return big < lo || big > hi ? outside(text) : big.toString();
  };
}

const boolConverter: Converter = (raw, isText) => {
  if (raw === null) return null;
  if (raw === 0 || raw === 0n) return 'f';
  if (raw === 1 || raw === 1n) return 't';
  if (raw instanceof Uint8Array && isText) {
    const text = decodeText(raw);
    if (typeof text === 'string') {
      const t = text.toLowerCase();
      if (t === 'true' || t === '1') return 't';
      if (t === 'false' || t === '0') return 'f';
    }
  }
  return new ValueProblem('not a boolean (expected 0 or 1)');
};

function floatConverter(single: boolean): Converter {
  const name = single ? 'real' : 'double precision';
  return (raw, isText) => {
    if (raw === null) return null;
    let x: number;
    if (typeof raw === 'number') x = raw;
    else if (typeof raw === 'bigint') {
      x = Number(raw);
      if (BigInt(x) !== raw)
        return new ValueProblem(
          `integer ${raw} has no exact ${name} representation`,
          `integer with no exact ${name} representation`,
        );
    } else if (isText) {
      const text = decodeText(raw);
      if (text instanceof ValueProblem) return text;
      x = Number(text);
      if (text.trim() === '' || formatDouble(x) !== text) return new ValueProblem(`text that is not a number`);
    } else {
      return new ValueProblem(`binary (BLOB) value in a ${name} column`);
    }
    if (single && !Number.isNaN(x) && Math.fround(x) !== x) {
      return new ValueProblem(
        `${formatDouble(x)} has no exact real (float4) representation`,
        'no exact real (float4) representation',
      );
    }
    return formatDouble(x);
  };
}

function numericConverter(type: TargetType): Converter {
  const { precision, scale = 0 } = type;
  const fits = (plain: string): ValueProblem | null => {
    if (precision === undefined) return null;
    const [whole = '', frac = ''] = plain.replace('-', '').split('.');
    const fracDigits = frac.replace(/0+$/, '').length;
    const wholeDigits = whole === '0' ? 0 : whole.length;
    if (fracDigits > scale)
      return new ValueProblem(
        `${plain} has more than ${scale} decimal places (would be rounded)`,
        `more than ${scale} decimal places (would be rounded)`,
      );
    if (wholeDigits > precision - scale)
      return new ValueProblem(
        `${plain} does not fit numeric(${precision},${scale})`,
        `does not fit numeric(${precision},${scale})`,
      );
    return null;
  };
  return (raw, isText) => {
    if (raw === null) return null;
    let plain: string | null;
    if (typeof raw === 'number') {
      if (!Number.isFinite(raw)) {
        if (precision !== undefined)
          return new ValueProblem(`${formatDouble(raw)} does not fit ${type.sql}`, `does not fit ${type.sql}`);
        return Number.isNaN(raw) ? 'NaN' : raw > 0 ? 'Infinity' : '-Infinity';
      }
      // Without an exponent, JavaScript's rendering already is numeric's output form (plainDecimal would return it
      // unchanged), except "-0", which numeric has not.
      const shortest = formatDouble(raw);
      plain = shortest.indexOf('e') === -1 ? (shortest === '-0' ? '0' : shortest) : plainDecimal(shortest);
    } else if (typeof raw === 'bigint') {
      plain = raw.toString();
    } else if (isText) {
      const text = decodeText(raw);
      if (text instanceof ValueProblem) return text;
      plain = plainDecimal(text);
      if (plain === null) return new ValueProblem('text that is not a decimal number');
    } else {
      return new ValueProblem('binary (BLOB) value in a numeric column');
    }
    if (plain === null) return new ValueProblem('not a decimal number');
    return fits(plain) ?? plain;
  };
}

function textConverter(maxLength: number | undefined): Converter {
  return (raw) => {
    if (raw === null) return null;
    let text: string | ValueProblem;
    if (typeof raw === 'number') text = formatDouble(raw);
    else if (typeof raw === 'bigint') text = raw.toString();
    else text = decodeText(raw);
    if (text instanceof ValueProblem) return text;
    if (maxLength !== undefined && text.length > maxLength) {
      const chars = codePointLength(text);
      if (chars > maxLength) {
        return new ValueProblem(
          `${chars} characters exceed varchar(${maxLength}) (would be truncated)`,
          `longer than varchar(${maxLength}) (would be truncated)`,
        );
      }
    }
    return text;
  };
}

export function codePointLength(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = text.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) n--;
    }
  }
  return n;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : (DAYS[month - 1] ?? 0);
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?(.*)$/;

/**
 * Parses a naive date/time as SQLAlchemy and SQLite write it (`YYYY-MM-DD[ HH:MM[:SS[.ffffff]]]`) into PostgreSQL's
 * output form. Refuses impossible dates, offsets (a naive column cannot keep them) and sub-microsecond digits.
 */
export function parseDateTime(
  text: string,
  what: 'timestamp' | 'date',
  fractionDigits = 6,
): { value: string } | ValueProblem {
  const m = DATETIME.exec(text);
  if (!m) return new ValueProblem(`not a ${what === 'date' ? 'date' : 'datetime'} (expected YYYY-MM-DD HH:MM:SS)`);
  const [, ys, mos, ds, hs, mis, ss, fs = '', rest = ''] = m;
  if (rest !== '') {
    return /^\s*(Z|[+-]\d{2}(:?\d{2})?)$/i.test(rest)
      ? new ValueProblem('has a UTC offset, but the column holds naive wall-clock times (refusing to shift it)')
      : new ValueProblem(
          `not a ${what === 'date' ? 'date' : 'datetime'} (unexpected "${rest.slice(0, 20)}")`,
          `not a ${what === 'date' ? 'date' : 'datetime'} (unexpected text after it)`,
        );
  }
  if (what === 'date' && hs !== undefined) return new ValueProblem('has a time of day, which a date column would drop');
  const y = Number(ys);
  const mo = Number(mos);
  const d = Number(ds);
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo)) return new ValueProblem('impossible date');
  if (what === 'date') return { value: `${ys}-${mos}-${ds}` };
  const h = Number(hs ?? '0');
  const mi = Number(mis ?? '0');
  const s = Number(ss ?? '0');
  if (h > 23 || mi > 59 || s > 59) return new ValueProblem('impossible time of day');
  const frac = fs.replace(/0+$/, '');
  if (frac.length > fractionDigits) {
    return new ValueProblem(`more than ${fractionDigits} fractional second digits (would be rounded)`);
  }
  return { value: `${ys}-${mos}-${ds} ${hs ?? '00'}:${mis ?? '00'}:${ss ?? '00'}${frac ? `.${frac}` : ''}` };
}

function dateTimeConverter(kind: 'timestamp' | 'timestamptz' | 'date', precision: number | undefined): Converter {
  const what = kind === 'date' ? 'date' : 'timestamp';
  return (raw, isText) => {
    if (raw === null) return null;
    if (typeof raw === 'number' || typeof raw === 'bigint') {
      return new ValueProblem(
        `number ${typeof raw === 'number' ? formatDouble(raw) : raw} in a ${what} column (an epoch? its time zone is unknown; refusing to guess)`,
        `number in a ${what} column (an epoch? its time zone is unknown; refusing to guess)`,
      );
    }
    if (!isText) return new ValueProblem(`binary (BLOB) value in a ${what} column`);
    const text = decodeText(raw);
    if (text instanceof ValueProblem) return text;
    const parsed = parseDateTime(text, what, precision ?? 6);
    if (parsed instanceof ValueProblem) return parsed;
    // A naive value going into timestamptz is taken as UTC, stated explicitly so the server's TimeZone plays no part.
    return kind === 'timestamptz' ? `${parsed.value}+00` : parsed.value;
  };
}

const TIME = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?$/;
function timeConverter(precision: number | undefined): Converter {
  return (raw, isText) => {
    if (raw === null) return null;
    if (!(raw instanceof Uint8Array) || !isText) return new ValueProblem('not a time of day (expected HH:MM:SS)');
    const text = decodeText(raw);
    if (text instanceof ValueProblem) return text;
    const m = TIME.exec(text);
    if (!m) return new ValueProblem('not a time of day (expected HH:MM:SS)');
    const [, hs = '', ms = '', ss = '00', fs = ''] = m;
    if (Number(hs) > 23 || Number(ms) > 59 || Number(ss) > 59) return new ValueProblem('impossible time of day');
    const frac = fs.replace(/0+$/, '');
    if (frac.length > (precision ?? 6)) return new ValueProblem('more fractional second digits than the column keeps');
    return `${hs}:${ms}:${ss}${frac ? `.${frac}` : ''}`;
  };
}

function jsonConverter(binary: boolean): Converter {
  return (raw, isText) => {
    if (raw === null) return null;
    if (typeof raw === 'number') {
      if (!Number.isFinite(raw))
        return new ValueProblem(`${raw} is not representable in JSON`, 'not representable in JSON');
      return formatDouble(raw);
    }
    if (typeof raw === 'bigint') return raw.toString();
    const text = decodeText(raw);
    if (text instanceof ValueProblem) return text;
    try {
      JSON.parse(text);
    } catch (error) {
      return new ValueProblem(
        `invalid JSON (${(error as Error).message.slice(0, 80)})${isText ? '' : ' in a BLOB'}`,
        `invalid JSON${isText ? '' : ' in a BLOB'}`,
      );
    }
    if (binary && /(^|[^\\])(\\\\)*\\u0000/.test(text)) {
      return new ValueProblem('JSON contains \\u0000, which jsonb cannot store');
    }
    return text;
  };
}

const byteaConverter: Converter = (raw) => {
  if (raw === null) return null;
  if (raw instanceof Uint8Array) return `\\x${Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('hex')}`;
  return new ValueProblem('number in a binary (BLOB) column');
};

const UUID = /^([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/i;
const uuidConverter: Converter = (raw, isText) => {
  if (raw === null) return null;
  if (!(raw instanceof Uint8Array) || !isText) return new ValueProblem('not a UUID');
  const text = decodeText(raw);
  if (text instanceof ValueProblem) return text;
  const m = UUID.exec(text);
  return m ? m.slice(1).join('-').toLowerCase() : new ValueProblem('not a UUID');
};

/** The converter for one target column type. */
export function converterFor(type: TargetType): Converter {
  switch (type.kind) {
    case 'int2':
    case 'int4':
    case 'int8':
      return integerConverter(type.kind);
    case 'bool':
      return boolConverter;
    case 'float4':
      return floatConverter(true);
    case 'float8':
      return floatConverter(false);
    case 'numeric':
      return numericConverter(type);
    case 'text':
      return textConverter(type.maxLength);
    case 'timestamp':
    case 'timestamptz':
    case 'date':
      return dateTimeConverter(type.kind, type.precision);
    case 'time':
      return timeConverter(type.precision);
    case 'json':
      return jsonConverter(false);
    case 'jsonb':
      return jsonConverter(true);
    case 'bytea':
      return byteaConverter;
    case 'uuid':
      return uuidConverter;
  }
}

/** Converts a default literal the way a text value would be converted (used by schema translation). */
export function convertLiteral(type: TargetType, literal: string): string | null {
  const bytes = new TextEncoder().encode(literal);
  let raw: RawValue = bytes;
  let isText = true;
  if (['int2', 'int4', 'int8', 'float4', 'float8', 'numeric', 'bool'].includes(type.kind)) {
    const n = Number(literal);
    if (literal.trim() !== '' && Number.isFinite(n)) {
      // An integer literal beyond 2^53 stays exact; a huge real literal (`-1.7976931348623157e308`) stays a real.
      raw = /^\s*[+-]?\d+\s*$/.test(literal) && !Number.isSafeInteger(n) ? BigInt(literal.trim()) : n;
      isText = false;
    }
  }
  const out = converterFor(type)(raw, isText);
  return out instanceof ValueProblem ? null : out;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIAL_ALL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** Escapes a field for COPY's text format (the only characters with meaning there are \ tab LF CR). */
export function copyEscape(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c] ?? c) : value;
}

/**
 * The load uses COPY's CSV format with tab as delimiter and the control character U+0001 as the quote: text fields
 * are wrapped in it (a NULL is an empty unquoted field, an empty string an empty quoted one), and since text almost
 * never contains U+0001, SQLite can render fields with no escaping at all (fastpath.ts). Backslashes, tabs and
 * newlines need no escaping inside quotes; a U+0001 inside a value is doubled.
 */
export const CSV_QUOTE = '\u0001';
export const COPY_CSV_OPTIONS = "FORMAT csv, DELIMITER E'\\t', QUOTE E'\\x01', NULL ''";

/** One CSV field for COPY (see CSV_QUOTE); `quoted` for kinds whose values are text. */
export function csvField(value: string | null, quoted: boolean): string {
  if (value === null) return '';
  if (!quoted) return value;
  return value.includes(CSV_QUOTE)
    ? `${CSV_QUOTE}${value.replaceAll(CSV_QUOTE, CSV_QUOTE + CSV_QUOTE)}${CSV_QUOTE}`
    : `${CSV_QUOTE}${value}${CSV_QUOTE}`;
}

/** Whether values of this kind can contain characters COPY must escape (or quote). */
export function needsCopyEscape(kind: Kind): boolean {
  return kind === 'text' || kind === 'json' || kind === 'jsonb' || kind === 'bytea' || kind === 'uuid';
}
