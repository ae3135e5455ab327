/**
 * examples/smoke-spec.json (named by `sfdeploy smoke --help` and the README) is a valid spec that shows every field of
 * the format, and the README's "Spec format" prose names every field. The list of fields is taken from the schema
 * itself (its JSON Schema rendering), not written out here, so a field added to lambda/smoke/spec.ts fails this test
 * until it is shown and documented.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { parseSpec, specSchema } from '../../../lambda/smoke/spec';

const ROOT = join(__dirname, '..', '..', '..');
const example: unknown = JSON.parse(readFileSync(join(ROOT, 'examples', 'smoke-spec.json'), 'utf8'));

/** Every property name anywhere in a JSON Schema (properties of objects, array items, unions). */
function schemaFields(node: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(node)) for (const item of node) schemaFields(item, into);
  else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'properties' && value !== null && typeof value === 'object') {
        for (const name of Object.keys(value)) into.add(name);
      }
      schemaFields(value, into);
    }
  }
  return into;
}

/** Every object key used anywhere in a JSON value. */
function usedKeys(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) usedKeys(item, into);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      into.add(key);
      usedKeys(inner, into);
    }
  }
  return into;
}

const FIELDS = [...schemaFields(z.toJSONSchema(specSchema, { io: 'input', unrepresentable: 'any' }))].sort();
/** Keys of the example's request bodies are SoftFactory's, not the spec's. */
const BODY_KEYS = new Set(['content', 'platforms']);

describe('examples/smoke-spec.json', () => {
  it('is a valid spec', () => {
    const spec = parseSpec(example);
    assert.ok(spec.checks.length >= 5);
  });

  it('reads the schema’s fields (the oracle is not empty)', () => {
    for (const field of ['version', 'checks', 'expect', 'latencyBudgetMs', 'cleanup', 'anyOf']) {
      assert.ok(FIELDS.includes(field), field);
    }
  });

  it('uses every field of the format, and none that is not one', () => {
    const used = usedKeys(example);
    assert.deepEqual(
      FIELDS.filter((field) => !used.has(field)),
      [],
    );
    const unknown = [...used].filter((key) => !FIELDS.includes(key) && !BODY_KEYS.has(key));
    // Request headers are free-form names (Origin): the only other keys allowed.
    assert.deepEqual(unknown, ['Origin']);
  });

  it('is described field by field in the README (every field named in backticks under "Spec format")', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('### Spec format');
    assert.ok(start > 0, 'README has a "### Spec format" section');
    const section = readme.slice(start, readme.indexOf('\n## ', start));
    assert.deepEqual(
      FIELDS.filter((field) => !section.includes(`\`${field}\``)),
      [],
    );
  });
});
