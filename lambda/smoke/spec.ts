/**
 * The smoke check spec: a versioned JSON document that says which requests to make and what a healthy answer
 * looks like. It is data, not code, so an operator can copy `default-spec.json`, edit it and pass it to
 * `sfdeploy smoke --spec`. Everything is validated up front; a mistake names the check and the field.
 */
import { z } from 'zod';
import defaultSpecJson from './default-spec.json';

export const SPEC_VERSION = 1;

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Sent for `auth: "invalid-token"`: the checklist's own value, which no real token validator accepts. */
export const INVALID_TOKEN = 'invalid_token';
/**
 * SoftFactory's built-in test-mode tokens, sent for `auth: "demo-token"` / `"test-token"`. Publicly known: in test
 * mode the app accepts them as user 1 on every endpoint outside /api/auth/, in production mode it must refuse them.
 */
export const SHARED_TEST_TOKENS = { 'demo-token': 'demo_token', 'test-token': 'test_token' } as const;

/**
 * How SoftFactory runs: `production` (ENVIRONMENT=production, TESTING=false; staging and prod) or `test` (its
 * default when those are unset; dev). A check that holds in one mode only says so with `appMode`.
 */
export const APP_MODES = ['production', 'test'] as const;
export type AppMode = (typeof APP_MODES)[number];

const ID_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** `status`, `data.user.email`, `items[0].id`; `$` is the document itself. */
const JSON_PATH_PATTERN = /^(?:\$|[A-Za-z_$][\w$-]*(?:\[\d+\])*(?:\.[A-Za-z_$][\w$-]*(?:\[\d+\])*)*)$/;
/** RFC 9110 token characters; a trailing `*` makes the assertion a prefix match (`Access-Control-*`). */
const HEADER_NAME_PATTERN = /^[!#$%&'+.^_`|~0-9A-Za-z-]+\*?$/;
/** `{json:id}` or `{json:id|post.id}`: the first path that resolves in the response body wins. */
const PLACEHOLDER_PATTERN = /\{json:([^}]+)\}/g;
/** `{before}` in a check's path: the value its `before` request extracted. */
export const BEFORE_PLACEHOLDER = '{before}';
/**
 * `{allowedOrigin}` in a request header value or a header assertion's `equals`: the stage's configured CORS origin,
 * given by the runner (the hook: its configuration; the CLI: the base URL's origin, the configuration's default).
 */
export const ALLOWED_ORIGIN_PLACEHOLDER = '{allowedOrigin}';

const statusCode = z
  .int({ error: 'expected an HTTP status code (an integer 100-599)' })
  .min(100, { error: 'expected an HTTP status code (an integer 100-599)' })
  .max(599, { error: 'expected an HTTP status code (an integer 100-599)' });

const statusList = z
  .array(statusCode, { error: 'expected an array of HTTP status codes' })
  .min(1, { error: 'expected an array of HTTP status codes' });

const jsonPath = z
  .string({ error: 'expected a JSON path such as "status" or "data.items[0].id"' })
  .regex(JSON_PATH_PATTERN, { error: 'expected a JSON path such as "status" or "data.items[0].id"' });

const method = z.enum(HTTP_METHODS, { error: `expected one of ${HTTP_METHODS.join(', ')}` });

const path = z
  .string({ error: 'expected a path starting with "/"' })
  .regex(/^\/[^\s#]*$/, { error: 'expected a path starting with "/" (no spaces, no fragment)' });

/** A check's path may also start with `{before}` (the path a `before` request found, e.g. a page's stylesheet). */
const checkPath = z
  .string({ error: 'expected a path starting with "/"' })
  .regex(/^(?:\/|\{before\})[^\s#]*$/, { error: 'expected a path starting with "/" (no spaces, no fragment)' });

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'not a valid HTTP header name' });

const requestHeaders = z
  .record(headerName, z.string({ error: 'expected a string header value' }), {
    error: 'expected an object of header name to value',
  })
  .superRefine((headers, ctx) => {
    if (Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
      ctx.addIssue({
        code: 'custom',
        message: 'set credentials with "auth", never an Authorization header in the spec',
      });
    }
  });

const bodyAssertion = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('json-path'),
      path: jsonPath,
      /** The value must deep-equal this. */
      equals: z.json().optional(),
      /** The value must be of this JSON type. */
      type: z.enum(['string', 'number', 'boolean', 'object', 'array', 'null']).optional(),
      /** The value must be a string matching this regular expression. */
      matches: z.string().optional(),
      /** A missing field passes (`mock_mode` absent or false); a present one must satisfy the rest. */
      optional: z.boolean({ error: 'expected true or false' }).default(false),
    }),
    z.strictObject({
      kind: z.literal('contains'),
      /** Passes when the body contains at least one of these strings (the checklist's `grep -q "a\|b"`). */
      anyOf: z
        .array(z.string().min(1), { error: 'expected a non-empty array of strings' })
        .min(1, { error: 'expected a non-empty array of strings' }),
      ignoreCase: z.boolean().default(false),
    }),
    z.strictObject({
      kind: z.literal('count'),
      /** A regular expression: the body's lines matching it are counted (the checklist's `grep -c`). */
      pattern: z.string({ error: 'expected a regular expression' }).min(1, { error: 'expected a regular expression' }),
      /** Passes when at least this many lines match. */
      atLeast: z.int({ error: 'expected a whole number of lines' }).min(1, { error: 'expected at least 1' }),
      ignoreCase: z.boolean().default(false),
    }),
    z.strictObject({ kind: z.literal('json'), type: z.enum(['object', 'array']).optional() }),
    z.strictObject({ kind: z.literal('doctype') }),
  ],
  { error: 'expected an assertion with kind "json-path", "contains", "count", "json" or "doctype"' },
);

const headerAssertion = z.strictObject({
  name: z.string().regex(HEADER_NAME_PATTERN, { error: 'expected a header name, optionally ending in "*"' }),
  /** Default: the header must be present. `false` asserts it is absent. */
  present: z.boolean().default(true),
  equals: z.string().optional(),
  oneOf: z.array(z.string()).min(1).optional(),
  matches: z.string().optional(),
});

const expectation = z.strictObject(
  {
    status: statusList,
    /** Media type, e.g. `application/json` (also accepts `*+json`) or `text/html`. */
    contentType: z
      .string()
      .regex(/^[\w.+-]+\/[\w.+-]+$/, { error: 'expected a media type such as "application/json"' })
      .optional(),
    body: z.array(bodyAssertion, { error: 'expected an array of body assertions' }).default([]),
    headers: z.array(headerAssertion, { error: 'expected an array of header assertions' }).default([]),
  },
  { error: 'expected an object with at least "status"' },
);

/**
 * A request made first, whose answer names what the check is about: a listing to apply to (from JSON), the stylesheet
 * a page references (a regular expression over the body). The check's path carries `{before}` where the value goes.
 */
const before = z
  .strictObject({
    path,
    status: statusList.default([200]),
    /** The first path that resolves in the JSON answer (`items[0].id|listings[0].id`); URL-encoded as one segment. */
    json: z.string().optional(),
    /** A regular expression whose first group is a URL or path (resolved against `path`; same origin only). */
    match: z.string().optional(),
    /** What an answer without the value means: `skip` (nothing to check, e.g. no listing yet) or `fail`. */
    missing: z.enum(['skip', 'fail'], { error: 'expected "skip" or "fail"' }).default('fail'),
  })
  .superRefine((b, ctx) => {
    if ((b.json === undefined) === (b.match === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of "json" and "match"' });
    }
    if (b.json !== undefined && !b.json.split('|').every((p) => JSON_PATH_PATTERN.test(p))) {
      ctx.addIssue({ code: 'custom', path: ['json'], message: 'expected JSON paths such as items[0].id|data.id' });
    }
    if (b.match !== undefined && !isRegExpWithGroup(b.match)) {
      ctx.addIssue({
        code: 'custom',
        path: ['match'],
        message: 'expected a regular expression with a capturing group',
      });
    }
  });

/**
 * The API paths the page a check fetches calls (the first group of every match of `pattern`), each probed with one GET:
 * the check fails when the app answers any of them 404/410 or fails, or when the page references fewer than `atLeast`.
 */
const references = z.strictObject({
  /** A regular expression with a capturing group: `'(/api/sns/[^']*)'` (the checklist's grep). */
  pattern: z.string({ error: 'expected a regular expression with a capturing group' }),
  /** The page must reference at least this many distinct paths that can be probed; 0: a page may call none. */
  atLeast: z.int({ error: 'expected a whole number of paths' }).min(0, { error: 'expected 0 or more' }).default(1),
  /** `bearer`: probes carry the smoke token (an app that authenticates before routing answers 401 without it). */
  auth: z.enum(['none', 'bearer'], { error: 'expected "none" or "bearer"' }).default('bearer'),
});

const cleanup = z.strictObject({
  method: method.default('DELETE'),
  /** May reference the check's JSON response: `/api/sns/posts/{json:id|post.id}`. */
  path,
  status: statusList.default([200, 202, 204, 404]),
});

const checkSchema = z
  .strictObject({
    id: z
      .string({ error: 'expected a short kebab-case id' })
      .max(48, { error: 'expected at most 48 characters' })
      .regex(ID_PATTERN, { error: 'expected a short kebab-case id such as "sns-accounts"' }),
    title: z.string({ error: 'expected a title' }).min(1, { error: 'expected a title' }),
    method: method.default('GET'),
    path: checkPath,
    headers: requestHeaders.default({}),
    auth: z
      .enum(['none', 'bearer', 'invalid-token', 'demo-token', 'test-token'], {
        error: 'expected "none", "bearer", "invalid-token", "demo-token" or "test-token"',
      })
      .default('none'),
    /** Runs only against an app in this mode (the runner is told which); otherwise skipped. Absent: every mode. */
    appMode: z.enum(APP_MODES, { error: 'expected "production" or "test"' }).optional(),
    /**
     * Sent over plain HTTP to the base URL's host (port 80 unless the runner says otherwise) instead of the base URL
     * itself: the HTTP → HTTPS redirect of the load balancer.
     */
    plainHttp: z.boolean({ error: 'expected true or false' }).default(false),
    /** Sent as JSON. */
    body: z.json().optional(),
    expect: expectation,
    latencyBudgetMs: z.int().positive({ error: 'expected a positive number of milliseconds' }).optional(),
    tags: z
      .array(z.string().regex(ID_PATTERN, { error: 'expected kebab-case tags' }), {
        error: 'expected an array of tags',
      })
      .default([]),
    /** Checks that create or change data run only when writes are allowed. */
    writes: z.boolean({ error: 'expected true or false' }).default(false),
    /**
     * A write a deploy gate may run with nobody watching: it removes what it creates (`cleanup`), or only starts work
     * the app also does on its own schedule. Other writes run only when a person allows them.
     */
    unattended: z.boolean({ error: 'expected true or false' }).default(false),
    /** A request made before the check, whose answer fills `{before}` in the check's path. */
    before: before.optional(),
    /** The API paths the fetched page calls, each probed: the backend must serve every one. */
    references: references.optional(),
    /**
     * Undoes what the check created. Runs whenever the placeholders in its path resolve from the response,
     * even when the check failed, so an unexpected create is still removed.
     */
    cleanup: cleanup.optional(),
    retries: z.int({ error: 'expected an integer 0-5' }).min(0).max(5, { error: 'expected at most 5' }).default(0),
    /** Redirects are answers to assert on unless the check opts in to following this many. */
    followRedirects: z.int().min(0).max(10).default(0),
  })
  .superRefine((check, ctx) => {
    if (check.writes && check.retries > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['retries'],
        message: 'a check that writes is not retried (every attempt would create data again)',
      });
    }
    if (check.plainHttp && check.auth === 'bearer') {
      ctx.addIssue({
        code: 'custom',
        path: ['auth'],
        message: 'a plainHttp check never carries the smoke token (it would cross the network in clear text)',
      });
    }
    if (check.unattended && !check.writes) {
      ctx.addIssue({ code: 'custom', path: ['unattended'], message: 'only a check that writes can be unattended' });
    }
    if ((check.before !== undefined) !== check.path.includes(BEFORE_PLACEHOLDER)) {
      ctx.addIssue({
        code: 'custom',
        path: [check.before ? 'path' : 'before'],
        message: check.before
          ? `a check with "before" puts ${BEFORE_PLACEHOLDER} in its path`
          : `${BEFORE_PLACEHOLDER} in the path needs a "before" request`,
      });
    }
    if (check.references) {
      if (check.method !== 'GET' || check.writes || check.plainHttp) {
        ctx.addIssue({
          code: 'custom',
          path: ['references'],
          message: 'references are read from a page: only a GET check that neither writes nor uses plainHttp',
        });
      }
      if (!isRegExpWithGroup(check.references.pattern)) {
        ctx.addIssue({
          code: 'custom',
          path: ['references', 'pattern'],
          message: 'expected a regular expression with a capturing group',
        });
      }
    }
    if (check.body !== undefined && (check.method === 'GET' || check.method === 'HEAD')) {
      ctx.addIssue({ code: 'custom', path: ['body'], message: `a ${check.method} request cannot carry a body` });
    }
    for (const [index, assertion] of check.expect.body.entries()) {
      if (assertion.kind === 'json-path' && assertion.matches !== undefined && !isValidRegExp(assertion.matches)) {
        ctx.addIssue({
          code: 'custom',
          path: ['expect', 'body', index, 'matches'],
          message: 'not a valid regular expression',
        });
      }
      if (assertion.kind === 'count' && !isValidRegExp(assertion.pattern)) {
        ctx.addIssue({
          code: 'custom',
          path: ['expect', 'body', index, 'pattern'],
          message: 'not a valid regular expression',
        });
      }
    }
    for (const [index, assertion] of check.expect.headers.entries()) {
      if (assertion.matches !== undefined && !isValidRegExp(assertion.matches)) {
        ctx.addIssue({
          code: 'custom',
          path: ['expect', 'headers', index, 'matches'],
          message: 'not a valid regular expression',
        });
      }
    }
    if (check.cleanup) {
      for (const [, paths] of check.cleanup.path.matchAll(PLACEHOLDER_PATTERN)) {
        if (!(paths ?? '').split('|').every((p) => JSON_PATH_PATTERN.test(p))) {
          ctx.addIssue({
            code: 'custom',
            path: ['cleanup', 'path'],
            message: 'placeholders look like {json:id} or {json:id|post.id}',
          });
        }
      }
    }
  });

export const specSchema = z
  .strictObject({
    version: z.literal(SPEC_VERSION, { error: `expected ${SPEC_VERSION} (the only spec version this tool reads)` }),
    description: z.string().optional(),
    checks: z
      .array(checkSchema, { error: 'expected an array of checks' })
      .min(1, { error: 'expected at least one check' }),
  })
  .superRefine((spec, ctx) => {
    const seen = new Map<string, number>();
    for (const [index, check] of spec.checks.entries()) {
      const first = seen.get(check.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['checks', index, 'id'],
          message: `duplicate id (checks[${first}] has it too)`,
        });
      } else seen.set(check.id, index);
    }
  });

export type SmokeSpec = z.output<typeof specSchema>;
/** What an author writes: defaults may be left out. */
export type SmokeSpecInput = z.input<typeof specSchema>;
export type Check = SmokeSpec['checks'][number];
export type BodyAssertion = Check['expect']['body'][number];
export type HeaderAssertion = Check['expect']['headers'][number];
export type BeforeRequest = NonNullable<Check['before']>;
export type AuthMode = Check['auth'];

/**
 * A spec that failed validation. `problems` lists every one, each a line naming the field by its path in the document
 * (`checks[3].expect.status (check "health"): expected an array of HTTP status codes`); the message is the first one.
 */
export class SpecError extends Error {
  override readonly name = 'SpecError';
  constructor(readonly problems: readonly string[]) {
    const [first = 'invalid spec', ...rest] = problems;
    super(rest.length > 0 ? `${first} (and ${rest.length} more problem${rest.length === 1 ? '' : 's'})` : first);
  }
}

/** Validates an already-parsed JSON value as a spec. Throws SpecError listing every problem. */
export function parseSpec(value: unknown): SmokeSpec {
  const result = specSchema.safeParse(value);
  if (result.success) return result.data;
  throw new SpecError(result.error.issues.flatMap((issue) => describeIssue(issue, value)));
}

/** Parses spec text (JSON). Throws SpecError for bad JSON too. */
export function parseSpecText(text: string): SmokeSpec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SpecError([`not valid JSON (${error instanceof Error ? error.message : String(error)})`]);
  }
  return parseSpec(value);
}

let cachedDefault: SmokeSpec | undefined;
/** The checklist, encoded (default-spec.json), validated once per process. */
export function defaultSpec(): SmokeSpec {
  cachedDefault ??= parseSpec(defaultSpecJson);
  return cachedDefault;
}

/** The default spec as written (defaults left out), for `sfdeploy smoke --print-default-spec` to copy and edit. */
export function defaultSpecDocument(): SmokeSpecInput {
  return defaultSpecJson as SmokeSpecInput;
}

interface Issue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly keys?: readonly string[];
}

/** One line per problem: an unknown-fields issue becomes one line per unknown field. */
function describeIssue(issue: Issue, input: unknown): string[] {
  let message = issue.message;
  if (issue.code === 'invalid_key') message = 'not a valid HTTP header name';
  message = message.charAt(0).toLowerCase() + message.slice(1);
  const unknown = issue.code === 'unrecognized_keys' ? (issue.keys ?? []) : [];
  const paths = unknown.length > 0 ? unknown.map((key) => [...issue.path, key]) : [[...issue.path]];
  return paths.map((segments) => {
    const text = unknown.length > 0 ? 'unknown field' : message;
    const where = formatPath(segments);
    const check =
      segments[0] === 'checks' && typeof segments[1] === 'number' ? checkLabel(input, segments[1]) : undefined;
    const label = check ? `${where} (check "${check}")` : where;
    return label ? `${label}: ${text}` : text;
  });
}

/** The id of check #index as written, when it is a usable id. */
function checkLabel(input: unknown, index: number): string | undefined {
  if (typeof input === 'object' && input !== null && Array.isArray((input as { checks?: unknown }).checks)) {
    const check: unknown = (input as { checks: unknown[] }).checks[index];
    if (typeof check === 'object' && check !== null) {
      const id = (check as { id?: unknown }).id;
      if (typeof id === 'string' && ID_PATTERN.test(id)) return id;
    }
  }
  return undefined;
}

function formatPath(segments: readonly PropertyKey[]): string {
  return segments
    .map((segment, i) => (typeof segment === 'number' ? `[${segment}]` : `${i === 0 ? '' : '.'}${String(segment)}`))
    .join('');
}

/** A valid regular expression with a capturing group (what `before.match` and `references.pattern` read). */
function isRegExpWithGroup(source: string): boolean {
  return isValidRegExp(source) && /\((?!\?)/.test(source);
}

function isValidRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** Resolves `status`, `data.items[0].id`, `$` against a parsed JSON document. */
export function resolveJsonPath(document: unknown, jsonPathText: string): { found: boolean; value?: unknown } {
  if (jsonPathText === '$') return { found: true, value: document };
  let current: unknown = document;
  for (const part of jsonPathText.split('.')) {
    const match = /^([^[]+)((?:\[\d+\])*)$/.exec(part);
    if (!match) return { found: false };
    const key = match[1]!;
    if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.hasOwn(current, key)) {
      return { found: false };
    }
    current = (current as Record<string, unknown>)[key];
    for (const [, index] of (match[2] ?? '').matchAll(/\[(\d+)\]/g)) {
      if (!Array.isArray(current)) return { found: false };
      const n = Number(index);
      if (n >= current.length) return { found: false };
      current = current[n];
    }
  }
  return { found: true, value: current };
}

/**
 * Fills `{json:a|b}` placeholders from a response document; undefined when any placeholder has no value
 * (so a cleanup never runs against a guessed path). Values are URL-encoded as one path segment.
 */
export function fillPlaceholders(template: string, document: unknown): string | undefined {
  let missing = false;
  const filled = template.replace(PLACEHOLDER_PATTERN, (_all, alternatives: string) => {
    for (const candidate of alternatives.split('|')) {
      const { found, value } = resolveJsonPath(document, candidate);
      if (found && (typeof value === 'string' || typeof value === 'number') && String(value) !== '') {
        return encodeURIComponent(String(value));
      }
    }
    missing = true;
    return '';
  });
  return missing ? undefined : filled;
}

/** Whether a check sends the smoke token (its own request, or the probes of the paths its page references). */
export function needsToken(check: Check): boolean {
  return check.auth === 'bearer' || check.references?.auth === 'bearer';
}

/** Whether a check names the allowed CORS origin (`{allowedOrigin}`) in a request header or a header assertion. */
export function usesAllowedOrigin(check: Check): boolean {
  return (
    Object.values(check.headers).some((v) => v.includes(ALLOWED_ORIGIN_PLACEHOLDER)) ||
    check.expect.headers.some((h) => h.equals?.includes(ALLOWED_ORIGIN_PLACEHOLDER) === true)
  );
}

/**
 * The checks with `{allowedOrigin}` filled in, once per allowed origin: the first keeps its id, the others get `-2`,
 * `-3`, … (so every configured origin is asserted exactly, not only the first). With no origin the checks stay as
 * they are, and the engine skips them saying why.
 */
export function bindAllowedOrigins(checks: readonly Check[], origins: readonly string[]): Check[] {
  if (origins.length === 0) return [...checks];
  const fill = (text: string, origin: string) => text.split(ALLOWED_ORIGIN_PLACEHOLDER).join(origin);
  return checks.flatMap((check) => {
    if (!usesAllowedOrigin(check)) return [check];
    return origins.map((origin, i) => ({
      ...check,
      id: i === 0 ? check.id : `${check.id}-${i + 1}`,
      title: origins.length === 1 ? check.title : `${check.title} (${origin})`,
      headers: Object.fromEntries(Object.entries(check.headers).map(([name, value]) => [name, fill(value, origin)])),
      expect: {
        ...check.expect,
        headers: check.expect.headers.map((h) =>
          h.equals === undefined ? h : { ...h, equals: fill(h.equals, origin) },
        ),
      },
    }));
  });
}
