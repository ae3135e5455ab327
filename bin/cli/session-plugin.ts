/**
 * The Session Manager plugin, run the way the AWS CLI runs it for `aws ecs execute-command` and `aws ssm start-session`
 * (awscli/customizations/ecs/executecommand.py, awscli/customizations/sessionmanager.py): six arguments — the session
 * (sessionId, streamUrl, tokenValue) as JSON, the region, "StartSession", the profile ('' for none), the request as
 * JSON, and the endpoint of the service that made the session. The plugin then owns the terminal (or, for port
 * forwarding, the local port) until the session ends.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UsageError } from './support';

export const PLUGIN = 'session-manager-plugin';
export const PLUGIN_INSTALL_URL =
  'https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html';

/** The plugin's path on PATH, or a UsageError (exit 2) with the install page. Checked before any AWS call. */
export function findPlugin(env: NodeJS.ProcessEnv = process.env): string {
  const names = process.platform === 'win32' ? [`${PLUGIN}.exe`, PLUGIN] : [PLUGIN];
  for (const dir of (env['PATH'] ?? '').split(delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  throw new UsageError(`${PLUGIN} is not on PATH: install the Session Manager plugin (${PLUGIN_INSTALL_URL})`);
}

/**
 * Plugin versions after 1.2.497.0 read the session from an environment variable named in the first argument, which
 * keeps the session token out of `ps` (awscli/customizations/sessionmanager.py, LAST_PLUGIN_VERSION_WITHOUT_ENV_VAR).
 */
export const RESPONSE_ENV = 'AWS_SSM_START_SESSION_RESPONSE';
const LAST_VERSION_WITHOUT_ENV = [1, 2, 497, 0];

export function supportsResponseEnv(version: string | undefined): boolean {
  const clean = (version ?? '').replace(/\s+/g, '');
  if (!/^\d+(\.\d+){0,3}$/.test(clean)) return false;
  const parts = clean.split('.').map(Number);
  for (let i = 0; i < 4; i += 1) {
    const a = parts[i] ?? 0;
    const b = LAST_VERSION_WITHOUT_ENV[i] ?? 0;
    if (a !== b) return a > b;
  }
  return false;
}

function pluginVersion(path: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(path, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', () => resolve(undefined));
    child.on('close', () => resolve(out.trim() || undefined));
  });
}

export interface PluginSession {
  /** The session as the API answered it: ECS `session` (sessionId, streamUrl, tokenValue) or SSM's three fields. */
  readonly session: Record<string, unknown>;
  readonly region: string;
  readonly profile: string;
  /** The request the session was made for: for SSM the StartSession input, for ECS `{ Target }`. */
  readonly request: Record<string, unknown>;
  readonly endpoint: string;
}

/** The six arguments and the environment of one plugin run (a pure function: the tests assert on it). */
export function pluginInvocation(
  session: PluginSession,
  useEnv: boolean,
  env: NodeJS.ProcessEnv = process.env,
): { args: string[]; env: NodeJS.ProcessEnv } {
  const response = JSON.stringify(session.session);
  return {
    args: [
      useEnv ? RESPONSE_ENV : response,
      session.region,
      'StartSession',
      session.profile,
      JSON.stringify(session.request),
      session.endpoint,
    ],
    env: useEnv ? { ...env, [RESPONSE_ENV]: response } : { ...env },
  };
}

/**
 * Runs the plugin attached to this terminal and resolves with its exit. While it runs, this process ignores the
 * signals a person types (Ctrl-C, Ctrl-\, Ctrl-Z): the terminal delivers them to the plugin too, which forwards them
 * into the session or ends it (the AWS CLI's ignore_user_entered_signals).
 */
export async function runPlugin(
  path: string,
  session: PluginSession,
  options: { readonly outputToStderr?: boolean } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const { args, env } = pluginInvocation(session, supportsResponseEnv(await pluginVersion(path)));
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGQUIT', 'SIGTSTP'];
  const ignore = () => {};
  for (const s of signals) process.on(s, ignore);
  try {
    return await new Promise((resolve, reject) => {
      // With outputToStderr the plugin's own lines go to stderr, so stdout carries only this command's JSON.
      const child = spawn(path, args, { stdio: options.outputToStderr ? [0, 2, 2] : 'inherit', env });
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
  } finally {
    for (const s of signals) process.off(s, ignore);
  }
}

/** A client's endpoint as the AWS CLI passes it to the plugin (`client.meta.endpoint_url`), custom endpoints included. */
export async function endpointOf(client: { config: unknown }): Promise<string> {
  const config = client.config as {
    endpoint?: () => Promise<{ protocol: string; hostname: string; port?: number; path: string }>;
    serviceConfiguredEndpoint?: () => Promise<string | undefined>;
    endpointProvider: (params: Record<string, unknown>) => { url: URL };
    region: () => Promise<string>;
    useFipsEndpoint: () => Promise<boolean>;
    useDualstackEndpoint: () => Promise<boolean>;
  };
  const custom = config.endpoint ? await config.endpoint() : undefined;
  if (custom)
    return `${custom.protocol}//${custom.hostname}${custom.port ? `:${custom.port}` : ''}${custom.path}`.replace(
      /\/$/,
      '',
    );
  const configured = config.serviceConfiguredEndpoint ? await config.serviceConfiguredEndpoint() : undefined;
  const resolved = config.endpointProvider({
    Region: await config.region(),
    UseFIPS: await config.useFipsEndpoint(),
    UseDualStack: await config.useDualstackEndpoint(),
    ...(configured ? { Endpoint: configured } : {}),
  });
  return resolved.url.href.replace(/\/$/, '');
}

/** The profile the SDK uses, as the AWS CLI passes it to the plugin ('' when none is named). */
export function profileName(profile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return profile ?? env['AWS_PROFILE'] ?? '';
}
