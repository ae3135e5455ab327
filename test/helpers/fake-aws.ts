/**
 * For CLI tests through the real entry point (`node bin/sfdeploy.js`): a fake AWS endpoint on 127.0.0.1 that speaks
 * the JSON protocol (ECS, CloudWatch Logs, SSM and Secrets Manager all use it: POST /, `X-Amz-Target:
 * <prefix>.<Operation>`, errors as `{"__type": …, "message": …}`), reached through the SDK's service-specific
 * AWS_ENDPOINT_URL_<SERVICE> variables; and a fake `session-manager-plugin` on PATH that records how it was called.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export type Answer = { status: number; body: unknown };
export type Handler = (operation: string, input: Record<string, unknown>) => Answer;

export interface FakeAws {
  readonly endpoint: string;
  /** Every request, in arrival order: the operation (e.g. ListTasks) and its JSON input. */
  readonly seen: { operation: string; input: Record<string, unknown> }[];
  answer: Handler;
  close(): Promise<void>;
}

export const ok = (body: unknown): Answer => ({ status: 200, body });
export const awsError = (type: string, message: string, status = 400): Answer => ({
  status,
  body: { __type: type, message },
});

export async function startFakeAws(answer: Handler = () => awsError('UnknownOperationException', 'no answer')) {
  const seen: FakeAws['seen'] = [];
  const fake = { seen, answer } as FakeAws;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => {
      raw += chunk.toString();
    });
    req.on('end', () => {
      const operation =
        String(req.headers['x-amz-target'] ?? '')
          .split('.')
          .pop() ?? '';
      const input = JSON.parse(raw || '{}') as Record<string, unknown>;
      seen.push({ operation, input });
      const { status, body } = fake.answer(operation, input);
      const type = (body as { __type?: string }).__type;
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': `req-${seen.length}`,
        ...(type ? { 'x-amzn-errortype': type } : {}),
      });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  Object.assign(fake, {
    endpoint: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
  return fake;
}

export interface FakePlugin {
  /** A directory to put first on PATH. */
  readonly dir: string;
  /** The calls recorded so far: argv after the program name, and the session from AWS_SSM_START_SESSION_RESPONSE. */
  calls(): { args: string[]; responseEnv: string | null }[];
}

/**
 * A `session-manager-plugin` that answers `--version` with `version` and otherwise records its arguments and exits
 * with `exitCode`, as the real one does when the session ends.
 */
export function fakePlugin(options: { version?: string; exitCode?: number } = {}): FakePlugin {
  const dir = mkdtempSync(join(tmpdir(), 'sfdeploy-plugin-'));
  const log = join(dir, 'calls.jsonl');
  writeFileSync(log, '');
  const script = join(dir, 'session-manager-plugin');
  writeFileSync(
    script,
    `#!${process.execPath}
const fs = require('node:fs');
if (process.argv[2] === '--version') { process.stdout.write(${JSON.stringify(`${options.version ?? '1.2.707.0'}\n`)}); process.exit(0); }
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ args: process.argv.slice(2), responseEnv: process.env.AWS_SSM_START_SESSION_RESPONSE ?? null }) + '\\n');
process.stdout.write('Starting session with SessionId: fake-session\\n');
process.exit(${options.exitCode ?? 0});
`,
  );
  chmodSync(script, 0o755);
  return {
    dir,
    calls: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { args: string[]; responseEnv: string | null }),
  };
}

export interface CliRun {
  readonly status: number | null;
  readonly stdout: string;
  /** The whole of stderr. */
  readonly stderr: string;
  /** Only the `sfdeploy:` lines of stderr (the SDK may add a Node-version notice on this machine's Node). */
  readonly errors: string;
}

/** Runs `node bin/sfdeploy.js …` against the fake endpoint, with static test credentials and nothing else. */
export function cli(
  args: readonly string[],
  options: { endpoint?: string; pathPrefix?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  const endpoint = options.endpoint ?? 'http://127.0.0.1:9';
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/sfdeploy.js', ...args], {
      env: {
        PATH: [options.pathPrefix, process.env['PATH'] ?? ''].filter(Boolean).join(delimiter),
        AWS_REGION: 'eu-west-1',
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ENDPOINT_URL_ECS: endpoint,
        AWS_ENDPOINT_URL_SSM: endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
        AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: endpoint,
        AWS_MAX_ATTEMPTS: '1',
        ...options.env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('close', (status) =>
      resolve({
        status,
        stdout,
        stderr,
        errors: stderr
          .split('\n')
          .filter((l) => l.startsWith('sfdeploy:'))
          .join('\n'),
      }),
    );
  });
}
