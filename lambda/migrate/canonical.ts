/**
 * The canonical rendering the checksums compare (checksum.ts), on both sides: `canonicalizer` for a converted value
 * here, `pgCanonicalExpr` for the value PostgreSQL stored, producing the same text. Split from convert.ts, whose
 * converters already produce PostgreSQL's output form; this only adds what a plain comparison of that form would get
 * wrong (floats by their bits, numerics without trailing zeros, bytea by digest, timestamptz in UTC, jsonb in its
 * normalised form).
 */
import { createHash } from 'node:crypto';
import { plainDecimal, trimScale } from './convert';
import type { Kind } from './schema';

const f64 = new Float64Array(1);
const f64bytes = new Uint8Array(f64.buffer);
/** Big-endian hex of a double's bits: what PostgreSQL's `encode(float8send(x), 'hex')` returns. */
export function doubleHex(x: number): string {
  f64[0] = x;
  let out = '';
  for (let i = 7; i >= 0; i--) out += (f64bytes[i] as number).toString(16).padStart(2, '0');
  return out;
}

/**
 * The canonical rendering of one converted value, identical to what `pgCanonicalExpr` computes inside PostgreSQL
 * for the stored value. Most kinds already are PostgreSQL's output form (booleans as t/f); floats compare by their
 * bits, binary by digest, numerics without trailing zeros, jsonb in its normalised form.
 */
export function canonicalizer(kind: Kind): ((value: string) => string) | null {
  switch (kind) {
    case 'float4':
    case 'float8':
      return (v) => doubleHex(Number(v));
    case 'numeric':
      return trimScale;
    case 'bytea':
      return (v) =>
        createHash('md5')
          .update(Buffer.from(v.slice(2), 'hex'))
          .digest('hex');
    case 'timestamptz':
      return (v) => v.slice(0, -3);
    case 'jsonb':
      return jsonbCanonical;
    default:
      return null;
  }
}

/** Kinds whose canonical field is quoted like a CSV text field (their values may contain tabs and newlines). */
export function canonicalQuoted(kind: Kind): boolean {
  return kind === 'text' || kind === 'json' || kind === 'jsonb';
}

/** The SQL that renders a stored column the same way `canonicalizer` renders the converted value. */
export function pgCanonicalExpr(kind: Kind, column: string): string {
  switch (kind) {
    case 'bool':
      // NULL must stay NULL (an empty field, as on the source side): `ELSE 'f'` would render it as false.
      return `CASE WHEN ${column} THEN 't' WHEN NOT ${column} THEN 'f' END`;
    case 'int2':
    case 'int4':
    case 'int8':
    case 'date':
    case 'time':
    case 'timestamp':
    case 'json':
    case 'jsonb':
    case 'uuid':
      return `${column}::text`;
    case 'float4':
    case 'float8':
      return `encode(float8send(${column}::float8), 'hex')`;
    case 'numeric':
      return `trim_scale(${column})::text`;
    case 'bytea':
      return `md5(${column})`;
    case 'timestamptz':
      return `(${column} AT TIME ZONE 'UTC')::text`;
    case 'text':
      return `${column}::text`;
  }
}

/**
 * jsonb's output form: object keys sorted (shorter first, then bytewise), duplicate keys keep the last value,
 * `", "` and `": "` separators, numbers in numeric's output form. Matches `jsonb::text`.
 */
export function jsonbCanonical(text: string): string {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const value = (): string => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      const entries = new Map<string, string>();
      ws();
      if (text[i] === '}') {
        i++;
        return '{}';
      }
      for (;;) {
        ws();
        const keyStart = i;
        string();
        const key = JSON.parse(text.slice(keyStart, i)) as string;
        ws();
        i++; // ':'
        entries.delete(key);
        entries.set(key, value());
        ws();
        if (text[i++] === '}') break;
      }
      const keys = [...entries.keys()].sort((a, b) => {
        const la = Buffer.byteLength(a);
        const lb = Buffer.byteLength(b);
        return la !== lb ? la - lb : Buffer.compare(Buffer.from(a), Buffer.from(b));
      });
      return `{${keys.map((k) => `${JSON.stringify(k)}: ${entries.get(k)}`).join(', ')}}`;
    }
    if (ch === '[') {
      i++;
      const items: string[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return '[]';
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i++] === ']') break;
      }
      return `[${items.join(', ')}]`;
    }
    if (ch === '"') {
      const start = i;
      string();
      return JSON.stringify(JSON.parse(text.slice(start, i)) as string);
    }
    const m = /^(true|false|null|-?\d+(\.\d+)?([eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    const lexeme = m?.[0] ?? '';
    i += lexeme.length;
    if (lexeme === 'true' || lexeme === 'false' || lexeme === 'null') return lexeme;
    return plainDecimal(lexeme) ?? lexeme;
  };
  const string = () => {
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  return value();
}
