/**
 * Reading SQLite's CREATE TABLE text for what its PRAGMAs do not report: constraint names, whether a column's
 * PRIMARY KEY is DESC, and CHECK clauses. A small tokenizer (identifiers in any of SQLite's quotes, strings,
 * comments), not a SQL parser: it only has to find `CONSTRAINT name …` and `CHECK (…)` in a statement SQLite
 * already accepted. Split from schema.ts, which translates what this and the PRAGMAs found (sqlite-source.ts).
 */

/** Named constraints found in a CREATE TABLE statement (PRAGMAs do not expose constraint names). */
export interface ParsedConstraints {
  readonly primaryKeyName: string | null;
  readonly primaryKeyDesc: boolean;
  readonly uniques: { name: string; columns: string[] }[];
  readonly foreignKeys: { name: string; columns: string[] }[];
  readonly checks: string[];
}

type Token = { kind: 'ident' | 'string' | 'punct' | 'other'; text: string; start: number; end: number };

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i] as string;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '-' && sql[i + 1] === '-') {
      while (i < sql.length && sql[i] !== '\n') i++;
    } else if (ch === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (ch === '"' || ch === '`' || ch === '[') {
      const close = ch === '[' ? ']' : ch;
      let j = i + 1;
      let text = '';
      while (j < sql.length) {
        if (sql[j] === close) {
          if (close !== ']' && sql[j + 1] === close) {
            text += close;
            j += 2;
            continue;
          }
          break;
        }
        text += sql[j];
        j++;
      }
      tokens.push({ kind: 'ident', text, start: i, end: j + 1 });
      i = j + 1;
    } else if (ch === "'") {
      let j = i + 1;
      while (j < sql.length && !(sql[j] === "'" && sql[j + 1] !== "'")) j += sql[j] === "'" ? 2 : 1;
      tokens.push({ kind: 'string', text: sql.slice(i, j + 1), start: i, end: j + 1 });
      i = j + 1;
    } else if ('(),'.includes(ch)) {
      tokens.push({ kind: 'punct', text: ch, start: i, end: i + 1 });
      i++;
    } else if (/[A-Za-z_0-9$]/.test(ch)) {
      let j = i;
      while (j < sql.length && /[A-Za-z_0-9$]/.test(sql[j] as string)) j++;
      tokens.push({ kind: 'ident', text: sql.slice(i, j), start: i, end: j });
      i = j;
    } else {
      tokens.push({ kind: 'other', text: ch, start: i, end: i + 1 });
      i++;
    }
  }
  return tokens;
}

/** Finds `CONSTRAINT name UNIQUE|FOREIGN KEY|PRIMARY KEY (cols)` and CHECK clauses in a CREATE TABLE statement. */
export function parseTableConstraints(sql: string): ParsedConstraints {
  const tokens = tokenize(sql);
  const uniques: { name: string; columns: string[] }[] = [];
  const foreignKeys: { name: string; columns: string[] }[] = [];
  const checks: string[] = [];
  let primaryKeyName: string | null = null;
  let primaryKeyDesc = false;
  const word = (k: number) => (tokens[k]?.kind === 'ident' ? tokens[k].text.toUpperCase() : '');
  const columnList = (k: number): { columns: string[]; next: number } => {
    const columns: string[] = [];
    if (tokens[k]?.text !== '(') return { columns, next: k };
    let j = k + 1;
    let expectName = true;
    while (j < tokens.length && tokens[j]?.text !== ')') {
      const tok = tokens[j] as Token;
      if (tok.text === ',') expectName = true;
      else if (expectName && tok.kind === 'ident') {
        columns.push(tok.text);
        expectName = false;
      }
      j++;
    }
    return { columns, next: j + 1 };
  };
  for (let k = 0; k < tokens.length; k++) {
    const w = word(k);
    if (w === 'CHECK' && tokens[k + 1]?.text === '(') {
      let depth = 0;
      let j = k + 1;
      for (; j < tokens.length; j++) {
        if (tokens[j]?.text === '(') depth++;
        else if (tokens[j]?.text === ')' && --depth === 0) break;
      }
      checks.push(sql.slice(tokens[k]?.start, tokens[j]?.end));
      k = j;
      continue;
    }
    if (w === 'PRIMARY' && word(k + 1) === 'KEY') {
      const list = columnList(k + 2);
      if (list.columns.length === 0 && word(k + 2) === 'DESC') primaryKeyDesc = true;
    }
    if (w !== 'CONSTRAINT') continue;
    const name = tokens[k + 1]?.text ?? '';
    const kind = word(k + 2);
    if (kind === 'UNIQUE') uniques.push({ name, columns: columnList(k + 3).columns });
    else if (kind === 'FOREIGN' && word(k + 3) === 'KEY')
      foreignKeys.push({ name, columns: columnList(k + 4).columns });
    else if (kind === 'PRIMARY' && word(k + 3) === 'KEY') primaryKeyName = name;
  }
  return { primaryKeyName, primaryKeyDesc, uniques, foreignKeys, checks };
}
