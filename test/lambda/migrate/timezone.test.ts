import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Database } from 'node-sqlite3-wasm';
import { runMigration } from '../../../lambda/migrate/engine';
import { generateFixture } from './fixture';
import { type PgHarness, scratchDir, startHarness } from './pg-harness';

let pg: PgHarness;
let scratch: ReturnType<typeof scratchDir>;

before(async () => {
  scratch = scratchDir();
  pg = await startHarness({ timezone: 'Asia/Seoul' });
});

after(async () => {
  await pg?.stop();
  scratch?.cleanup();
});

describe('a target server in TimeZone=Asia/Seoul', () => {
  it('stores the exact wall-clock datetimes of the SQLite file', async () => {
    // Given a server whose default TimeZone is 9 hours from UTC
    const path = join(scratch.dir, 'tz.db');
    generateFixture(path, { users: 40 });
    const url = await pg.freshDatabase();
    const [tz] = await pg.query<{ TimeZone: string }>(url, 'SHOW TimeZone');
    assert.equal(tz?.TimeZone, 'Asia/Seoul');

    // When the file is migrated
    const report = await runMigration({
      sqlitePath: path,
      target: { connectionString: url },
      targetDescription: 'seoul',
      rehearsal: false,
      schemaMode: 'translate',
      action: 'migrate',
      onError: 'fail',
    });
    assert.equal(report.ok, true);

    // Then a fresh session in the server's own time zone reads the same wall-clock values, to the microsecond
    const db = new Database(path, { readOnly: true });
    const source = new Map(
      db.all('SELECT id, created_at FROM users').map((r) => [Number(r['id']), String(r['created_at'])] as const),
    );
    db.close();
    const rows = await pg.query<{ id: number; at: string }>(
      url,
      `SELECT id, to_char(created_at, 'YYYY-MM-DD HH24:MI:SS.US') AS at FROM users ORDER BY id`,
    );
    assert.equal(rows.length, source.size);
    for (const r of rows) {
      const expected = source.get(r.id) ?? '';
      assert.equal(r.at, expected.includes('.') ? expected : `${expected}.000000`, `user ${r.id}`);
    }
    // and the UTC-meaning default (SQLite's CURRENT_TIMESTAMP) still means UTC
    const [d] = await pg.query<{ diff: number }>(
      url,
      `WITH u AS (INSERT INTO users (email) VALUES ('tz@x.example') RETURNING created_at)
       SELECT abs(extract(epoch FROM (SELECT created_at FROM u) - (now() AT TIME ZONE 'UTC')))::float AS diff`,
    );
    assert.ok((d?.diff ?? 99) < 5, 'default created_at is UTC wall-clock time');
  });
});
