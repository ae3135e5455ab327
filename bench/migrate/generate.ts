/**
 * A generated SoftFactory-like SQLite file of about 1,000,000 rows over 52 tables, written the way
 * Flask-SQLAlchemy writes (integer keys without AUTOINCREMENT, naive datetimes as text, 0/1 booleans, JSON text),
 * with foreign keys, unique constraints and indexes. Deterministic, so every run measures the same bytes.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Database } from 'node-sqlite3-wasm';

type ColumnKind = 'varchar' | 'text' | 'bool' | 'datetime' | 'date' | 'float' | 'numeric' | 'json' | 'blob' | 'int';

interface TableSpec {
  readonly name: string;
  readonly rows: number;
  readonly parents: readonly string[];
  readonly columns: readonly (readonly [string, ColumnKind])[];
  readonly unique?: string;
}

const CORE: TableSpec[] = [
  {
    name: 'users',
    rows: 40_000,
    parents: [],
    columns: [
      ['email', 'varchar'],
      ['name', 'varchar'],
      ['is_active', 'bool'],
      ['created_at', 'datetime'],
      ['profile', 'json'],
      ['score', 'float'],
    ],
    unique: 'email',
  },
  {
    name: 'teams',
    rows: 2_000,
    parents: ['users'],
    columns: [
      ['name', 'varchar'],
      ['created_at', 'datetime'],
    ],
  },
  {
    name: 'team_members',
    rows: 40_000,
    parents: ['teams', 'users'],
    columns: [
      ['role', 'varchar'],
      ['joined_at', 'datetime'],
    ],
  },
  {
    name: 'projects',
    rows: 20_000,
    parents: ['users', 'teams'],
    columns: [
      ['title', 'varchar'],
      ['description', 'text'],
      ['is_public', 'bool'],
      ['created_at', 'datetime'],
      ['budget', 'numeric'],
    ],
  },
  {
    name: 'tasks',
    rows: 150_000,
    parents: ['projects', 'users'],
    columns: [
      ['title', 'varchar'],
      ['description', 'text'],
      ['status', 'varchar'],
      ['priority', 'int'],
      ['due_on', 'date'],
      ['created_at', 'datetime'],
      ['updated_at', 'datetime'],
      ['estimate', 'numeric'],
      ['done', 'bool'],
    ],
  },
  {
    name: 'comments',
    rows: 250_000,
    parents: ['tasks', 'users'],
    columns: [
      ['body', 'text'],
      ['created_at', 'datetime'],
    ],
  },
  {
    name: 'activity_log',
    rows: 200_000,
    parents: ['users'],
    columns: [
      ['action', 'varchar'],
      ['payload', 'json'],
      ['created_at', 'datetime'],
    ],
  },
  {
    name: 'notifications',
    rows: 100_000,
    parents: ['users'],
    columns: [
      ['message', 'text'],
      ['is_read', 'bool'],
      ['created_at', 'datetime'],
    ],
  },
  {
    name: 'attachments',
    rows: 10_000,
    parents: ['tasks'],
    columns: [
      ['filename', 'varchar'],
      ['data', 'blob'],
      ['size', 'int'],
    ],
  },
];

const SMALL_KINDS: ColumnKind[] = ['varchar', 'datetime', 'bool', 'float', 'json', 'date', 'text', 'int', 'numeric'];

/** Every table of the benchmark file: the nine big ones plus 43 SoftFactory-style satellite tables. */
export function benchTables(): TableSpec[] {
  const small: TableSpec[] = [];
  for (let i = 0; i < 43; i++) {
    small.push({
      name: `module_${String(i + 1).padStart(2, '0')}`,
      rows: 4_400,
      parents: [i % 2 === 0 ? 'users' : 'projects'],
      columns: [0, 1, 2, 3].map(
        (k) => [`field_${k}`, SMALL_KINDS[(i + k) % SMALL_KINDS.length] as ColumnKind] as const,
      ),
    });
  }
  return [...CORE, ...small];
}

const DECLARED: Record<ColumnKind, string> = {
  varchar: 'VARCHAR(200)',
  text: 'TEXT',
  bool: 'BOOLEAN',
  datetime: 'DATETIME',
  date: 'DATE',
  float: 'FLOAT',
  numeric: 'NUMERIC(12, 2)',
  json: 'JSON',
  blob: 'BLOB',
  int: 'INTEGER',
};

const WORDS = ['작업', '검토', '배포', 'deploy', 'review', 'fix', '🚀', '버그', 'feature', '테스트', 'docs', '✅'];

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function value(kind: ColumnKind, row: number, col: number): string | number | Uint8Array | null {
  const r = (row * 2654435761 + col * 40503) >>> 0;
  if (r % 17 === 0 && kind !== 'bool') return null;
  switch (kind) {
    case 'varchar':
      return `${WORDS[r % WORDS.length]} ${row} ${WORDS[(r >>> 4) % WORDS.length]}`;
    case 'text':
      return `${WORDS[r % WORDS.length]} ${'내용 content '.repeat(1 + (r % 6))}#${row}`;
    case 'bool':
      return r % 3 === 0 ? 0 : 1;
    case 'datetime':
      return `20${pad(18 + (r % 7))}-${pad(1 + (r % 12))}-${pad(1 + (r % 28))} ${pad(r % 24)}:${pad(r % 60)}:${pad((r >>> 3) % 60)}.${pad(r % 1000000, 6)}`;
    case 'date':
      return `20${pad(18 + (r % 7))}-${pad(1 + (r % 12))}-${pad(1 + (r % 28))}`;
    case 'float':
      return (r % 100000) / 7;
    case 'numeric':
      return (r % 10000000) / 100;
    case 'json':
      return `{"id": ${row}, "kind": "${WORDS[r % WORDS.length]}", "n": [${r % 100}, ${r % 7}], "ok": ${r % 2 === 0}}`;
    case 'blob':
      return new Uint8Array(64).map((_, i) => (r + i) & 255);
    case 'int':
      return r % 1000;
  }
}

/** Creates the file at `path` unless it exists already (generation costs seconds; the file is reused). */
export function generateBenchFile(path: string): { tables: number; rows: number } {
  const tables = benchTables();
  const rows = tables.reduce((n, t) => n + t.rows, 0);
  if (existsSync(path)) return { tables: tables.length, rows };
  mkdirSync(dirname(path), { recursive: true });
  const partial = `${path}.partial`;
  rmSync(partial, { force: true });
  const db = new Database(partial);
  db.exec('PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF; PRAGMA page_size = 4096;');
  const sizes = new Map(tables.map((t) => [t.name, t.rows]));
  for (const t of tables) {
    const cols = [
      'id INTEGER NOT NULL',
      ...t.parents.map((p) => `${p}_id INTEGER NOT NULL`),
      ...t.columns.map(([name, kind]) => `${name} ${DECLARED[kind]}`),
      'PRIMARY KEY (id)',
      ...t.parents.map((p) => `FOREIGN KEY(${p}_id) REFERENCES ${p} (id)`),
      ...(t.unique ? [`UNIQUE (${t.unique})`] : []),
    ];
    db.exec(`CREATE TABLE ${t.name} (${cols.join(', ')})`);
    for (const p of t.parents) db.exec(`CREATE INDEX ix_${t.name}_${p}_id ON ${t.name} (${p}_id)`);
    db.exec('BEGIN');
    const width = 1 + t.parents.length + t.columns.length;
    const insert = db.prepare(`INSERT INTO ${t.name} VALUES (${new Array(width).fill('?').join(', ')})`);
    for (let row = 1; row <= t.rows; row++) {
      const values: (string | number | Uint8Array | null)[] = [row];
      t.parents.forEach((p, i) => {
        values.push(((row * (7 + i)) % (sizes.get(p) ?? 1)) + 1);
      });
      t.columns.forEach(([name, kind], i) => {
        const v = value(kind, row, i);
        values.push(name === 'email' ? `user${row}@softfactory.example` : v);
      });
      insert.run(values);
    }
    insert.finalize();
    db.exec('COMMIT');
  }
  db.close();
  renameSync(partial, path);
  return { tables: tables.length, rows };
}
