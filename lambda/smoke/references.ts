/**
 * The API paths a served page calls, and whether the backend serves each one: the checklist's "API calls in page
 * match backend endpoints" (`grep -o "'/api/sns/[^']*'" create.html`, then "verify all endpoints exist in
 * app.url_map"), done against the running app instead of its source. Pure: extraction and the verdict over the
 * probes' answers; engine.ts sends the probes.
 *
 * A path "exists" unless the app answers it 404 or 410, or fails (5xx, no answer). Flask routes with werkzeug, whose
 * `MapAdapter.match` raises `NotFound` (404) when no rule matches the path, `MethodNotAllowed` (405) when a rule
 * matches it for other methods, and `RequestRedirect` (308) when only the trailing slash differs
 * (https://werkzeug.palletsprojects.com/en/stable/routing/#werkzeug.routing.MapAdapter.match): so one GET tells a
 * missing route (404) from a POST-only one (405), and no probe ever writes. Probes carry the smoke token, so an
 * app-level `before_request` that authenticates before routing answers the routing 404, not its 401.
 */

import type { FailureKind } from './result';

/** What a page references, sorted and without repeats. */
export interface ExtractedReferences {
  /** Same-origin paths to probe (query and fragment dropped), relative to the base URL's path prefix. */
  readonly paths: readonly string[];
  /**
   * References built at run time, which no single request can check: a template (`/api/sns/posts/${id}`), a route
   * pattern (`/api/sns/posts/:id`, `<int:id>`), or a prefix the script completes (`'/api/sns/posts/' + id`).
   */
  readonly dynamic: readonly string[];
  /** References to another origin (a CDN, a third-party API): not the app's routes. */
  readonly foreign: readonly string[];
}

const DYNAMIC = /\$\{|[{}<>]|\/:[A-Za-z_]|\/$/;

/**
 * Every match of `pattern`'s first capturing group in `body`, resolved against `pageUrl` and sorted into what can be
 * probed, what is built at run time, and what belongs to another origin. `base` is the smoke target (its path prefix
 * is removed from the probed paths, as the checks' paths are relative to it).
 */
export function extractReferences(body: string, pattern: string, pageUrl: URL, base: URL): ExtractedReferences {
  const paths = new Set<string>();
  const dynamic = new Set<string>();
  const foreign = new Set<string>();
  const prefix = base.pathname.replace(/\/+$/, '');
  for (const match of body.matchAll(new RegExp(pattern, 'g'))) {
    const reference = match[1]?.trim();
    if (!reference) continue;
    const withoutQuery = reference.replace(/[?#].*$/, '');
    if (DYNAMIC.test(withoutQuery)) {
      dynamic.add(reference);
      continue;
    }
    let url: URL;
    try {
      url = new URL(withoutQuery, pageUrl);
    } catch {
      dynamic.add(reference);
      continue;
    }
    if (url.origin !== base.origin || !url.pathname.startsWith(`${prefix}/`)) {
      foreign.add(reference);
      continue;
    }
    paths.add(url.pathname.slice(prefix.length));
  }
  return { paths: [...paths].sort(), dynamic: [...dynamic].sort(), foreign: [...foreign].sort() };
}

/** One probe's answer: its status, or why there was none (and what kind of failure that was). */
export type ProbeAnswer =
  | { readonly path: string; readonly status: number }
  | { readonly path: string; readonly failure: string; readonly kind?: FailureKind };

/** Whether a probe shows the path served: any answer but 404/410 and 5xx (a 401, 403, 405 or 3xx is a route). */
export function probeServed(answer: ProbeAnswer): boolean {
  return 'status' in answer && answer.status !== 404 && answer.status !== 410 && answer.status < 500;
}

/**
 * The verdict over a page's references: null when the page references at least `atLeast` probe-able paths and the
 * app serves every one, else the reason, naming every path that failed (the page's own path and pattern in `what`).
 */
export function judgeReferences(
  extracted: ExtractedReferences,
  answers: readonly ProbeAnswer[],
  atLeast: number,
  what: string,
): string | null {
  const dynamicNote =
    extracted.dynamic.length > 0
      ? ` (${extracted.dynamic.length} built at run time, not probed: ${extracted.dynamic.join(', ')})`
      : '';
  if (extracted.paths.length < atLeast) {
    return `${what} references ${extracted.paths.length} API path(s), expected at least ${atLeast}${dynamicNote}`;
  }
  const missing = answers.filter((answer) => !probeServed(answer));
  if (missing.length === 0) return null;
  const listed = missing
    .map((answer) => `GET ${answer.path} ${'status' in answer ? `answered ${answer.status}` : answer.failure}`)
    .join('; ');
  return `${missing.length} of ${answers.length} API path(s) ${what} references not served: ${listed}`;
}

/**
 * The kind of a failed page check: a 404/410 is the app's own answer (a wrong page or a missing route), so
 * `assertion`; without one, the worst transport failure (`timeout`, `network`) or an unexpected 502-504 (`gateway`).
 */
export function probeFailureKind(answers: readonly ProbeAnswer[]): FailureKind {
  const statuses = answers.flatMap((a) => ('status' in a ? [a.status] : []));
  if (statuses.some((status) => status === 404 || status === 410)) return 'assertion';
  const kinds = new Set(answers.flatMap((a) => ('failure' in a && a.kind ? [a.kind] : [])));
  if (statuses.some((status) => status >= 502 && status <= 504)) kinds.add('gateway');
  return (['timeout', 'network', 'gateway'] as const).find((k) => kinds.has(k)) ?? 'assertion';
}
