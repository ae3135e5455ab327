/**
 * The property-based round trip (roundtrip.ts) in the ordinary test run: a bounded number of random cases from a
 * fixed seed, so a failure reproduces. Set SFDEPLOY_FUZZ_SEED / SFDEPLOY_FUZZ_RUNS to explore; `npm run fuzz:migrate`
 * runs many more cases from a fresh seed. fast-check prints the seed and the counterexample's path on failure.
 */
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { type PgHarness, startHarness } from './pg-harness';
import { caseSpec, checkRoundTrip } from './roundtrip';

let pg: PgHarness;
before(async () => {
  pg = await startHarness();
});
after(async () => {
  await pg?.stop();
});

const seed = Number(process.env['SFDEPLOY_FUZZ_SEED'] ?? 20261202);
const numRuns = Number(process.env['SFDEPLOY_FUZZ_RUNS'] ?? 20);

describe('SQLite → PostgreSQL round trip, judged by an independent oracle', () => {
  it(`oracle equal ⇔ verification ok, after migrating and after mutating the target (seed ${seed}, ${numRuns} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(caseSpec, (spec) => checkRoundTrip(pg, spec)),
      { seed, numRuns, endOnFailure: true },
    );
  });
});
