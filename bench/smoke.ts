/**
 * npm run bench:smoke — the smoke suite next to the checklist's own method, in the same run, against the same
 * local server (every default-spec request answered correctly after 20 ms):
 *   - the engine: the default suite, with a token so the authenticated checks run;
 *   - the checklist: `curl`, one request after another, for the same requests.
 * Targets: suite ≥ 5× faster than sequential curl, and suite wall time ≤ 1.5× its slowest single check.
 */
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { runSuite, type SuiteResult } from '../lambda/smoke/engine';
import { type Check, defaultSpec, INVALID_TOKEN } from '../lambda/smoke/spec';

const DELAY_MS = 20;
const TOKEN = 'bench-token';
const SUITE_RUNS = 5;
const CURL_RUNS = 3;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Derives a correct answer for every request of the spec from its expectations, so the server keeps up with
 * spec edits. Checks sharing a request (e.g. `health` and `cors-health`) are merged into one answer.
 */
function answersFor(checks: readonly Check[]): Map<string, Answer> {
  const groups = new Map<string, Check[]>();
  for (const check of checks) {
    const body = check.body === undefined ? '' : JSON.stringify(check.body);
    const key = requestKey(check.method, check.path, authorizationFor(check), body);
    groups.set(key, [...(groups.get(key) ?? []), check]);
  }
  const answers = new Map<string, Answer>();
  for (const [key, group] of groups) {
    const status = group[0]!.expect.status.find((s) => group.every((c) => c.expect.status.includes(s)));
    if (status === undefined) throw new Error(`the spec expects no common status for ${key}`);
    const contentType = group.find((c) => c.expect.contentType)?.expect.contentType ?? 'application/json';
    const headers: Record<string, string> = { 'content-type': contentType };
    const json: Record<string, unknown> = {};
    const texts: string[] = [];
    let doctype = false;
    for (const check of group) {
      for (const assertion of check.expect.headers) {
        if (!assertion.present) continue;
        const name = assertion.name.endsWith('*') ? `${assertion.name.slice(0, -1)}Allow-Origin` : assertion.name;
        headers[name.toLowerCase()] = assertion.equals ?? assertion.oneOf?.[0] ?? '*';
      }
      for (const assertion of check.expect.body) {
        if (assertion.kind === 'doctype') doctype = true;
        if (assertion.kind === 'contains') texts.push(assertion.anyOf[0]!);
        if (assertion.kind === 'json-path' && assertion.path !== '$') {
          json[assertion.path] =
            assertion.equals !== undefined ? assertion.equals : assertion.matches ? 'https://example.com/oauth' : 'x';
        }
      }
    }
    if (texts.length > 0) json['message'] = texts.join(' ');
    const body = contentType.includes('json')
      ? JSON.stringify(json)
      : `${doctype ? '<!DOCTYPE html>' : ''}<html><body>${texts.join(' ')}</body></html>`;
    answers.set(key, { status, headers, body });
  }
  return answers;
}

function authorizationFor(check: Check): string {
  return check.auth === 'bearer' ? `Bearer ${TOKEN}` : check.auth === 'invalid-token' ? `Bearer ${INVALID_TOKEN}` : '';
}

function requestKey(method: string, path: string, authorization: string, body: string): string {
  return `${method} ${path} ${authorization} ${body}`;
}

async function startServer(answers: Map<string, Answer>): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const answer = answers.get(
        requestKey(req.method ?? 'GET', req.url ?? '/', req.headers.authorization ?? '', body),
      );
      setTimeout(() => {
        if (!answer) {
          res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not in the spec"}');
          return;
        }
        res.writeHead(answer.status, answer.headers).end(answer.body);
      }, DELAY_MS);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function curlArgs(check: Check, url: string): string[] {
  const args = ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', check.method];
  for (const [name, value] of Object.entries(check.headers)) args.push('-H', `${name}: ${value}`);
  const authorization = authorizationFor(check);
  if (authorization) args.push('-H', `Authorization: ${authorization}`);
  if (check.body !== undefined) args.push('-H', 'Content-Type: application/json', '--data', JSON.stringify(check.body));
  args.push(`${url}${check.path}`);
  return args;
}

/** One curl process, awaited (not spawnSync: the server shares this process's event loop). Resolves its stdout. */
function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ms = (value: number) => `${value.toFixed(1)} ms`;

async function main(): Promise<void> {
  const spec = defaultSpec();
  const server = await startServer(answersFor(spec.checks));
  try {
    const suite = () =>
      runSuite({
        baseUrl: server.url,
        spec,
        token: TOKEN,
        checkTimeoutMs: 5_000,
        suiteTimeoutMs: 30_000,
        maxBodyBytes: 1_048_576,
      });
    await suite(); // warm-up: JIT and the first lookup, as a long-lived CLI/Lambda would have
    const runs: { wall: number; result: SuiteResult }[] = [];
    for (let i = 0; i < SUITE_RUNS; i++) {
      const started = performance.now();
      const result = await suite();
      runs.push({ wall: performance.now() - started, result });
    }
    const suiteWall = median(runs.map((r) => r.wall));
    const chosen = runs.find((r) => r.wall === suiteWall)!.result;
    const ran = chosen.checks.filter((c) => c.verdict !== 'skipped');
    const failed = chosen.checks.filter((c) => c.verdict === 'fail');
    const slowest = ran.reduce((a, b) => ((b.latencyMs ?? 0) > (a.latencyMs ?? 0) ? b : a));
    const slowestMs = slowest.latencyMs ?? 0;

    console.log(
      `smoke benchmark: ${ran.length} checks (default spec, token given, writes off), server answers after ${DELAY_MS} ms`,
    );
    console.log(`  suite (engine, concurrent, keep-alive), median of ${SUITE_RUNS}: ${ms(suiteWall)}`);
    console.log(`    all runs: ${runs.map((r) => ms(r.wall)).join(', ')}`);
    console.log(
      `    verdicts: ${ran.length - failed.length} pass, ${failed.length} fail, ${chosen.checks.length - ran.length} skipped`,
    );
    if (failed.length > 0) console.log(`    failing: ${failed.map((c) => `${c.id} (${c.reason})`).join('; ')}`);
    console.log(`  slowest single check: ${slowest.id} at ${slowestMs} ms`);
    const wallRatio = suiteWall / Math.max(1, slowestMs);
    console.log(
      `  suite / slowest check: ${wallRatio.toFixed(2)}x (target <= 1.5x) ${wallRatio <= 1.5 ? 'OK' : 'MISSED'}`,
    );

    const probe = spawnSync('curl', ['--version'], { encoding: 'utf8' });
    if (probe.error) {
      console.log('  sequential curl: curl not found. Install it with: apt-get install -y curl');
      process.exitCode = 1;
      return;
    }
    const checks = spec.checks.filter((c) => ran.some((r) => r.id === c.id));
    const curlWalls: number[] = [];
    let mismatched = 0;
    for (let i = 0; i < CURL_RUNS; i++) {
      const started = performance.now();
      for (const check of checks) {
        const status = await curl(curlArgs(check, server.url));
        if (!check.expect.status.includes(Number(status))) mismatched++;
      }
      curlWalls.push(performance.now() - started);
    }
    const curlWall = median(curlWalls);
    const speedup = curlWall / suiteWall;
    console.log(`  sequential curl (the checklist's method), median of ${CURL_RUNS}: ${ms(curlWall)}`);
    console.log(
      `    all runs: ${curlWalls.map(ms).join(', ')}${mismatched ? `; ${mismatched} unexpected statuses` : ''}`,
    );
    console.log(`  speed-up suite vs curl: ${speedup.toFixed(1)}x (target >= 5x) ${speedup >= 5 ? 'OK' : 'MISSED'}`);
    if (failed.length > 0 || wallRatio > 1.5 || speedup < 5) process.exitCode = 1;
  } finally {
    await server.close();
  }
}

void main();
