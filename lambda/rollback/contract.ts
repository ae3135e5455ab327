/**
 * The public contract of the rollback function: its name per stage, the direct-invoke (pipeline) payload, the
 * answer it returns, and the SNS conventions the infrastructure must wire. Imported by the function, by
 * `sfdeploy rollback` and by the CDK construct, so it depends on nothing but zod and shared/.
 */
import { z } from 'zod';
import { functionName } from '../../shared/names';
import { STAGES, type Stage } from '../../shared/stages';

/** Stages the rollback function exists in: every stage (shared/stages.ts). */
export const ROLLBACK_STAGES = STAGES;
export type RollbackStage = Stage;

/** Physical function name, fixed so the CLI and pipelines can find it without a stack lookup. */
export function rollbackFunctionName(stage: string): string {
  return functionName(stage, 'rollback');
}

/**
 * ECS service-revision ARN: `arn:<partition>:ecs:<region>:<account>:service-revision/<cluster>/<service>/<id>`
 * (Service Authorization Reference, resource type `service-revision`).
 */
export const SERVICE_REVISION_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service-revision\/[^/]+\/[^/]+\/[^/]+$/;

/**
 * Direct-invoke payload for pipelines and `sfdeploy rollback`. Unknown keys are rejected, so a typo such as
 * `torevision` fails loudly instead of silently rolling back to the default revision.
 */
export const pipelineRequestSchema = z
  .object({
    action: z.literal('rollback'),
    /** Why; appears in every notification and log line. */
    reason: z.string().trim().min(3, 'reason must say why (at least 3 characters)').max(500),
    /** Who or what asked (person, pipeline run URL). */
    requestedBy: z.string().trim().min(1).max(200),
    /** Service-revision ARN to return to; default: the revision before the last successful deployment. */
    toRevision: z.string().regex(SERVICE_REVISION_ARN, 'toRevision must be an ECS service-revision ARN').optional(),
    /**
     * Roll back only this release: the deployment to undo (in flight, else the latest) must deploy this image
     * (`<repository>:<tag>` or `<repository>@sha256:<digest>`). A pipeline sets it to the image it deployed, so a
     * failure before its own ECS deployment (npm ci, synth, CloudFormation) can never roll back an older, healthy
     * release: the function refuses with NOT_THIS_RELEASE.
     */
    expectImage: z.string().trim().min(1).max(1024).optional(),
    /** Decide and report the decision, change nothing. */
    dryRun: z.boolean().optional().default(false),
  })
  .strict();
export type PipelineRequest = z.infer<typeof pipelineRequestSchema>;

/** What the function does or did. `satisfied`: the service already is, or is being, rolled back. */
export const OUTCOMES = ['acted', 'would-act', 'satisfied', 'refused', 'retry-later', 'invalid', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const decisionSchema = z.object({
  action: z.enum(['stop-deployment', 'update-service', 'none']),
  code: z.string(),
  reason: z.string(),
  incidentKey: z.string().optional(),
  subjectDeploymentArn: z.string().optional(),
  fromRevision: z.string().optional(),
  toRevision: z.string().optional(),
  fromTaskDefinition: z.string().optional(),
  taskDefinition: z.string().optional(),
});
export type DecisionSummary = z.infer<typeof decisionSchema>;

/** The answer to a direct invoke (and the value an SNS-triggered invocation returns, for the logs). */
export const rollbackResultSchema = z.object({
  outcome: z.enum(OUTCOMES),
  dryRun: z.boolean(),
  decision: decisionSchema.optional(),
  /** The ECS deployment created (UpdateService) or stopped (StopServiceDeployment). */
  serviceDeploymentArn: z.string().optional(),
  database: z
    .object({
      snapshotId: z.string().optional(),
      snapshotCreatedAt: z.string().optional(),
      note: z.string(),
    })
    .optional(),
  error: z.string().optional(),
  issues: z.array(z.string()).optional(),
});
export type RollbackResult = z.infer<typeof rollbackResultSchema>;

/**
 * Every message the function publishes carries this attribute. The function is subscribed to the same topic
 * it reports to, so without it each report would trigger the function again.
 */
export const OWN_MESSAGE_ATTRIBUTE = 'softfactory:origin';
export const OWN_MESSAGE_ORIGIN = 'rollback-function';

/**
 * Filter policy of the function's subscription to the alarm topic, applied to the message BODY
 * (FilterPolicyScope `MessageBody`, https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering-scope.html): only
 * a CloudWatch alarm notification (a JSON object with top-level `AlarmName` and `NewStateValue`) of one of the rollback
 * alarms going to ALARM is delivered. "A subscription accepts a message [when] each property name in the filter policy
 * matches a message body property name [and] at least one property value matches"
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html); body policies "assume that the
 * message payload is a well-formed JSON object" (https://docs.aws.amazon.com/sns/latest/dg/message-filtering.html), so
 * the topic's other messages never reach the function: deployment events and smoke reports (plain text), OK and
 * INSUFFICIENT_DATA transitions, the other alarms (function errors, dead letters, CPU, …) and the function's own
 * reports (plain text; they also carry OWN_MESSAGE_ATTRIBUTE, which the handler drops as a second line of defence).
 */
export function alarmSubscriptionFilterPolicy(rollbackAlarmNames: readonly string[]): {
  readonly AlarmName: readonly string[];
  readonly NewStateValue: readonly ['ALARM'];
} {
  return { AlarmName: [...rollbackAlarmNames], NewStateValue: ['ALARM'] };
}
