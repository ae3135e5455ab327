/**
 * npm run bench:cli [-- --rounds N] — what `sfdeploy --help` costs over starting Node at all, side by side in one run:
 *   - `node -e 0`: the floor, Node's own start-up on this machine;
 *   - `node bin/sfdeploy.js --help`: the shipped path (launcher + dist/sfdeploy.js, compiled by esbuild);
 *   - `node dist/sfdeploy.js --help`: the bundle alone, so the launcher's share (its stale-build check) shows;
 *   - `node --import tsx bin/sfdeploy.ts --help`: the TypeScript-at-run-time path the CLI used before it was compiled.
 * Each round runs every variant once, in an order that rotates from round to round, so that a slow patch of the
 * machine hits them all alike; two warm-up rounds are not counted. Reported: the median and the spread (min–max) of
 * each, its difference from `node -e 0` and its ratio to it. Target: the shipped path within 150 ms of `node -e 0`.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const ROOT = join(__dirname, '..');
const BUDGET_MS = 150;
const WARMUP = 2;

interface Variant {
  readonly name: string;
  readonly args: readonly string[];
  /** What its output must contain, so that a variant that fails fast is not mistaken for a fast one. */
  readonly expect: RegExp | null;
}

const VARIANTS: readonly Variant[] = [
  { name: 'node -e 0', args: ['-e', '0'], expect: null },
  { name: 'sfdeploy --help (bin/sfdeploy.js)', args: ['bin/sfdeploy.js', '--help'], expect: /^Usage: sfdeploy / },
  { name: '  bundle alone (dist/sfdeploy.js)', args: ['dist/sfdeploy.js', '--help'], expect: /^Usage: sfdeploy / },
  {
    name: 'old path (--import tsx bin/sfdeploy.ts)',
    args: ['--import', 'tsx', 'bin/sfdeploy.ts', '--help'],
    expect: /^Usage: sfdeploy /,
  },
];

function roundsFromArgv(): number {
  const i = process.argv.indexOf('--rounds');
  const n = i >= 0 ? Number(process.argv[i + 1]) : 21;
  if (!Number.isInteger(n) || n < 1) {
    console.error('bench:cli: --rounds takes a whole number >= 1');
    process.exit(2);
  }
  return n;
}

function timeOnce(variant: Variant): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, variant.args, { cwd: ROOT, encoding: 'utf8' });
  const elapsed = performance.now() - started;
  if (run.status !== 0 || (variant.expect && !variant.expect.test(run.stdout))) {
    throw new Error(`${variant.name} failed (exit ${run.status}): ${run.stderr.split('\n')[0]}`);
  }
  return elapsed;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const ms = (x: number) => `${x.toFixed(1)} ms`;

function main(): void {
  const rounds = roundsFromArgv();
  // Measure what the sources would build to now, not a dist/ left over from another branch.
  const build = spawnSync(process.execPath, ['scripts/build-cli.mjs', '--quiet'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) process.exit(1);

  const samples = VARIANTS.map(() => [] as number[]);
  for (let round = 0; round < WARMUP + rounds; round++) {
    for (let k = 0; k < VARIANTS.length; k++) {
      const i = (round + k) % VARIANTS.length;
      const elapsed = timeOnce(VARIANTS[i]!);
      if (round >= WARMUP) samples[i]!.push(elapsed);
    }
  }

  const medians = samples.map(median);
  const floor = medians[0]!;
  console.log(`CLI start-up, ${rounds} rounds (+${WARMUP} warm-up), Node ${process.version}, wall time per process:`);
  const width = Math.max(...VARIANTS.map((v) => v.name.length));
  console.log(`  ${'variant'.padEnd(width)}  ${'median'.padStart(9)}  ${'min–max'.padStart(17)}  vs node -e 0`);
  VARIANTS.forEach((variant, i) => {
    const s = samples[i]!;
    const spread = `${Math.min(...s).toFixed(0)}–${Math.max(...s).toFixed(0)} ms`;
    const versus = i === 0 ? '' : `+${ms(medians[i]! - floor)} (${(medians[i]! / floor).toFixed(2)}x)`;
    console.log(`  ${variant.name.padEnd(width)}  ${ms(medians[i]!).padStart(9)}  ${spread.padStart(17)}  ${versus}`);
  });

  const shipped = medians[1]!;
  const old = medians[3]!;
  const overhead = shipped - floor;
  console.log(
    `  compiled vs old tsx path: ${(old / shipped).toFixed(2)}x faster, ${ms(old - shipped)} saved per invocation`,
  );
  const ok = overhead <= BUDGET_MS;
  console.log(`  sfdeploy --help over node -e 0: ${ms(overhead)} (target <= ${BUDGET_MS} ms) ${ok ? 'OK' : 'MISSED'}`);
  if (!ok) process.exitCode = 1;
}

main();
