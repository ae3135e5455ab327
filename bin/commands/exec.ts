/**
 * `sfdeploy exec`: a shell (or one command) in the web container of a running task, through ECS Exec. The same path
 * as `aws ecs execute-command --interactive`: ExecuteCommand makes the session, the Session Manager plugin attaches
 * this terminal to it. Every session is audited: CloudTrail records the ExecuteCommand call (who, which task, which
 * command), and the cluster writes what was typed and shown to the exec log group
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html).
 */

import type { Writable } from 'node:stream';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { Command } from 'commander';
import { CONTAINER_NAME, execLogGroupName } from '../../lib/constructs/web-container';
import { type AwsCliOptions, addAwsOptions, awsClientConfig, explainAwsError } from '../cli/aws';
import { findExecTarget, parseStage, ssmTarget, stageNames } from '../cli/ecs-target';
import { endpointOf, findPlugin, type PluginSession, profileName, runPlugin } from '../cli/session-plugin';
import { colours, EXIT_CHECK_FAILED, EXIT_OK, runAction, UsageError } from '../cli/support';

export interface ExecOptions extends AwsCliOptions {
  readonly stage?: string;
  readonly task?: string;
  readonly container?: string;
  readonly cluster?: string;
  readonly service?: string;
}

export interface ExecIo {
  readonly ecs: ECSClient;
  /** Runs the plugin; the command passes runPlugin, tests may too (with a fake plugin on PATH). */
  readonly run?: typeof runPlugin;
  readonly stderr?: Writable & { isTTY?: boolean };
  readonly env?: NodeJS.ProcessEnv;
}

export const DEFAULT_COMMAND = '/bin/sh';

/**
 * One command line for ECS. ExecuteCommand takes the command as a single string; an argument with spaces, quotes or
 * shell characters is single-quoted so it arrives as one word.
 */
export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) return DEFAULT_COMMAND;
  return argv.map((a) => (a !== '' && /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** The command body: find a task, ask ECS for a session, hand it to the plugin. Returns the exit code. */
export async function runExec(argv: readonly string[], options: ExecOptions, io: ExecIo): Promise<number> {
  const stage = parseStage(options.stage);
  const names = stageNames(stage);
  const cluster = options.cluster ?? names.cluster;
  const service = options.service ?? names.service;
  const container = options.container ?? CONTAINER_NAME;
  const command = commandLine(argv);
  const plugin = findPlugin(io.env); // before any AWS call: no session is opened that nothing can attach to
  const target = await findExecTarget(io.ecs, { cluster, service, task: options.task, container });
  const { ExecuteCommandCommand } = await import('@aws-sdk/client-ecs');
  let session: Record<string, unknown>;
  try {
    const out = await io.ecs.send(
      new ExecuteCommandCommand({ cluster, task: target.taskArn, container, interactive: true, command }),
    );
    if (!out.session) throw new Error('ECS answered ExecuteCommand without a session');
    session = { ...out.session };
  } catch (error) {
    throw explainExecError(error) ?? error;
  }
  const stderr = io.stderr ?? process.stderr;
  const c = colours(stderr);
  stderr.write(
    `${c.dim(`${cluster}/${target.taskId} (container ${container}) — ${command}; the session is logged to ${execLogGroupName(names.namePrefix)}`)}\n`,
  );
  const plan: PluginSession = {
    session,
    region: await io.ecs.config.region(),
    profile: profileName(options.profile, io.env),
    request: { Target: ssmTarget(target) },
    endpoint: await endpointOf(io.ecs),
  };
  const result = await (io.run ?? runPlugin)(plugin, plan);
  if (result.code === 0) return EXIT_OK;
  stderr.write(
    `sfdeploy: the session ended abnormally (session-manager-plugin ${result.signal ? `killed by ${result.signal}` : `exit ${result.code}`})\n`,
  );
  return EXIT_CHECK_FAILED;
}

/**
 * ExecuteCommand's documented refusals, as one line with the fix (exit 2): TargetNotConnectedException (the agent in
 * the container cannot reach Session Manager) and InvalidParameterException for a task without ECS Exec
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ExecuteCommand.html).
 */
function explainExecError(error: unknown): UsageError | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'TargetNotConnectedException') {
    return new UsageError(
      `ECS Exec cannot reach the task's agent (TargetNotConnectedException): the task needs outbound HTTPS to ssmmessages.<region>.amazonaws.com and a task role with the ssmmessages permissions; retry in a minute, or check with amazon-ecs-exec-checker`,
    );
  }
  if (error.name === 'InvalidParameterException' && /execute command/i.test(error.message)) {
    return new UsageError(`ECS refused the session: ${error.message.replace(/\s+/g, ' ').trim()}`);
  }
  return undefined;
}

const HELP = `
Opens a session in the web container of one running task of the stage's service: the newest healthy task that runs
the ECS Exec agent, or --task. Without a command, an interactive /bin/sh; after --, one command. Needs the Session
Manager plugin on PATH and, for you, ecs:ExecuteCommand on the stage's tasks (plus ecs:ListTasks, ecs:DescribeTasks).
Every session is audited: CloudTrail records the ExecuteCommand call, and the commands and their output go to the
log group /softfactory/softfactory-<stage>/exec (the image needs \`script\` and \`cat\` for that, as AWS documents).

Exit codes: 0 the session ended normally; 1 the plugin ended abnormally; 2 usage, no ready task, plugin missing, or
AWS access problem.

Examples:
  sfdeploy exec --stage staging
  sfdeploy exec --stage prod -- python -c "import platform; print(platform.python_version())"
  sfdeploy exec --stage prod --task 0123456789abcdef0123456789abcdef -- env
  sfdeploy exec --stage prod --profile prod-breakglass --region eu-west-1`;

export function register(
  program: Command,
  makeClient: (aws: AwsCliOptions) => ECSClient | Promise<ECSClient> = defaultClient,
): void {
  const command = program
    .command('exec')
    .description('Open a shell (or run one command) in a running web container through ECS Exec')
    .argument('[command...]', `command to run after -- (default: ${DEFAULT_COMMAND}, interactive)`)
    .requiredOption('--stage <stage>', 'stage: dev, staging, prod')
    .option('--task <id>', 'task id or ARN (default: the newest healthy task ready for ECS Exec)')
    .option('--container <name>', `container (default: ${CONTAINER_NAME})`)
    .option('--cluster <name>', 'cluster name (default softfactory-<stage>)')
    .option('--service <name>', 'service name (default softfactory-<stage>-web)')
    .addHelpText('after', HELP);
  addAwsOptions(command).action((argv: string[], options: ExecOptions) =>
    runAction(
      async () => {
        parseStage(options.stage);
        findPlugin();
        return runExec(argv, options, { ecs: await makeClient(options) });
      },
      { explain: (error) => explainAwsError(error, options) },
    ),
  );
}

async function defaultClient(aws: AwsCliOptions): Promise<ECSClient> {
  const { ECSClient } = await import('@aws-sdk/client-ecs');
  return new ECSClient(awsClientConfig(aws));
}
