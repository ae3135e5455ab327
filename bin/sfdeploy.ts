/**
 * sfdeploy — the operator CLI. The same code the Lambda functions run, from a laptop or a pipeline.
 * Each command lives in bin/commands/<name>.ts and registers itself here. Registering stays cheap: a command module
 * imports only commander types, bin/cli/support and node built-ins at load time, and `await import()`s its heavy
 * dependencies (AWS SDK, zod, engines) in its action (test/bin/cli-support.test.ts checks this).
 */
import { Command, CommanderError } from 'commander';
import { EXIT_OK, EXIT_USAGE } from './cli/support';
import { register as registerAbort } from './commands/abort';
import { register as registerChecklist } from './commands/checklist';
import { register as registerDbTunnel } from './commands/db-tunnel';
import { register as registerDeploy } from './commands/deploy';
import { register as registerExec } from './commands/exec';
import { register as registerLogs } from './commands/logs';
import { register as registerMigrate } from './commands/migrate';
import { register as registerPreflight } from './commands/preflight';
import { register as registerPromote } from './commands/promote';
import { register as registerReleaseStatus } from './commands/release-status';
import { register as registerReleases } from './commands/releases';
import { register as registerRollback } from './commands/rollback';
import { register as registerSmoke } from './commands/smoke';
import { register as registerStatus } from './commands/status';

/**
 * A usage mistake commander reports (unknown option, missing required option, bad argument) as one line with where to
 * look next, like every other mistake: `sfdeploy: required option '--reason <text>' not specified (see `sfdeploy rollback --help`)`.
 */
function oneLineError(help: string): (text: string, write: (s: string) => void) => void {
  return (text, write) =>
    write(
      `${text
        .trimEnd()
        .replace(/^error: /, 'sfdeploy: ')
        .replace(/\n+/g, ' ')} (see \`${help}\`)\n`,
    );
}

export function buildProgram(): Command {
  const program = new Command('sfdeploy')
    .description('Operate SoftFactory on AWS: smoke checks, database migration, rollback, release verification.')
    .version(require('../package.json').version as string)
    .exitOverride()
    .configureOutput({ outputError: oneLineError('sfdeploy --help') });
  program.addHelpText(
    'after',
    '\nExit codes: 0 success, 1 a check failed, 2 usage or configuration error.\n' +
      'Run `sfdeploy <command> --help` for a command’s options and examples.',
  );
  registerSmoke(program);
  registerMigrate(program);
  registerRollback(program);
  registerReleaseStatus(program);
  registerReleases(program);
  registerStatus(program);
  registerLogs(program);
  registerExec(program);
  registerDbTunnel(program);
  registerChecklist(program);
  registerPreflight(program);
  registerDeploy(program);
  registerPromote(program);
  registerAbort(program);
  for (const sub of program.commands) {
    sub.exitOverride().configureOutput({ outputError: oneLineError(`sfdeploy ${sub.name()} --help`) });
  }
  return program;
}

export async function main(): Promise<void> {
  // The supported runtime is Node >= 22 (package.json engines, README); on Node 20 the AWS SDK would print a 9-line
  // NodeVersionSupportWarning before every AWS call. AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED is the SDK's
  // own switch for it (@aws-sdk/core emitWarningIfUnsupportedVersion); an operator can still set it to false.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  // `sfdeploy --help | head -1`: the reader has gone, and the next write fails with EPIPE, which Node raises as an
  // unhandled 'error' event (a stack trace) unless someone listens. The output is unwanted, so it is dropped, and the
  // command runs to its end: exiting here instead would cut a rehearsal short before it removed its temporary
  // database, and the exit code stays the command's own.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
    });
  }
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      const benign = ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code);
      process.exitCode = benign ? EXIT_OK : EXIT_USAGE;
      return;
    }
    throw error;
  }
}

if (require.main === module) void main();
