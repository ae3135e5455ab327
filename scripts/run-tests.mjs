// Runs every test/**/*.test.ts with Node's built-in test runner (TypeScript through tsx).
// Node 20's `--test` takes no glob patterns, so the file list is gathered here. A hung test fails after 4 minutes
// instead of hanging CI, and the whole run is stopped (exit 1, naming why) if it outlives RUN_TESTS_TIMEOUT_MS.
// No --test-force-exit: with process isolation and concurrency it drops the tail of a file's verdicts before the
// parent reads them, so the run reported fewer tests than ran, at exit 0 (nodejs/node#64833; seen here: 1220 of
// 1233 tests reported on a clean clone, the tail of test/lambda/smoke/spec.test.ts missing).
// The CLI is compiled first: the CLI tests run the artefact an operator runs (`node bin/sfdeploy.js` → dist/).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function collect(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return collect(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

const filter = process.argv.slice(2);
const files = collect('test')
  .filter((f) => filter.length === 0 || filter.some((part) => f.includes(part)))
  .sort();
if (files.length === 0) {
  console.error('run-tests: no test files matched');
  process.exit(1);
}
const build = spawnSync(process.execPath, ['scripts/build-cli.mjs', '--quiet'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=240000', '--test-reporter=spec', ...files],
  { stdio: 'inherit', timeout: Number(process.env.RUN_TESTS_TIMEOUT_MS ?? 20 * 60_000), killSignal: 'SIGKILL' },
);
if (result.signal) {
  console.error(
    `run-tests: stopped after RUN_TESTS_TIMEOUT_MS (${result.signal}): a test file kept the run alive, or it is too slow`,
  );
}
process.exit(result.status ?? 1);
