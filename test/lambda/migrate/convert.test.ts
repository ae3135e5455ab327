import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { doubleHex, jsonbCanonical } from '../../../lambda/migrate/canonical';
import {
  codePointLength,
  converterFor,
  copyEscape,
  decodeText,
  excerpt,
  parseDateTime,
  plainDecimal,
  type RawValue,
  trimScale,
  ValueProblem,
} from '../../../lambda/migrate/convert';
import type { TargetType } from '../../../lambda/migrate/schema';

const text = (s: string) => new TextEncoder().encode(s);
const bytes = (...b: number[]) => new Uint8Array(b);
const convert = (type: TargetType, raw: RawValue, isText = raw instanceof Uint8Array) =>
  converterFor(type)(raw, isText);
const reason = (out: unknown) => (out instanceof ValueProblem ? out.reason : `converted: ${String(out)}`);

const INT4: TargetType = { kind: 'int4', sql: 'integer' };
const INT8: TargetType = { kind: 'int8', sql: 'bigint' };
const TS: TargetType = { kind: 'timestamp', sql: 'timestamp(6) without time zone' };

describe('integer conversion', () => {
  it('keeps 64-bit integers exact beyond 2^53', () => {
    assert.equal(convert(INT8, 9007199254740993n), '9007199254740993');
    assert.equal(convert(INT8, 9223372036854775807n), '9223372036854775807');
    assert.equal(convert(INT8, -9223372036854775808n), '-9223372036854775808');
  });
  it('refuses integers outside the target type', () => {
    assert.match(reason(convert(INT4, 3000000000)), /outside the integer range/);
    assert.match(reason(convert({ kind: 'int2', sql: 'smallint' }, 40000)), /outside the smallint range/);
    assert.equal(convert(INT4, 2147483647), '2147483647');
  });
  it('refuses text and fractions in an integer column, accepts canonical integer text', () => {
    assert.match(reason(convert(INT4, text('lots'))), /not an integer/);
    assert.match(reason(convert(INT4, text(' 12'))), /not an integer/);
    assert.match(reason(convert(INT4, text('007'))), /not an integer/);
    assert.match(reason(convert(INT4, 1.5)), /real value 1.5/);
    assert.equal(convert(INT4, text('-12')), '-12');
    assert.equal(convert(INT4, null), null);
  });
});

describe('boolean conversion', () => {
  const BOOL: TargetType = { kind: 'bool', sql: 'boolean' };
  it('maps SQLAlchemy 0/1 to false/true and refuses anything else', () => {
    assert.equal(convert(BOOL, 0), 'f');
    assert.equal(convert(BOOL, 1), 't');
    assert.equal(convert(BOOL, text('true')), 't');
    assert.match(reason(convert(BOOL, 2)), /not a boolean/);
    assert.match(reason(convert(BOOL, text('yes'))), /not a boolean/);
  });
});

describe('datetime conversion', () => {
  it('keeps the exact wall-clock value in PostgreSQL output form', () => {
    assert.equal(convert(TS, text('2024-03-05 07:08:09.123400')), '2024-03-05 07:08:09.1234');
    assert.equal(convert(TS, text('2024-03-05 07:08:09')), '2024-03-05 07:08:09');
    assert.equal(convert(TS, text('2024-03-05T07:08')), '2024-03-05 07:08:00');
    assert.equal(convert(TS, text('2024-03-05')), '2024-03-05 00:00:00');
    assert.equal(convert(TS, text('2024-02-29 23:59:59.999999')), '2024-02-29 23:59:59.999999');
  });
  it('refuses impossible dates, epochs, offsets, non-dates and sub-microsecond digits', () => {
    assert.match(reason(convert(TS, text('2023-02-29 10:00:00'))), /impossible date/);
    assert.match(reason(convert(TS, text('2024-01-01 24:00:00'))), /impossible time/);
    assert.match(reason(convert(TS, 1700000000)), /epoch/);
    assert.match(reason(convert(TS, text('2024-01-01 10:00:00+09:00'))), /UTC offset/);
    assert.match(reason(convert(TS, text('2024-01-01 10:00:00Z'))), /UTC offset/);
    assert.match(reason(convert(TS, text('yesterday'))), /not a datetime/);
    assert.match(reason(convert(TS, text('2024-01-01 10:00:00.1234567'))), /would be rounded/);
  });
  it('writes naive values into timestamptz explicitly as UTC', () => {
    assert.equal(
      convert({ kind: 'timestamptz', sql: 'timestamptz' }, text('2024-01-01 10:00:00')),
      '2024-01-01 10:00:00+00',
    );
  });
  it('refuses a time of day in a date column (it would be dropped)', () => {
    const DATE: TargetType = { kind: 'date', sql: 'date' };
    assert.equal(convert(DATE, text('2000-02-29')), '2000-02-29');
    assert.match(reason(convert(DATE, text('2000-02-29 10:00:00'))), /time of day/);
    assert.match(reason(convert(DATE, text('1900-02-29'))), /impossible date/);
  });
  it('parses with a reduced precision for timestamp(p) targets', () => {
    assert.ok(parseDateTime('2024-01-01 00:00:00.5', 'timestamp', 0) instanceof ValueProblem);
    assert.deepEqual(parseDateTime('2024-01-01 00:00:00.500', 'timestamp', 1), { value: '2024-01-01 00:00:00.5' });
  });
});

describe('text conversion', () => {
  const VARCHAR5: TargetType = { kind: 'text', sql: 'character varying(5)', maxLength: 5 };
  it('counts characters, not bytes or UTF-16 units, against varchar(n)', () => {
    assert.equal(convert(VARCHAR5, text('한국어🎉!')), '한국어🎉!');
    assert.match(reason(convert(VARCHAR5, text('한국어🎉!!'))), /6 characters exceed varchar\(5\)/);
    assert.equal(codePointLength('👍🏽'), 2);
  });
  it('refuses NUL bytes and invalid UTF-8, and keeps a byte-order mark', () => {
    assert.match(reason(convert(VARCHAR5, bytes(0x61, 0, 0x62))), /NUL byte at byte 1/);
    assert.match(reason(convert(VARCHAR5, bytes(0x41, 0xc3, 0x28))), /invalid UTF-8 at byte 1/);
    assert.match(reason(convert(VARCHAR5, bytes(0xed, 0xa0, 0x80))), /invalid UTF-8 at byte 0/);
    assert.equal(decodeText(bytes(0xef, 0xbb, 0xbf, 0x41)), '\ufeffA');
  });
  it('escapes exactly the characters COPY gives meaning to', () => {
    assert.equal(copyEscape('a\tb\nc\rd\\e'), 'a\\tb\\nc\\rd\\\\e');
    assert.equal(copyEscape('plain 한글'), 'plain 한글');
  });
});

describe('float and numeric conversion', () => {
  const F8: TargetType = { kind: 'float8', sql: 'double precision' };
  it('renders doubles so PostgreSQL reads back the same bits, including -0', () => {
    assert.equal(convert(F8, 0.1 + 0.2), '0.30000000000000004');
    assert.equal(convert(F8, -0), '-0');
    assert.equal(convert(F8, 1e300), '1e+300');
    assert.match(reason(convert(F8, 9007199254740993n)), /no exact double precision/);
    assert.equal(doubleHex(1), '3ff0000000000000');
  });
  it('refuses float4 targets for values a float4 cannot hold', () => {
    assert.match(reason(convert({ kind: 'float4', sql: 'real' }, 0.1)), /no exact real/);
    assert.equal(convert({ kind: 'float4', sql: 'real' }, 0.5), '0.5');
  });
  it('renders decimals without exponent and refuses values numeric(p,s) would round', () => {
    assert.equal(plainDecimal('1.5e1'), '15');
    assert.equal(plainDecimal('1.50'), '1.50');
    assert.equal(plainDecimal('1e-2'), '0.01');
    assert.equal(plainDecimal('-0'), '0');
    assert.equal(plainDecimal('007.5'), '7.5');
    assert.equal(trimScale('12.3400'), '12.34');
    const N: TargetType = { kind: 'numeric', sql: 'numeric(10,2)', precision: 10, scale: 2 };
    assert.equal(convert(N, 1234.5), '1234.5');
    assert.match(reason(convert(N, 1.234)), /more than 2 decimal places/);
    assert.match(reason(convert(N, 123456789)), /does not fit numeric\(10,2\)/);
  });
});

describe('JSON, binary and UUID conversion', () => {
  const JSON_T: TargetType = { kind: 'json', sql: 'json' };
  it('keeps JSON text exactly and refuses invalid JSON', () => {
    assert.equal(convert(JSON_T, text('{"b":1,  "a":[1.50]}')), '{"b":1,  "a":[1.50]}');
    assert.equal(convert(JSON_T, 42), '42');
    assert.match(reason(convert(JSON_T, text('{"a":'))), /invalid JSON/);
  });
  it('refuses \\u0000 for jsonb and renders jsonb canonically', () => {
    assert.match(reason(convert({ kind: 'jsonb', sql: 'jsonb' }, text('"a\\u0000"'))), /jsonb cannot store/);
    assert.equal(jsonbCanonical('{"bb": 1.50, "a": [1e2, -0], "bb": true}'), '{"a": [100, 0], "bb": true}');
  });
  it('renders blobs as bytea hex and refuses numbers in a binary column', () => {
    const BYTEA: TargetType = { kind: 'bytea', sql: 'bytea' };
    assert.equal(convert(BYTEA, bytes(0, 255), false), '\\x00ff');
    assert.match(reason(convert(BYTEA, 5)), /number in a binary/);
  });
  it('normalises UUIDs to the lower-case dashed form', () => {
    assert.equal(
      convert({ kind: 'uuid', sql: 'uuid' }, text('0123456789ABCDEF0123456789ABCDEF')),
      '01234567-89ab-cdef-0123-456789abcdef',
    );
  });
});

describe('excerpts', () => {
  it('shows control bytes and invalid UTF-8 as escapes and cuts long values', () => {
    assert.equal(excerpt(bytes(0x41, 0xc3, 0x28, 0x0a), true), 'A\\xc3(\\x0a');
    assert.equal(excerpt(text('가'.repeat(100)), true, 10), `${'가'.repeat(10)}…`);
    assert.equal(excerpt(bytes(1, 2), false), "x'0102' (2 bytes)");
    assert.equal(excerpt(9223372036854775807n, false), '9223372036854775807');
  });
});
