/**
 * Generates SoftFactory-like SQLite files the way Flask-SQLAlchemy writes them: every declared type the app uses,
 * integer primary keys without AUTOINCREMENT, foreign keys (one self-referencing), unique constraints (named and
 * not), indexes, a composite key, a WITHOUT ROWID table, a table without a primary key, Korean text and emoji,
 * 64-bit integers beyond 2^53, naive datetimes as text. With `bad: true` it adds one row per bad-data case.
 */
import { rmSync } from 'node:fs';
import { Database } from 'node-sqlite3-wasm';

export const FIXTURE_DDL = `
CREATE TABLE users (
  id INTEGER NOT NULL,
  email VARCHAR(120) NOT NULL,
  name VARCHAR(80),
  is_active BOOLEAN NOT NULL DEFAULT 1,
  created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
  birthday DATE,
  score FLOAT,
  balance NUMERIC(10, 2),
  profile JSON,
  avatar BLOB,
  big_counter BIGINT,
  login_count INTEGER DEFAULT 0,
  PRIMARY KEY (id),
  UNIQUE (email),
  CHECK (is_active IN (0, 1))
);
CREATE TABLE projects (
  id INTEGER NOT NULL,
  owner_id INTEGER NOT NULL,
  title VARCHAR(200) NOT NULL,
  description TEXT,
  status VARCHAR(20) DEFAULT 'draft',
  created_at DATETIME,
  PRIMARY KEY (id),
  CONSTRAINT uq_projects_owner_title UNIQUE (owner_id, title),
  FOREIGN KEY(owner_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_projects_created_at ON projects (created_at DESC);
CREATE TABLE comments (
  id INTEGER NOT NULL,
  project_id INTEGER NOT NULL,
  author_id INTEGER,
  parent_id INTEGER,
  body TEXT NOT NULL,
  created_at DATETIME NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY(project_id) REFERENCES projects (id),
  CONSTRAINT fk_comments_author FOREIGN KEY(author_id) REFERENCES users (id) ON DELETE SET NULL,
  FOREIGN KEY(parent_id) REFERENCES comments (id)
);
CREATE INDEX ix_comments_project_id ON comments (project_id);
CREATE TABLE tags (
  id INTEGER NOT NULL,
  name VARCHAR(50) NOT NULL,
  PRIMARY KEY (id)
);
CREATE UNIQUE INDEX ix_tags_name ON tags (name);
CREATE TABLE project_tags (
  project_id INTEGER NOT NULL,
  tag_id INTEGER NOT NULL,
  PRIMARY KEY (project_id, tag_id),
  FOREIGN KEY(project_id) REFERENCES projects (id),
  FOREIGN KEY(tag_id) REFERENCES tags (id)
);
CREATE TABLE settings (
  key VARCHAR(64) NOT NULL PRIMARY KEY,
  value JSON,
  updated_on DATE
) WITHOUT ROWID;
CREATE TABLE audit_log (
  event VARCHAR(40) NOT NULL,
  detail TEXT,
  at DATETIME,
  amount REAL
);
`;

export const FIXTURE_TABLES = ['users', 'projects', 'comments', 'tags', 'project_tags', 'settings', 'audit_log'];

/** One bad value (or row) the generator planted, and how the report must name it. */
export interface PlantedProblem {
  readonly table: string;
  readonly rowKey: string;
  readonly column: string;
  /** A fragment the reason must contain. */
  readonly reason: RegExp;
}

export interface FixtureInfo {
  readonly path: string;
  readonly rows: Record<string, number>;
  readonly planted: readonly PlantedProblem[];
}

const KOREAN = ['김민준', '이서연', '박지호', '최수아', '정예준', '강하은', '조도윤', '윤지우'];
const EMOJI = ['🎉', '🚀', '🐛', '✅', '🔥', '👍🏽', '🇰🇷', '👨‍👩‍👧'];

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Deterministic pseudo-random numbers, so fixtures are reproducible without committed files. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateFixture(path: string, options: { users?: number; bad?: boolean } = {}): FixtureInfo {
  rmSync(path, { force: true });
  const users = options.users ?? 200;
  const random = rng(42);
  const db = new Database(path);
  db.exec('PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA foreign_keys = OFF;');
  db.exec(FIXTURE_DDL);
  db.exec('BEGIN');
  const stamp = (i: number) =>
    `2024-${pad((i % 12) + 1)}-${pad((i % 28) + 1)} ${pad(i % 24)}:${pad(i % 60)}:${pad((i * 7) % 60)}` +
    (i % 3 === 0 ? '' : `.${pad((i * 7919) % 1000000, 6)}`);
  const insertUser = db.prepare('INSERT INTO users VALUES (?,?,?,?,?,?,?,?,?,?,?,?)');
  for (let i = 1; i <= users; i++) {
    const name = `${KOREAN[i % KOREAN.length]} ${EMOJI[i % EMOJI.length]}${i % 11 === 0 ? ' tab\there\nnew "line" \\ back' : ''}${i % 17 === 0 || i === 10 ? ' ctl\u0001\u0001x' : ''}`;
    insertUser.run([
      i,
      `user${i}@softfactory.example`,
      i % 13 === 0 ? null : name,
      i % 5 === 0 ? 0 : 1,
      stamp(i),
      i % 4 === 0 ? null : `19${pad(50 + (i % 50))}-${pad((i % 12) + 1)}-${pad((i % 28) + 1)}`,
      i % 6 === 0 ? -0.1 * i : random() * 1000,
      i % 7 === 0 ? null : Math.round(random() * 10000000) / 100,
      i % 9 === 0
        ? null
        : JSON.stringify({ theme: i % 2 ? 'dark' : 'light', tags: [i, `태그${i}`], nested: { ok: true } }),
      i % 10 === 0 ? new Uint8Array([0, 1, 2, 255, i % 256]) : null,
      i === 1
        ? 9223372036854775807n
        : i === 2
          ? 9007199254740993n
          : i === 3
            ? -9223372036854775808n
            : BigInt(i) * 1000003n,
      i * 3,
    ]);
  }
  insertUser.finalize();
  const insertProject = db.prepare('INSERT INTO projects VALUES (?,?,?,?,?,?)');
  const projects = users * 2;
  for (let i = 1; i <= projects; i++) {
    insertProject.run([
      i,
      ((i * 7) % users) + 1,
      `프로젝트 ${i} ${EMOJI[i % EMOJI.length]}`,
      i % 5 === 0 ? null : `설명 ${'가나다라 '.repeat(i % 20)} ✨ project ${i}`,
      ['draft', 'active', 'done'][i % 3],
      stamp(i + 1000),
    ]);
  }
  insertProject.finalize();
  const insertComment = db.prepare('INSERT INTO comments VALUES (?,?,?,?,?,?)');
  const comments = users * 5;
  for (let i = 1; i <= comments; i++) {
    insertComment.run([
      i,
      ((i * 13) % projects) + 1,
      i % 8 === 0 ? null : ((i * 3) % users) + 1,
      // Replies point both backwards and forwards: loading order must not matter.
      i % 4 === 0 ? ((i + 17) % comments) + 1 : null,
      `댓글 ${i}: 좋아요 ${EMOJI[i % EMOJI.length]}`,
      stamp(i + 2000),
    ]);
  }
  insertComment.finalize();
  for (let i = 1; i <= 20; i++) db.run('INSERT INTO tags VALUES (?, ?)', [i, `tag-${i}-${KOREAN[i % KOREAN.length]}`]);
  const insertProjectTag = db.prepare('INSERT INTO project_tags VALUES (?, ?)');
  for (let p = 1; p <= projects; p++) {
    for (let t = 1; t <= (p % 3) + 1; t++) insertProjectTag.run([p, ((p + t) % 20) + 1]);
  }
  insertProjectTag.finalize();
  db.run(`INSERT INTO settings VALUES ('site.name', '"SoftFactory 소프트팩토리"', '2024-01-01')`);
  db.run(`INSERT INTO settings VALUES ('features', '{"a": [1, 2.5e3, -0, 12345678901234567890], "b": null}', NULL)`);
  db.run(`INSERT INTO settings VALUES ('empty', '{}', '2000-02-29')`);
  for (let i = 0; i < 50; i++) {
    db.run('INSERT INTO audit_log VALUES (?, ?, ?, ?)', [
      i % 2 ? 'login' : 'logout',
      i % 3 ? `세부사항 ${i} 😀` : null,
      stamp(i + 5000),
      i === 0 ? 0.1 + 0.2 : i === 1 ? 1e300 : i === 2 ? -0 : i * 1.25,
    ]);
  }
  const planted: PlantedProblem[] = [];
  if (options.bad) {
    // Real files predate or bypass such constraints; the generator must be able to plant what they let through.
    db.exec('PRAGMA ignore_check_constraints = ON');
    const u = users + 1;
    const badUser = (id: number, column: string, valueSql: string, reason: RegExp) => {
      db.run(
        `INSERT INTO users (id, email, name, is_active, created_at) VALUES (?, ?, 'bad', 1, '2024-01-01 00:00:00')`,
        [id, `bad${id}@x.example`],
      );
      db.run(`UPDATE users SET ${column} = ${valueSql} WHERE id = ?`, [id]);
      planted.push({ table: 'users', rowKey: `id=${id}`, column, reason });
    };
    badUser(u, 'big_counter', "'lots'", /not an integer/);
    badUser(u + 1, 'created_at', "'2023-02-30 10:00:00'", /impossible date/);
    badUser(u + 2, 'created_at', "'yesterday'", /not a datetime/);
    badUser(u + 3, 'created_at', '1700000000', /epoch/);
    badUser(u + 4, 'profile', `'{"theme": '`, /invalid JSON/);
    badUser(u + 5, 'name', "CAST(X'6100620063' AS TEXT)", /NUL byte/);
    badUser(u + 6, 'name', "CAST(X'41C328' AS TEXT)", /invalid UTF-8/);
    badUser(u + 7, 'login_count', '3000000000', /outside the integer range/);
    badUser(u + 8, 'name', `'${'가'.repeat(81)}'`, /exceed varchar\(80\)/);
    badUser(u + 9, 'is_active', '2', /not a boolean/);
    badUser(u + 10, 'birthday', "'2024-13-01'", /impossible date/);
    badUser(u + 11, 'created_at', "'2024-01-01T10:00:00+09:00'", /UTC offset/);
    // Edges of the fast path (fastpath.ts), which must hand these to the converters rather than pass them.
    badUser(u + 12, 'created_at', "'2024-01-01 10:00:00.'", /not a datetime/);
    badUser(u + 13, 'created_at', "'2024-01-01 10:00:00.1234567'", /would be rounded/);
    badUser(u + 14, 'birthday', "'0000-01-01'", /impossible date/);
    badUser(u + 15, 'profile', `'{"a": "x' || char(1) || '"}'`, /invalid JSON/);
    // Junk after the seconds that trimming trailing zeros and dots would otherwise have dropped.
    badUser(u + 16, 'created_at', "'2024-01-01 10:00:00..'", /not a datetime/);
    badUser(u + 17, 'created_at', "'2024-01-01 10:00:00.50.'", /not a datetime/);
    db.run(`INSERT INTO comments VALUES (?, 999999, NULL, NULL, 'orphan', '2024-01-01 00:00:00')`, [comments + 1]);
    planted.push({ table: 'comments', rowKey: `id=${comments + 1}`, column: 'project_id', reason: /orphan/ });
  }
  db.exec('COMMIT');
  const rows: Record<string, number> = {};
  for (const t of FIXTURE_TABLES) rows[t] = Number(db.get(`SELECT count(*) AS n FROM ${t}`)?.['n']);
  db.close();
  return { path, rows, planted };
}
