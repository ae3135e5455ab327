/**
 * Judging one answer against a check's `expect`: status, media type, body and header assertions, latency budget.
 * Pure (no I/O); split from engine.ts so the rules of a verdict read on their own.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FailureKind } from './result';
import { type BodyAssertion, type Check, type HeaderAssertion, resolveJsonPath } from './spec';
import { type Exchange, firstHeader } from './transport';

const HTML_PREFIX = /^\s*(?:<!doctype\s+html|<html[\s>])/i;

export interface Evaluation {
  readonly verdict: 'pass' | 'fail';
  readonly reason: string | null;
  readonly kind: FailureKind | null;
  /** The answer was right but slower than the budget. */
  readonly latencyOnly?: boolean;
  /** Parsed JSON body when it parsed, for cleanups. */
  readonly json: { readonly parsed: boolean; readonly value?: unknown };
}

export function evaluate(check: Check, exchange: Exchange): Evaluation {
  const noJson = { parsed: false } as const;
  if (!exchange.ok) return { verdict: 'fail', reason: exchange.reason, kind: exchange.kind, json: noJson };
  const { status, headers, body } = exchange;
  const text = body.toString('utf8');
  const contentType = firstHeader(headers['content-type']) ?? '';
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  const looksHtml = mediaType === 'text/html' || HTML_PREFIX.test(text);
  const json = parseJson(text, mediaType);
  const fail = (reason: string, kind: FailureKind = 'assertion'): Evaluation => ({
    verdict: 'fail',
    reason,
    kind,
    json,
  });

  if (!check.expect.status.includes(status)) {
    const detail =
      exchange.redirectedTo !== undefined
        ? ` (redirect to ${exchange.redirectedTo})`
        : looksHtml && check.expect.contentType !== 'text/html'
          ? ' (HTML error page)'
          : '';
    const kind: FailureKind = status === 502 || status === 503 || status === 504 ? 'gateway' : 'assertion';
    return fail(`expected status ${check.expect.status.join('/')}, got ${status}${detail}`, kind);
  }

  const expectedType = check.expect.contentType?.toLowerCase();
  if (expectedType !== undefined) {
    const wantsJson = isJsonMediaType(expectedType);
    const matches = wantsJson ? isJsonMediaType(mediaType) : mediaType === expectedType;
    if (!matches) {
      const what = wantsJson ? 'JSON' : expectedType;
      const got = mediaType || 'no Content-Type';
      return fail(`expected ${what} but got ${got}${looksHtml && wantsJson ? ' (HTML error page)' : ''}`);
    }
    if (wantsJson && !json.parsed) return fail(`invalid JSON body (${json.error})`);
  }

  const problems: string[] = [];
  for (const assertion of check.expect.body) {
    const problem = checkBody(assertion, text, json);
    if (problem) problems.push(problem);
  }
  for (const assertion of check.expect.headers) {
    const problem = checkHeader(assertion, headers);
    if (problem) problems.push(problem);
  }
  const overBudget = check.latencyBudgetMs !== undefined && exchange.latencyMs > check.latencyBudgetMs;
  if (overBudget) {
    problems.push(`latency ${Math.round(exchange.latencyMs)} ms over budget ${check.latencyBudgetMs} ms`);
  }
  if (problems.length > 0) return { ...fail(problems.join('; ')), latencyOnly: overBudget && problems.length === 1 };
  return { verdict: 'pass', reason: null, kind: null, json };
}

type JsonParse = { parsed: true; value: unknown; error?: undefined } | { parsed: false; error: string };

function parseJson(text: string, mediaType: string): JsonParse {
  if (text.length === 0 && !isJsonMediaType(mediaType)) return { parsed: false, error: 'empty body' };
  try {
    return { parsed: true, value: JSON.parse(text) };
  } catch (error) {
    return { parsed: false, error: error instanceof Error ? error.message : String(error) };
  }
}

function isJsonMediaType(mediaType: string): boolean {
  return /^[\w.+-]+\/(?:[\w.-]+\+)?json$/.test(mediaType);
}

function checkBody(assertion: BodyAssertion, text: string, json: JsonParse): string | undefined {
  switch (assertion.kind) {
    case 'doctype':
      return /^\uFEFF?\s*(?:<!--[\s\S]*?-->\s*)*<!doctype\s+html/i.test(text)
        ? undefined
        : 'expected an HTML document starting with <!DOCTYPE html>';
    case 'contains': {
      const haystack = assertion.ignoreCase ? text.toLowerCase() : text;
      const found = assertion.anyOf.some((needle) =>
        haystack.includes(assertion.ignoreCase ? needle.toLowerCase() : needle),
      );
      return found ? undefined : `body contains none of ${assertion.anyOf.map((n) => JSON.stringify(n)).join(', ')}`;
    }
    case 'count': {
      const pattern = new RegExp(assertion.pattern, assertion.ignoreCase ? 'i' : '');
      const lines = text.split(/\r?\n/).filter((line) => pattern.test(line)).length;
      return lines >= assertion.atLeast
        ? undefined
        : `expected at least ${assertion.atLeast} line${assertion.atLeast === 1 ? '' : 's'} matching /${assertion.pattern}/, found ${lines}`;
    }
    case 'json': {
      if (!json.parsed) return `expected a JSON body (${json.error})`;
      if (assertion.type === 'object' && !isPlainObject(json.value))
        return `expected a JSON object, got ${jsonType(json.value)}`;
      if (assertion.type === 'array' && !Array.isArray(json.value))
        return `expected a JSON array, got ${jsonType(json.value)}`;
      return undefined;
    }
    case 'json-path': {
      if (!json.parsed) return `expected a JSON body with ${assertion.path} (${json.error})`;
      const { found, value } = resolveJsonPath(json.value, assertion.path);
      if (!found) return assertion.optional ? undefined : `JSON field ${assertion.path} is missing`;
      if (assertion.equals !== undefined && !deepEqual(value, assertion.equals)) {
        return `expected JSON field ${assertion.path} = ${JSON.stringify(assertion.equals)}, got ${truncate(JSON.stringify(value), 80)}`;
      }
      if (assertion.type !== undefined && jsonType(value) !== assertion.type) {
        return `expected JSON field ${assertion.path} to be ${assertion.type}, got ${jsonType(value)}`;
      }
      if (
        assertion.matches !== undefined &&
        (typeof value !== 'string' || !new RegExp(assertion.matches).test(value))
      ) {
        return `expected JSON field ${assertion.path} to match /${assertion.matches}/, got ${truncate(JSON.stringify(value), 80)}`;
      }
      return undefined;
    }
  }
}

function checkHeader(assertion: HeaderAssertion, headers: IncomingHttpHeaders): string | undefined {
  const wanted = assertion.name.toLowerCase();
  const isPrefix = wanted.endsWith('*');
  const names = Object.keys(headers).filter((name) =>
    isPrefix ? name.startsWith(wanted.slice(0, -1)) : name === wanted,
  );
  if (!assertion.present) return names.length === 0 ? undefined : `unexpected response header ${names[0]}`;
  if (names.length === 0) return `missing response header ${assertion.name}`;
  const values = names.map((name) => headerText(headers[name]));
  const describe = () => `header ${names[0]}: got ${JSON.stringify(values[0])}`;
  if (assertion.equals !== undefined && !values.includes(assertion.equals)) {
    return `${describe()}, expected ${JSON.stringify(assertion.equals)}`;
  }
  if (assertion.oneOf !== undefined && !values.some((v) => assertion.oneOf!.includes(v))) {
    return `${describe()}, expected one of ${assertion.oneOf.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (assertion.matches !== undefined && !values.some((v) => new RegExp(assertion.matches!).test(v))) {
    return `${describe()}, expected to match /${assertion.matches}/`;
  }
  return undefined;
}

function headerText(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
