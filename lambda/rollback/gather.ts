/**
 * Reads what `decide` needs, through the StatePort (ports.ts; on AWS: ecs-state.ts), so the orchestration can be
 * tested with a fake and the SDK mapping on its own. ListServiceDeployments documents pagination and no ordering
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html): the port reads every
 * page, and the newest are chosen here by sorting.
 */
import type { ServiceDeployment, ServiceDeploymentBrief } from '@aws-sdk/client-ecs';
import type { DeploymentView, RevisionRef, ServiceState, Trigger } from './decide';
import type { RevisionSummary, ServiceSummary, StatePort } from './ports';

/** How many of the newest deployments `decide` sees (after sorting); two successful ones are all a rollback needs. */
const HISTORY = 20;
/**
 * How far back the history is read (ListServiceDeployments' createdAt filter). A release older than this has no
 * "previous successful deployment" in view; `decide` then falls back to what the latest deployment replaced.
 */
export const HISTORY_DAYS = 90;
/** Everything `decide` needs about the service, read fresh (call it while holding the service lock). */
export async function gatherServiceState(
  port: StatePort,
  trigger: Trigger,
  now: Date,
): Promise<ServiceState & ServiceSummary> {
  const service = await port.describeService();
  const since = new Date(now.getTime() - HISTORY_DAYS * 24 * 60 * 60_000);
  // Two views: the deployments whatever their status (is one in flight? how did the latest end?) and the
  // successful ones (what ran before?). A run of failures must not push the last good revision out of view.
  const [recent, successful] = await Promise.all([
    port.listDeployments(since),
    port.listDeployments(since, ['SUCCESSFUL']),
  ]);
  const briefs = new Map<string, ServiceDeploymentBrief>();
  for (const b of [...recent, ...successful]) {
    if (b.serviceDeploymentArn && !briefs.has(b.serviceDeploymentArn)) briefs.set(b.serviceDeploymentArn, b);
  }
  const time = (b: ServiceDeploymentBrief) => (b.createdAt ?? b.startedAt ?? new Date(0)).getTime();
  const ordered = [...briefs.values()].sort((a, b) => time(b) - time(a)).slice(0, HISTORY);

  const details = new Map<string, ServiceDeployment>();
  const toDescribe = ordered.slice(0, 10).map((b) => b.serviceDeploymentArn!);
  if (toDescribe.length > 0) {
    for (const d of await port.describeDeployments(toDescribe)) {
      if (d.serviceDeploymentArn) details.set(d.serviceDeploymentArn, d);
    }
  }

  const revisionArns = new Set<string>();
  for (const b of ordered) {
    if (b.targetServiceRevisionArn) revisionArns.add(b.targetServiceRevisionArn);
    for (const s of details.get(b.serviceDeploymentArn!)?.sourceServiceRevisions ?? [])
      if (s.arn) revisionArns.add(s.arn);
  }
  if (trigger.kind === 'pipeline' && trigger.toRevision) revisionArns.add(trigger.toRevision);
  const revisions = new Map<string, RevisionSummary>();
  if (revisionArns.size > 0) {
    for (const r of await port.describeRevisions([...revisionArns])) revisions.set(r.arn, r);
  }
  const ref = (arn: string): RevisionRef => ({ arn, taskDefinition: revisions.get(arn)?.taskDefinition });

  const deployments: DeploymentView[] = ordered.map((b) => {
    const d = details.get(b.serviceDeploymentArn!);
    const target = b.targetServiceRevisionArn ?? d?.targetServiceRevision?.arn;
    return {
      arn: b.serviceDeploymentArn!,
      status: d?.status ?? b.status ?? 'UNKNOWN',
      createdAt: b.createdAt ?? d?.createdAt,
      startedAt: b.startedAt ?? d?.startedAt,
      finishedAt: b.finishedAt ?? d?.finishedAt,
      stoppedAt: d?.stoppedAt,
      lifecycleStage: d?.lifecycleStage,
      targetRevisionArn: target,
      targetTaskDefinition: target ? revisions.get(target)?.taskDefinition : undefined,
      targetImages: target ? revisions.get(target)?.images : undefined,
      sources: (d?.sourceServiceRevisions ?? []).flatMap((s) => (s.arn ? [ref(s.arn)] : [])),
    };
  });

  const requested = trigger.kind === 'pipeline' && trigger.toRevision ? revisions.get(trigger.toRevision) : undefined;
  return {
    taskDefinition: service.taskDefinition,
    currentServiceDeployment: service.currentServiceDeployment,
    runningTaskDefinition: service.taskDefinition,
    deployments,
    alarmState: trigger.kind === 'alarm' ? await port.alarmState(trigger.alarmName) : undefined,
    requestedRevision:
      trigger.kind === 'pipeline' && trigger.toRevision
        ? { arn: trigger.toRevision, serviceArn: requested?.serviceArn, taskDefinition: requested?.taskDefinition }
        : undefined,
  };
}
