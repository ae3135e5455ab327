/**
 * Lambda bundles tested the way Lambda runs them: a function's asset directory copied ALONE from cdk.out into a fresh
 * directory (what Lambda unpacks into /var/task: no node_modules, no repository beside it), its handler file required
 * in a child process as the Node.js runtime does, and the handler invoked with an event — every AWS endpoint
 * unreachable (a closed port in a region that does not exist), so nothing can succeed by talking to AWS.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Stack } from 'aws-cdk-lib';

export interface Bundle {
  readonly functionName: string;
  /** A fresh directory holding only this function's asset files. */
  readonly dir: string;
  readonly handler: string;
  readonly environment: Record<string, string>;
  readonly timeoutSeconds: number;
}

/** What the child process reports: the handler's answer, or the error it failed with (at load or at invoke). */
export type Outcome = { phase: 'answer'; value: unknown } | { phase: 'load' | 'invoke'; name: string; message: string };

/** Errors that mean the bundle itself is broken (a missing module or file, a bad build), not a clean failure. */
export const INIT_ERRORS = /ImportModule|Runtime\.|SyntaxError|TypeError|ReferenceError|Cannot find module|ENOENT/;

export class BundleSet {
  readonly bundles = new Map<string, Bundle>();
  private readonly work = mkdtempSync(join(tmpdir(), 'sf-bundles-'));

  /** Extracts every Lambda function of `stack` (synthesized into `outdir`) whose name passes `select`. */
  add(outdir: string, stack: Stack, select: (functionName: string) => boolean = () => true): this {
    const assets = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.assets.json`), 'utf8')) as {
      files: Record<string, { source: { path: string } }>;
    };
    const template = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.template.json`), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    for (const fn of Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function')) {
      const name = fn.Properties['FunctionName'];
      if (typeof name !== 'string' || !select(name)) continue;
      const key = (fn.Properties['Code'] as { S3Key?: unknown }).S3Key;
      if (typeof key !== 'string') continue; // inline code (aws-cdk-lib's own helpers), not a bundle of ours
      const asset = assets.files[key.replace(/\.zip$/, '')];
      assert.ok(asset, `asset of ${name}`);
      const dir = mkdtempSync(join(this.work, `${name}-`));
      cpSync(join(outdir, asset.source.path), dir, { recursive: true });
      const variables = ((fn.Properties['Environment'] as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables ?? {}) as Record<string, unknown>;
      // Tokens (Ref/GetAtt) become plain strings of the right shape, and /var/task is where the files now are.
      const environment = Object.fromEntries(
        Object.entries(variables).map(([k, v]) => [
          k,
          typeof v === 'string'
            ? v.replace('/var/task', dir)
            : `arn:aws:fake:xx-fake-1:123456789012:${k.toLowerCase()}`,
        ]),
      );
      this.bundles.set(name, {
        functionName: name,
        dir,
        handler: fn.Properties['Handler'] as string,
        environment,
        timeoutSeconds: fn.Properties['Timeout'] as number,
      });
    }
    return this;
  }

  invoke(functionName: string, event: unknown, extraEnv: Record<string, string> = {}): Outcome {
    const bundle = this.bundles.get(functionName);
    assert.ok(bundle, `bundle ${functionName} (found: ${[...this.bundles.keys()].join(', ')})`);
    const harness = join(this.work, 'harness.cjs');
    writeFileSync(harness, HARNESS);
    const stdout = execFileSync(
      process.execPath,
      [harness, bundle.dir, bundle.handler, JSON.stringify(event), String(bundle.timeoutSeconds * 1000)],
      {
        cwd: bundle.dir,
        encoding: 'utf8',
        timeout: 120_000,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          PATH: process.env['PATH'] ?? '',
          ...bundle.environment,
          AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
          AWS_REGION: 'xx-fake-1',
          AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
          AWS_SECRET_ACCESS_KEY: 'fake',
          AWS_MAX_ATTEMPTS: '1',
          AWS_LAMBDA_FUNCTION_NAME: functionName,
          LAMBDA_TASK_ROOT: bundle.dir,
          ...extraEnv,
        },
      },
    );
    return JSON.parse(stdout) as Outcome;
  }

  dispose(): void {
    rmSync(this.work, { recursive: true, force: true });
  }
}

const HARNESS = `
const [dir, handler, eventJson, timeoutMs] = process.argv.slice(2);
const [file, name] = handler.split('.');
process.chdir(dir);
const started = Date.now();
const context = {
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:xx-fake-1:123456789012:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
  memoryLimitInMB: '512',
  getRemainingTimeInMillis: () => Number(timeoutMs) - (Date.now() - started),
};
const say = (o) => { process.stdout.write(JSON.stringify(o)); process.exit(0); };
let mod;
try { mod = require(require('node:path').join(dir, file + '.js')); }
catch (e) { say({ phase: 'load', name: e.name, message: String(e.message).split('\\n')[0] }); }
if (typeof mod[name] !== 'function') say({ phase: 'load', name: 'NoHandler', message: 'no export ' + name });
Promise.resolve()
  .then(() => mod[name](JSON.parse(eventJson), context))
  .then((value) => say({ phase: 'answer', value: value ?? null }),
        (e) => say({ phase: 'invoke', name: e.name, message: String(e.message).split('\\n')[0] }));
`;
