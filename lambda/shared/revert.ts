/**
 * Whether a service deployment is a revert (our own rollback, or a manual one): the pre-deploy snapshot hook skips its
 * snapshot and the release command hook its command for one.
 */

/** `…:task-definition/<family>:<revision>` → family and revision. */
function taskDefinitionOf(arn: string | undefined): { family: string; revision: number } | undefined {
  const m = arn ? /(?:task-definition\/)?([A-Za-z0-9_-]+):(\d+)$/.exec(arn) : null;
  return m ? { family: m[1]!, revision: Number(m[2]) } : undefined;
}

/**
 * A revert: the deployment replaces a revision with an OLDER revision of the same task-definition family. That is
 * what our own rollback (`UpdateService` to the previous revision's task definition) and any manual revert look like.
 * It needs no new pre-deploy snapshot: the database state worth keeping is the one the pre-deploy snapshot of the
 * release being reverted captured (taken while the revision we return to was running), and waiting for a fresh one
 * (up to the hook timeout) only delays traffic going back to the good revision.
 */
export function isRevert(target: string | undefined, sources: readonly string[]): boolean {
  const t = taskDefinitionOf(target);
  if (!t || sources.length === 0) return false;
  return sources.every((s) => {
    const from = taskDefinitionOf(s);
    return from !== undefined && from.family === t.family && from.revision > t.revision;
  });
}
