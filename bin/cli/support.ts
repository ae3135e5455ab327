/**
 * Conventions every `sfdeploy` command follows:
 * exit 0 = success, 1 = a check failed, 2 = usage or configuration error;
 * a user mistake is one line on stderr (`sfdeploy: <message>`), never a stack trace;
 * colours only when the stream is a terminal (and NO_COLOR is unset).
 */
import type { Writable } from 'node:stream';

export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE = 2;

/** A mistake in how the command was called or configured: exit 2 with this one line. */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
}

/** Colour helpers bound to one output stream; no escape codes unless it is a TTY. */
export function colours(stream: Writable & { isTTY?: boolean } = process.stdout) {
  const on = Boolean(stream.isTTY) && !process.env['NO_COLOR'];
  const wrap = (code: number) => (text: string) => (on ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { enabled: on, red: wrap(31), green: wrap(32), yellow: wrap(33), dim: wrap(2), bold: wrap(1) };
}

/** Removes ANSI colour codes, so widths are computed on visible characters. */
export function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
  return text.replace(/\u001b\[[0-9;]*m/g, '');
}

/** Renders rows as an aligned plain-text table with a header rule. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => stripAnsi(r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c + ' '.repeat(Math.max(0, (widths[i] ?? 0) - stripAnsi(c).length)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export interface RunOptions {
  /** With --json, a failure is also a JSON error document on stdout, so a pipeline always gets JSON. */
  readonly json?: boolean | undefined;
  /** Turns an AWS configuration/access error into one line with its fix (bin/cli/aws.ts), or undefined. */
  readonly explain?: ((error: unknown) => string | undefined) | undefined;
}

/**
 * Runs a command body and turns its outcome into an exit code: a UsageError, or an AWS configuration/access error that
 * `explain` recognises, becomes one line and exit 2; anything unexpected is still one line (the stack only with
 * SFDEPLOY_DEBUG=1) and exit 1.
 */
export async function runAction(body: () => Promise<number>, options: RunOptions = {}): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (error) {
    const explained = options.explain?.(error);
    const message = explained ?? (error instanceof Error ? error.message : String(error));
    const exit = explained !== undefined || error instanceof UsageError ? EXIT_USAGE : EXIT_CHECK_FAILED;
    process.stderr.write(`sfdeploy: ${message}\n`);
    if (process.env['SFDEPLOY_DEBUG'] === '1' && error instanceof Error && error.stack) {
      process.stderr.write(`${error.stack}\n`);
    }
    if (options.json) {
      const name = error instanceof Error ? error.name : 'Error';
      process.stdout.write(`${JSON.stringify({ ok: false, error: { name, message, exitCode: exit } })}\n`);
    }
    process.exitCode = exit;
  }
}
