import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The repository root, the nearest directory above this module with a package.json: one level above lib/ when run
 * from the sources, one above dist/ in the compiled CLI (bundled into dist/sfdeploy.js, this module's __dirname is
 * dist/). Resolved from here, never from a caller's own __dirname (test/bin/cli-build.test.ts checks that).
 */
export function repositoryRoot(): string {
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return join(__dirname, '..');
}
