/**
 * The checklist map is complete and honest: every checkbox has exactly one entry, and every reference names a smoke
 * check, alarm, lifecycle hook, command or test that really exists in the project.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildProgram } from '../../bin/sfdeploy';
import { defaultSpec } from '../../lambda/smoke/spec';
import { CHECKLIST_MAP } from '../../lib/checklist/checklist-map';
import {
  type ChecklistItem,
  checkMap,
  computeCoverage,
  coverageDocument,
  coverageSentence,
  type EnforcementRef,
  extractTestTitles,
  type MapEntry,
  type ProjectFacts,
  parseChecklist,
} from '../../lib/checklist/coverage';
import { renderChecklistDoc } from '../../lib/checklist/doc';
import { CHECKLIST_FILE, loadCoverage } from '../../lib/checklist/source';
import { alarmName } from '../../lib/constructs/service-alarms';
import { resourcesOf, synthApp } from '../helpers/synth';

const ROOT = join(__dirname, '..', '..');
/** CI checks the repository out with shared/ beside it; a clean clone alone has only the vendored copy. */
const SHARED_CHECKLIST = join(ROOT, '..', 'shared', 'seed', 'production-deployment-checklist.md');
const markdown = readFileSync(CHECKLIST_FILE, 'utf8');
const items = parseChecklist(markdown);

/** The project as it is: the default smoke spec, the synthesized app, the CLI and the test files on disk. */
function projectFacts(): ProjectFacts {
  const stage = 'dev';
  const app = synthApp({ stage });
  const templates = [app.network, app.data, app.service];
  const alarmNames = new Set(
    templates.flatMap((t) =>
      Object.values(resourcesOf(t, 'AWS::CloudWatch::Alarm')).map((a) => String(a.Properties['AlarmName'])),
    ),
  );
  const hookStages = new Set(
    Object.values(resourcesOf(app.service, 'AWS::ECS::Service')).flatMap((service) => {
      const config = service.Properties['DeploymentConfiguration'] as {
        LifecycleHooks?: { LifecycleStages: string[] }[];
      };
      return (config.LifecycleHooks ?? []).flatMap((h) => h.LifecycleStages);
    }),
  );
  const titles = new Map<string, Set<string> | undefined>();
  return {
    smokeChecks: new Set(defaultSpec().checks.map((c) => c.id)),
    alarmNames,
    alarmName: (signal) => alarmName(stage, signal),
    hookStages,
    cliCommands: new Set(buildProgram().commands.map((c) => c.name())),
    testTitles: (file) => {
      if (!titles.has(file)) {
        const path = join(ROOT, file);
        titles.set(file, existsSync(path) ? extractTestTitles(readFileSync(path, 'utf8')) : undefined);
      }
      return titles.get(file);
    },
  };
}

/** Facts for the pure checker tests: a tiny project that knows one of each thing. */
const FAKE_FACTS: ProjectFacts = {
  smokeChecks: new Set(['health']),
  alarmNames: new Set(['softfactory-dev-error-rate']),
  alarmName: (signal) => `softfactory-dev-${signal}`,
  hookStages: new Set(['PRE_SCALE_UP']),
  cliCommands: new Set(['smoke']),
  testTitles: (file) => (file === 'test/a.test.ts' ? new Set(['does the thing']) : undefined),
};

const TINY_CHECKLIST = [
  '## ✅ PRE-DEPLOYMENT PHASE (Must complete first)',
  '### **2. Flask Server Health Check**',
  '- [ ] Health check endpoint responds',
  '  ```bash',
  '  - [ ] not a checkbox: inside a code fence',
  '  ```',
  '- [ ] Rate limiting configured',
  '  - [ ] Check Flask-Limiter setup',
  '## ✅ FINAL SIGN-OFF',
  '**Deployment Approval:**',
  '- [ ] QA Lead: _____ (Name)',
].join('\n');

const TINY_MAP: MapEntry[] = [
  {
    id: 'pre-2-health-endpoint',
    section: 'PRE-DEPLOYMENT PHASE › 2. Flask Server Health Check',
    text: 'Health check endpoint responds',
    enforcement: [
      { kind: 'smoke', check: 'health' },
      { kind: 'alarm', signal: 'error-rate' },
      { kind: 'hook', stage: 'PRE_SCALE_UP' },
      { kind: 'cli', command: 'smoke' },
      { kind: 'test', file: 'test/a.test.ts', title: 'does the thing' },
    ],
  },
  {
    id: 'pre-2-rate-limiting',
    section: 'PRE-DEPLOYMENT PHASE › 2. Flask Server Health Check',
    text: 'Rate limiting configured',
    enforcement: [{ kind: 'cdk', what: 'WAF', test: { file: 'test/a.test.ts', title: 'does the thing' } }],
  },
  {
    id: 'pre-2-flask-limiter',
    section: 'PRE-DEPLOYMENT PHASE › 2. Flask Server Health Check',
    text: 'Check Flask-Limiter setup',
    outOfScope: 'the app’s own library configuration, its CI',
  },
  {
    id: 'signoff-approval-qa-lead',
    section: 'FINAL SIGN-OFF › Deployment Approval',
    text: 'QA Lead: _____ (Name)',
    outOfScope: 'a person’s name: approval is human',
  },
];

describe('checklist parsing', () => {
  it('vendors a byte-identical copy of the shared checklist', (t) => {
    if (!existsSync(SHARED_CHECKLIST)) {
      t.diagnostic(`${SHARED_CHECKLIST} is not beside this clone: nothing to compare the vendored copy with`);
      return;
    }
    assert.ok(
      readFileSync(CHECKLIST_FILE).equals(readFileSync(SHARED_CHECKLIST)),
      'docs/ copy differs from shared/seed',
    );
  });

  it('finds all 143 checkboxes, sub-items included', () => {
    const lines = markdown.split('\n');
    assert.equal(items.length, lines.filter((line) => /^\s*- \[[ xX]\] /.test(line)).length);
    assert.equal(items.length, 143);
    const indented = lines.filter((line) => /^\s+- \[[ xX]\] /.test(line)).length;
    assert.equal(items.filter((i) => i.depth > 0 && i.parent !== undefined).length, indented);
  });

  it('names sections by phase and heading, bold paragraphs where a phase has no headings, and skips code fences', () => {
    const tiny = parseChecklist(TINY_CHECKLIST);
    assert.deepEqual(
      tiny.map((i) => [i.section, i.text, i.depth, i.parent]),
      [
        ['PRE-DEPLOYMENT PHASE › 2. Flask Server Health Check', 'Health check endpoint responds', 0, undefined],
        ['PRE-DEPLOYMENT PHASE › 2. Flask Server Health Check', 'Rate limiting configured', 0, undefined],
        [
          'PRE-DEPLOYMENT PHASE › 2. Flask Server Health Check',
          'Check Flask-Limiter setup',
          1,
          'Rate limiting configured',
        ],
        ['FINAL SIGN-OFF › Deployment Approval', 'QA Lead: _____ (Name)', 0, undefined],
      ],
    );
    const auth = items.find((i) => i.text === 'Auth Flow');
    assert.equal(auth?.section, 'INTEGRATION PHASE › 1. End-to-End Flow Testing', 'bold markers removed from text');
  });

  it('extracts literal it() titles in all three quote styles, with escapes, and skips generated titles', () => {
    const source = [
      "it('single \\'quoted\\' title', () => {});",
      'it("double quoted", async () => {});',
      'it(`back-ticked`, () => {});',
      "it('rejects a WAF rate limit below WAF\\u2019s minimum', () =>",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a test title with a substitution, as source text
      'it(`finds nothing in the ${stage} app`, () => {});',
      "describe('not a test title', () => {});",
    ].join('\n');
    assert.deepEqual(
      [...extractTestTitles(source)].sort(),
      ['back-ticked', 'double quoted', 'rejects a WAF rate limit below WAF’s minimum', "single 'quoted' title"].sort(),
    );
  });
});

describe('checklist map', () => {
  const report = computeCoverage(items, CHECKLIST_MAP);

  it('maps every checkbox exactly once, with no stale or duplicate entries', () => {
    assert.deepEqual(report.mapProblems, []);
    const unmapped = report.items
      .filter((i) => i.status === 'unmapped')
      .map((i) => `${i.item.section}: ${i.item.text}`);
    assert.deepEqual(unmapped, []);
    assert.equal(CHECKLIST_MAP.length, items.length);
    assert.equal(new Set(report.items.map((i) => i.id)).size, items.length, 'ids are unique');
  });

  it('points every reference at a smoke check, alarm, hook, command and test that exist', () => {
    assert.deepEqual(checkMap(items, CHECKLIST_MAP, projectFacts()), []);
  });

  it('uses every check of the default smoke spec for at least one checklist item', () => {
    const used = new Set(
      CHECKLIST_MAP.flatMap((e) => (e.enforcement ?? []).flatMap((r) => (r.kind === 'smoke' ? [r.check] : []))),
    );
    const unused = defaultSpec()
      .checks.map((c) => c.id)
      .filter((id) => !used.has(id));
    assert.deepEqual(unused, []);
  });

  it('gives every out-of-scope item a reason and every enforced item at least one reference', () => {
    for (const entry of CHECKLIST_MAP) {
      if (entry.outOfScope !== undefined) assert.ok(entry.outOfScope.length >= 40, `${entry.id}: reason too thin`);
      else assert.ok(entry.enforcement.length > 0, `${entry.id}: enforced by nothing`);
      if (entry.partial !== undefined) assert.ok(entry.partial.length >= 40, `${entry.id}: say what is missing`);
    }
  });

  it('reports the coverage the README quotes', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.ok(
      readme.includes(coverageSentence(report.coverage)),
      `README.md should quote: ${coverageSentence(report.coverage)}`,
    );
    assert.equal(report.coverage.total, 143);
    assert.equal(report.coverage.unmapped, 0);
    assert.equal(report.coverage.enforced + report.coverage.partial + report.coverage.outOfScope, 143);
  });

  it('counts a partial item apart from the enforced ones and says what it is missing', () => {
    const item: ChecklistItem = { section: 'X', phase: 'X', text: 'y', line: 1, depth: 0 };
    const refs = [{ kind: 'cli', command: 'smoke' }] as const;
    const partial: MapEntry = { id: 'x-y', section: 'X', text: 'y', enforcement: refs, partial: 'the write half' };
    const full: MapEntry = { id: 'x-y', section: 'X', text: 'y', enforcement: refs };
    assert.deepEqual(computeCoverage([item], [partial]).coverage, {
      total: 1,
      enforced: 0,
      partial: 1,
      outOfScope: 0,
      unmapped: 0,
      percentEnforced: 0,
    });
    assert.equal(computeCoverage([item], [full]).coverage.enforced, 1);
    const [doc] = coverageDocument(computeCoverage([item], [partial]).items).items;
    assert.equal(doc?.status, 'partial');
    assert.equal(doc?.missing, 'the write half');
    assert.match(
      renderChecklistDoc(computeCoverage([item], [partial])),
      /\| partial \| \*\*Missing:\*\* the write half<br>/,
    );
    assert.deepEqual(checkMap([item], [{ ...partial, partial: 'tbd' }], FAKE_FACTS), [
      'x-y: partial without saying what is missing',
    ]);
  });

  it('generates docs/CHECKLIST.md exactly as committed (npm run docs:checklist)', () => {
    const committed = readFileSync(join(ROOT, 'docs', 'CHECKLIST.md'), 'utf8');
    assert.equal(
      committed,
      renderChecklistDoc(loadCoverage()),
      'docs/CHECKLIST.md is stale: run npm run docs:checklist',
    );
  });
});

describe('checklist map checker (pure, fed broken maps)', () => {
  const tiny = parseChecklist(TINY_CHECKLIST);
  /** TINY_MAP with one entry's references replaced. */
  const withRefs = (id: string, enforcement: EnforcementRef[]): MapEntry[] =>
    TINY_MAP.map((e) => (e.id === id ? { id: e.id, section: e.section, text: e.text, enforcement } : e));

  it('accepts a complete map whose references all exist', () => {
    assert.deepEqual(checkMap(tiny, TINY_MAP, FAKE_FACTS), []);
  });

  it('reports an unknown smoke check, alarm, hook and command', () => {
    const broken = withRefs('pre-2-health-endpoint', [
      { kind: 'smoke', check: 'no-such-check' },
      { kind: 'alarm', signal: 'no-such-signal' },
      { kind: 'hook', stage: 'POST_SCALE_UP' },
      { kind: 'cli', command: 'migrate' },
    ]);
    assert.deepEqual(checkMap(tiny, broken, FAKE_FACTS), [
      'pre-2-health-endpoint: unknown smoke check "no-such-check"',
      'pre-2-health-endpoint: no alarm softfactory-dev-no-such-signal in the synthesized app',
      'pre-2-health-endpoint: no lifecycle hook at POST_SCALE_UP on the ECS service',
      'pre-2-health-endpoint: sfdeploy has no command "migrate"',
    ]);
  });

  it('reports a test title that does not exist and a test file that does not exist', () => {
    const broken = withRefs('pre-2-rate-limiting', [
      { kind: 'cdk', what: 'WAF', test: { file: 'test/a.test.ts', title: 'does the thing, renamed' } },
      { kind: 'test', file: 'test/gone.test.ts', title: 'does the thing' },
    ]);
    assert.deepEqual(checkMap(tiny, broken, FAKE_FACTS), [
      "pre-2-rate-limiting: test/a.test.ts has no it('does the thing, renamed')",
      'pre-2-rate-limiting: test file test/gone.test.ts does not exist',
    ]);
  });

  it('reports an unmapped checkbox, a stale entry and a duplicate', () => {
    const broken: MapEntry[] = [
      ...TINY_MAP.filter((e) => e.id !== 'pre-2-flask-limiter'),
      { ...TINY_MAP[3]!, id: 'signoff-qa-again' },
      {
        id: 'pre-2-old-wording',
        section: 'PRE-DEPLOYMENT PHASE › 2. Flask Server Health Check',
        text: 'Health endpoint answers',
        outOfScope: 'an entry whose checkbox was reworded',
      },
    ];
    assert.deepEqual(checkMap(tiny, broken, FAKE_FACTS), [
      'signoff-qa-again and signoff-approval-qa-lead both map "QA Lead: _____ (Name)" (FINAL SIGN-OFF › Deployment Approval)',
      'pre-2-old-wording is stale: no checkbox "Health endpoint answers" in PRE-DEPLOYMENT PHASE › 2. Flask Server Health Check',
      'unmapped: "Check Flask-Limiter setup" (PRE-DEPLOYMENT PHASE › 2. Flask Server Health Check, line 8)',
    ]);
  });

  it('keeps ids when items move, and suggests an id only for an item the map does not know', () => {
    const moved = parseChecklist(TINY_CHECKLIST.replace('- [ ] Health check endpoint responds\n', ''));
    const withItem = `${TINY_CHECKLIST.split('\n').slice(0, 2).join('\n')}\n- [ ] Brand new check item here\n${TINY_CHECKLIST}`;
    const report = computeCoverage(parseChecklist(withItem), TINY_MAP);
    assert.equal(report.items.find((i) => i.item.text === 'Check Flask-Limiter setup')?.id, 'pre-2-flask-limiter');
    assert.equal(computeCoverage(moved, TINY_MAP).items[0]?.id, 'pre-2-rate-limiting');
    const fresh = report.items.find((i) => i.item.text === 'Brand new check item here');
    assert.equal(fresh?.status, 'unmapped');
    assert.equal(fresh?.id, 'pre-2-brand-new-check-item');
  });

  it('reports malformed entries: bad id, no reference, empty reason', () => {
    const item: ChecklistItem = { section: 'X', phase: 'X', text: 'y', line: 1, depth: 0 };
    const entries: MapEntry[] = [
      { id: 'Bad_Id', section: 'X', text: 'y', enforcement: [] },
      { id: 'z-1', section: 'X', text: 'z', outOfScope: 'no' },
    ];
    assert.deepEqual(checkMap([item], entries, FAKE_FACTS), [
      'z-1 is stale: no checkbox "z" in X',
      'Bad_Id: id is not kebab-case',
      'Bad_Id: enforced by nothing',
      'z-1: out-of-scope reason too short to be a reason',
    ]);
  });
});
