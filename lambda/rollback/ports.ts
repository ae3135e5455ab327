/**
 * The rollback function's ports: what the orchestration needs from ECS, CloudWatch and DynamoDB, as interfaces the
 * tests fake and the SDK adapters implement (ecs-state.ts, act.ts, lock.ts). The shapes ECS documents
 * (ServiceDeploymentBrief, ServiceDeployment) are used as they are; nothing here calls AWS.
 */
import type { ServiceDeployment, ServiceDeploymentBrief, ServiceDeploymentStatus } from '@aws-sdk/client-ecs';
import type { AlarmStateValue, IncidentRecord, LastRollbackRecord, RollbackAction } from './decide';

export interface ServiceSummary {
  readonly taskDefinition?: string | undefined;
  readonly currentServiceDeployment?: string | undefined;
}

export interface RevisionSummary {
  readonly arn: string;
  readonly serviceArn?: string | undefined;
  readonly taskDefinition?: string | undefined;
  readonly images?: readonly { readonly image?: string | undefined; readonly digest?: string | undefined }[];
}

/** Read-only view of ECS and CloudWatch for one service. */
export interface StatePort {
  describeService(): Promise<ServiceSummary>;
  /** Every deployment created after `createdAfter` (all pages), in whatever order ECS returns them. */
  listDeployments(createdAfter: Date, status?: readonly ServiceDeploymentStatus[]): Promise<ServiceDeploymentBrief[]>;
  describeDeployments(arns: readonly string[]): Promise<ServiceDeployment[]>;
  describeRevisions(arns: readonly string[]): Promise<RevisionSummary[]>;
  alarmState(alarmName: string): Promise<AlarmStateValue | 'MISSING'>;
}

/** The only two ECS calls that change anything (act.ts: StopServiceDeployment, UpdateService). */
export interface ActPort {
  /** Returns the ARN ECS reports as stopped. */
  stopDeployment(serviceDeploymentArn: string): Promise<string | undefined>;
  /** Returns the service deployment ECS started, when it says. */
  updateService(taskDefinition: string): Promise<{ readonly createdDeploymentArn?: string | undefined }>;
}

/** Locks and incident records (lock.ts: DynamoDB conditional writes). */
export interface RollbackStore {
  /** Takes the service lock if it is free, expired, or already ours. */
  acquireLock(owner: string, now: Date): Promise<boolean>;
  /** Releases the lock if it is still ours (it may have expired and been taken). */
  releaseLock(owner: string): Promise<void>;
  getIncident(deploymentArn: string): Promise<IncidentRecord | undefined>;
  /** Creates the incident in state `acting`, or retakes an `acting` one last touched before `staleBefore`. */
  claimIncident(
    deploymentArn: string,
    claim: { owner: string; action: RollbackAction; now: Date; staleBefore: Date },
  ): Promise<boolean>;
  completeIncident(deploymentArn: string, owner: string, now: Date, createdDeploymentArn?: string): Promise<void>;
  /** Deletes our `acting` claim after a call that certainly did not change ECS, so a retry can claim again. */
  abandonIncident(deploymentArn: string, owner: string): Promise<void>;
  /** Marks an incident done whoever claimed it (an earlier attempt's change was observed in ECS). */
  markIncidentDone(deploymentArn: string, now: Date): Promise<void>;
  getLastRollback(): Promise<LastRollbackRecord | undefined>;
  putLastRollback(record: LastRollbackRecord, now: Date): Promise<void>;
  deleteLastRollback(): Promise<void>;
}

/**
 * Did a failed mutating call change ECS?
 * - `not-applied`: ECS answered with a client fault (4xx: validation, access, conflict, throttling): the
 *   request was refused, so a retry may act.
 * - `unknown`: a server fault (5xx), a timeout or a network error: the change may have landed. The incident
 *   stays `acting`; the next attempt looks at ECS before doing anything.
 */
export function classifyCallFailure(error: unknown): 'not-applied' | 'unknown' {
  const fault = error instanceof Error ? (error as Error & { $fault?: string }).$fault : undefined;
  return fault === 'client' ? 'not-applied' : 'unknown';
}
