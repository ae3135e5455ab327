/**
 * Writes config/schema.json, the JSON Schema of config/<stage>.json, from the zod schema that validates the files
 * (`npm run config:schema`). `--check` writes nothing and exits 1 when the committed file is stale
 * (test/lib/config-files.test.ts asserts the same).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigSchema } from '../lib/config/stage-file';

const target = join(__dirname, '..', 'config', 'schema.json');
const text = renderConfigSchema();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // a missing file is stale
  }
  if (current !== text) {
    console.error('config/schema.json is stale: run npm run config:schema');
    process.exit(1);
  }
  console.log('config/schema.json is current.');
} else {
  writeFileSync(target, text);
  console.log('wrote config/schema.json.');
}
