/** Where the checklist lives in the repository, and the coverage report over it (the one file-reading step). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repositoryRoot } from '../repository-root';
import { CHECKLIST_MAP } from './checklist-map';
import { type CoverageReport, computeCoverage, type MapEntry, parseChecklist } from './coverage';

/** The vendored, byte-identical copy of ../shared/seed/production-deployment-checklist.md. */
export const CHECKLIST_FILE = join(repositoryRoot(), 'docs', 'production-deployment-checklist.md');

/** Reads a checklist file and matches it against the map (by default the vendored checklist and our map). */
export function loadCoverage(file: string = CHECKLIST_FILE, map: readonly MapEntry[] = CHECKLIST_MAP): CoverageReport {
  return computeCoverage(parseChecklist(readFileSync(file, 'utf8')), map);
}
