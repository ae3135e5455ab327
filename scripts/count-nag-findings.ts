/**
 * `npx tsx scripts/count-nag-findings.ts`: the cdk-nag findings of every pack the app applies, per stage, raw (every
 * rule a resource breaks, acknowledged or not) and unacknowledged (what would fail `cdk synth`).
 *
 *   npx tsx scripts/count-nag-findings.ts                      every stage, environment-agnostic
 *   npx tsx scripts/count-nag-findings.ts --account-specific   with the test account/region (123456789012, eu-west-1)
 *   npx tsx scripts/count-nag-findings.ts --stage prod --by-rule   one stage, counts per rule
 *   npx tsx scripts/count-nag-findings.ts --json               one JSON document
 *
 * It builds the app the way the tests do (test/helpers/synth.ts: stage defaults and cdk.json context, no
 * config/<stage>.json, no bundling) and runs each pack's `validateScope` over each stack. A finding is one rule id on one
 * resource (a rule with several sub-findings, e.g. `AwsSolutions-IAM5[Resource::…]`, counts each). Exit codes: 0
 * printed, 2 bad usage.
 */

import { AwsSolutionsChecks, type NagPack, NIST80053R5Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { STAGES, type Stage } from '../lib/config/stage-config';
import { buildApp, EXAMPLE_ENV } from '../test/helpers/synth';

/** The packs lib/app.ts applies, by the name their rule ids start with. */
const PACKS: Readonly<Record<string, () => NagPack>> = {
  AwsSolutions: () => new AwsSolutionsChecks(),
  'NIST.800.53.R5': () => new NIST80053R5Checks(),
};

export interface PackCount {
  readonly pack: string;
  readonly stage: Stage;
  readonly accountSpecific: boolean;
  readonly raw: number;
  readonly unacknowledged: number;
  /** Rule id (sub-finding brackets dropped) → [raw, unacknowledged]. */
  readonly byRule: Readonly<Record<string, readonly [number, number]>>;
}

/** The findings of `pack` over `scope`, one per rule id and resource, keyed `<rule>` → resource paths. */
function findings(pack: NagPack, scope: IConstruct, raw: boolean): Map<string, string[]> {
  if (raw) {
    // cdk-nag has no switch for "ignore acknowledgements"; its private isAcknowledged is the one place it looks.
    Object.defineProperty(pack, 'isAcknowledged', { value: () => false });
  }
  const out = new Map<string, string[]>();
  for (const violation of pack.validateScope(scope).violations) {
    const rule = violation.ruleName.replace(/\[.*$/, '');
    const list = out.get(rule) ?? [];
    list.push(...violation.violatingResources.map((r) => r.constructPath ?? ''));
    out.set(rule, list);
  }
  return out;
}

/** Counts every pack over one stage's stacks. */
export function countFindings(stage: Stage, accountSpecific: boolean): PackCount[] {
  const context: Record<string, string> = accountSpecific
    ? { stage, account: EXAMPLE_ENV.account, region: EXAMPLE_ENV.region }
    : { stage };
  const { app, stacks } = buildApp(context);
  // Aspects (e.g. the log-group encryption) run during synthesis; the packs' own run at its end fails it on any
  // unacknowledged finding, which is exactly what this script counts, so that failure is expected here.
  // Quiet: the validation report it prints is what this script summarises.
  const writes = [process.stdout.write, process.stderr.write];
  process.stdout.write = process.stderr.write = () => true;
  try {
    app.synth();
  } catch {
    // expected while findings are open
  } finally {
    [process.stdout.write, process.stderr.write] = writes as [typeof process.stdout.write, typeof process.stderr.write];
  }
  const all = [stacks.network, stacks.data, stacks.service];
  return Object.entries(PACKS).map(([name, make]) => {
    const byRule: Record<string, [number, number]> = {};
    let raw = 0;
    let unacknowledged = 0;
    for (const stack of all) {
      for (const [rule, paths] of findings(make(), stack, true)) {
        byRule[rule] = [(byRule[rule]?.[0] ?? 0) + paths.length, byRule[rule]?.[1] ?? 0];
        raw += paths.length;
      }
      for (const [rule, paths] of findings(make(), stack, false)) {
        byRule[rule] = [byRule[rule]?.[0] ?? 0, (byRule[rule]?.[1] ?? 0) + paths.length];
        unacknowledged += paths.length;
      }
    }
    return { pack: name, stage, accountSpecific, raw, unacknowledged, byRule };
  });
}

function main(argv: readonly string[]): void {
  let stages: readonly Stage[] = STAGES;
  let accountSpecific = false;
  let byRule = false;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--account-specific') accountSpecific = true;
    else if (arg === '--by-rule') byRule = true;
    else if (arg === '--json') json = true;
    else if (arg === '--stage' && STAGES.includes(argv[i + 1] as Stage)) stages = [argv[++i] as Stage];
    else {
      process.stderr.write(
        `count-nag-findings: unknown argument ${arg} (use --stage ${STAGES.join('|')}, --account-specific, --by-rule, --json)\n`,
      );
      process.exit(2);
    }
  }
  const counts = stages.flatMap((stage) => countFindings(stage, accountSpecific));
  if (json) {
    process.stdout.write(`${JSON.stringify(counts, null, 2)}\n`);
    return;
  }
  const env = accountSpecific ? `${EXAMPLE_ENV.account}/${EXAMPLE_ENV.region}` : 'environment-agnostic';
  process.stdout.write(`pack             stage    raw  unacknowledged   ${env}\n`);
  for (const c of counts) {
    process.stdout.write(
      `${c.pack.padEnd(16)} ${c.stage.padEnd(8)} ${String(c.raw).padStart(4)}  ${String(c.unacknowledged).padStart(14)}\n`,
    );
    if (byRule) {
      for (const [rule, [raw, open]] of Object.entries(c.byRule).sort()) {
        process.stdout.write(`    ${rule.padEnd(58)} ${String(raw).padStart(4)}  ${String(open).padStart(14)}\n`);
      }
    }
  }
}

if (require.main === module) main(process.argv.slice(2));
