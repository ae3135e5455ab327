/**
 * The AWS side of every AWS-calling `sfdeploy` command: the `--profile` / `--region` options, one client
 * configuration, and AWS errors turned into one line a person can act on (exit 2: configuration or access, never 1,
 * which means "a check failed").
 *
 * Credentials and region come from the AWS SDK v3 default chain (environment, shared config/credentials files, SSO,
 * web identity, container and instance metadata); `--profile` and `--region` only pick from it
 * (https://docs.aws.amazon.com/sdk-for-javascript/v3/developer-guide/setting-credentials-node.html,
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-region.html). This module loads no SDK code itself.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { UsageError } from './support';

export interface AwsCliOptions {
  readonly profile?: string | undefined;
  readonly region?: string | undefined;
}

/** Adds `--profile` and `--region` to a command (both optional: the default chain fills them in). */
export function addAwsOptions(command: Command): Command {
  return command
    .option('--profile <name>', 'AWS profile from ~/.aws/config (SSO profiles included; default: AWS_PROFILE)')
    .option('--region <region>', 'AWS region (default: AWS_REGION, or the profile’s region)');
}

export interface AwsClientConfig {
  region?: string;
  profile?: string;
  maxAttempts: number;
  requestHandler: { connectionTimeout: number; requestTimeout: number; throwOnRequestTimeout: boolean };
}

/**
 * One configuration for every SDK client the CLI makes. `profile` is the SDK v3 client option that selects a shared
 * config profile for both credentials and region. Request timeouts that throw: the SDK default is none, and its
 * timeout only warns unless throwOnRequestTimeout is set.
 */
export function awsClientConfig(options: AwsCliOptions = {}): AwsClientConfig {
  return {
    ...(options.region ? { region: options.region } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    maxAttempts: 5,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true },
  };
}

/** An AWS configuration or access problem, already phrased with its fix: exit 2. */
export class AwsAccessError extends UsageError {
  override readonly name: string = 'AwsAccessError';
}

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedException',
  'AuthorizationError',
  'AuthorizationErrorException',
]);
const BAD_KEYS = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
]);
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired']);
const NETWORK = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH']);

function profileHint(options: AwsCliOptions): string {
  const profile = options.profile ?? process.env['AWS_PROFILE'];
  return profile ? ` --profile ${profile}` : '';
}

/**
 * One line with the fix for an AWS configuration or access error, or undefined when the error is something else.
 * The shapes matched are the SDK v3's own: CredentialsProviderError messages from the credential providers, the
 * region resolver's "Region is missing", service exceptions by their documented error code (`name`), and Node's
 * socket error codes.
 */
export function explainAwsError(error: unknown, options: AwsCliOptions = {}): string | undefined {
  // Already said (a UsageError, e.g. an AwsAccessError thrown with its fix): runAction prints it as it is.
  if (!(error instanceof Error) || error instanceof UsageError) return undefined;
  const e = error as Error & { code?: unknown; $metadata?: { httpStatusCode?: number } };
  const message = e.message ?? '';
  const login = `aws sso login${profileHint(options)}`;
  if (/Region is missing/i.test(message) || e.name === 'RegionMissingError') {
    return 'no AWS region: pass --region <region> (e.g. --region eu-west-1) or set AWS_REGION';
  }
  if (/\bSSO\b/i.test(message) && /expired|not found|invalid|cannot refresh|sso login/i.test(message)) {
    // The SSO providers' messages: "The SSO session token associated with profile=<p> was not found or is invalid",
    // "Value not present for 'clientId' in SSO Token. Cannot refresh", "The SSO session associated with this profile
    // has expired" (@aws-sdk/credential-provider-sso, @aws-sdk/token-providers).
    const named = /profile=([^\s.]+)/.exec(message)?.[1];
    const hint = named ? ` --profile ${named}` : profileHint(options);
    return `the AWS SSO session has expired or was never started: run \`aws sso login${hint}\` and retry`;
  }
  const requested = options.profile ?? process.env['AWS_PROFILE'];
  const unusable = /Could not resolve credentials using profile: \[([^\]]*)\]|Profile (\S+) could not be found/i.exec(
    message,
  );
  if (unusable) {
    const name = unusable[1] ?? unusable[2] ?? requested ?? '';
    if (!profileExists(name)) {
      return `AWS profile "${name}" is not in ${configFilePath()} or ${credentialsFilePath()}: run \`aws configure sso --profile ${name}\` (or \`aws configure --profile ${name}\`), or pass another --profile`;
    }
    return `AWS profile "${name}" has no usable credentials (no keys, SSO settings or role to assume): fix it with \`aws configure sso --profile ${name}\`, or pass another --profile`;
  }
  if (/Could not load credentials from any providers/i.test(message) || e.name === 'CredentialsProviderError') {
    if (requested && !profileExists(requested)) {
      return `AWS profile "${requested}" is not in ${configFilePath()} or ${credentialsFilePath()}: run \`aws configure sso --profile ${requested}\` (or \`aws configure --profile ${requested}\`), or pass another --profile`;
    }
    return 'no AWS credentials found: run `aws sso login --profile <name>` and pass --profile <name> (or set AWS_PROFILE), or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY';
  }
  if (EXPIRED.has(e.name)) {
    return `the AWS credentials have expired: refresh them (\`${login}\`, or new temporary keys) and retry`;
  }
  if (BAD_KEYS.has(e.name)) {
    return `AWS rejected the credentials (${e.name}): check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the profile${profileHint(options) ? ` ${options.profile ?? process.env['AWS_PROFILE']}` : ''}`;
  }
  if (ACCESS_DENIED.has(e.name) || e.$metadata?.httpStatusCode === 403) {
    const detail = message.replace(/\s+/g, ' ').trim();
    return `access denied by AWS (${e.name}): ${detail || 'no detail given'} — use a role or profile allowed to do this (--profile)`;
  }
  const code = typeof e.code === 'string' ? e.code : '';
  if (NETWORK.has(code) || /getaddrinfo (ENOTFOUND|EAI_AGAIN)/.test(message)) {
    const host = /(?:ENOTFOUND|EAI_AGAIN|ECONNREFUSED)\s+(\S+)/.exec(message)?.[1];
    return `cannot reach AWS${host ? ` (${host})` : ''}: check the network and the region (--region or AWS_REGION)`;
  }
  return undefined;
}

/** The shared config file: AWS_CONFIG_FILE or ~/.aws/config (https://docs.aws.amazon.com/sdkref/latest/guide/file-location.html). */
function configFilePath(): string {
  return process.env['AWS_CONFIG_FILE'] || join(homedir(), '.aws', 'config');
}

/** The shared credentials file: AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials (same page). */
function credentialsFilePath(): string {
  return process.env['AWS_SHARED_CREDENTIALS_FILE'] || join(homedir(), '.aws', 'credentials');
}

function sectionNames(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return [...text.matchAll(/^\s*\[([^\]]+)\]/gm)].map((m) => (m[1] ?? '').trim());
}

/**
 * Whether a named profile exists: `[profile <name>]` (or `[default]`) in the config file, `[<name>]` in the credentials
 * file (https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html). The SDK itself only says "Could not load
 * credentials from any providers" for a profile that is not there.
 */
export function profileExists(name: string): boolean {
  const config = sectionNames(configFilePath()).map((s) => s.replace(/^profile\s+/, ''));
  return config.includes(name) || sectionNames(credentialsFilePath()).includes(name);
}
