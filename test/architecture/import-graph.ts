/**
 * The repository's import graph, read from the sources with TypeScript's own pre-processor (`ts.preProcessFile`: every
 * `import`/`export … from`/`import()`/`require()` specifier, type-only ones included), relative specifiers resolved to
 * files. Used by the dependency-rule test; independent of how the code is bundled.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const ROOT = resolve(__dirname, '..', '..');
/** The source trees the rule covers (tests, benches and scripts may import anything). */
export const SOURCE_DIRS = ['shared', 'lib', 'lambda', 'bin'] as const;

export interface Edge {
  readonly from: string;
  readonly to: string;
}

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.ts$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** A relative specifier as the file it names (`./x` → x.ts, x/index.ts, or a .json), or undefined. */
function resolveSpecifier(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** Every repository-relative edge between files, from the files under `dirs` (relative to `root`). */
export function importEdges(root: string = ROOT, dirs: readonly string[] = SOURCE_DIRS): Edge[] {
  const edges: Edge[] = [];
  for (const dir of dirs) {
    for (const file of walk(join(root, dir))) {
      const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      for (const { fileName } of info.importedFiles) {
        if (!fileName.startsWith('.')) continue; // a package or node: built-in
        const target = resolveSpecifier(file, fileName);
        if (target === undefined) continue;
        edges.push({ from: relative(root, file), to: relative(root, target) });
      }
    }
  }
  return edges;
}

/** The import cycles: strongly connected components of more than one file, or a file importing itself (Tarjan). */
export function importCycles(edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) {
    next.set(from, [...(next.get(from) ?? []), to]);
    if (!next.has(to)) next.set(to, []);
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of next.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = (next.get(node) ?? []).includes(node);
      if (component.length > 1 || selfLoop) cycles.push(component.sort());
    }
  };
  for (const node of [...next.keys()].sort()) if (!index.has(node)) visit(node);
  return cycles;
}

/** The layer of a repository-relative path: `shared`, `lib`, `bin`, `lambda/<function>` or `lambda/shared`. */
export function layerOf(path: string): string {
  const [top, second] = path.split('/');
  return top === 'lambda' ? `lambda/${second}` : (top ?? path);
}

/**
 * The dependency rule, as one line per breach: `shared/` imports no other layer; `lambda/` never imports `lib/`,
 * `bin/` or another function's folder (common Lambda code lives in `lambda/shared/`); `lib/` never imports `bin/`.
 */
export function ruleBreaches(edges: readonly Edge[]): string[] {
  const breaches: string[] = [];
  for (const { from, to } of edges) {
    const a = layerOf(from);
    const b = layerOf(to);
    if (a === b) continue;
    let why: string | undefined;
    if (a === 'shared') why = 'shared/ imports nothing of the repository';
    else if (a.startsWith('lambda/') && (b === 'lib' || b === 'bin')) why = `lambda/ never imports ${b}/`;
    else if (a.startsWith('lambda/') && b.startsWith('lambda/') && b !== 'lambda/shared') {
      why = `a function imports only lambda/shared/, not another function's folder (${b}/)`;
    } else if (a === 'lambda/shared' && b.startsWith('lambda/')) why = 'lambda/shared/ imports no function folder';
    else if (a === 'lib' && b === 'bin') why = 'lib/ never imports bin/';
    else if (b === 'package.json')
      why = undefined; // the CLI's --version
    else if (!['shared', 'lib', 'bin'].includes(b) && !b.startsWith('lambda/')) why = `outside the source trees (${b})`;
    if (why !== undefined) breaches.push(`${from} → ${to}: ${why}`);
  }
  return breaches.sort();
}
