/**
 * The real CDK CLI as a child process: which executable, which arguments, and a summary of what `cdk diff` printed.
 * `--profile` is the CDK CLI's own option; it has no `--region`, so the region goes in AWS_REGION/AWS_DEFAULT_REGION,
 * which it reads like every AWS SDK (https://docs.aws.amazon.com/cdk/v2/guide/ref-cli-cmd.html,
 * https://docs.aws.amazon.com/cdk/v2/guide/configure-env.html).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { stripAnsi, UsageError } from '../cli/support';

/** `--cdk <path>`, else SFDEPLOY_CDK, else the project's own node_modules/.bin/cdk (the version package.json pins). */
export function resolveCdk(projectDir: string, explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const path = explicit ?? env['SFDEPLOY_CDK'] ?? join(projectDir, 'node_modules', '.bin', 'cdk');
  if (!existsSync(path)) {
    throw new UsageError(`the CDK CLI is not at ${path}: run \`npm ci\` (or pass --cdk <path> / set SFDEPLOY_CDK)`);
  }
  return path;
}

export interface CdkTarget {
  readonly stage: string;
  readonly context: Readonly<Record<string, string>>;
  readonly profile?: string | undefined;
}

function common(target: CdkTarget): string[] {
  return [
    '-c',
    `stage=${target.stage}`,
    ...Object.entries(target.context).flatMap(([key, value]) => ['-c', `${key}=${value}`]),
    ...(target.profile ? ['--profile', target.profile] : []),
  ];
}

/** `cdk diff --all …`: every stack of the stage against what CloudFormation has deployed. */
export function diffArgs(target: CdkTarget): string[] {
  return ['diff', '--all', ...common(target)];
}

/**
 * `cdk deploy --all --require-approval never …`: approval was ours to ask (after the diff summary); `--progress
 * events` because the output is piped, where the CLI's progress bar would not render.
 */
export function deployArgs(target: CdkTarget): string[] {
  return ['deploy', '--all', '--require-approval', 'never', '--progress', 'events', ...common(target)];
}

/** The child's environment: ours, plus the region (the CDK CLI has no --region option). */
export function cdkEnv(region: string | undefined, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, ...(region ? { AWS_REGION: region, AWS_DEFAULT_REGION: region } : {}) };
}

export interface CdkRun {
  readonly exitCode: number;
  /** Everything it printed (stdout and stderr interleaved as received). */
  readonly output: string;
}

/**
 * Runs the CDK CLI, streaming what it prints to `stream` (when given) and keeping it for the caller. Never rejects
 * for a non-zero exit: a failed diff or deploy is a step result, not an exception. A spawn failure (not executable)
 * is exit code 127 with the reason as output.
 */
export function runCdk(
  executable: string,
  args: readonly string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; stream?: Writable | undefined },
): Promise<CdkRun> {
  return new Promise((resolve) => {
    const child = spawn(executable, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const take = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      options.stream?.write(text);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (error) => resolve({ exitCode: 127, output: `${output}${error.message}\n` }));
    child.on('close', (code, signal) => resolve({ exitCode: code ?? (signal ? 128 : 1), output }));
  });
}

export interface StackDiff {
  readonly stack: string;
  readonly added: number;
  readonly modified: number;
  readonly removed: number;
  /** Resources CloudFormation will (or may) replace: a new physical resource, the old one deleted. */
  readonly replaced: readonly string[];
  readonly securityChanges: boolean;
}

export interface DiffSummary {
  readonly stacks: readonly StackDiff[];
  /** The CLI's own count ("Number of stacks with differences: N"), when it printed one. */
  readonly stacksWithDifferences?: number;
}

/**
 * Reads `cdk diff`'s text: a "Stack <name>" header per stack, then sections; in "Resources", one line per change,
 * `[+]` add, `[-]` remove, `[~]` modify, each `<type> <path> <logical id>` followed by its impact (`replace`,
 * `may be replaced`, `destroy`, `orphan`), as @aws-cdk/cloudformation-diff formats them.
 */
export function summarizeDiff(text: string): DiffSummary {
  const stacks: {
    stack: string;
    added: number;
    modified: number;
    removed: number;
    replaced: string[];
    securityChanges: boolean;
  }[] = [];
  let current: (typeof stacks)[number] | undefined;
  let section = '';
  let count: number | undefined;
  for (const raw of stripAnsi(text).split(/\r?\n/)) {
    const line = raw.trimEnd();
    const header = /^Stack (\S+)/.exec(line);
    if (header) {
      current = { stack: header[1]!, added: 0, modified: 0, removed: 0, replaced: [], securityChanges: false };
      stacks.push(current);
      section = '';
      continue;
    }
    const total = /Number of stacks with differences: (\d+)/.exec(line);
    if (total) count = Number(total[1]);
    if (!current) continue;
    if (/^(IAM Statement Changes|IAM Policy Changes|Security Group Changes)$/.test(line))
      current.securityChanges = true;
    if (/^[A-Z][A-Za-z ]+$/.test(line)) {
      section = line;
      continue;
    }
    if (section !== 'Resources') continue;
    const change = /^\[([+\-~←])\] (\S+) (.+)$/.exec(line);
    if (!change) continue;
    const [, kind, type, rest] = change;
    if (kind === '+' || kind === '←') current.added += 1;
    else if (kind === '-') current.removed += 1;
    else current.modified += 1;
    if (/ (replace|may be replaced)$/.test(rest!)) {
      const logicalId = rest!
        .replace(/ (replace|may be replaced)$/, '')
        .split(' ')
        .pop();
      current.replaced.push(`${type} ${logicalId}`);
    }
  }
  return { stacks, ...(count === undefined ? {} : { stacksWithDifferences: count }) };
}

/** One line per stack, e.g. `SoftFactory-Prod-Service: +2 ~5 -0, replaces AWS::ECS::TaskDefinition WebTask…`. */
export function diffLines(summary: DiffSummary): string[] {
  return summary.stacks.map((s) => {
    const changes = s.added + s.modified + s.removed;
    if (changes === 0 && !s.securityChanges) return `${s.stack}: no resource changes`;
    const replaced = s.replaced.length ? `, replaces ${s.replaced.join(', ')}` : '';
    const security = s.securityChanges ? ', IAM/security changes' : '';
    return `${s.stack}: +${s.added} ~${s.modified} -${s.removed}${replaced}${security}`;
  });
}
