/**
 * `npm run fuzz:migrate`: the property-based round trip (test/lambda/migrate/roundtrip.ts) for many cases, from a
 * fresh seed (printed first) unless SFDEPLOY_FUZZ_SEED is set; SFDEPLOY_FUZZ_RUNS sets the count (default 300).
 * A failure is shrunk to a small counterexample and printed with its seed and path, which reproduce it:
 * `SFDEPLOY_FUZZ_SEED=<seed> SFDEPLOY_FUZZ_RUNS=<n> npm run fuzz:migrate`.
 */
import fc from 'fast-check';
import { startHarness } from '../../test/lambda/migrate/pg-harness';
import { caseSpec, checkRoundTrip } from '../../test/lambda/migrate/roundtrip';

async function main(): Promise<void> {
  const seed = Number(process.env['SFDEPLOY_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
  const numRuns = Number(process.env['SFDEPLOY_FUZZ_RUNS'] ?? 300);
  process.stdout.write(`fuzz:migrate — seed ${seed}, ${numRuns} cases\n`);
  const pg = await startHarness();
  let done = 0;
  let failed = false;
  const started = Date.now();
  try {
    await fc.assert(
      fc.asyncProperty(caseSpec, async (spec) => {
        try {
          await checkRoundTrip(pg, spec);
        } catch (error) {
          // Shown at once: shrinking it to a small counterexample can take a while (SFDEPLOY_FUZZ_SHRINK=0 skips it).
          if (!failed)
            process.stdout.write(`first failure, after ${done} cases (shrinking):\n${(error as Error).message}\n`);
          failed = true;
          throw error;
        }
        if (!failed && ++done % 25 === 0) {
          process.stdout.write(`  ${done} cases, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
        }
      }),
      { seed, numRuns, endOnFailure: process.env['SFDEPLOY_FUZZ_SHRINK'] === '0' },
    );
    process.stdout.write(`OK — ${numRuns} cases, oracle and verification agree (seed ${seed})\n`);
  } catch (error) {
    process.stdout.write(`FAILED (seed ${seed})\n${(error as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    await pg.stop();
  }
}

void main();
