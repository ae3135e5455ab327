/**
 * Every decision, acted or not, becomes one notification on the stage's topic (and one structured log line):
 * what was decided and why, the revision rolled back from and to, the trigger (alarm or requester), and the
 * database note: which pre-deploy snapshot exists and how to restore it by hand. The database is never
 * restored automatically.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { resourcePrefix } from '../../shared/names';
import { newestPredeploySnapshot, type SnapshotInfo, type SnapshotPort } from '../shared/snapshots';
import { type Outcome, OWN_MESSAGE_ATTRIBUTE, OWN_MESSAGE_ORIGIN } from './contract';
import { type Decision, shortName, type Trigger } from './decide';

export interface DatabaseNote {
  readonly snapshotId?: string | undefined;
  readonly snapshotCreatedAt?: string | undefined;
  readonly note: string;
}

export interface ReportInput {
  readonly stage: string;
  readonly serviceArn: string;
  readonly trigger: Trigger | { readonly kind: 'invalid'; readonly source: string };
  readonly outcome: Outcome;
  readonly decision?: Decision | undefined;
  /** Deployment created by UpdateService / stopped by StopServiceDeployment. */
  readonly serviceDeploymentArn?: string | undefined;
  readonly error?: string | undefined;
  readonly database: DatabaseNote;
  readonly runbookUrl: string;
  readonly dbInstanceId: string;
}

export interface Report {
  readonly subject: string;
  readonly message: string;
}

/** Finds the snapshot to name; a failure to list becomes part of the note, never a failed decision. */
export async function databaseNote(
  snapshots: SnapshotPort,
  scope: { stage: string; prefix: string; revisionArn?: string | undefined },
): Promise<DatabaseNote> {
  let found: SnapshotInfo | undefined;
  try {
    found = newestPredeploySnapshot(await snapshots.listManual(), scope);
  } catch (error) {
    return { note: `could not list pre-deploy snapshots (${error instanceof Error ? error.message : String(error)})` };
  }
  if (!found) return { note: 'no pre-deploy snapshot found; use the latest automated backup (point-in-time restore)' };
  return {
    snapshotId: found.id,
    snapshotCreatedAt: found.createdAt?.toISOString(),
    note: `newest pre-deploy snapshot: ${found.id}${found.createdAt ? ` (${found.createdAt.toISOString()})` : ''}`,
  };
}

const HEADLINE: Record<Outcome, string> = {
  acted: 'ROLLED BACK',
  'would-act': 'WOULD ROLL BACK (dry run)',
  satisfied: 'no action: already rolled back / rolling back',
  refused: 'no action',
  'retry-later': 'no action yet: will retry',
  invalid: 'ignored: invalid input',
  failed: 'ROLLBACK FAILED',
};

function triggerLine(trigger: ReportInput['trigger']): string {
  if (trigger.kind === 'alarm') {
    const when = trigger.stateChangeTime ? ` at ${trigger.stateChangeTime.toISOString()}` : '';
    return `CloudWatch alarm ${trigger.alarmName} (${trigger.oldState ?? '?'} → ${trigger.newState}${when})`;
  }
  if (trigger.kind === 'pipeline') {
    return `request by ${trigger.requestedBy}: "${trigger.reason}"${trigger.toRevision ? ` (to ${trigger.toRevision})` : ''}`;
  }
  return `unparseable ${trigger.source}`;
}

function actionLine(decision: Decision | undefined): string {
  if (!decision || decision.action === 'none') return 'none';
  return decision.action === 'stop-deployment'
    ? 'StopServiceDeployment (stopType ROLLBACK)'
    : `UpdateService → task definition ${shortName(decision.taskDefinition)}`;
}

/** Subject ≤ 100 ASCII characters (SNS limit for email subjects). */
function subjectLine(input: ReportInput): string {
  const what = input.decision?.code ?? input.outcome;
  const raw = `[${resourcePrefix(input.stage)}] rollback: ${HEADLINE[input.outcome]} (${what})`;
  const ascii = raw.replace(/[^\x20-\x7e]/g, '-');
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
}

/**
 * The rollback deployment's blind spot. ECS ignores a deployment alarm that is already in ALARM when a deployment
 * starts, for that whole deployment (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html;
 * aws/copilot-cli PR 4512: "ignored if associated alarms are already in alarm state"). Our UpdateService rollback
 * starts while the triggering alarm is in ALARM, so that alarm cannot stop the rollback deployment: a person watches.
 */
export function alarmBlindWindow(input: Pick<ReportInput, 'decision' | 'outcome' | 'trigger'>): string | undefined {
  if (input.decision?.action !== 'update-service' || (input.outcome !== 'acted' && input.outcome !== 'would-act'))
    return undefined;
  const alarm = input.trigger.kind === 'alarm' ? input.trigger.alarmName : 'any deployment alarm already in ALARM';
  return (
    `Alarm-blind window: ECS ignores a deployment alarm that is already in ALARM when a deployment starts, for the ` +
    `whole deployment. ${alarm} cannot stop this rollback deployment (through its bake); watch the dashboard until ` +
    'it completes and the alarm returns to OK.'
  );
}

export function renderReport(input: ReportInput): Report {
  const d = input.decision;
  const lines = [
    `SoftFactory ${input.stage}: ${HEADLINE[input.outcome]}`,
    '',
    `Decision:       ${actionLine(d)}${d ? ` [${d.code}]` : ''}`,
    `Why:            ${d?.reason ?? input.error ?? '(no decision)'}`,
    `Trigger:        ${triggerLine(input.trigger)}`,
    `Service:        ${input.serviceArn}`,
    `Rolled back from: ${d?.fromRevision ?? '(n/a)'}${d?.fromTaskDefinition ? ` [${shortName(d.fromTaskDefinition)}]` : ''}`,
    `Rolled back to:   ${d?.toRevision ?? '(n/a)'}${d?.taskDefinition ? ` [${shortName(d.taskDefinition)}]` : ''}`,
    `Incident:       ${d?.incidentKey ?? '(n/a)'}`,
  ];
  if (input.serviceDeploymentArn) lines.push(`ECS deployment: ${input.serviceDeploymentArn}`);
  const blind = alarmBlindWindow(input);
  if (blind) lines.push('', blind);
  if (input.error && d) lines.push(`Error:          ${input.error}`);
  lines.push(
    '',
    'Database: never restored automatically.',
    `  ${input.database.note}`,
    '  If the release changed data or schema and the data must go back too:',
    `  1. Restore the snapshot to a NEW instance (never over ${input.dbInstanceId}): aws rds restore-db-instance-from-db-snapshot --db-snapshot-identifier ${input.database.snapshotId ?? '<snapshot>'} --db-instance-identifier ${input.dbInstanceId}-restore-<date> (same subnet group, security groups, parameter group, KMS key).`,
    '  2. Verify it: connect, check schema/migration version and row counts, run `sfdeploy smoke` against a task pointed at it.',
    "  3. Switch: point the service's database secret (host / DATABASE_URL) at the new endpoint, force a new deployment, watch the alarms; keep the old instance until the switch is verified.",
    `  Runbook: ${input.runbookUrl}`,
    '',
    JSON.stringify({
      stage: input.stage,
      outcome: input.outcome,
      code: d?.code,
      action: d?.action ?? 'none',
      reason: d?.reason,
      fromRevision: d?.fromRevision,
      toRevision: d?.toRevision,
      fromTaskDefinition: d?.fromTaskDefinition,
      taskDefinition: d?.taskDefinition,
      incidentKey: d?.incidentKey,
      serviceDeploymentArn: input.serviceDeploymentArn,
      trigger:
        input.trigger.kind === 'alarm'
          ? { kind: 'alarm', alarmName: input.trigger.alarmName, newState: input.trigger.newState }
          : input.trigger.kind === 'pipeline'
            ? { kind: 'pipeline', requestedBy: input.trigger.requestedBy, reason: input.trigger.reason }
            : { kind: 'invalid', source: input.trigger.source },
      snapshotId: input.database.snapshotId,
      error: input.error,
    }),
  );
  return { subject: subjectLine(input), message: lines.join('\n') };
}

/**
 * Publishes with the origin attribute: the function's own subscription filters it out (and the handler drops
 * it too), so a report never triggers the function that wrote it.
 */
export async function publishReport(sns: SNSClient, topicArn: string, report: Report): Promise<void> {
  await sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: report.subject,
      Message: report.message,
      MessageAttributes: { [OWN_MESSAGE_ATTRIBUTE]: { DataType: 'String', StringValue: OWN_MESSAGE_ORIGIN } },
    }),
  );
}
