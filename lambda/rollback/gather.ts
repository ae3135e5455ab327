/**
 * Reads what `decide` needs from ECS and CloudWatch, through a small port so the orchestration can be tested
 * with a fake and the SDK mapping on its own.
 *
 * ECS calls (API reference, 2024-10 "service deployments" release):
 * - DescribeServices → the service's current task definition.
 * - ListServiceDeployments (service, cluster, status filter, createdAt {after, before}, maxResults 1-100 (default 20),
 *   nextToken) → ServiceDeploymentBrief: serviceDeploymentArn, status, createdAt/startedAt/finishedAt,
 *   targetServiceRevisionArn. The API reference documents pagination and NO ordering
 *   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html), so every page within
 *   the createdAt bound is read and the list is sorted here; nothing depends on the order ECS answers in.
 * - DescribeServiceDeployments (≤ 20 ARNs) → sourceServiceRevisions[].arn, targetServiceRevision.arn,
 *   lifecycleStage (e.g. BAKE_TIME), stoppedAt, rollback.
 * - DescribeServiceRevisions (≤ 20 ARNs) → taskDefinition. Revisions created before 2024-10-25 come back as
 *   `failures` (reason MISSING); their task definition stays unknown.
 */
import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  type ECSClient,
  ListServiceDeploymentsCommand,
  type ServiceDeployment,
  type ServiceDeploymentBrief,
  type ServiceDeploymentStatus,
} from '@aws-sdk/client-ecs';
import type { AlarmStateValue, DeploymentView, RevisionRef, ServiceState, Trigger } from './decide';

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

/** How many of the newest deployments `decide` sees (after sorting); two successful ones are all a rollback needs. */
const HISTORY = 20;
/**
 * How far back the history is read (ListServiceDeployments' createdAt filter). A release older than this has no
 * "previous successful deployment" in view; `decide` then falls back to what the latest deployment replaced.
 */
export const HISTORY_DAYS = 90;
/** Page size (the API's maximum) and a bound on pages: beyond it the newest cannot be told, so the read fails. */
const PAGE_SIZE = 100;
const MAX_PAGES = 20;
/** ECS limit for DescribeServiceDeployments and DescribeServiceRevisions. */
const DESCRIBE_BATCH = 20;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function sdkStatePort(
  ecs: ECSClient,
  cloudwatch: CloudWatchClient,
  target: { readonly clusterArn: string; readonly serviceArn: string },
): StatePort {
  return {
    async describeService() {
      const out = await ecs.send(
        new DescribeServicesCommand({ cluster: target.clusterArn, services: [target.serviceArn] }),
      );
      const service = out.services?.find((s) => s.serviceArn === target.serviceArn) ?? out.services?.[0];
      if (!service) {
        const why = out.failures?.map((f) => `${f.arn ?? ''} ${f.reason ?? ''}`.trim()).join('; ') || 'not returned';
        throw new Error(`DescribeServices: ${target.serviceArn}: ${why}`);
      }
      return { taskDefinition: service.taskDefinition, currentServiceDeployment: service.currentServiceDeployment };
    },
    async listDeployments(createdAfter, status) {
      const all: ServiceDeploymentBrief[] = [];
      let nextToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const out = await ecs.send(
          new ListServiceDeploymentsCommand({
            cluster: target.clusterArn,
            service: target.serviceArn,
            createdAt: { after: createdAfter },
            maxResults: PAGE_SIZE,
            ...(status ? { status: [...status] } : {}),
            ...(nextToken ? { nextToken } : {}),
          }),
        );
        all.push(...(out.serviceDeployments ?? []));
        nextToken = out.nextToken;
        if (!nextToken) return all;
      }
      // ECS lists in no documented order: with pages left unread the newest deployment may be among them.
      throw new Error(
        `ListServiceDeployments: more than ${MAX_PAGES * PAGE_SIZE} deployments of ${target.serviceArn} since ${createdAfter.toISOString()}; cannot tell the newest`,
      );
    },
    async describeDeployments(arns) {
      const found: ServiceDeployment[] = [];
      for (const batch of chunks(arns, DESCRIBE_BATCH)) {
        const out = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: batch }));
        found.push(...(out.serviceDeployments ?? []));
      }
      return found;
    },
    async describeRevisions(arns) {
      const found: RevisionSummary[] = [];
      for (const batch of chunks(arns, DESCRIBE_BATCH)) {
        const out = await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: batch }));
        for (const r of out.serviceRevisions ?? []) {
          if (r.serviceRevisionArn)
            found.push({
              arn: r.serviceRevisionArn,
              serviceArn: r.serviceArn,
              taskDefinition: r.taskDefinition,
              images: (r.containerImages ?? []).map((c) => ({ image: c.image, digest: c.imageDigest })),
            });
        }
      }
      return found;
    },
    async alarmState(alarmName) {
      // Metric alarms only (the default AlarmTypes): composite alarms would need DescribeAlarms on "*".
      const out = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [alarmName] }));
      const alarm = out.MetricAlarms?.find((a) => a.AlarmName === alarmName);
      const value = alarm?.StateValue;
      return value === 'OK' || value === 'ALARM' || value === 'INSUFFICIENT_DATA' ? value : 'MISSING';
    },
  };
}

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
