/**
 * npm run bench:migrate-checksum — the target side of verification, side by side in one run: the checksum query
 * PostgreSQL runs per table (`pgChecksumSql`) against the baseline it replaced (the same rendering, flattened into
 * both aggregates and summed through a per-row numeric cast). Both over every table of the benchmark file
 * (.bench-data/, as `npm run bench:migrate` generates it), loaded once with `sfdeploy migrate --no-verify`, on one
 * local PostgreSQL 17 with parallel query off, so each figure is one backend's CPU time (best of BENCH_ROUNDS).
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { renderTable } from '../bin/cli/support';
import { pgChecksumSql } from '../lambda/migrate/checksum';
import { convertLiteral } from '../lambda/migrate/convert';
import { startEmbeddedPg } from '../lambda/migrate/embedded-pg';
import { translateSchema } from '../lambda/migrate/schema';
import { SqliteSource } from '../lambda/migrate/sqlite-source';
import { generateBenchFile } from './migrate/generate';

const ROOT = resolve(__dirname, '..');
const FILE = join(ROOT, '.bench-data', 'softfactory-1m.db');

/** The query before the fix: no OFFSET 0 fence (the rendering is computed once per aggregate), numeric sum. */
function baselineSql(sql: string): string {
  return sql
    .replace(' OFFSET 0) AS rendered', ') AS rendered')
    .replace('hashtextextended(r, 0))', 'hashtextextended(r, 0)::numeric)');
}

async function main(): Promise<void> {
  const rounds = Math.max(1, Number(process.env['BENCH_ROUNDS'] ?? 3));
  const { rows } = generateBenchFile(FILE);
  const source = new SqliteSource(FILE);
  const schema = source.readSchema();
  source.close();
  SqliteSource.resolveForeignKeys(schema);
  const tables = translateSchema(schema, convertLiteral).tables.map((t) => ({
    name: t.name,
    sql: pgChecksumSql(
      t.name,
      t.columns.map((c) => ({ name: c.name, kind: c.type.kind })),
    ),
  }));
  const pg = await startEmbeddedPg({ settings: { autovacuum: 'off' } });
  try {
    const url = await pg.createDatabase(`checksum_bench_${process.pid}`);
    const load = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bin/sfdeploy.ts'), 'migrate', FILE, '--pg-url', url, '--no-verify', '--json'],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 },
    );
    if (load.status !== 0) throw new Error(`loading the benchmark file failed: ${load.stderr.slice(-300)}`);
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('SET max_parallel_workers_per_gather = 0');
      const legs = [
        { name: 'baseline: flattened, numeric cast per row', build: baselineSql },
        { name: 'pgChecksumSql (OFFSET 0 fence, sum(bigint))', build: (s: string) => s },
      ];
      const best = legs.map(() => Number.POSITIVE_INFINITY);
      const answers = legs.map(() => '');
      for (let round = 0; round < rounds; round++) {
        for (const [i, leg] of legs.entries()) {
          let ms = 0;
          let answer = '';
          for (const t of tables) {
            const started = process.hrtime.bigint();
            const r = await client.query(leg.build(t.sql));
            ms += Number(process.hrtime.bigint() - started) / 1e6;
            answer += `${t.name}:${r.rows[0]?.rows}:${r.rows[0]?.high}:${r.rows[0]?.low};`;
          }
          best[i] = Math.min(best[i] ?? ms, ms);
          answers[i] = answer;
        }
      }
      const base = best[0] ?? 1;
      console.log(`${tables.length} tables, ${rows} rows; best of ${rounds} round(s), parallel query off\n`);
      console.log(
        renderTable(
          ['query', 'ms', 'rows/s', 'baseline ÷ leg'],
          legs.map((leg, i) => [
            leg.name,
            (best[i] ?? 0).toFixed(0),
            String(Math.round(rows / ((best[i] ?? 1) / 1000))),
            `${(base / (best[i] ?? 1)).toFixed(2)}×`,
          ]),
        ),
      );
      console.log(`\nsame checksums from both queries: ${answers[0] === answers[1] ? 'yes' : 'NO'}`);
      if (answers[0] !== answers[1]) process.exitCode = 1;
    } finally {
      await client.end();
    }
  } finally {
    await pg.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
