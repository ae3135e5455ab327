#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript, run by Node with tsx's loader (`--import tsx`) so `npx sfdeploy` works in the
// repo without a build step. A child process, because only `--import` installs tsx's hooks for both `require` and
// the dynamic `import()` of lazily loaded commands; tsx is resolved from here, so any working directory will do.
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const tsx = pathToFileURL(require.resolve('tsx')).href;
// Ctrl-C on a terminal signals the whole process group: the command (the child) handles it and cleans up (a
// rehearsal removes its temporary database), and this launcher waits for it and exits with its code.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {});
const result = spawnSync(
  process.execPath,
  ['--import', tsx, join(__dirname, 'sfdeploy.ts'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
  },
);
if (result.error) throw result.error;
if (result.signal) process.kill(process.pid, result.signal);
process.exit(result.status ?? 1);
