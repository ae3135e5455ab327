#!/usr/bin/env node
// Launcher: runs the compiled CLI (dist/sfdeploy.js, built from bin/sfdeploy.ts by scripts/build-cli.mjs — `npm ci`
// builds it through `prepare`) in this process: no TypeScript loader and no child process, so `sfdeploy --help` costs
// little more than starting Node. Signals reach the command directly (a rehearsal's Ctrl-C handler in
// lambda/migrate/embedded-pg.ts removes its temporary database and exits 130), and the exit code is the command's.
const { readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const bundle = join(root, 'dist', 'sfdeploy.js');

let built;
try {
  built = statSync(bundle).mtimeMs;
} catch {
  process.stderr.write('sfdeploy: the CLI is not built (dist/sfdeploy.js is missing); run npm run build:cli\n');
  process.exit(2);
}
warnIfStale(built);
require(bundle).main();

/**
 * A source file changed after the build (an edit, a `git pull` without `npm ci`): say so on one line and run the
 * existing build anyway. Not rebuilt here: that would write into the install from whatever process runs the CLI (two CI steps
 * at once would race), hide a build error behind the command the operator asked for, and need esbuild at run time.
 * About 30 stat calls, well under a millisecond.
 */
function warnIfStale(builtMs) {
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(join(root, 'dist', 'inputs.json'), 'utf8')).inputs;
  } catch {
    return; // A build from before inputs.json: nothing to compare with.
  }
  for (const input of inputs) {
    let changed;
    try {
      changed = statSync(join(root, input)).mtimeMs > builtMs;
    } catch {
      changed = true; // Deleted or renamed since the build.
    }
    if (changed) {
      process.stderr.write(`sfdeploy: warning: ${input} changed after the CLI was built; run npm run build:cli\n`);
      return;
    }
  }
}
