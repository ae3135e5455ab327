import type { Command } from 'commander';
import { runAction, UsageError } from '../cli/support';

/** Placeholder until the command lands; see the issue tracker. */
export function register(program: Command): void {
  program
    .command('smoke')
    .description('(smoke: not implemented yet)')
    .action(() =>
      runAction(async () => {
        throw new UsageError('smoke is not implemented yet');
      }),
    );
}
