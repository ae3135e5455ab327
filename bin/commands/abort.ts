/**
 * `sfdeploy abort`: rolls back a release paused for approval (ContinueServiceDeployment with action ROLLBACK, the
 * core in promote.ts). ECS records no reason with the call; `--reason` is printed (and in `--json`) for the log.
 */
import type { Command } from 'commander';
import { explainAwsError } from '../cli/aws';
import { runAction } from '../cli/support';
import { defaultEcsClient, type MakeEcsClient, pauseCommand, runPauseCommand } from './promote';

export function register(program: Command, makeClient: MakeEcsClient = defaultEcsClient): void {
  pauseCommand(program, 'abort', 'Roll back a release paused for approval (ContinueServiceDeployment ROLLBACK)')
    .option('--reason <text>', 'why (printed, and in --json; ECS keeps no reason)')
    .addHelpText(
      'after',
      `
Production traffic never moved to a paused release: aborting sends it back to nothing, ECS stops the new revision
and the service stays on the previous one. Exit codes: 0 ECS took the answer; 1 nothing is paused (or ECS refused:
the pause timed out or was answered); 2 usage, credentials or access.

Examples:
  sfdeploy abort --stage prod --reason "checkout page renders blank on the test listener"
  sfdeploy abort --stage staging --json`,
    )
    .action((options: Parameters<typeof runPauseCommand>[0]) =>
      runAction(() => runPauseCommand(options, 'ROLLBACK', makeClient), {
        json: options.json,
        explain: (error) => explainAwsError(error, options),
      }),
    );
}
