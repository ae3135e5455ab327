/**
 * The rollback decision's vocabulary: triggers, the service state `decide` reads, its configuration and memory
 * (incident and last-rollback records), and the decisions it returns with their codes. Data only; the rules that
 * turn one into the other are in decide.ts, which re-exports all of this.
 */

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** A CloudWatch alarm state change, delivered by SNS. */
export interface AlarmTrigger {
  readonly kind: 'alarm';
  readonly alarmName: string;
  readonly alarmArn?: string | undefined;
  readonly accountId: string;
  readonly newState: string;
  readonly oldState?: string | undefined;
  readonly stateChangeTime?: Date | undefined;
  readonly stateReason?: string | undefined;
  readonly messageId?: string | undefined;
}

/** A direct invoke from a pipeline or `sfdeploy rollback`. */
export interface PipelineTrigger {
  readonly kind: 'pipeline';
  readonly reason: string;
  readonly requestedBy: string;
  readonly toRevision?: string | undefined;
  /** Act only when the subject deployment deploys this image (the pipeline's own release). */
  readonly expectImage?: string | undefined;
  readonly dryRun: boolean;
}

export type Trigger = AlarmTrigger | PipelineTrigger;

export interface DecisionConfig {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly clusterName: string;
  readonly serviceName: string;
  readonly serviceArn: string;
  readonly taskFamily: string;
  readonly rollbackAlarmNames: readonly string[];
  readonly watchWindowMinutes: number;
  readonly cooldownMinutes: number;
  readonly actingGraceSeconds: number;
}

/** One ECS service deployment, joined with the task definitions of its revisions. */
export interface DeploymentView {
  readonly arn: string;
  /** ECS ServiceDeploymentStatus: PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED, STOP_REQUESTED, ROLLBACK_*. */
  readonly status: string;
  readonly createdAt?: Date | undefined;
  readonly startedAt?: Date | undefined;
  readonly finishedAt?: Date | undefined;
  readonly stoppedAt?: Date | undefined;
  readonly lifecycleStage?: string | undefined;
  readonly targetRevisionArn?: string | undefined;
  readonly targetTaskDefinition?: string | undefined;
  /** The target revision's container images (DescribeServiceRevisions containerImages: image and imageDigest). */
  readonly targetImages?: readonly { readonly image?: string | undefined; readonly digest?: string | undefined }[];
  /** What the deployment replaced (ECS sourceServiceRevisions), with their task definitions when known. */
  readonly sources: readonly RevisionRef[];
}

export interface RevisionRef {
  readonly arn: string;
  readonly taskDefinition?: string | undefined;
}

export interface ServiceState {
  /** The service's task definition (DescribeServices). */
  readonly runningTaskDefinition?: string | undefined;
  /** Recent deployments; any order (decide sorts). */
  readonly deployments: readonly DeploymentView[];
  /** Current state of the triggering alarm (DescribeAlarms); MISSING when it does not exist here. */
  readonly alarmState?: AlarmStateValue | 'MISSING' | undefined;
  /** The revision a pipeline asked for, described. */
  readonly requestedRevision?:
    | { readonly arn: string; readonly serviceArn?: string | undefined; readonly taskDefinition?: string | undefined }
    | undefined;
}

export type RollbackAction = 'stop-deployment' | 'update-service';

/** Per-incident idempotency record (DynamoDB). */
export interface IncidentRecord {
  readonly key: string;
  readonly state: 'acting' | 'done';
  readonly owner: string;
  readonly updatedAt: string;
  readonly action?: RollbackAction | undefined;
}

/** The service's last rollback (DynamoDB), for the cooldown, the loop guard and retries after a timeout. */
export interface LastRollbackRecord {
  readonly incidentKey: string;
  readonly subjectDeploymentArn: string;
  readonly action: RollbackAction;
  readonly state: 'acting' | 'done';
  /** When the attempt that changed (or tried to change) ECS began. */
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly fromTaskDefinition?: string | undefined;
  readonly toTaskDefinition?: string | undefined;
  /** The deployment our UpdateService created, when ECS told us. */
  readonly createdDeploymentArn?: string | undefined;
}

export interface DecisionInput {
  readonly trigger: Trigger;
  readonly config: DecisionConfig;
  readonly state: ServiceState;
  readonly lastRollback?: LastRollbackRecord | undefined;
  /** The incident record of `subjectDeployment(state)`, if any. */
  readonly incident?: IncidentRecord | undefined;
  readonly now: Date;
}

export const DECISION_CODES = {
  // trigger screening (no AWS state needed)
  OTHER_ACCOUNT: 'refused',
  OTHER_REGION: 'refused',
  REGION_UNVERIFIABLE: 'refused',
  NOT_IN_ALARM: 'refused',
  UNKNOWN_ALARM: 'refused',
  FOREIGN_REVISION: 'refused',
  // state-dependent
  STALE_ALARM: 'refused',
  ALARM_PREDATES_DEPLOYMENT: 'refused',
  FOREIGN_TASK_FAMILY: 'refused',
  NOT_THIS_RELEASE: 'refused',
  EARLIER_ATTEMPT_LANDED: 'satisfied',
  EARLIER_ATTEMPT_SETTLING: 'retry-later',
  ECS_ALREADY_ROLLING_BACK: 'satisfied',
  ALREADY_HANDLED: 'satisfied',
  ROLLBACK_OF_ROLLBACK: 'refused',
  TO_REVISION_CONFLICT: 'refused',
  STOP_IN_FLIGHT: 'act',
  NO_DEPLOYMENTS: 'refused',
  LATEST_ALREADY_ROLLED_BACK: 'satisfied',
  LATEST_NOT_SUCCESSFUL: 'refused',
  OUTSIDE_WINDOW: 'refused',
  COOLDOWN: 'refused',
  FIRST_DEPLOYMENT: 'refused',
  PREVIOUS_REVISION_UNKNOWN: 'refused',
  ALREADY_ON_REVISION: 'refused',
  ROLL_BACK_COMPLETED: 'act',
} as const;
export type DecisionCode = keyof typeof DECISION_CODES;
export type DecisionKind = (typeof DECISION_CODES)[DecisionCode];

export interface Decision {
  readonly action: RollbackAction | 'none';
  readonly code: DecisionCode;
  readonly reason: string;
  readonly incidentKey?: string | undefined;
  readonly subjectDeploymentArn?: string | undefined;
  /** Revision rolled back from / to (service-revision ARNs). */
  readonly fromRevision?: string | undefined;
  readonly toRevision?: string | undefined;
  readonly fromTaskDefinition?: string | undefined;
  /** update-service: the task definition to deploy; stop-deployment: the one ECS returns to (if known). */
  readonly taskDefinition?: string | undefined;
}

export function kindOf(code: DecisionCode): DecisionKind {
  return DECISION_CODES[code];
}

/** Deployments ECS is still working on and that we may stop with ROLLBACK. */
export const STOPPABLE_STATUSES: readonly string[] = ['PENDING', 'IN_PROGRESS'];
/** Deployments ECS is already stopping or rolling back. */
export const ECS_ROLLING_BACK_STATUSES: readonly string[] = [
  'STOP_REQUESTED',
  'ROLLBACK_REQUESTED',
  'ROLLBACK_IN_PROGRESS',
];
