/**
 * Which checks of a spec a CLI run selects (`--tag`, `--only`, `--skip`), and what `--list` shows of them.
 * CLI-only: the Lambda runs the whole default spec and never imports this file.
 */
import { type Check, needsToken, type SmokeSpec } from './spec';

export interface Selection {
  /** Keep checks carrying at least one of these tags. */
  readonly tags?: readonly string[];
  /** Keep only these ids. */
  readonly only?: readonly string[];
  /** Drop these ids. */
  readonly skip?: readonly string[];
}

/** A selection that names what the spec does not have; the message is one line with the fix. */
export class SelectionError extends Error {
  override readonly name = 'SelectionError';
}

/** The spec narrowed to the selected checks, in spec order. Throws SelectionError. */
export function selectChecks(spec: SmokeSpec, selection: Selection): SmokeSpec {
  const ids = spec.checks.map((check) => check.id);
  for (const [option, wanted] of [
    ['--only', selection.only],
    ['--skip', selection.skip],
  ] as const) {
    const unknown = (wanted ?? []).filter((id) => !ids.includes(id));
    if (unknown.length > 0) {
      const named = unknown.map((id) => {
        const guess = didYouMean(id, ids);
        return `"${id}"${guess ? ` (did you mean "${guess}"?)` : ''}`;
      });
      throw new SelectionError(
        `${option}: no check ${named.join(', ')} in the spec; \`sfdeploy smoke --list\` shows the ids`,
      );
    }
  }
  const tags = selection.tags ?? [];
  if (tags.length > 0 && !spec.checks.some((check) => check.tags.some((t) => tags.includes(t)))) {
    const known = [...new Set(spec.checks.flatMap((check) => check.tags))].sort().join(', ');
    throw new SelectionError(`--tag ${tags.join(', ')} matches no check (tags in the spec: ${known})`);
  }
  const only = selection.only ?? [];
  const skip = new Set(selection.skip ?? []);
  const checks = spec.checks.filter(
    (check) =>
      (tags.length === 0 || check.tags.some((t) => tags.includes(t))) &&
      (only.length === 0 || only.includes(check.id)) &&
      !skip.has(check.id),
  );
  if (checks.length === 0) {
    const given = [
      ...(tags.length > 0 ? [`--tag ${tags.join(' ')}`] : []),
      ...(only.length > 0 ? [`--only ${only.join(' ')}`] : []),
      ...(skip.size > 0 ? [`--skip ${[...skip].join(' ')}`] : []),
    ];
    throw new SelectionError(`${given.join(' with ')} leaves no check to run`);
  }
  return { ...spec, checks };
}

/**
 * The candidate nearest to `word` by edit distance, when near enough to be a slip (a third of the word, at least
 * two edits), or a candidate that starts with it; undefined otherwise.
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (best === undefined || distance < best.distance) best = { candidate, distance };
  }
  if (best && best.distance <= Math.max(2, Math.floor(word.length / 3))) return best.candidate;
  return word.length >= 3 ? candidates.find((c) => c.startsWith(word)) : undefined;
}

/** Edit distance counting a swap of two neighbours as one edit (optimal string alignment): typos are often swaps. */
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** What `--list` says of one check: enough to know whether it will run and what it touches. */
export interface ListedCheck {
  readonly id: string;
  readonly title: string;
  readonly method: string;
  readonly path: string;
  readonly tags: readonly string[];
  readonly auth: Check['auth'];
  /** Skipped unless a token is given (`auth: "bearer"`, or references probed with it). */
  readonly needsToken: boolean;
  /** Skipped unless `--allow-writes`. */
  readonly writes: boolean;
  /** Runs only with `--app-mode` naming this mode; null: every mode. */
  readonly appMode: Check['appMode'] | null;
  /** Sent over plain HTTP to the --http-port, not to the base URL. */
  readonly plainHttp: boolean;
}

export function listChecks(spec: SmokeSpec): ListedCheck[] {
  return spec.checks.map((check) => ({
    id: check.id,
    title: check.title,
    method: check.method,
    path: check.path,
    tags: check.tags,
    auth: check.auth,
    needsToken: needsToken(check),
    writes: check.writes,
    appMode: check.appMode ?? null,
    plainHttp: check.plainHttp,
  }));
}
