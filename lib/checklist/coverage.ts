/**
 * Checklist coverage: which item of the production checklist is enforced by what, and which is out of scope and why.
 *
 * Pure functions only (no file system, no CDK): the checklist text, the map and the facts about the project are passed
 * in, so a test can feed a deliberately broken map and the CLI can run without synthesizing anything.
 *
 * Ids are written into the map (lib/checklist/checklist-map.ts), never recomputed from the text: moving or rewording
 * an item must not change its id. An item is matched to its map entry by section + text; `suggestId` only proposes an
 * id for an item the map does not know yet.
 */

/** ECS deployment lifecycle stages (the values CloudFormation accepts in `LifecycleHooks[].LifecycleStages`). */
export type LifecycleStage =
  | 'RECONCILE_SERVICE'
  | 'PRE_SCALE_UP'
  | 'POST_SCALE_UP'
  | 'TEST_TRAFFIC_SHIFT'
  | 'POST_TEST_TRAFFIC_SHIFT'
  | 'PRODUCTION_TRAFFIC_SHIFT'
  | 'POST_PRODUCTION_TRAFFIC_SHIFT';

/** `sfdeploy` commands an item may be enforced by. */
export type CliCommand = 'smoke' | 'migrate' | 'rollback' | 'release-status' | 'checklist';

/** A test, named by its file (relative to the repository root) and the exact title of its `it(…)`. */
export interface TestRef {
  readonly file: string;
  readonly title: string;
}

/** One way the project enforces an item. Every reference is checked against the project by test/lib/checklist.test.ts. */
export type EnforcementRef =
  /** A check id of the default smoke spec (lambda/smoke/default-spec.json). */
  | { readonly kind: 'smoke'; readonly check: string }
  /** An alarm signal: the alarm `softfactory-<stage>-<signal>`. */
  | { readonly kind: 'alarm'; readonly signal: string }
  /**
   * A property of the synthesized app, in words, and the test that asserts it. `pins` name the template properties the
   * claim rests on: test/lib/checklist-pins.test.ts removes each one from the synthesized template and requires the
   * referenced test to fail, so a test that stops asserting the property cannot keep the claim.
   */
  | { readonly kind: 'cdk'; readonly what: string; readonly test: TestRef; readonly pins?: readonly TemplatePin[] }
  /** An ECS deployment lifecycle hook registered on the service. */
  | { readonly kind: 'hook'; readonly stage: LifecycleStage }
  /** An `sfdeploy` command. */
  | { readonly kind: 'cli'; readonly command: CliCommand }
  /** A behavioural test of our code (Lambda cores, CLI). */
  | ({ readonly kind: 'test' } & TestRef);

/** Which stack of a stage a pinned resource lives in. */
export type StackRole = 'network' | 'data' | 'service';

/**
 * One property of the synthesized template a `cdk` reference rests on: every resource of `type` in the `stack`
 * loses `property` (a CloudFormation property path under `Properties`, dots between segments, array indices as
 * numbers: `ContainerDefinitions.0.LogConfiguration.Options.awslogs-group`).
 */
export interface TemplatePin {
  readonly stack: StackRole;
  readonly type: string;
  readonly property: string;
}

interface EntryBase {
  /** Stable id, written once; kebab-case, `<phase>-<subsection>-<words>`. */
  readonly id: string;
  /** The item's section: `<phase> › <subsection>` as `parseChecklist` renders it. */
  readonly section: string;
  /** The checkbox's text, without markdown emphasis. */
  readonly text: string;
}

/** An item the project enforces; `note` says how the references combine or where they apply. */
export interface EnforcedEntry extends EntryBase {
  readonly enforcement: readonly EnforcementRef[];
  readonly note?: string;
  readonly partial?: never;
  readonly outOfScope?: never;
}

/**
 * An item the project enforces only in part: the references hold what they claim, `partial` says what of the item
 * they leave unenforced. Counted apart from the enforced items, never as one.
 */
export interface PartialEntry extends EntryBase {
  readonly enforcement: readonly EnforcementRef[];
  readonly partial: string;
  readonly note?: string;
  readonly outOfScope?: never;
}

/** An item the project deliberately does not enforce, with the reason. */
export interface OutOfScopeEntry extends EntryBase {
  readonly outOfScope: string;
  readonly enforcement?: never;
  readonly partial?: never;
  readonly note?: never;
}

export type MapEntry = EnforcedEntry | PartialEntry | OutOfScopeEntry;

/** One checkbox of the checklist. */
export interface ChecklistItem {
  readonly section: string;
  /** The phase (level-2 heading) alone. */
  readonly phase: string;
  readonly text: string;
  /** 1-based line in the checklist file. */
  readonly line: number;
  /** Nesting depth: 0 for a top-level checkbox, 1 for its sub-items. */
  readonly depth: number;
  /** The text of the enclosing checkbox, for sub-items. */
  readonly parent?: string;
}

export type ItemStatus = 'enforced' | 'partial' | 'out-of-scope' | 'unmapped';

/** The status a map entry gives its item. */
export function entryStatus(entry: MapEntry): Exclude<ItemStatus, 'unmapped'> {
  if (entry.outOfScope !== undefined) return 'out-of-scope';
  return entry.partial !== undefined ? 'partial' : 'enforced';
}

/** An item with its map entry (if any). */
export interface CoverageItem {
  readonly id: string;
  readonly item: ChecklistItem;
  readonly status: ItemStatus;
  readonly entry?: MapEntry;
}

export interface Coverage {
  readonly total: number;
  readonly enforced: number;
  /** Items enforced in part (the map says what is missing); not counted in `enforced`. */
  readonly partial: number;
  readonly outOfScope: number;
  readonly unmapped: number;
  /** Enforced items (fully) as a percentage of all items, one decimal. */
  readonly percentEnforced: number;
}

export interface CoverageReport {
  readonly items: readonly CoverageItem[];
  readonly coverage: Coverage;
  /** Map entries that match no checkbox (the checklist changed) or duplicate another; never silently ignored. */
  readonly mapProblems: readonly string[];
}

/** The `--json` document of `sfdeploy checklist`. */
export interface CoverageDocument {
  readonly coverage: Coverage;
  readonly items: readonly {
    readonly id: string;
    readonly section: string;
    readonly text: string;
    readonly status: ItemStatus;
    readonly enforcement: readonly EnforcementRef[] | null;
    /** For a partial item: what the enforcement leaves out. */
    readonly missing: string | null;
    /** The map's note: where the references apply, how they combine. */
    readonly note: string | null;
    readonly outOfScope: string | null;
  }[];
}

const SECTION_SEPARATOR = ' › ';

/** Removes markdown emphasis and collapses whitespace. */
function plain(text: string): string {
  return text.replace(/\*\*/g, '').replace(/\s+/g, ' ').trim();
}

/** "## ✅ PRE-DEPLOYMENT PHASE (Must complete …)" → "PRE-DEPLOYMENT PHASE". */
function phaseName(heading: string): string {
  return plain(heading)
    .replace(/^[^\p{L}\p{N}]+/u, '')
    .replace(/\s*\([^)]*\)\s*$/, '')
    .trim();
}

/**
 * Every checkbox (`- [ ]` / `- [x]`, indented ones too) outside code fences, with its section. Sections are the
 * level-2 heading plus the level-3 heading; in a phase without level-3 headings (FINAL SIGN-OFF) a paragraph that is
 * entirely bold ("**Deployment Approval:**") names the subsection.
 */
export function parseChecklist(markdown: string): ChecklistItem[] {
  const items: ChecklistItem[] = [];
  let phase = '';
  let subsection = '';
  let phaseHasHeadings = false;
  let inFence = false;
  const parents: { indent: number; text: string }[] = [];
  markdown.split(/\r?\n/).forEach((raw, index) => {
    if (/^\s*```/.test(raw)) {
      inFence = !inFence;
      return;
    }
    if (inFence) return;
    let match = /^## (.+)$/.exec(raw);
    if (match) {
      phase = phaseName(match[1]!);
      subsection = '';
      phaseHasHeadings = false;
      parents.length = 0;
      return;
    }
    match = /^### (.+)$/.exec(raw);
    if (match) {
      subsection = plain(match[1]!);
      phaseHasHeadings = true;
      parents.length = 0;
      return;
    }
    match = /^\*\*([^*]+)\*\*\s*$/.exec(raw);
    if (match && !phaseHasHeadings) {
      subsection = plain(match[1]!).replace(/:$/, '');
      parents.length = 0;
      return;
    }
    match = /^(\s*)- \[[ xX]\] (.+)$/.exec(raw);
    if (!match) return;
    const indent = match[1]!.replace(/\t/g, '  ').length;
    while (parents.length > 0 && parents[parents.length - 1]!.indent >= indent) parents.pop();
    const text = plain(match[2]!);
    const parent = parents[parents.length - 1];
    items.push({
      section: subsection ? `${phase}${SECTION_SEPARATOR}${subsection}` : phase,
      phase,
      text,
      line: index + 1,
      depth: parents.length,
      ...(parent ? { parent: parent.text } : {}),
    });
    parents.push({ indent, text });
  });
  return items;
}

const PHASE_PREFIX: Readonly<Record<string, string>> = {
  'PRE-DEPLOYMENT PHASE': 'pre',
  'TEAM READINESS PHASE': 'team',
  'INTEGRATION PHASE': 'int',
  'SECURITY PHASE': 'sec',
  'PERFORMANCE PHASE': 'perf',
  'DEPLOYMENT PHASE': 'deploy',
  'ROLLBACK PHASE': 'rollback',
  'MONITORING & MAINTENANCE': 'mon',
  'FINAL SIGN-OFF': 'signoff',
};

function slug(text: string, words: number): string {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .split(' ')
    .filter((w) => w.length > 0)
    .slice(0, words)
    .join('-');
}

/**
 * A proposed id for an item the map does not know: `<phase>-<subsection>-<first words>`. Used once, when the entry is
 * written; after that the id in the map is the id.
 */
export function suggestId(item: ChecklistItem): string {
  const phase = PHASE_PREFIX[item.phase] ?? slug(item.phase, 1);
  const subsection = item.section.includes(SECTION_SEPARATOR)
    ? item.section.slice(item.section.indexOf(SECTION_SEPARATOR) + SECTION_SEPARATOR.length)
    : '';
  const numbered = /^(\d+)\./.exec(subsection) ?? /^Team ([A-Z]):/.exec(subsection);
  const sub = numbered ? numbered[1]!.toLowerCase() : slug(subsection, 1);
  return [phase, sub, slug(item.text, 4)].filter((part) => part.length > 0).join('-');
}

function key(section: string, text: string): string {
  return `${section}\u0000${text}`;
}

/** Matches map entries to checkboxes by section + text and counts the result. */
export function computeCoverage(items: readonly ChecklistItem[], map: readonly MapEntry[]): CoverageReport {
  const mapProblems: string[] = [];
  const byKey = new Map<string, MapEntry>();
  const ids = new Set<string>();
  for (const entry of map) {
    if (ids.has(entry.id)) mapProblems.push(`duplicate id ${entry.id}`);
    ids.add(entry.id);
    const k = key(entry.section, entry.text);
    if (byKey.has(k)) {
      mapProblems.push(`${entry.id} and ${byKey.get(k)!.id} both map "${entry.text}" (${entry.section})`);
      continue;
    }
    byKey.set(k, entry);
  }
  const itemKeys = new Set<string>();
  const covered: CoverageItem[] = items.map((item) => {
    const k = key(item.section, item.text);
    if (itemKeys.has(k)) mapProblems.push(`the checklist has "${item.text}" twice in ${item.section}`);
    itemKeys.add(k);
    const entry = byKey.get(k);
    if (!entry) return { id: suggestId(item), item, status: 'unmapped' };
    return { id: entry.id, item, status: entryStatus(entry), entry };
  });
  for (const entry of map) {
    if (!itemKeys.has(key(entry.section, entry.text))) {
      mapProblems.push(`${entry.id} is stale: no checkbox "${entry.text}" in ${entry.section}`);
    }
  }
  return { items: covered, coverage: countCoverage(covered), mapProblems };
}

export function countCoverage(items: readonly CoverageItem[]): Coverage {
  const count = (status: ItemStatus) => items.filter((i) => i.status === status).length;
  const enforced = count('enforced');
  return {
    total: items.length,
    enforced,
    partial: count('partial'),
    outOfScope: count('out-of-scope'),
    unmapped: count('unmapped'),
    percentEnforced: items.length === 0 ? 0 : Math.round((enforced / items.length) * 1000) / 10,
  };
}

/** The coverage as one sentence, as the CLI, docs/CHECKLIST.md and the README quote it. */
export function coverageSentence(coverage: Coverage): string {
  return (
    `${coverage.enforced} of ${coverage.total} checklist items enforced by code (${coverage.percentEnforced} %), ` +
    `${coverage.partial} partly enforced, ${coverage.outOfScope} out of scope with a reason, ` +
    `${coverage.unmapped} unmapped`
  );
}

/** The documented `--json` document: exactly these keys, one item per checkbox. */
export function coverageDocument(items: readonly CoverageItem[]): CoverageDocument {
  return {
    coverage: countCoverage(items),
    items: items.map((i) => ({
      id: i.id,
      section: i.item.section,
      text: i.item.text,
      status: i.status,
      enforcement: i.entry?.enforcement ?? null,
      missing: i.entry?.partial ?? null,
      note: i.entry?.note ?? null,
      outOfScope: i.entry?.outOfScope ?? null,
    })),
  };
}

/** What each of our lifecycle hooks does, for people reading a reference. */
export const HOOK_PURPOSE: Readonly<Partial<Record<LifecycleStage, string>>> = {
  PRE_SCALE_UP: 'pre-deploy RDS snapshot',
  POST_TEST_TRAFFIC_SHIFT: 'smoke suite against green',
  POST_PRODUCTION_TRAFFIC_SHIFT: 'smoke suite against production',
};

/** One reference in words; `markdown` wraps names in backticks. */
export function describeRef(ref: EnforcementRef, markdown = false): string {
  const code = (text: string) => (markdown ? `\`${text}\`` : text);
  switch (ref.kind) {
    case 'smoke':
      return `smoke check ${code(ref.check)}`;
    case 'alarm':
      return `alarm ${code(`softfactory-<stage>-${ref.signal}`)}`;
    case 'cdk':
      return `CDK: ${ref.what} (test ${code(ref.test.file)} › "${ref.test.title}")`;
    case 'hook': {
      const purpose = HOOK_PURPOSE[ref.stage];
      return `ECS lifecycle hook ${code(ref.stage)}${purpose ? ` (${purpose})` : ''}`;
    }
    case 'cli':
      return `${code(`sfdeploy ${ref.command}`)}`;
    case 'test':
      return `test ${code(ref.file)} › "${ref.title}"`;
  }
}

/** A compact summary for one table cell: references grouped by kind, smoke ids and alarms listed together. */
export function summarizeRefs(refs: readonly EnforcementRef[]): string {
  const parts: string[] = [];
  const smoke = refs.flatMap((r) => (r.kind === 'smoke' ? [r.check] : []));
  const alarms = refs.flatMap((r) => (r.kind === 'alarm' ? [r.signal] : []));
  const hooks = refs.flatMap((r) => (r.kind === 'hook' ? [r.stage] : []));
  const commands = refs.flatMap((r) => (r.kind === 'cli' ? [`sfdeploy ${r.command}`] : []));
  const cdk = refs.flatMap((r) => (r.kind === 'cdk' ? [r.what] : []));
  const tests = refs.filter((r) => r.kind === 'test').length;
  if (cdk.length > 0) parts.push(`cdk: ${cdk.join('; ')}`);
  if (hooks.length > 0) parts.push(`hook ${hooks.join(', ')}`);
  if (smoke.length > 0) parts.push(`smoke ${smoke.join(', ')}`);
  if (alarms.length > 0) parts.push(`alarm ${alarms.join(', ')}`);
  if (commands.length > 0) parts.push(commands.join(', '));
  if (tests > 0) parts.push(`${tests} test${tests === 1 ? '' : 's'}`);
  return parts.join(' | ');
}

/** What the reference checker needs to know about the project; built from the real sources by the test. */
export interface ProjectFacts {
  readonly smokeChecks: ReadonlySet<string>;
  /** Every alarm name in the synthesized app, and how a signal becomes a name there. */
  readonly alarmNames: ReadonlySet<string>;
  readonly alarmName: (signal: string) => string;
  /** Lifecycle stages registered on the ECS service of the synthesized app. */
  readonly hookStages: ReadonlySet<string>;
  readonly cliCommands: ReadonlySet<string>;
  /** The literal `it(…)` titles of a test file, or undefined when the file does not exist. */
  readonly testTitles: (file: string) => ReadonlySet<string> | undefined;
}

const ID_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * Everything wrong with a map, as one line per problem: unmapped checkboxes, stale or duplicate entries, malformed
 * entries, and references to smoke checks, alarms, hooks, commands or tests that do not exist. Empty = the map is
 * complete and every reference is real.
 */
export function checkMap(items: readonly ChecklistItem[], map: readonly MapEntry[], facts: ProjectFacts): string[] {
  const report = computeCoverage(items, map);
  const problems = [...report.mapProblems];
  for (const item of report.items) {
    if (item.status === 'unmapped') {
      problems.push(`unmapped: "${item.item.text}" (${item.item.section}, line ${item.item.line})`);
    }
  }
  for (const entry of map) {
    const where = `${entry.id}:`;
    if (!ID_PATTERN.test(entry.id)) problems.push(`${where} id is not kebab-case`);
    if (entry.enforcement && entry.outOfScope !== undefined) {
      problems.push(`${where} both enforced and out of scope`);
    }
    if (entry.outOfScope !== undefined && entry.outOfScope.trim().length < 20) {
      problems.push(`${where} out-of-scope reason too short to be a reason`);
    }
    if (entry.partial !== undefined && entry.partial.trim().length < 20) {
      problems.push(`${where} partial without saying what is missing`);
    }
    if (entry.partial !== undefined && !entry.enforcement) problems.push(`${where} partial but enforced by nothing`);
    if (!entry.enforcement && entry.outOfScope === undefined)
      problems.push(`${where} neither enforced nor out of scope`);
    if (entry.enforcement?.length === 0) problems.push(`${where} enforced by nothing`);
    for (const ref of entry.enforcement ?? []) {
      const problem = checkRef(ref, facts);
      if (problem) problems.push(`${where} ${problem}`);
    }
  }
  return problems;
}

function checkRef(ref: EnforcementRef, facts: ProjectFacts): string | undefined {
  switch (ref.kind) {
    case 'smoke':
      return facts.smokeChecks.has(ref.check) ? undefined : `unknown smoke check "${ref.check}"`;
    case 'alarm': {
      const name = facts.alarmName(ref.signal);
      return facts.alarmNames.has(name) ? undefined : `no alarm ${name} in the synthesized app`;
    }
    case 'hook':
      return facts.hookStages.has(ref.stage) ? undefined : `no lifecycle hook at ${ref.stage} on the ECS service`;
    case 'cli':
      return facts.cliCommands.has(ref.command) ? undefined : `sfdeploy has no command "${ref.command}"`;
    case 'cdk':
      return checkTest(ref.test, facts);
    case 'test':
      return checkTest(ref, facts);
  }
}

function checkTest(ref: TestRef, facts: ProjectFacts): string | undefined {
  const titles = facts.testTitles(ref.file);
  if (!titles) return `test file ${ref.file} does not exist`;
  return titles.has(ref.title) ? undefined : `${ref.file} has no it('${ref.title}')`;
}

/**
 * The literal titles of `it('…')`, `it("…")` and it(`…`) calls in a test file's source. Template literals with
 * substitutions are not literal titles and are left out: a map cannot name a generated title stably.
 */
export function extractTestTitles(source: string): Set<string> {
  const titles = new Set<string>();
  const call = /\bit\(\s*(['"`])((?:\\[\s\S]|(?!\1)[^\\])*)\1/g;
  for (const match of source.matchAll(call)) {
    const [, quote, body] = match;
    if (quote === '`' && body!.includes('${')) continue;
    titles.add(unescapeJs(body!));
  }
  return titles;
}

function unescapeJs(text: string): string {
  return text.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[\s\S])/g, (_all, esc: string) => {
    if (esc.startsWith('u{')) return String.fromCodePoint(Number.parseInt(esc.slice(2, -1), 16));
    if (esc.startsWith('u') && esc.length === 5) return String.fromCharCode(Number.parseInt(esc.slice(1), 16));
    if (esc.startsWith('x') && esc.length === 3) return String.fromCharCode(Number.parseInt(esc.slice(1), 16));
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0' };
    return simple[esc] ?? esc;
  });
}
