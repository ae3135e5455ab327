/**
 * The StatePort on ECS and CloudWatch (SDK v3): the read-only calls `gatherServiceState` (gather.ts) makes.
 *
 * ECS calls (API reference, 2024-10 "service deployments" release):
 * - DescribeServices → the service's current task definition.
 * - ListServiceDeployments (service, cluster, status filter, createdAt {after, before}, maxResults 1-100 (default 20),
 *   nextToken) → ServiceDeploymentBrief: serviceDeploymentArn, status, createdAt/startedAt/finishedAt,
 *   targetServiceRevisionArn. The API reference documents pagination and NO ordering
 *   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html), so every page within
 *   the createdAt bound is read here and gather.ts sorts the list; nothing depends on the order ECS answers in.
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
} from '@aws-sdk/client-ecs';
import type { RevisionSummary, StatePort } from './ports';

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
