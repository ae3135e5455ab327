import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checksumDigest, pgChecksumSql, RowChecksum } from '../../../lambda/migrate/checksum';
import { convertLiteral } from '../../../lambda/migrate/convert';
import { finalizeVerdict, type MigrationReport, renderReport, type TableReport } from '../../../lambda/migrate/report';
import {
  affinity,
  createTableSql,
  defaultConstraintName,
  dependencyOrder,
  mapDeclaredType,
  type SourceTable,
  translateDefault,
  translateSchema,
} from '../../../lambda/migrate/schema';
import { parseTableConstraints } from '../../../lambda/migrate/sqlite-ddl';

describe('type mapping', () => {
  it('maps every Flask-SQLAlchemy declared type to the PostgreSQL type the app expects', () => {
    const cases: Record<string, string> = {
      INTEGER: 'integer',
      BIGINT: 'bigint',
      SMALLINT: 'smallint',
      'VARCHAR(120)': 'character varying(120)',
      TEXT: 'text',
      BOOLEAN: 'boolean',
      DATETIME: 'timestamp(6) without time zone',
      DATE: 'date',
      TIME: 'time(6) without time zone',
      FLOAT: 'double precision',
      REAL: 'double precision',
      'NUMERIC(10, 2)': 'numeric(10,2)',
      NUMERIC: 'numeric',
      JSON: 'json',
      BLOB: 'bytea',
    };
    for (const [declared, pg] of Object.entries(cases)) {
      assert.equal(mapDeclaredType(declared).type.sql, pg, declared);
    }
    assert.equal(mapDeclaredType('VARCHAR(120)').type.maxLength, 120);
  });
  it('falls back to SQLite affinity for unknown names, with a note', () => {
    assert.equal(affinity('MYINT'), 'INTEGER');
    const mapped = mapDeclaredType('FANCYTEXT');
    assert.equal(mapped.type.kind, 'text');
    assert.match(mapped.note ?? '', /affinity/);
  });
  it('maps CHAR(n) to varchar(n), because char(n) would blank-pad values', () => {
    const mapped = mapDeclaredType('CHAR(32)');
    assert.equal(mapped.type.sql, 'character varying(32)');
    assert.match(mapped.note ?? '', /blank-pad/);
  });
});

describe('default translation', () => {
  const v = (kind: Parameters<typeof translateDefault>[1]) => (literal: string) =>
    convertLiteral(
      mapDeclaredType(kind === 'bool' ? 'BOOLEAN' : kind === 'timestamp' ? 'DATETIME' : 'TEXT').type,
      literal,
    );
  it('translates literals, booleans and CURRENT_TIMESTAMP (UTC, as SQLite means it)', () => {
    assert.equal(translateDefault('1', 'bool', v('bool')).sql, 'true');
    assert.equal(translateDefault("'draft'", 'text', v('text')).sql, "'draft'");
    assert.equal(translateDefault("'it''s'", 'text', v('text')).sql, "'it''s'");
    assert.equal(
      translateDefault('CURRENT_TIMESTAMP', 'timestamp', v('timestamp')).sql,
      "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')",
    );
    assert.equal(
      translateDefault("(datetime('now'))", 'timestamp', v('timestamp')).sql,
      "(CURRENT_TIMESTAMP AT TIME ZONE 'UTC')",
    );
    assert.equal(translateDefault('NULL', 'text', v('text')).sql, null);
  });
  it('reports defaults it cannot translate or that are not valid values', () => {
    assert.match(translateDefault("(lower('X'))", 'text', v('text')).error ?? '', /no PostgreSQL translation/);
    assert.match(translateDefault("'not a date'", 'timestamp', v('timestamp')).error ?? '', /not a valid timestamp/);
  });
});

describe('constraint parsing and naming', () => {
  it('finds named unique, foreign-key and primary-key constraints and CHECK clauses', () => {
    const parsed = parseTableConstraints(
      'CREATE TABLE "p" (id INTEGER, "owner id" INT, CONSTRAINT pk_p PRIMARY KEY (id), ' +
        'CONSTRAINT "uq owner" UNIQUE ("owner id", id), CONSTRAINT fk_o FOREIGN KEY([owner id]) REFERENCES u (id), ' +
        "CHECK (id > 0), note TEXT DEFAULT 'CONSTRAINT x UNIQUE (y)')",
    );
    assert.equal(parsed.primaryKeyName, 'pk_p');
    assert.deepEqual(parsed.uniques, [{ name: 'uq owner', columns: ['owner id', 'id'] }]);
    assert.deepEqual(parsed.foreignKeys, [{ name: 'fk_o', columns: ['owner id'] }]);
    assert.deepEqual(parsed.checks, ['CHECK (id > 0)']);
  });
  it('names unnamed constraints the way PostgreSQL would, within 63 bytes', () => {
    assert.equal(defaultConstraintName('users', ['email'], 'key'), 'users_email_key');
    assert.ok(Buffer.byteLength(defaultConstraintName('t'.repeat(60), ['c'.repeat(30)], 'fkey')) <= 63);
  });
});

describe('dependency order', () => {
  it('puts parents before children, ignores self-references and breaks cycles', () => {
    const { order, cycles } = dependencyOrder([
      { name: 'comments', refs: ['comments', 'projects', 'users'] },
      { name: 'projects', refs: ['users'] },
      { name: 'users', refs: [] },
      { name: 'a', refs: ['b'] },
      { name: 'b', refs: ['a'] },
    ]);
    assert.ok(order.indexOf('users') < order.indexOf('projects'));
    assert.ok(order.indexOf('projects') < order.indexOf('comments'));
    assert.equal(order.length, 5);
    assert.deepEqual(cycles, ['a']);
  });
});

describe('schema translation', () => {
  const users: SourceTable = {
    name: 'users',
    sql: 'CREATE TABLE users (id INTEGER NOT NULL, email VARCHAR(120) NOT NULL, PRIMARY KEY (id), UNIQUE (email))',
    columns: [
      { name: 'id', declaredType: 'INTEGER', notNull: true, defaultSql: null, pkOrdinal: 1, hidden: 0 },
      { name: 'email', declaredType: 'VARCHAR(120)', notNull: true, defaultSql: null, pkOrdinal: 0, hidden: 0 },
      { name: 'active', declaredType: 'BOOLEAN', notNull: true, defaultSql: '1', pkOrdinal: 0, hidden: 0 },
    ],
    generatedColumns: [],
    primaryKey: ['id'],
    primaryKeyName: null,
    rowidAlias: 'id',
    withoutRowid: false,
    foreignKeys: [],
    indexes: [
      {
        name: 'sqlite_autoindex_users_1',
        unique: true,
        origin: 'u',
        columns: [{ name: 'email', desc: false }],
        expression: false,
        partial: false,
        sql: '',
        constraintName: null,
      },
      {
        name: 'ix_users_active',
        unique: false,
        origin: 'c',
        columns: [{ name: 'active', desc: true }],
        expression: false,
        partial: false,
        sql: '',
        constraintName: null,
      },
    ],
    checks: [],
  };
  it('keeps column order, makes the integer key an identity, and names keys and indexes as the app expects', () => {
    const { tables, issues } = translateSchema({ tables: [users] }, convertLiteral);
    const t = tables[0]!;
    assert.deepEqual(issues, []);
    assert.equal(
      createTableSql(t),
      'CREATE TABLE "users" (\n  "id" integer GENERATED BY DEFAULT AS IDENTITY NOT NULL,\n' +
        '  "email" character varying(120) NOT NULL,\n  "active" boolean DEFAULT true NOT NULL\n)',
    );
    assert.equal(t.primaryKey?.name, 'users_pkey');
    assert.deepEqual(t.uniques, [{ name: 'users_email_key', kind: 'u', definition: 'UNIQUE ("email")' }]);
    assert.deepEqual(t.indexes, [
      { name: 'ix_users_active', sql: 'CREATE INDEX "ix_users_active" ON "users" ("active" DESC)' },
    ]);
    assert.deepEqual(t.sequenceColumns, ['id']);
  });
});

describe('checksums', () => {
  it('renders rows like the COPY data, unambiguously, and ignores row order', () => {
    const kinds = ['text', 'text', 'bool'] as const;
    const c = new RowChecksum([...kinds]);
    assert.equal(c.render(['ab', null, 't']), '\u0001ab\u0001\t\tt');
    assert.equal(c.render(['a\u0001b', '', 'f']), '\u0001a\u0001\u0001b\u0001\t\u0001\u0001\tf');
    assert.notEqual(c.render(['a', 'b', 'f']), c.render(['ab', '', 'f']));
    assert.notEqual(c.render([null, 'x', 'f']), c.render(['', 'x', 'f']));
    const a = new RowChecksum([...kinds]);
    const b = new RowChecksum([...kinds]);
    a.add(['x', '한', 't']);
    a.add(['y', null, 'f']);
    b.add(['y', null, 'f']);
    b.add(['x', '한', 't']);
    assert.equal(checksumDigest(a.state), checksumDigest(b.state));
    assert.equal(a.state.rows, 2);
    const c1 = new RowChecksum([...kinds]);
    c1.add(['x', '한', 'f']);
    assert.notEqual(checksumDigest(c1.state), checksumDigest(new RowChecksum([...kinds]).state));
  });
  it('builds a PostgreSQL query that renders every kind the same way', () => {
    const sql = pgChecksumSql('t', [
      { name: 'f', kind: 'float8' },
      { name: 'b', kind: 'bytea' },
    ]);
    assert.match(sql, /encode\(float8send\("f"::float8\), 'hex'\)/);
    assert.match(sql, /md5\("b"\)/);
    assert.match(sql, /hashtextextended\(r, 0\)/);
  });
});

describe('default literals', () => {
  it('keeps a huge real literal a real (it is integral, but no integer literal: BigInt() would throw)', () => {
    const float8 = { kind: 'float8', sql: 'double precision' } as const;
    assert.equal(convertLiteral(float8, '-1.7976931348623157e308'), '-1.7976931348623157e+308');
    assert.equal(convertLiteral({ kind: 'int8', sql: 'bigint' }, '9223372036854775807'), '9223372036854775807');
  });
});

describe('report', () => {
  const base = (): MigrationReport => ({
    source: { path: 'app.db', sizeBytes: 2048, tables: 1, rows: 3 },
    target: { description: 'pg', mode: 'translate', rehearsal: true },
    action: 'migrate',
    onError: 'skip-row',
    tables: [
      { table: 'users', sourceRows: 3, loadedRows: 2, rejectedRows: 1, problems: 1, status: 'loaded', seconds: 0.1 },
    ],
    problems: [{ table: 'users', rowKey: 'id=3', column: 'email', value: 'x', reason: 'too long' }],
    problemsOmitted: 0,
    schemaIssues: [],
    rejectedRows: 1,
    rejectedFile: 'app.db.rejected.jsonl',
    verification: null,
    incomplete: false,
    notes: [],
    seconds: 1,
    ok: true,
  });
  it('fails the verdict when rows were rejected, and names the row in the rendering', () => {
    const report = finalizeVerdict(base());
    assert.equal(report.ok, false);
    const text = renderReport(report, (h, rows) => [h.join('|'), ...rows.map((r) => r.join('|'))].join('\n'));
    assert.match(text, /users\|id=3\|email\|x\|too long/);
    assert.match(text, /^1 rejected row written to app.db.rejected.jsonl$/m);
    assert.match(text, /FAILED/);
  });
  it('passes a clean run', () => {
    const report = base();
    report.problems.length = 0;
    report.rejectedRows = 0;
    assert.equal(finalizeVerdict(report).ok, true);
  });
  const plainTable = (h: readonly string[], rows: readonly (readonly string[])[]) =>
    [h.join('|'), ...rows.map((r) => r.join('|'))].join('\n');
  it('says "1 row" and "1 table", and names a rehearsal once', () => {
    const report = base();
    report.problems.length = 0;
    report.rejectedRows = 0;
    report.rejectedFile = null;
    Object.assign(report.source, { tables: 1, rows: 1 });
    Object.assign(report.target, { description: 'temporary embedded PostgreSQL 17' });
    report.tables[0] = { ...(report.tables[0] as TableReport), loadedRows: 1, rejectedRows: 0, problems: 0 };
    const text = renderReport(finalizeVerdict(report), plainTable);
    assert.match(text, /\(2\.0 KiB, 1 table, 1 row\)/);
    assert.match(text, /OK — 1 row migrated in/);
    assert.equal(text.match(/rehearsal/g)?.length, 1, text);
  });
  it('summarises thousands of problems by table, column and reason before listing the first ones', () => {
    const report = base();
    report.problems.length = 0;
    for (let i = 0; i < 3000; i++) {
      report.problems.push({
        table: 'users',
        rowKey: `id=${i}`,
        column: 'age',
        value: `x${i}`,
        reason: 'not an integer',
      });
    }
    report.problems.push({ table: 'users', rowKey: 'id=9', column: 'email', value: 'y', reason: 'too long' });
    report.problemsOmitted = 0;
    const text = renderReport(finalizeVerdict(report), plainTable);
    const summary = text.indexOf('users|age|not an integer|3000');
    assert.ok(summary > 0, text.slice(0, 500));
    assert.ok(summary < text.indexOf('users|email|too long|1'), 'most frequent first');
    assert.ok(text.indexOf('The first 50') > summary, 'the summary comes before the rows');
    assert.match(text, /… and 2951 more \(all in --json\)/);
    assert.ok(text.split('\n').length < 120, 'not a line per problem');
  });
});
