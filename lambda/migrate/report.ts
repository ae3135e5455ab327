/**
 * The migration report, pure: what was found, loaded, rejected and verified — built by the engine, rendered as a
 * table for people or JSON for pipelines and the S3 copy the AWS runner keeps.
 */
import type { SchemaIssue } from './schema';

/** One value (or row) that could not be migrated as it is. */
export interface Problem {
  readonly table: string;
  /** `id=42`, `rowid=7`, `(a=1, b=x)`: how to find the row in the SQLite file. */
  readonly rowKey: string;
  readonly column: string | null;
  readonly value: string;
  readonly reason: string;
}

/** Problems of one kind: a table, a column and the reason without the value's particulars. */
export interface ProblemGroup {
  readonly table: string;
  readonly column: string | null;
  readonly reason: string;
  rows: number;
}

/** `--check`: the rows a `--on-error skip-row` run would reject in one table, by reason. */
export interface SkipRowForecast {
  readonly table: string;
  readonly rows: number;
  readonly reasons: readonly { readonly reason: string; readonly rows: number }[];
}

export type TableStatus = 'loaded' | 'already-loaded' | 'partial' | 'failed' | 'checked' | 'not-loaded';

export interface TableReport {
  readonly table: string;
  sourceRows: number;
  loadedRows: number;
  rejectedRows: number;
  problems: number;
  status: TableStatus;
  seconds: number;
}

export interface VerifyRow {
  readonly table: string;
  readonly sourceRows: number;
  readonly targetRows: number;
  readonly sourceChecksum: string;
  readonly targetChecksum: string;
  readonly expectedIndexes: number;
  readonly indexes: number;
  readonly expectedConstraints: number;
  readonly constraints: number;
  /** Foreign-key violations found by an anti-join in PostgreSQL, plus constraints left NOT VALID. */
  readonly fkViolations: number;
  readonly ok: boolean;
}

export interface MigrationReport {
  readonly source: { path: string; sizeBytes: number; tables: number; rows: number };
  readonly target: { description: string; mode: 'translate' | 'existing'; rehearsal: boolean };
  readonly action: 'migrate' | 'check' | 'verify-only';
  readonly onError: 'fail' | 'skip-row';
  readonly tables: TableReport[];
  readonly problems: Problem[];
  /** Problems beyond the ones kept in `problems` (a pathological file is not allowed to exhaust memory). */
  problemsOmitted: number;
  /** Every problem (kept or omitted) counted by table, column and reason, most frequent first. */
  problemSummary?: ProblemGroup[];
  /** `--check`: what `--on-error skip-row` would reject, including rows referencing rejected rows. */
  skipRowForecast?: SkipRowForecast[];
  readonly schemaIssues: SchemaIssue[];
  rejectedRows: number;
  rejectedFile: string | null;
  /** `--check --schema existing`: the target tables that already have rows, and how many. */
  existingTargetRows?: { table: string; rows: number }[];
  verification: { rows: VerifyRow[]; ok: boolean } | null;
  /** Set when the run stopped on purpose before the end (the AWS runner's time budget); resume continues. */
  incomplete: boolean;
  notes: string[];
  seconds: number;
  ok: boolean;
}

export const MAX_PROBLEMS_KEPT = 10_000;

/** How many individual problems the human-readable report lists after the summary (JSON keeps them all). */
export const PROBLEMS_SHOWN = 50;

/** `1 row`, `2 rows`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function problemTotal(report: MigrationReport): number {
  return report.problems.length + report.problemsOmitted;
}

/**
 * Final verdict: no problem, no schema error, no rejected row, verification (when run) clean, not stopped early.
 * Skip-row runs load what they can but still fail the verdict when they rejected rows: bad data is a failed check.
 */
export function finalizeVerdict(report: MigrationReport): MigrationReport {
  report.ok =
    problemTotal(report) === 0 &&
    !report.schemaIssues.some((i) => i.severity === 'error') &&
    report.tables.every((t) => t.status !== 'failed') &&
    (report.verification === null || report.verification.ok) &&
    report.rejectedRows === 0 &&
    !report.incomplete;
  return report;
}

export interface RenderStyle {
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly bold: (s: string) => string;
  readonly dim: (s: string) => string;
}

const plain: RenderStyle = { red: (s) => s, green: (s) => s, yellow: (s) => s, bold: (s) => s, dim: (s) => s };

/** The human-readable report: tables of loads, problems and verification, then a one-line verdict. */
export function renderReport(
  report: MigrationReport,
  table: (headers: readonly string[], rows: readonly (readonly string[])[]) => string,
  style: RenderStyle = plain,
): string {
  const out: string[] = [];
  const { source, target } = report;
  out.push(
    style.bold(`sfdeploy migrate — ${report.action}`) +
      `\nsource: ${source.path} (${formatBytes(source.sizeBytes)}, ${plural(source.tables, 'table')}, ${plural(source.rows, 'row')})` +
      `\ntarget: ${target.description} (schema ${target.mode}${target.rehearsal ? ', rehearsal' : ''})`,
  );
  const errors = report.schemaIssues.filter((i) => i.severity === 'error');
  const notes = report.schemaIssues.filter((i) => i.severity === 'note');
  if (errors.length > 0) {
    out.push(
      style.red('Schema problems') +
        '\n' +
        table(
          ['table', 'column', 'problem'],
          errors.map((i) => [i.table, i.column ?? '', i.message]),
        ),
    );
  }
  if (notes.length > 0) {
    out.push(
      'Schema notes\n' +
        table(
          ['table', 'column', 'note'],
          notes.map((i) => [i.table, i.column ?? '', i.message]),
        ),
    );
  }
  if (report.tables.length > 0 && report.action !== 'verify-only') {
    out.push(
      table(
        ['table', 'source rows', 'loaded', 'rejected', 'problems', 'status', 'seconds'],
        report.tables.map((t) => [
          t.table,
          String(t.sourceRows),
          String(t.loadedRows),
          String(t.rejectedRows),
          t.problems > 0 ? style.red(String(t.problems)) : '0',
          t.status === 'failed' ? style.red(t.status) : t.status,
          t.seconds.toFixed(2),
        ]),
      ),
    );
  }
  const total = problemTotal(report);
  if (total > 0) {
    // By table, column and reason first (thousands of rows usually share a handful of reasons), then the first rows.
    const groups = report.problemSummary ?? summarise(report.problems);
    const shown = report.problems.slice(0, PROBLEMS_SHOWN);
    const more = total - shown.length;
    out.push(
      style.red(plural(total, 'problem')) +
        '\n' +
        table(
          ['table', 'column', 'reason', 'rows'],
          groups.map((g) => [g.table, g.column ?? '', g.reason, String(g.rows)]),
        ),
      `${shown.length === total ? 'Every problem' : `The first ${shown.length}`}\n` +
        table(
          ['table', 'row', 'column', 'value', 'reason'],
          shown.map((p) => [p.table, p.rowKey, p.column ?? '', p.value, p.reason]),
        ) +
        (more > 0
          ? `\n… and ${more} more (${report.problemsOmitted > 0 ? `--json lists the first ${MAX_PROBLEMS_KEPT}` : 'all in --json'})`
          : ''),
    );
  }
  if (report.skipRowForecast && report.skipRowForecast.length > 0) {
    const rows = report.skipRowForecast.reduce((n, f) => n + f.rows, 0);
    out.push(
      style.yellow(`--on-error skip-row would reject ${plural(rows, 'row')}`) +
        ' (rows with bad values or orphan keys, and every row that references a rejected one)\n' +
        table(
          ['table', 'rows', 'reason'],
          report.skipRowForecast.flatMap((f) => f.reasons.map((r) => [f.table, String(r.rows), r.reason])),
        ),
    );
  }
  if (report.rejectedFile) {
    out.push(`${plural(report.rejectedRows, 'rejected row')} written to ${report.rejectedFile}`);
  }
  if (report.verification) {
    out.push(
      style.bold('Verification') +
        '\n' +
        table(
          [
            'table',
            'rows (sqlite)',
            'rows (pg)',
            'checksum (sqlite)',
            'checksum (pg)',
            'indexes',
            'constraints',
            'fk',
            'verdict',
          ],
          report.verification.rows.map((v) => [
            v.table,
            String(v.sourceRows),
            String(v.targetRows),
            v.sourceChecksum,
            v.targetChecksum,
            `${v.indexes}/${v.expectedIndexes}`,
            `${v.constraints}/${v.expectedConstraints}`,
            v.fkViolations === 0 ? 'ok' : style.red(`${v.fkViolations} bad`),
            v.ok ? style.green('ok') : style.red('MISMATCH'),
          ]),
        ),
    );
  }
  for (const note of report.notes) out.push(style.dim(note));
  const verdict = report.ok
    ? style.green(`OK — ${verdictText(report)} in ${report.seconds.toFixed(1)} s`)
    : style.red(`FAILED — ${failureText(report)}`);
  out.push(verdict);
  return out.join('\n\n');
}

function verdictText(report: MigrationReport): string {
  if (report.action === 'check') return 'no problems found';
  if (report.action === 'verify-only') return 'target matches source';
  const rows = report.tables.reduce((n, t) => n + t.loadedRows, 0);
  const verified = report.verification ? ', verified' : '';
  const rejected = report.rejectedRows > 0 ? `, ${plural(report.rejectedRows, 'row')} rejected` : '';
  return `${plural(rows, 'row')} migrated${rejected}${verified}`;
}

function failureText(report: MigrationReport): string {
  const reasons: string[] = [];
  const total = problemTotal(report);
  if (total > 0) reasons.push(`${plural(total, 'problem')} in the data`);
  const errors = report.schemaIssues.filter((i) => i.severity === 'error').length;
  if (errors > 0) reasons.push(`${plural(errors, 'schema problem')}`);
  if (report.verification && !report.verification.ok) reasons.push('verification mismatch');
  if (report.incomplete) reasons.push('stopped before the end (resume to continue)');
  const failed = report.tables.filter((t) => t.status === 'failed').map((t) => t.table);
  if (failed.length > 0) reasons.push(`not loaded: ${failed.slice(0, 5).join(', ')}${failed.length > 5 ? ', …' : ''}`);
  return reasons.join('; ') || 'see above';
}

/** Problems counted by table, column and reason (for reports built without the engine's running count). */
export function summarise(problems: readonly Problem[]): ProblemGroup[] {
  const groups = new Map<string, ProblemGroup>();
  for (const p of problems) {
    const id = `${p.table}\u0000${p.column ?? ''}\u0000${p.reason}`;
    const g = groups.get(id);
    if (g) g.rows++;
    else groups.set(id, { table: p.table, column: p.column, reason: p.reason, rows: 1 });
  }
  return [...groups.values()].sort((a, b) => b.rows - a.rows);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** The JSON report (stable field names; BigInts never appear). */
export function reportJson(report: MigrationReport): string {
  return JSON.stringify(report, null, 2);
}
