/**
 * `sfdeploy deploy --stage <s> [--image-tag <t>] [--yes]`: config, preflight, a `cdk diff` summary, confirmation,
 * `cdk deploy --all` (the real CDK CLI, its output streamed to stderr), then the release verdict of
 * `sfdeploy release-status --wait` (bin/commands/release-status.ts, reused), and one table of the steps on stdout.
 * Exit 0 only when the new revision serves with every gate passed; 1 a step failed (the rest shown as not run); 2 a
 * usage/config/credentials problem, or the release status could not be found out.
 */
import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { STAGES } from '../../shared/stages';
import { type AwsCliOptions, addAwsOptions, explainAwsError } from '../cli/aws';
import {
  colours,
  EXIT_CHECK_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  renderTable,
  runAction,
  stripAnsi,
  UsageError,
} from '../cli/support';
import type { DiffSummary } from '../preflight/cdk';
import type { PreflightReport } from '../preflight/checks';
import type { MakeClients } from '../preflight/session';
import { checkStage, collect } from './preflight';
import type { ReleaseStatus } from './release-status';

export interface DeployCommandOptions extends AwsCliOptions {
  readonly stage: string;
  readonly imageTag?: string;
  readonly context?: readonly string[];
  readonly yes?: boolean;
  readonly json?: boolean;
  readonly cdk?: string;
  readonly fullDiff?: boolean;
  readonly timeout?: string;
  readonly interval?: string;
}

export interface DeployIo {
  readonly stdout: Writable & { isTTY?: boolean };
  /** Progress: the preflight table, the diff summary, the CDK CLI's own output, polls. */
  readonly stderr: Writable & { isTTY?: boolean };
  readonly stdin: Readable & { isTTY?: boolean };
  readonly makeClients?: MakeClients;
  readonly projectDir?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Asks a yes/no question (default: a line read from stdin). */
  readonly confirm?: (question: string) => Promise<boolean>;
  readonly sleep?: (ms: number) => Promise<void>;
}

export const DEPLOY_STEPS = ['config', 'preflight', 'diff', 'confirm', 'deploy', 'release'] as const;
export type DeployStep = (typeof DEPLOY_STEPS)[number];
export type StepResult = 'pass' | 'fail' | 'skipped' | 'not run';

export interface StepRow {
  readonly step: DeployStep;
  readonly result: StepResult;
  readonly detail: string;
}

function seconds(name: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new UsageError(`${name} must be a whole number of seconds ≥ 1, got "${value}"`);
  }
  return Number(value) * 1000;
}

async function askOnTerminal(stdin: Readable, stderr: Writable, question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: stdin, output: stderr });
  try {
    return /^(y|yes)$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** The last non-empty line a failed CDK run printed: usually its error. */
function lastLine(output: string): string {
  const lines = stripAnsi(output)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? 'no output';
}

export async function runDeploy(options: DeployCommandOptions, io: DeployIo): Promise<number> {
  const stage = checkStage(options.stage);
  const timeoutMs = seconds('--timeout', options.timeout ?? '1800');
  const intervalMs = seconds('--interval', options.interval ?? '15');
  const [session, checks, cdk, stageMod, release, { join }] = await Promise.all([
    import('../preflight/session'),
    import('../preflight/checks'),
    import('../preflight/cdk'),
    import('../preflight/stage'),
    import('./release-status'),
    import('node:path'),
  ]);
  // Config first: a mistake there is one line and exit 2, before anything asks AWS or a person.
  const opened = await session.openSession(
    {
      stage,
      context: options.context ?? [],
      imageTag: options.imageTag,
      profile: options.profile,
      region: options.region,
    },
    io.makeClients,
    io.projectDir,
  );
  if (!options.yes && !io.stdin.isTTY) {
    throw new UsageError(
      'deploy asks for confirmation and stdin is not a terminal: pass --yes to deploy without asking',
    );
  }
  const executable = cdk.resolveCdk(opened.projectDir, options.cdk, io.env);
  const target = { stage, context: opened.setup.context, profile: options.profile };
  const env = cdk.cdkEnv(opened.region, io.env);
  const { config } = opened.setup;
  const steps: StepRow[] = [];
  let preflight: PreflightReport | undefined;
  let diff: DiffSummary | undefined;
  let status: ReleaseStatus | undefined;
  const progress = (text: string) => {
    if (!options.json) io.stderr.write(text);
  };

  const finish = (exitCode: number): number => {
    const done = new Set(steps.map((s) => s.step));
    const rows = [
      ...steps,
      ...DEPLOY_STEPS.filter((s) => !done.has(s)).map((step): StepRow => ({ step, result: 'not run', detail: '' })),
    ];
    if (options.json) {
      io.stdout.write(
        `${JSON.stringify({
          ok: exitCode === EXIT_OK,
          exitCode,
          stage,
          region: opened.region,
          steps: rows,
          preflight,
          diff,
          release: status,
        })}\n`,
      );
    } else {
      const c = colours(io.stdout);
      const shown = (r: StepResult) =>
        r === 'pass' ? c.green(r) : r === 'fail' ? c.red(r) : r === 'skipped' ? c.yellow(r) : c.dim(r);
      io.stdout.write(
        `${renderTable(
          ['step', 'result', 'detail'],
          rows.map((r) => [r.step, shown(r.result), r.detail]),
        )}\n`,
      );
    }
    return exitCode;
  };

  const imageShown =
    config.image.kind === 'ecr'
      ? `${config.image.repository}:${config.image.tag}`
      : config.image.kind === 'registry'
        ? config.image.name
        : `built from ${config.image.path}`;
  steps.push({ step: 'config', result: 'pass', detail: `stage ${stage} in ${opened.region}, image ${imageShown}` });

  // 1. Preflight: any failure stops here (nothing has changed yet).
  preflight = await checks.runPreflight(opened.clients, {
    stage,
    config,
    region: opened.region,
    bootstrapQualifier: opened.setup.bootstrapQualifier,
    projectDir: opened.projectDir,
    assemblyDir: join(opened.projectDir, 'cdk.out'),
  });
  progress(`${session.renderPreflight(preflight, io.stderr)}\n\n`);
  const failed = preflight.checks.filter((r) => r.status === 'fail').map((r) => r.id);
  if (preflight.exitCode !== EXIT_OK) {
    steps.push({ step: 'preflight', result: 'fail', detail: `failed: ${failed.join(', ')}` });
    return finish(preflight.exitCode);
  }
  const skippedCount = preflight.checks.filter((r) => r.status === 'skipped').length;
  steps.push({
    step: 'preflight',
    result: 'pass',
    detail: `${preflight.checks.length - skippedCount} passed, ${skippedCount} skipped (account ${preflight.account})`,
  });

  // 2. The diff, summarised (the whole text with --full-diff).
  progress(`$ cdk ${cdk.diffArgs(target).join(' ')}\n`);
  const diffRun = await cdk.runCdk(executable, cdk.diffArgs(target), {
    cwd: opened.projectDir,
    env,
    stream: options.fullDiff && !options.json ? io.stderr : undefined,
  });
  if (diffRun.exitCode !== 0) {
    steps.push({
      step: 'diff',
      result: 'fail',
      detail: `cdk diff exited ${diffRun.exitCode}: ${lastLine(diffRun.output)}`,
    });
    if (!options.fullDiff) progress(diffRun.output);
    return finish(EXIT_CHECK_FAILED);
  }
  diff = cdk.summarizeDiff(diffRun.output);
  const changed = diff.stacksWithDifferences ?? diff.stacks.filter((s) => s.added + s.modified + s.removed > 0).length;
  progress(`${cdk.diffLines(diff).join('\n')}\n\n`);
  const replacements = diff.stacks.flatMap((s) => s.replaced);
  steps.push({
    step: 'diff',
    result: 'pass',
    detail: `${changed} of ${diff.stacks.length} stack(s) with differences${replacements.length ? `; ${replacements.length} replacement(s)` : ''}`,
  });

  // 3. Confirmation.
  if (options.yes) {
    steps.push({ step: 'confirm', result: 'skipped', detail: '--yes' });
  } else {
    const ask = io.confirm ?? ((q: string) => askOnTerminal(io.stdin, io.stderr, q));
    const yes = await ask(
      `Deploy ${stage} to ${preflight.account}/${opened.region} (${changed} stack(s) with differences${replacements.length ? `, ${replacements.length} replacement(s)` : ''})? [y/N] `,
    );
    if (!yes) {
      steps.push({ step: 'confirm', result: 'fail', detail: 'declined: nothing deployed' });
      return finish(EXIT_CHECK_FAILED);
    }
    steps.push({ step: 'confirm', result: 'pass', detail: 'confirmed' });
  }

  // 4. cdk deploy, streamed.
  progress(`$ cdk ${cdk.deployArgs(target).join(' ')}\n`);
  const deployRun = await cdk.runCdk(executable, cdk.deployArgs(target), {
    cwd: opened.projectDir,
    env,
    stream: options.json ? undefined : io.stderr,
  });
  if (deployRun.exitCode !== 0) {
    steps.push({
      step: 'deploy',
      result: 'fail',
      detail: `cdk deploy exited ${deployRun.exitCode}: ${lastLine(deployRun.output)}`,
    });
    return finish(EXIT_CHECK_FAILED);
  }
  steps.push({ step: 'deploy', result: 'pass', detail: `cdk deploy --all completed` });

  // 5. The release itself: the newest ECS service deployment, SUCCESSFUL with our image, every hook and alarm passed.
  const { cluster, service } = stageMod.resourceNames(stage);
  const expected = stageMod.expectedImage(config, preflight.account, opened.region);
  try {
    status = await release.waitForRelease(
      () => release.readLatestRelease(opened.clients.ecs, cluster, service, expected),
      {
        timeoutMs,
        intervalMs,
        ...(io.sleep ? { sleep: io.sleep } : {}),
        onPoll: (s) => {
          if (s.verdict === 'in-flight') progress(`… ${s.reason}\n`);
        },
      },
    );
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    steps.push({ step: 'release', result: 'fail', detail: why });
    return finish(EXIT_USAGE);
  }
  const image = status.runningImage ? ` on ${status.runningImage}` : '';
  if (status.verdict !== 'succeeded') {
    steps.push({ step: 'release', result: 'fail', detail: `${status.reason}${image}` });
    return finish(EXIT_CHECK_FAILED);
  }
  steps.push({
    step: 'release',
    result: 'pass',
    detail: `${status.deploymentStatus ?? 'SUCCESSFUL'}${image}${expected ? '' : ' (image built from a directory: any image accepted)'}`,
  });
  return finish(EXIT_OK);
}

export function register(program: Command, io: Partial<DeployIo> = {}): void {
  const command = program
    .command('deploy')
    .description('Preflight, cdk diff summary, cdk deploy, then wait for the release: exit 0 only if it serves')
    .requiredOption('--stage <stage>', `stage: ${STAGES.join(', ')}`)
    .option('--image-tag <tag>', 'the ECR image tag to deploy (as -c imageTag=<tag>)')
    .option(
      '-c, --context <key=value>',
      'stage config, as for cdk (repeatable): -c domainName=app.example.com',
      collect,
    )
    .option('--yes', 'deploy without asking (required when stdin is not a terminal)')
    .option('--full-diff', 'print the whole cdk diff, not only its summary')
    .option('--timeout <seconds>', 'how long to wait for the release', '1800')
    .option('--interval <seconds>', 'seconds between release polls', '15')
    .option('--cdk <path>', 'the CDK CLI to run (default: SFDEPLOY_CDK, else node_modules/.bin/cdk)')
    .option('--json', 'print one JSON document on stdout (progress stays on stderr)');
  addAwsOptions(command).addHelpText(
    'after',
    `
Steps: config (validated as cdk synth does), preflight (sfdeploy preflight; stops on any failure), diff (cdk diff
--all, summarised per stack: added, modified, removed, replacements), confirm (unless --yes), deploy (cdk deploy --all
--require-approval never, output streamed to stderr), release (release-status --wait: the newest ECS deployment must
be SUCCESSFUL with the deployed image, i.e. every smoke gate and the bake passed). Ends with one table of the steps.
Exit codes: 0 the new revision serves; 1 a step failed, was declined, or the release failed or rolled back (later
steps "not run"); 2 usage/config/credentials error, no terminal to confirm on without --yes, or the release status
could not be found out.

Examples:
  sfdeploy deploy --stage prod --image-tag v2.1 -c account=123456789012 -c region=eu-west-1 \\
    -c certificateArn=arn:aws:acm:eu-west-1:123456789012:certificate/… -c domainName=app.example.com
  sfdeploy deploy --stage staging --image-tag v2.1 --yes --profile staging-admin
  sfdeploy deploy --stage dev --yes --json > deploy-result.json`,
  );
  command.action((options: DeployCommandOptions) =>
    runAction(
      () =>
        runDeploy(options, {
          stdout: process.stdout,
          stderr: process.stderr,
          stdin: process.stdin,
          ...io,
        }),
      { json: options.json, explain: (error) => explainAwsError(error, options) },
    ),
  );
}
