/**
 * The pre-deploy snapshots as both functions see them: the tags that mark ours, the RDS port narrowed to one
 * instance's manual snapshots, and which snapshot is ours and newest. The snapshot hook takes and prunes them
 * (lambda/snapshot-hook/core.ts); the rollback function names the one a person would restore.
 */
export const PREDEPLOY_TAG = 'softfactory:predeploy';
export const STAGE_TAG = 'softfactory:stage';
export const DEPLOYMENT_TAG = 'softfactory:service-deployment';
export const REVISION_TAG = 'softfactory:service-revision';
export const EXECUTION_TAG = 'softfactory:execution-id';

export interface SnapshotInfo {
  readonly id: string;
  /** RDS DBSnapshot.Status: creating, available, failed, … */
  readonly status: string;
  readonly createdAt?: Date | undefined;
  readonly percentProgress?: number | undefined;
  readonly tags: Readonly<Record<string, string>>;
}

/** RDS, narrowed to one instance's manual snapshots. */
export interface SnapshotPort {
  create(id: string, tags: Readonly<Record<string, string>>): Promise<SnapshotInfo>;
  /** undefined when the snapshot does not exist. */
  describe(id: string): Promise<SnapshotInfo | undefined>;
  /** Manual snapshots of the configured instance, with their tags. */
  listManual(): Promise<SnapshotInfo[]>;
  delete(id: string): Promise<void>;
}

/** Ours = made by this hook for this stage: the identifier prefix AND both tags. Anything else is never touched. */
export function isOurSnapshot(s: SnapshotInfo, scope: { readonly stage: string; readonly prefix: string }): boolean {
  return s.id.startsWith(`${scope.prefix}-`) && s.tags[PREDEPLOY_TAG] === 'true' && s.tags[STAGE_TAG] === scope.stage;
}

export function newestFirst(snapshots: readonly SnapshotInfo[]): SnapshotInfo[] {
  return [...snapshots].sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
}

/**
 * The snapshot to name in a rollback notification: the available pre-deploy snapshot taken for the revision
 * being rolled back if there is one, else the newest available pre-deploy snapshot.
 */
export function newestPredeploySnapshot(
  snapshots: readonly SnapshotInfo[],
  scope: { readonly stage: string; readonly prefix: string; readonly revisionArn?: string | undefined },
): SnapshotInfo | undefined {
  const ours = newestFirst(snapshots.filter((s) => isOurSnapshot(s, scope) && s.status === 'available'));
  return (scope.revisionArn ? ours.find((s) => s.tags[REVISION_TAG] === scope.revisionArn) : undefined) ?? ours[0];
}
