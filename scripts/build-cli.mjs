// npm run build:cli (also run by `prepare`, i.e. by every `npm ci`/`npm install` in the repo, and by
// scripts/run-tests.mjs) — compiles the operator CLI into dist/ so that `sfdeploy` starts without a TypeScript loader:
//   dist/sfdeploy.js     the program (bin/sfdeploy.ts and everything it imports from the repo);
//   dist/read-worker.js  the migration's SQLite reader thread, started by path (lambda/migrate/row-batches.ts looks
//                        for read-worker.js beside the running module, so it must be an entry of its own);
//   dist/inputs.json     the repository files compiled in, for bin/sfdeploy.js's "build older than sources" check.
// Packages stay external (required from node_modules at run time, so `npm ci --omit=dev` must keep every package the
// bundle requires: test/bin/cli-build.test.ts checks that against package.json). Lazily imported commands stay lazy:
// esbuild wraps each module reached by `await import()` and runs it (and its `require`s) only when the action does.
// Each file is written beside its final name and renamed over it, so a CLI started during a build reads either the
// old file or the new one, never half of one.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const outdir = join(root, 'dist');

export async function buildCli() {
  const result = await build({
    absWorkingDir: root,
    entryPoints: { sfdeploy: 'bin/sfdeploy.ts', 'read-worker': 'lambda/migrate/read-worker.ts' },
    outdir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    // The supported runtime (package.json engines, Lambda nodejs22.x). Node 20, where the tests also run, parses the
    // same output: esbuild lowers nothing for node22 that node20 lacks in this code (the bundles are identical).
    target: 'node22',
    packages: 'external',
    sourcemap: true,
    metafile: true,
    write: false,
    logLevel: 'warning',
  });
  mkdirSync(outdir, { recursive: true });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((file) => !file.includes('node_modules/'))
    .sort();
  const files = [
    ...result.outputFiles.map((f) => ({ path: f.path, contents: f.contents })),
    { path: join(outdir, 'inputs.json'), contents: `${JSON.stringify({ inputs }, null, 1)}\n` },
  ];
  // inputs.json last: the bundle is never newer-looking than a list that does not describe it.
  for (const { path, contents } of files) {
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, contents);
    renameSync(temporary, path);
  }
  return { outputs: result.outputFiles.map((f) => relative(root, f.path)), inputs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const { outputs, inputs } = await buildCli();
    if (!process.argv.includes('--quiet')) {
      console.error(`build-cli: ${outputs.filter((f) => f.endsWith('.js')).join(', ')} from ${inputs.length} files`);
    }
  } catch (error) {
    // esbuild has already printed the located errors.
    console.error(`build-cli: the CLI did not build (${error.message.split('\n')[0]})`);
    process.exit(1);
  }
}
