/**
 * `sfdeploy smoke`: the smoke suite (the production checklist, encoded) against one SoftFactory URL, from an
 * operator's terminal or a pipeline. The engine, spec and token rule are the deploy hook's own (lambda/smoke/*);
 * selection, listing and JUnit output are CLI-only modules the Lambda never loads.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { GetSecretValueCommandOutput, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Command } from 'commander';
import type { CheckResult, SuiteResult } from '../../lambda/smoke/engine';
import type { ListedCheck } from '../../lambda/smoke/selection';
import type { SmokeSpec } from '../../lambda/smoke/spec';
import { type AwsCliOptions, addAwsOptions, awsClientConfig, explainAwsError } from '../cli/aws';
import { colours, EXIT_CHECK_FAILED, EXIT_OK, EXIT_USAGE, renderTable, runAction, UsageError } from '../cli/support';

export interface SmokeOptions extends AwsCliOptions {
  readonly url?: string;
  readonly spec?: string;
  readonly token?: string;
  readonly tokenEnv?: string;
  readonly tokenSecret?: string;
  readonly allowWrites?: boolean;
  readonly tag?: string[];
  readonly only?: string[];
  readonly skip?: string[];
  readonly list?: boolean;
  readonly printDefaultSpec?: boolean;
  readonly junit?: string;
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

const HELP = `
Examples:
  $ sfdeploy smoke --url https://softfactory.example.com
  $ SMOKE_TOKEN=... sfdeploy smoke --url https://staging.example.com --token-env SMOKE_TOKEN
  $ sfdeploy smoke --url https://staging.example.com --token-secret softfactory-staging-smoke-token --profile staging
  $ sfdeploy smoke --url https://staging.example.com --token-env SMOKE_TOKEN --allow-writes
  $ sfdeploy smoke --url http://localhost:8000 --tag auth --tag sns --timeout 2000
  $ sfdeploy smoke --url http://localhost:8000 --only health auth-me-token
  $ sfdeploy smoke --url http://localhost:8000 --skip http-redirect
  $ sfdeploy smoke --list --tag sns
  $ sfdeploy smoke --print-default-spec > my-spec.json && sfdeploy smoke --spec my-spec.json --list
  $ sfdeploy smoke --url https://app.example.com --connect-to <LoadBalancerDnsName> --app-mode production
  $ sfdeploy smoke --url https://staging.example.com --junit smoke-report.xml
  $ sfdeploy smoke --url https://softfactory.example.com --json | jq '.checks[] | select(.verdict=="fail")'

Checks needing a token are skipped without one; checks that write data are skipped without
--allow-writes; checks of one app mode are skipped without --app-mode naming it. A skipped check
never counts as passed. --tag, --only and --skip narrow the checks run (and listed); the spec
format is in the README ("The smoke suite"), with a full example in examples/smoke-spec.json.

Exit codes
  0  every check that ran passed (--list, --print-default-spec: printed)
  1  a check failed, none ran, or the target could not be reached at all
  2  usage, spec or configuration error (every spec problem is listed), or the token secret
     could not be read (AWS access, no such secret, no usable token in it)
`;

export function register(program: Command): void {
  const command = program
    .command('smoke')
    .description('Run the smoke suite (the production checklist, encoded) against a SoftFactory URL.')
    .option('--url <base>', 'base URL of the deployment, e.g. https://app.example.com (required to run checks)')
    .option('--spec <file>', 'check spec JSON (default: the built-in checklist; see --print-default-spec)')
    .option('--token <token>', 'bearer token for authenticated checks (visible in `ps`; prefer --token-env)')
    .option('--token-env <VAR>', 'read the bearer token from this environment variable')
    .option(
      '--token-secret <name|arn>',
      "read the bearer token from this Secrets Manager secret (the deploy hook's rule: the token, or JSON with a token field)",
    )
    .option('--allow-writes', 'also run checks that create data (they clean up after themselves)')
    .option('--tag <tag>', 'run only checks with this tag; repeat for several', collect)
    .option('--only <id...>', 'run only these check ids (space- or comma-separated)', collectIds)
    .option('--skip <id...>', 'leave out these check ids (space- or comma-separated)', collectIds)
    .option('--list', 'list the selected checks (id, method, path, tags, token, writes) without running them')
    .option('--print-default-spec', 'print the built-in spec as JSON, to copy and edit for --spec')
    .option('--junit <file>', 'also write a JUnit XML report to this file, for CI test reports')
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
    .addHelpText('after', HELP);
  addAwsOptions(command).action((options: SmokeOptions) =>
    runAction(() => smoke(options), { json: options.json, explain: (error) => explainAwsError(error, options) }),
  );
}

async function smoke(options: SmokeOptions): Promise<number> {
  const specModule = await import('../../lambda/smoke/spec');
  if (options.printDefaultSpec) {
    process.stdout.write(`${JSON.stringify(specModule.defaultSpecDocument(), null, 2)}\n`);
    return EXIT_OK;
  }
  // Validated here rather than by commander so every usage mistake is exactly one line on stderr.
  const checkTimeoutMs = milliseconds(options.timeout, '--timeout', DEFAULT_CHECK_TIMEOUT_MS);
  const suiteTimeoutMs = milliseconds(options.suiteTimeout, '--suite-timeout', DEFAULT_SUITE_TIMEOUT_MS);
  const tokenSources = (['token', 'tokenEnv', 'tokenSecret'] as const).filter((key) => options[key] !== undefined);
  if (tokenSources.length > 1) {
    throw new UsageError('use only one of --token, --token-env and --token-secret');
  }

  let spec: SmokeSpec;
  try {
    spec = options.spec ? specModule.parseSpecText(readText(options.spec, '--spec')) : specModule.defaultSpec();
  } catch (error) {
    if (error instanceof specModule.SpecError) return reportSpecProblems(options, error.problems);
    throw error;
  }
  const { selectChecks, SelectionError, listChecks } = await import('../../lambda/smoke/selection');
  let selected: SmokeSpec;
  try {
    selected = selectChecks(spec, { tags: options.tag ?? [], only: options.only ?? [], skip: options.skip ?? [] });
  } catch (error) {
    if (error instanceof SelectionError) throw new UsageError(error.message);
    throw error;
  }
  if (options.list) {
    const listed = listChecks(selected);
    process.stdout.write(options.json ? `${JSON.stringify({ checks: listed }, null, 2)}\n` : renderList(listed));
    return EXIT_OK;
  }

  if (options.url === undefined) throw new UsageError('--url <base> is required (e.g. --url https://app.example.com)');
  const { parseBaseUrl, runSuite } = await import('../../lambda/smoke/engine');
  let baseUrl: URL;
  try {
    baseUrl = parseBaseUrl(options.url);
  } catch (error) {
    throw new UsageError(`--url: ${error instanceof Error ? error.message : String(error)}`);
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
  // Last of the checks on the command line: it is the only one that calls AWS.
  const token = await resolveToken(options);

  const startedAt = new Date();
  const result = await runSuite({
    baseUrl: baseUrl.href,
    spec: selected,
    token,
    allowWrites: options.allowWrites ?? false,
    checkTimeoutMs,
    suiteTimeoutMs,
    maxBodyBytes: MAX_BODY_BYTES,
    ca,
    ...(options.connectTo !== undefined ? { connectTo: options.connectTo } : {}),
    ...(appMode !== undefined ? { appMode } : {}),
    ...(httpPort !== undefined ? { httpPort } : {}),
  });

  if (options.junit !== undefined) {
    const { renderJunit } = await import('../../lambda/smoke/junit');
    try {
      writeFileSync(options.junit, renderJunit(result, { timestamp: startedAt }));
    } catch (error) {
      throw new UsageError(`--junit: cannot write ${options.junit} (${errnoWords(error)})`);
    }
  }
  process.stdout.write(options.json ? `${JSON.stringify(toJsonDocument(result), null, 2)}\n` : renderReport(result));
  // An unreachable target is a failed check (exit 1), not "could not find out" (2): reaching the service is the
  // first thing a smoke test checks, and a wrong --url cannot be told from a dead endpoint from out here. Exit 2
  // would let a pipeline that rolls back on 1 wave a release through whose endpoint answers nobody.
  return result.passed ? EXIT_OK : EXIT_CHECK_FAILED;
}

/** Every problem of a spec, one line each (`sfdeploy: <file>: <path>: <what>`), exit 2. */
function reportSpecProblems(options: SmokeOptions, problems: readonly string[]): number {
  const file = options.spec ?? 'default spec';
  const lines = problems.map((problem) => `${file}: ${problem}`);
  for (const line of lines) process.stderr.write(`sfdeploy: ${line}\n`);
  if (options.json) {
    const message = `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`;
    const error = { name: 'SpecError', message, exitCode: EXIT_USAGE, problems: lines };
    process.stdout.write(`${JSON.stringify({ ok: false, error })}\n`);
  }
  return EXIT_USAGE;
}

async function resolveToken(options: SmokeOptions): Promise<string | undefined> {
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
  if (options.tokenSecret !== undefined) {
    if (options.tokenSecret.trim() === '') throw new UsageError('--token-secret is empty (a secret name or ARN)');
    const { SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
    return readTokenSecret(new SecretsManagerClient(awsClientConfig(options)), options.tokenSecret.trim());
  }
  return undefined;
}

/**
 * The smoke token from a Secrets Manager secret (name or ARN), judged by the deploy hook's own rule (tokenFromSecret).
 * GetSecretValue answers SecretString for a text secret and SecretBinary for a binary one; a missing secret is
 * ResourceNotFoundException, one whose KMS key denies decryption DecryptionFailure, one scheduled for deletion
 * InvalidRequestException (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html).
 * Access denied and credential problems are left to explainAwsError (exit 2, one line).
 */
export async function readTokenSecret(secrets: Pick<SecretsManagerClient, 'send'>, secretId: string): Promise<string> {
  const [{ GetSecretValueCommand }, { tokenFromSecret }] = await Promise.all([
    import('@aws-sdk/client-secrets-manager'),
    import('../../lambda/smoke/token'),
  ]);
  let output: GetSecretValueCommandOutput;
  try {
    output = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    const detail = error instanceof Error ? error.message.replace(/\s+/g, ' ').trim() : String(error);
    if (name === 'ResourceNotFoundException') {
      throw new UsageError(
        `--token-secret: Secrets Manager has no secret ${secretId} (${detail}); check the name or ARN, --region and --profile`,
      );
    }
    if (name === 'DecryptionFailure') {
      throw new UsageError(
        `--token-secret: Secrets Manager cannot decrypt ${secretId} (${detail}); the caller needs kms:Decrypt on the secret's key`,
      );
    }
    if (name === 'InvalidRequestException' || name === 'InvalidParameterException') {
      throw new UsageError(`--token-secret: Secrets Manager refused ${secretId}: ${detail}`);
    }
    throw error;
  }
  if (output.SecretString === undefined && output.SecretBinary !== undefined) {
    throw new UsageError(
      `--token-secret: ${secretId} holds binary data; put the token in as a string (aws secretsmanager put-secret-value --secret-string)`,
    );
  }
  const lookup = tokenFromSecret(output.SecretString);
  if (lookup.token === undefined)
    throw new UsageError(`--token-secret: no usable token in ${secretId}: ${lookup.problem}`);
  return lookup.token;
}

function readText(file: string, option: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`${option}: cannot read ${file} (${errnoWords(error)})`);
  }
}

function errnoWords(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return String(code ?? error);
}

/** The documented pipeline contract: exactly these keys. */
function toJsonDocument(result: SuiteResult) {
  return {
    target: result.target,
    passed: result.passed,
    durationMs: result.durationMs,
    unreachable: result.unreachable,
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

function renderList(checks: readonly ListedCheck[]): string {
  const rows = checks.map((check) => [
    check.id,
    check.method,
    check.plainHttp ? `${check.path} (plain HTTP)` : check.path,
    check.tags.join(',') || '-',
    check.needsToken ? 'yes' : '-',
    check.writes ? 'yes' : '-',
    check.appMode ?? 'any',
  ]);
  const table = renderTable(['id', 'method', 'path', 'tags', 'token', 'writes', 'app mode'], rows);
  return `${table}\n\n${checks.length} check${checks.length === 1 ? '' : 's'} selected\n`;
}

function renderReport(result: SuiteResult): string {
  const c = colours(process.stdout);
  const counts = { pass: 0, fail: 0, skipped: 0 };
  for (const check of result.checks) counts[check.verdict]++;
  const via = result.connectedTo ? ` via ${result.connectedTo}` : '';
  if (result.unreachable) {
    // One line, not one identical row per check: nothing was learnt about any check but that the target is away.
    const { addresses, causes, checks } = result.unreachable;
    return (
      `${c.red(c.bold('FAILED'))}: cannot reach ${addresses.join(', ')} (${causes.join('; ')}): ` +
      `none of the ${checks} check${checks === 1 ? '' : 's'} that ran got an answer, ${counts.skipped} skipped, ` +
      `in ${result.durationMs} ms against ${result.target}${via}\n`
    );
  }
  const paint = (check: CheckResult) =>
    check.verdict === 'pass' ? c.green('pass') : check.verdict === 'fail' ? c.red('FAIL') : c.yellow('skipped');
  const rows = result.checks.map((check) => [
    check.id,
    check.method,
    check.path,
    paint(check),
    check.status === null ? '-' : String(check.status),
    check.latencyMs === null ? '-' : `${check.latencyMs} ms`,
    check.reason ?? '',
  ]);
  const ran = counts.pass + counts.fail;
  const outcome = result.passed
    ? c.green(c.bold('PASSED'))
    : ran === 0
      ? c.red(c.bold('FAILED (no check ran)'))
      : c.red(c.bold('FAILED'));
  const summary =
    `${outcome}: ${counts.pass} passed, ${counts.fail} failed, ${counts.skipped} skipped ` +
    `in ${result.durationMs} ms against ${result.target}${via}`;
  const headers = ['id', 'method', 'path', 'verdict', 'status', 'latency', 'reason'];
  return `${renderTable(headers, rows)}\n\n${summary}\n`;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--only a b`, `--only a,b` and `--only a --only b` all mean [a, b]. */
function collectIds(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((id) => id.trim())
      .filter((id) => id !== ''),
  ];
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
