/** Where the checklist lives in the repository, and the coverage report over it (the one file-reading step). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CHECKLIST_MAP } from './checklist-map';
import { type CoverageReport, computeCoverage, type MapEntry, parseChecklist } from './coverage';

/**
 * The repository root, the nearest directory with a package.json: two levels above lib/checklist/ when run from the
 * sources, one above dist/ in the compiled CLI (bundled into dist/sfdeploy.js, this module's __dirname is dist/).
 */
function repositoryRoot(): string {
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
  }
  return join(__dirname, '..', '..');
}

/** The vendored, byte-identical copy of ../shared/seed/production-deployment-checklist.md. */
export const CHECKLIST_FILE = join(repositoryRoot(), 'docs', 'production-deployment-checklist.md');

/** Reads a checklist file and matches it against the map (by default the vendored checklist and our map). */
export function loadCoverage(file: string = CHECKLIST_FILE, map: readonly MapEntry[] = CHECKLIST_MAP): CoverageReport {
  return computeCoverage(parseChecklist(readFileSync(file, 'utf8')), map);
}
