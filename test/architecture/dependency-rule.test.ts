/**
 * The dependency rule of the source trees (ARCHITECTURE.md "Layout"): shared/ imports nothing of the repository;
 * lambda/ never imports lib/ or bin/, and a function never imports another function's folder (common Lambda code
 * lives in lambda/shared/); lib/ never imports bin/; and no file reaches itself through its imports. A Lambda bundle
 * then holds only its own folder, lambda/shared/ and shared/, and the CDK app never loads the CLI.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { importCycles, importEdges, ruleBreaches } from './import-graph';

describe('dependency rule', () => {
  const edges = importEdges();

  it('reads the real graph (the oracle sees imports)', () => {
    assert.ok(edges.length > 200, `${edges.length} edges`);
    assert.ok(edges.some((e) => e.from === 'lib/app.ts' && e.to === 'shared/names.ts'));
    assert.ok(edges.some((e) => e.from.startsWith('lambda/rollback/') && e.to.startsWith('lambda/shared/')));
  });

  it('holds: no layer imports what it must not', () => {
    assert.deepEqual(ruleBreaches(edges), []);
  });

  it('has no import cycle (type-only imports included)', () => {
    assert.deepEqual(importCycles(edges), []);
  });

  it('catches a lambda → lib import, a cross-function import and a cycle in a throwaway tree', () => {
    const root = mkdtempSync(join(tmpdir(), 'dependency-rule-'));
    const write = (path: string, text: string) => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    write('lib/config/stage-config.ts', 'export const x = 1;\n');
    write('lambda/smoke/handler.ts', "import { x } from '../../lib/config/stage-config';\nexport const y = x;\n");
    write('lambda/rollback/a.ts', "import type { B } from './b';\nexport type A = B;\n");
    write(
      'lambda/rollback/b.ts',
      "import { z } from '../smoke/handler';\nexport type B = typeof z;\nimport type { A } from './a';\n",
    );
    const local = importEdges(root);
    assert.deepEqual(ruleBreaches(local), [
      "lambda/rollback/b.ts → lambda/smoke/handler.ts: a function imports only lambda/shared/, not another function's folder (lambda/smoke/)",
      'lambda/smoke/handler.ts → lib/config/stage-config.ts: lambda/ never imports lib/',
    ]);
    assert.deepEqual(importCycles(local), [['lambda/rollback/a.ts', 'lambda/rollback/b.ts']]);
  });
});
