/**
 * `sfdeploy checklist`: every item of the production checklist and how the project enforces it (a CDK property and
 * its test, a smoke check, an alarm, a lifecycle hook, a command) or why it is out of scope, with the coverage figure.
 * Offline and instant: it reads the vendored checklist and the map, nothing else.
 */
import type { Command } from 'commander';
import type { Coverage, CoverageItem, CoverageReport } from '../../lib/checklist/coverage';
import { colours, EXIT_CHECK_FAILED, EXIT_OK, renderTable, runAction, UsageError } from '../cli/support';

type CoverageModule = typeof import('../../lib/checklist/coverage');
type SourceModule = typeof import('../../lib/checklist/source');

interface ChecklistOptions {
  readonly json?: boolean;
  readonly section?: string;
  readonly unmapped?: boolean;
  readonly checklist?: string;
}

export function register(program: Command): void {
  program
    .command('checklist')
    .description('Show how each production-checklist item is enforced (or why it is out of scope), with the coverage.')
    .option(
      '--json',
      'print one JSON document: {"coverage": {...}, "items": [{id, section, text, status, enforcement, missing, note, outOfScope}]}',
    )
    .option('--section <text>', 'only items whose section contains this text (case-insensitive), e.g. SECURITY')
    .option('--unmapped', 'only items the map does not cover yet, with a suggested id')
    .option('--checklist <file>', 'check another version of the checklist against the map (default: the vendored copy)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ sfdeploy checklist                              every item, how it is enforced, and the coverage',
        '  $ sfdeploy checklist --section "SECURITY"         one phase (or "Team A", "Data Protection", …)',
        '  $ sfdeploy checklist --json | jq \'.items[] | select(.status == "partial") | {id, missing}\'',
        '  $ sfdeploy checklist --checklist path/to/newer-checklist.md --unmapped',
        '',
        'Status: enforced (code makes the item true or fails a release), partial (enforced in part; the map says what',
        'is missing), out-of-scope (with the reason), UNMAPPED (the map has no entry).',
        'The map is lib/checklist/checklist-map.ts; docs/CHECKLIST.md is generated from it (npm run docs:checklist).',
        'With --section, the coverage figure counts that section only; --unmapped lists only unmapped items but the',
        'figure still counts every item (of the section).',
        'Exit codes: 0 every item shown is mapped, 1 an item is unmapped or a map entry is stale, 2 usage error.',
      ].join('\n'),
    )
    .action((options: ChecklistOptions) => runAction(() => checklist(options)));
}

async function checklist(options: ChecklistOptions): Promise<number> {
  const [coverageModule, source] = await Promise.all([
    import('../../lib/checklist/coverage'),
    import('../../lib/checklist/source'),
  ]);
  const { countCoverage, coverageDocument } = coverageModule;
  const file = options.checklist ?? source.CHECKLIST_FILE;
  const report = load(file, source);
  let items = report.items;
  if (options.section !== undefined) {
    const wanted = options.section.trim().toLowerCase();
    if (wanted === '') throw new UsageError('--section is empty');
    items = items.filter((i) => i.item.section.toLowerCase().includes(wanted));
    if (items.length === 0) {
      const phases = [...new Set(report.items.map((i) => i.item.phase))].join(', ');
      throw new UsageError(`--section "${options.section}" matches no section (phases: ${phases})`);
    }
  }
  const coverage = countCoverage(items);
  const shown = options.unmapped ? items.filter((i) => i.status === 'unmapped') : items;

  for (const problem of report.mapProblems) process.stderr.write(`sfdeploy: map: ${problem}\n`);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...coverageDocument(shown), coverage }, null, 2)}\n`);
  } else {
    process.stdout.write(renderReport(shown, coverage, options, report, coverageModule));
  }
  return coverage.unmapped > 0 || report.mapProblems.length > 0 ? EXIT_CHECK_FAILED : EXIT_OK;
}

function load(file: string, { loadCoverage }: SourceModule): CoverageReport {
  try {
    return loadCoverage(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw new UsageError(`--checklist: cannot read ${file} (${why})`);
  }
}

function renderReport(
  items: readonly CoverageItem[],
  coverage: Coverage,
  options: ChecklistOptions,
  report: CoverageReport,
  { coverageSentence, summarizeRefs }: CoverageModule,
): string {
  const c = colours(process.stdout);
  const width = process.stdout.isTTY ? (process.stdout.columns ?? 160) : Number.POSITIVE_INFINITY;
  const out: string[] = [];
  const phases = new Map<string, CoverageItem[]>();
  for (const item of items) phases.set(item.item.phase, [...(phases.get(item.item.phase) ?? []), item]);
  for (const [phase, phaseItems] of phases) {
    const rows = phaseItems.map((i) => {
      const subsection = i.item.section === phase ? '' : i.item.section.slice(phase.length + 3);
      return [i.id, subsection, statusText(i, c), how(i, summarizeRefs)];
    });
    const fixed = Math.max(...rows.map((r) => r[0]!.length + r[1]!.length)) + 'out-of-scope'.length + 6;
    const room = Math.max(40, width - fixed);
    out.push(
      c.bold(phase),
      renderTable(
        ['id', 'section', 'status', 'how'],
        rows.map((r) => clip(r, room)),
      ),
      '',
    );
  }
  if (items.length === 0) out.push(options.unmapped ? 'No unmapped items: every checkbox has an entry.' : '', '');
  const scope = options.section !== undefined ? ` (section "${options.section}")` : '';
  const line = `Coverage${scope}: ${coverageSentence(coverage)}.`;
  out.push(coverage.unmapped > 0 ? c.red(line) : c.green(line));
  if (coverage.unmapped > 0)
    out.push('Add each unmapped item to lib/checklist/checklist-map.ts (the id shown is a suggestion).');
  if (report.mapProblems.length > 0) out.push(c.red(`${report.mapProblems.length} map problem(s), listed on stderr.`));
  out.push('Full reasons and test names: docs/CHECKLIST.md, or --json.');
  return `${out.join('\n')}\n`;
}

function statusText(item: CoverageItem, c: ReturnType<typeof colours>): string {
  if (item.status === 'enforced') return c.green('enforced');
  if (item.status === 'partial') return c.yellow('partial');
  if (item.status === 'out-of-scope') return c.yellow('out-of-scope');
  return c.red('UNMAPPED');
}

function how(item: CoverageItem, summarizeRefs: CoverageModule['summarizeRefs']): string {
  const entry = item.entry;
  if (!entry) return `no map entry (suggested id ${item.id})`;
  if (entry.outOfScope !== undefined) return entry.outOfScope;
  const refs = summarizeRefs(entry.enforcement);
  return entry.partial !== undefined ? `missing: ${entry.partial} | ${refs}` : refs;
}

/** Cuts the last column to fit a terminal; piped output keeps everything. */
function clip(row: string[], room: number): string[] {
  const last = row[row.length - 1]!;
  if (last.length <= room) return row;
  return [...row.slice(0, -1), `${last.slice(0, room - 1)}…`];
}
