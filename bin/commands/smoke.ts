import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Command } from 'commander';
import type { CheckResult, SuiteResult } from '../../lambda/smoke/engine';
import type { SmokeSpec } from '../../lambda/smoke/spec';
import { colours, EXIT_CHECK_FAILED, EXIT_OK, renderTable, runAction, UsageError } from '../cli/support';

type SpecModule = typeof import('../../lambda/smoke/spec');

interface SmokeOptions {
  readonly url?: string;
  readonly spec?: string;
  readonly token?: string;
  readonly tokenEnv?: string;
  readonly allowWrites?: boolean;
  readonly tag?: string[];
  readonly timeout?: string;
  readonly suiteTimeout?: string;
  readonly ca?: string;
  readonly connectTo?: string;
  readonly appMode?: string;
  readonly httpPort?: string;
  readonly json?: boolean;
}

const DEFAULT_CHECK_TIMEOUT_MS = 5_000;
const DEFAULT_SUITE_TIMEOUT_MS = 60_000;
const MAX_BODY_BYTES = 1_048_576;

export function register(program: Command): void {
  program
    .command('smoke')
    .description('Run the smoke suite (the production checklist, encoded) against a SoftFactory URL.')
    .option('--url <base>', 'base URL of the deployment, e.g. https://app.example.com (required)')
    .option('--spec <file>', 'check spec JSON (default: the built-in checklist, lambda/smoke/default-spec.json)')
    .option('--token <token>', 'bearer token for authenticated checks (visible in `ps`; prefer --token-env)')
    .option('--token-env <VAR>', 'read the bearer token from this environment variable')
    .option('--allow-writes', 'also run checks that create data (they clean up after themselves)')
    .option('--tag <tag>', 'run only checks with this tag; repeat for several', collect)
    .option('--timeout <ms>', `deadline per check, in milliseconds (default: ${DEFAULT_CHECK_TIMEOUT_MS})`)
    .option(
      '--suite-timeout <ms>',
      `deadline for the whole suite, in milliseconds (default: ${DEFAULT_SUITE_TIMEOUT_MS})`,
    )
    .option('--ca <file>', 'extra trusted CA certificate (PEM), e.g. a private CA in front of staging')
    .option(
      '--connect-to <host>',
      "connect to this host (e.g. the stage's LoadBalancerDnsName) while TLS and Host name the --url host",
    )
    .option(
      '--app-mode <mode>',
      "the mode the app runs in, production (staging, prod) or test (dev): runs that mode's checks",
    )
    .option('--http-port <port>', 'port of the plain-HTTP redirect check (default: 80)')
    .option('--json', 'print one JSON document on stdout instead of the table')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  $ sfdeploy smoke --url https://softfactory.example.com',
        '  $ SMOKE_TOKEN=... sfdeploy smoke --url https://staging.example.com --token-env SMOKE_TOKEN',
        '  $ sfdeploy smoke --url https://staging.example.com --token-env SMOKE_TOKEN --allow-writes',
        '  $ sfdeploy smoke --url http://localhost:8000 --tag auth --tag sns --timeout 2000',
        '  $ sfdeploy smoke --url https://app.example.com --connect-to <LoadBalancerDnsName> --app-mode production',
        '  $ sfdeploy smoke --url https://softfactory.example.com --json | jq \'.checks[] | select(.verdict=="fail")\'',
        '',
        'Checks needing a token are skipped without one; checks that write data are skipped without',
        '--allow-writes; checks of one app mode are skipped without --app-mode naming it. A skipped check',
        'never counts as passed.',
        'Exit codes: 0 every check that ran passed, 1 a check failed (or none ran), 2 usage or configuration error.',
      ].join('\n'),
    )
    .action((options: SmokeOptions) => runAction(() => smoke(options)));
}

async function smoke(options: SmokeOptions): Promise<number> {
  // Validated here rather than by commander so every usage mistake is exactly one line on stderr.
  if (options.url === undefined) throw new UsageError('--url <base> is required (e.g. --url https://app.example.com)');
  const checkTimeoutMs = milliseconds(options.timeout, '--timeout', DEFAULT_CHECK_TIMEOUT_MS);
  const suiteTimeoutMs = milliseconds(options.suiteTimeout, '--suite-timeout', DEFAULT_SUITE_TIMEOUT_MS);
  const [{ parseBaseUrl, runSuite }, specModule] = await Promise.all([
    import('../../lambda/smoke/engine'),
    import('../../lambda/smoke/spec'),
  ]);
  let baseUrl: URL;
  try {
    baseUrl = parseBaseUrl(options.url);
  } catch (error) {
    throw new UsageError(`--url: ${error instanceof Error ? error.message : String(error)}`);
  }
  const token = resolveToken(options);
  const spec = options.spec ? loadSpec(options.spec, specModule) : specModule.defaultSpec();
  const tags = options.tag ?? [];
  if (tags.length > 0 && !spec.checks.some((check) => check.tags.some((t) => tags.includes(t)))) {
    const known = [...new Set(spec.checks.flatMap((check) => check.tags))].sort().join(', ');
    throw new UsageError(`--tag ${tags.join(', ')} matches no check (tags in the spec: ${known})`);
  }
  const ca = options.ca ? readText(options.ca, '--ca') : undefined;
  const { APP_MODES } = specModule;
  const appMode = APP_MODES.find((mode) => mode === options.appMode);
  if (options.appMode !== undefined && appMode === undefined) {
    throw new UsageError(`--app-mode: expected ${APP_MODES.join(' or ')}, got ${JSON.stringify(options.appMode)}`);
  }
  if (options.connectTo !== undefined) {
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9.:-]*[A-Za-z0-9])?$/.test(options.connectTo)) {
      throw new UsageError(`--connect-to: expected a host name or address, got ${JSON.stringify(options.connectTo)}`);
    }
    if (isIP(baseUrl.hostname.replace(/^\[|\]$/g, '')) !== 0) {
      throw new UsageError('--connect-to needs a host name in --url (the name TLS and the Host header carry)');
    }
  }
  const httpPort = options.httpPort === undefined ? undefined : port(options.httpPort, '--http-port');

  const result = await runSuite({
    baseUrl: baseUrl.href,
    spec,
    token,
    allowWrites: options.allowWrites ?? false,
    tags,
    checkTimeoutMs,
    suiteTimeoutMs,
    maxBodyBytes: MAX_BODY_BYTES,
    ca,
    ...(options.connectTo !== undefined ? { connectTo: options.connectTo } : {}),
    ...(appMode !== undefined ? { appMode } : {}),
    ...(httpPort !== undefined ? { httpPort } : {}),
  });

  process.stdout.write(options.json ? `${JSON.stringify(toJsonDocument(result), null, 2)}\n` : renderReport(result));
  return result.passed ? EXIT_OK : EXIT_CHECK_FAILED;
}

function resolveToken(options: SmokeOptions): string | undefined {
  if (options.token !== undefined && options.tokenEnv !== undefined) {
    throw new UsageError('use either --token or --token-env, not both');
  }
  if (options.token !== undefined) {
    if (options.token.trim() === '') throw new UsageError('--token is empty');
    return options.token.trim();
  }
  if (options.tokenEnv !== undefined) {
    const value = process.env[options.tokenEnv];
    if (value === undefined) throw new UsageError(`--token-env: environment variable ${options.tokenEnv} is not set`);
    if (value.trim() === '') throw new UsageError(`--token-env: environment variable ${options.tokenEnv} is empty`);
    return value.trim();
  }
  return undefined;
}

function loadSpec(file: string, { parseSpecText, SpecError }: SpecModule): SmokeSpec {
  const text = readText(file, '--spec');
  try {
    return parseSpecText(text);
  } catch (error) {
    if (error instanceof SpecError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
}

function readText(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code ?? error);
    throw new UsageError(`${option}: cannot read ${file} (${why})`);
  }
}

/** The documented pipeline contract: exactly these keys. */
function toJsonDocument(result: SuiteResult) {
  return {
    target: result.target,
    passed: result.passed,
    durationMs: result.durationMs,
    checks: result.checks.map((c) => ({
      id: c.id,
      title: c.title,
      method: c.method,
      path: c.path,
      verdict: c.verdict,
      status: c.status,
      latencyMs: c.latencyMs,
      reason: c.reason,
    })),
  };
}

function renderReport(result: SuiteResult): string {
  const c = colours(process.stdout);
  const paint = (check: CheckResult) =>
    check.verdict === 'pass' ? c.green('pass') : check.verdict === 'fail' ? c.red('FAIL') : c.yellow('skipped');
  const rows = result.checks.map((check) => [
    check.id,
    paint(check),
    check.status === null ? '-' : String(check.status),
    check.latencyMs === null ? '-' : `${check.latencyMs} ms`,
    check.reason ?? '',
  ]);
  const counts = { pass: 0, fail: 0, skipped: 0 };
  for (const check of result.checks) counts[check.verdict]++;
  const ran = counts.pass + counts.fail;
  const outcome = result.passed
    ? c.green(c.bold('PASSED'))
    : ran === 0
      ? c.red(c.bold('FAILED (no check ran)'))
      : c.red(c.bold('FAILED'));
  const summary =
    `${outcome}: ${counts.pass} passed, ${counts.fail} failed, ${counts.skipped} skipped ` +
    `in ${result.durationMs} ms against ${result.target}${result.connectedTo ? ` via ${result.connectedTo}` : ''}`;
  return `${renderTable(['id', 'verdict', 'status', 'latency', 'reason'], rows)}\n\n${summary}\n`;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function port(value: string, option: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65_535) {
    throw new UsageError(`${option}: expected a port number (1-65535), got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

function milliseconds(value: string | undefined, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 3_600_000) {
    throw new UsageError(
      `${option}: expected a whole number of milliseconds (1-3600000), got ${JSON.stringify(value)}`,
    );
  }
  return Number(value);
}
