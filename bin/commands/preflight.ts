/**
 * `sfdeploy preflight --stage <s>`: everything a `cdk deploy` of the stage needs that AWS can confirm beforehand —
 * credentials for the configured account, a current CDK bootstrap, an ISSUED certificate covering the domain in the
 * region, the image, a usable smoke token, confirmed alarm e-mails, Lambda concurrency and Elastic IP headroom, no
 * service deployment in flight. `sfdeploy deploy` runs it first. The checks live in bin/preflight/checks.ts.
 */
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { STAGES, type Stage } from '../../shared/stages';
import { type AwsCliOptions, addAwsOptions, explainAwsError } from '../cli/aws';
import { runAction, UsageError } from '../cli/support';
import type { MakeClients } from '../preflight/session';

export interface PreflightCommandOptions extends AwsCliOptions {
  readonly stage: string;
  readonly context?: readonly string[];
  readonly imageTag?: string;
  readonly json?: boolean;
}

export interface PreflightIo {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly makeClients?: MakeClients;
  readonly projectDir?: string;
}

export function checkStage(stage: string | undefined): Stage {
  if (!(STAGES as readonly string[]).includes(stage ?? '')) {
    throw new UsageError(`--stage must be one of ${STAGES.join(', ')}, got "${stage ?? ''}"`);
  }
  return stage as Stage;
}

/** Collects repeated `-c key=value` options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export async function runPreflightCommand(options: PreflightCommandOptions, io: PreflightIo): Promise<number> {
  const stage = checkStage(options.stage);
  const [{ openSession, renderPreflight }, { runPreflight }, { join }] = await Promise.all([
    import('../preflight/session'),
    import('../preflight/checks'),
    import('node:path'),
  ]);
  const session = await openSession(
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
  const report = await runPreflight(session.clients, {
    stage,
    config: session.setup.config,
    region: session.region,
    bootstrapQualifier: session.setup.bootstrapQualifier,
    projectDir: session.projectDir,
    assemblyDir: join(session.projectDir, 'cdk.out'),
  });
  io.stdout.write(
    options.json
      ? `${JSON.stringify({ ok: report.exitCode === 0, ...report })}\n`
      : `${renderPreflight(report, io.stdout)}\n`,
  );
  return report.exitCode;
}

export function register(program: Command, io: Partial<PreflightIo> = {}): void {
  const command = program
    .command('preflight')
    .description(
      'Check everything a deploy of the stage needs before running it (pass/fail/skipped, each with its fix)',
    )
    .requiredOption('--stage <stage>', `stage: ${STAGES.join(', ')}`)
    .option(
      '-c, --context <key=value>',
      'stage config, as for cdk (repeatable): -c domainName=app.example.com',
      collect,
    )
    .option('--image-tag <tag>', 'the image tag to deploy (ECR), as -c imageTag=<tag>')
    .option('--json', 'print one JSON document');
  addAwsOptions(command).addHelpText(
    'after',
    `
Checks: credentials (account = config account), CDK bootstrap (CDKToolkit present, version ≥ what the app needs),
certificate (ISSUED, in the region, covers domainName; *.example.com covers one label), image (tag in ECR, or a
Dockerfile in imageDirectory), smoke token (a usable value), alarm e-mail subscriptions (confirmed), Lambda
concurrency (≥ 100 unreserved after the rollback reservation), Elastic IPs (quota for the NAT gateways), and no ECS
service deployment in flight. What the first deploy creates is "skipped", with why.
Exit codes: 0 every check passed or was skipped; 1 a check failed; 2 usage/config error, credentials for another
account, or a check could not run (access denied, throttling, network) and none failed.

Examples:
  sfdeploy preflight --stage prod -c account=123456789012 -c region=eu-west-1 \\
    -c certificateArn=arn:aws:acm:eu-west-1:123456789012:certificate/… -c domainName=app.example.com
  sfdeploy preflight --stage staging --image-tag v2.1 --profile staging-admin
  sfdeploy preflight --stage dev --region eu-west-1 --json`,
  );
  command.action((options: PreflightCommandOptions) =>
    runAction(() => runPreflightCommand(options, { stdout: process.stdout, ...io }), {
      json: options.json,
      explain: (error) => explainAwsError(error, options),
    }),
  );
}
