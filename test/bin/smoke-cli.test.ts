/**
 * `sfdeploy smoke` as an operator or a pipeline runs it: spawnSync of the real CLI against a fake SoftFactory
 * running in its own process (spawnSync blocks this process, so the server cannot live here).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const TOKEN = 'cli-smoke-token';

async function startFake(...args: string[]): Promise<{ url: string; process: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/smoke/serve-fake.ts', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const match = /listening (\d+)/.exec(buffered);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`fake server exited early (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, process: child };
}

function sfdeploy(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, ['bin/sfdeploy.js', 'smoke', ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '', ...env },
    timeout: 30_000,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('sfdeploy smoke', () => {
  let healthy: { url: string; process: ChildProcess };
  let brokenHealth: { url: string; process: ChildProcess };
  let dir: string;

  before(async () => {
    [healthy, brokenHealth] = await Promise.all([
      startFake('--token', TOKEN),
      startFake('--token', TOKEN, '--broken-health'),
    ]);
    dir = mkdtempSync(join(tmpdir(), 'smoke-cli-'));
  });
  after(() => {
    healthy.process.kill('SIGTERM');
    brokenHealth.process.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a table and a summary, and exits 0 when every check that ran passed', () => {
    const run = sfdeploy(['--url', healthy.url]);
    assert.equal(run.status, 0, run.stderr);
    const lines = run.stdout.split('\n');
    assert.match(lines[0]!, /^id\s+method\s+path\s+verdict\s+status\s+latency\s+reason$/);
    assert.match(run.stdout, /\nhealth\s+GET\s+\/health\s+pass\s+200\s+\d+ ms\n/);
    assert.match(run.stdout, /\nauth-me-token\s+GET\s+\S+\s+skipped\s+-\s+-\s+needs a token/);
    assert.match(
      run.stdout,
      /\nPASSED: \d+ passed, 0 failed, \d+ skipped in \d+ ms against http:\/\/127\.0\.0\.1:\d+\/\n$/,
    );
    // Not a terminal: no colour codes.
    assert.ok(!run.stdout.includes('\u001b['));
    assert.equal(run.stderr, '');
  });

  it('prints exactly one JSON document with the documented keys for --json', () => {
    const run = sfdeploy(['--url', healthy.url, '--json', '--token-env', 'SMOKE_TOKEN'], { SMOKE_TOKEN: TOKEN });
    assert.equal(run.status, 0, run.stderr);
    const document = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(document), ['target', 'passed', 'durationMs', 'unreachable', 'checks']);
    assert.equal(document['passed'], true);
    const checks = document['checks'] as Record<string, unknown>[];
    for (const check of checks) {
      assert.deepEqual(Object.keys(check), [
        'id',
        'title',
        'method',
        'path',
        'verdict',
        'status',
        'latencyMs',
        'reason',
      ]);
    }
    const me = checks.find((c) => c['id'] === 'auth-me-token');
    assert.equal(me?.['verdict'], 'pass');
  });

  it('exits 1 and names the failing check when the service is broken', () => {
    const run = sfdeploy(['--url', brokenHealth.url, '--tag', 'health']);
    assert.equal(run.status, 1);
    assert.match(
      run.stdout,
      /\nhealth\s+GET\s+\/health\s+FAIL\s+200\s+\d+ ms\s+expected JSON field status = "ok", got "degraded"\n/,
    );
    assert.match(run.stdout, /\nFAILED: 0 passed, 1 failed, 0 skipped/);
  });

  it('exits 1 with --json too, still one parseable document', () => {
    const run = sfdeploy(['--url', brokenHealth.url, '--json', '--tag', 'health']);
    assert.equal(run.status, 1);
    const document = JSON.parse(run.stdout) as { passed: boolean; checks: { id: string; verdict: string }[] };
    assert.equal(document.passed, false);
    assert.deepEqual(
      document.checks.map((c) => [c.id, c.verdict]),
      [['health', 'fail']],
    );
  });

  const usage: { name: string; args: string[]; env?: Record<string, string>; message: RegExp; spec?: string }[] = [
    { name: 'a missing --url', args: [], message: /--url <base> is required/ },
    {
      name: 'an invalid --url',
      args: ['--url', 'localhost:8000'],
      message: /--url: URL must start with http:\/\/ or https:\/\//,
    },
    {
      name: 'both --token and --token-env',
      args: ['--token', 'a', '--token-env', 'B'],
      message: /use only one of --token, --token-env and --token-secret/,
    },
    {
      name: 'an unset token variable',
      args: ['--token-env', 'SMOKE_TOKEN_NOT_SET'],
      message: /environment variable SMOKE_TOKEN_NOT_SET is not set/,
    },
    {
      name: 'an unreadable spec',
      args: ['--spec', 'no/such/spec.json'],
      message: /--spec: cannot read no\/such\/spec\.json \(no such file\)/,
    },
    {
      name: 'a malformed spec',
      args: ['--spec', 'SPEC'],
      spec: JSON.stringify({
        version: 1,
        checks: [{ id: 'health', title: 'h', path: '/health', expect: { status: '200' } }],
      }),
      message: /: checks\[0\]\.expect\.status \(check "health"\): expected an array of HTTP status codes/,
    },
    { name: 'a spec that is not JSON', args: ['--spec', 'SPEC'], spec: '{ nope', message: /\.json: not valid JSON/ },
    { name: 'a tag no check carries', args: ['--tag', 'nonexistent'], message: /--tag nonexistent matches no check/ },
    { name: 'a bad timeout', args: ['--timeout', '-5'], message: /--timeout: expected a whole number of milliseconds/ },
    { name: 'an unknown app mode', args: ['--app-mode', 'prod'], message: /--app-mode: expected production or test/ },
    { name: 'a bad HTTP port', args: ['--http-port', '0'], message: /--http-port: expected a port number/ },
    {
      name: 'a connect address with an IP URL',
      args: ['--url', 'http://127.0.0.1:1', '--connect-to', 'alb.example.com'],
      message: /--connect-to needs a host name in --url/,
    },
  ];

  for (const { name, args, env, message, spec } of usage) {
    it(`exits 2 with one line on stderr for ${name}`, () => {
      let resolved = args;
      if (spec !== undefined) {
        const file = join(dir, `${name.replace(/\W+/g, '-')}.json`);
        writeFileSync(file, spec);
        resolved = args.map((a) => (a === 'SPEC' ? file : a));
      }
      const needsUrl = name !== 'a missing --url' && !resolved.includes('--url');
      const run = sfdeploy(needsUrl ? ['--url', healthy.url, ...resolved] : resolved, env);
      assert.equal(run.status, 2, run.stdout + run.stderr);
      assert.match(run.stderr, /^sfdeploy: /);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trimEnd().split('\n').length, 1, run.stderr);
      assert.doesNotMatch(run.stderr, /\bat .*\.ts:\d+/);
      assert.equal(run.stdout, '');
    });
  }

  it('with --app-mode production fails a test-mode app on the shared tokens it accepts, and says why other checks were skipped', () => {
    const run = sfdeploy(['--url', healthy.url, '--app-mode', 'production', '--tag', 'auth']);
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stdout, /\ndemo-token-refused\s+GET\s+\S+\s+FAIL\s+200\s+\d+ ms\s+expected status 401, got 200\n/);
    assert.match(
      run.stdout,
      /\ndemo-token-accepted\s+GET\s+\S+\s+skipped\s+-\s+-\s+checks test mode; this target runs the app in production mode\n/,
    );
  });

  it('with --app-mode test passes the test-mode check that demo_token is accepted', () => {
    const run = sfdeploy(['--url', healthy.url, '--app-mode', 'test', '--json']);
    assert.equal(run.status, 0, run.stderr);
    const document = JSON.parse(run.stdout) as { checks: { id: string; verdict: string; reason: string | null }[] };
    const byId = new Map(document.checks.map((c) => [c.id, c]));
    assert.equal(byId.get('demo-token-accepted')?.verdict, 'pass');
    assert.equal(byId.get('demo-token-refused')?.verdict, 'skipped');
    assert.equal(
      byId.get('demo-token-refused')?.reason,
      'checks production mode; this target runs the app in test mode',
    );
  });

  it('connects to --connect-to while naming the --url host, and says so in the summary', () => {
    const port = new URL(healthy.url).port;
    const run = sfdeploy(['--url', `http://app.example.test:${port}`, '--connect-to', '127.0.0.1', '--tag', 'health']);
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, new RegExp(`against http://app\\.example\\.test:${port}/ via 127\\.0\\.0\\.1\\n$`));
  });

  it('shows examples in --help', () => {
    const run = sfdeploy(['--help']);
    assert.equal(run.status, 0);
    assert.match(run.stdout, /Examples:\n {2}\$ sfdeploy smoke --url /);
    assert.match(run.stdout, /--token-env <VAR>/);
  });
});
