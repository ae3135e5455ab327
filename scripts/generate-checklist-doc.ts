/**
 * Writes docs/CHECKLIST.md from the checklist map (`npm run docs:checklist`). `--check` writes nothing and exits 1 when
 * the committed file is stale (test/lib/checklist.test.ts asserts the same).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { coverageSentence } from '../lib/checklist/coverage';
import { renderChecklistDoc } from '../lib/checklist/doc';
import { loadCoverage } from '../lib/checklist/source';

const target = join(__dirname, '..', 'docs', 'CHECKLIST.md');
const report = loadCoverage();
const text = renderChecklistDoc(report);
for (const problem of report.mapProblems) console.error(`map: ${problem}`);

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // a missing file is stale
  }
  if (current !== text) {
    console.error('docs/CHECKLIST.md is stale: run npm run docs:checklist');
    process.exit(1);
  }
  console.log(`docs/CHECKLIST.md is current. ${coverageSentence(report.coverage)}.`);
} else {
  writeFileSync(target, text);
  console.log(`wrote docs/CHECKLIST.md. ${coverageSentence(report.coverage)}.`);
}
process.exitCode = report.mapProblems.length > 0 || report.coverage.unmapped > 0 ? 1 : 0;
