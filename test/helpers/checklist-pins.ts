/**
 * The mechanical guard behind every `cdk` claim of the checklist map that names the template properties it rests on
 * (`pins`): with a pinned property removed from the synthesized app, the referenced test must fail. A test that stops
 * asserting the property (or never did) cannot keep its item "enforced". The removal is an aspect the synth helper
 * applies when SFDEPLOY_TEST_REMOVE_PROPERTY is set (test/helpers/synth.ts), so the referenced test runs unchanged,
 * through node's own test runner, in a child process.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CHECKLIST_MAP } from '../../lib/checklist/checklist-map';
import type { EnforcementRef, TemplatePin } from '../../lib/checklist/coverage';
import { REMOVE_PROPERTY_ENV, synthApp } from './synth';

const ROOT = join(__dirname, '..', '..');

interface Pinned {
  readonly ids: string[];
  readonly file: string;
  readonly title: string;
  readonly pin: TemplatePin;
}

/** Each (test, pin) once, with the items that cite it. */
export function pinnedClaims(): Pinned[] {
  const byKey = new Map<string, Pinned>();
  for (const entry of CHECKLIST_MAP) {
    for (const ref of entry.enforcement ?? []) {
      if (ref.kind !== 'cdk') continue;
      for (const pin of ref.pins ?? []) {
        const key = JSON.stringify([ref.test.file, ref.test.title, pin]);
        const known = byKey.get(key);
        if (known) known.ids.push(entry.id);
        else byKey.set(key, { ids: [entry.id], file: ref.test.file, title: ref.test.title, pin });
      }
    }
  }
  return [...byKey.values()];
}

/** The value at a dotted property path (array indices as numbers, `\.` a literal dot as in CDK overrides), or undefined. */
function at(properties: unknown, path: string): unknown {
  let value = properties;
  for (const segment of path.split(/(?<!\\)\./).map((s) => s.replace(/\\\./g, '.'))) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runTest(file: string, title: string, pin: TemplatePin): Promise<Run> {
  const args = [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=tap',
    `--test-name-pattern=^${escapeRegExp(title)}$`,
    file,
  ];
  // Without NODE_TEST_CONTEXT, which the parent runner sets: a child that sees it reports to the parent, not as TAP.
  const { NODE_TEST_CONTEXT: _parent, ...inherited } = process.env;
  const env = { ...inherited, [REMOVE_PROPERTY_ENV]: JSON.stringify(pin) };
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** TAP escapes `\` and `#` in test names (https://testanything.org/tap-version-14-specification.html). */
function tapName(title: string): string {
  return title.replace(/\\/g, '\\\\').replace(/#/g, '\\#');
}

/** The map-wide checks (run once, in the first shard). */
export function definePinRules(): void {
  const claims = pinnedClaims();
  describe('checklist map pins', () => {
    it('pins a template property for every item enforced by template properties alone', () => {
      const unpinned = CHECKLIST_MAP.filter((entry) => {
        const refs: readonly EnforcementRef[] = entry.enforcement ?? [];
        return (
          entry.partial === undefined &&
          refs.length > 0 &&
          refs.every((r) => r.kind === 'cdk') &&
          !refs.some((r) => r.kind === 'cdk' && (r.pins?.length ?? 0) > 0)
        );
      }).map((e) => e.id);
      assert.deepEqual(unpinned, []);
    });

    it('names, in every pin, a property the synthesized dev or prod templates hold', () => {
      const apps = [synthApp({ stage: 'dev' }), synthApp({ stage: 'prod' })];
      const absent = claims.filter(({ pin }) =>
        apps.every((app) => {
          const resources = app[pin.stack].findResources(pin.type) as Record<string, { Properties?: unknown }>;
          return Object.values(resources).every((r) => at(r.Properties, pin.property) === undefined);
        }),
      );
      assert.deepEqual(
        absent.map(({ pin, ids }) => `${ids.join(', ')}: ${pin.stack} ${pin.type} ${pin.property}`),
        [],
      );
    });
  });
}

// Child processes synthesize on their own; two at a time keeps a 2-core machine busy without thrashing.
/** Shard `shard` of `shards` of the (test, pin) claims: each shard file stays well inside the per-file timeout. */
export function definePinMutations(shard: number, shards: number): void {
  const claims = pinnedClaims().filter((_, i) => i % shards === shard);
  describe(`each pinned test fails with its property removed (shard ${shard + 1} of ${shards})`, {
    concurrency: 2,
  }, () => {
    for (const { ids, file, title, pin } of claims) {
      it(`${ids.join(', ')}: "${title}" fails without ${pin.type} ${pin.property} (${pin.stack})`, async () => {
        const run = await runTest(file, title, pin);
        const failedLine = new RegExp(`^\\s*not ok \\d+ - ${escapeRegExp(tapName(title))}(\\s|$)`, 'm');
        assert.notEqual(run.code, 0, `${file} › "${title}" still passes with ${pin.property} removed`);
        assert.match(
          run.stdout,
          failedLine,
          `the test itself must fail, not its file (exit ${run.code}):\n${run.stdout.slice(-2000)}${run.stderr.slice(-1000)}`,
        );
      });
    }
  });
}
