/**
 * `sfdeploy releases`: the service's deployment history, newest first — when, which image, the target service
 * revision (the ARN `sfdeploy rollback --to-revision` takes), the outcome, and what set it off as far as ECS records it.
 */

import type { Writable } from 'node:stream';
import type {
  ECSClient,
  ListServiceDeploymentsCommandOutput,
  ServiceDeployment,
  ServiceRevision,
} from '@aws-sdk/client-ecs';
import type { Command } from 'commander';
import { CONTAINER_NAME } from '../../lib/constructs/web-container';
import { type AwsCliOptions, addAwsOptions, awsClientConfig, explainAwsError } from '../cli/aws';
import { parseStage, stageNames } from '../cli/ecs-target';
import { colours, EXIT_OK, renderTable, runAction, UsageError } from '../cli/support';

type Brief = NonNullable<ListServiceDeploymentsCommandOutput['serviceDeployments']>[number];

/** One row of the history. */
export interface Release {
  readonly deploymentArn: string;
  readonly createdAt?: string | undefined;
  readonly finishedAt?: string | undefined;
  readonly status: string;
  readonly outcome: string;
  readonly statusReason?: string | undefined;
  /** The service revision this deployment deployed: what `rollback --to-revision` takes. */
  readonly revisionArn?: string | undefined;
  readonly taskDefinition?: string | undefined;
  readonly image?: string | undefined;
  readonly imageDigest?: string | undefined;
  /** What set it off, from what ECS records (see `trigger`). */
  readonly trigger: string;
  readonly triggeredAlarms?: readonly string[] | undefined;
}

const OUTCOME: Record<string, string> = {
  SUCCESSFUL: 'succeeded',
  PENDING: 'in flight',
  IN_PROGRESS: 'in flight',
  STOP_REQUESTED: 'stopping',
  STOPPED: 'stopped',
  ROLLBACK_REQUESTED: 'rolling back',
  ROLLBACK_IN_PROGRESS: 'rolling back',
  ROLLBACK_SUCCESSFUL: 'rolled back',
  ROLLBACK_FAILED: 'rollback failed',
};

/** `family:revision` → revision number, for telling a revert from a release. */
function taskDefinitionRevision(arn: string | undefined): { family: string; revision: number } | undefined {
  const m = /task-definition\/([^:]+):(\d+)$/.exec(arn ?? '');
  return m ? { family: m[1]!, revision: Number(m[2]) } : undefined;
}

/**
 * What set a deployment off, from what ECS records on it. A ServiceDeployment names no principal
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html); who called UpdateService is
 * in CloudTrail only. What ECS does record: its own rollback (`rollback`, with the reason), the deployment alarms that
 * fired (`alarms.triggeredAlarmNames`), the circuit breaker, and the revisions — a deployment to an older task
 * definition revision of the same family than the one it replaced is a revert (`sfdeploy rollback`, the rollback
 * function, or a person), anything else a release.
 */
export function trigger(
  deployment: ServiceDeployment,
  target?: ServiceRevision,
  sources: ServiceRevision[] = [],
): string {
  const parts: string[] = [];
  const alarms = deployment.alarms?.triggeredAlarmNames ?? [];
  if (deployment.rollback)
    parts.push(`ECS rollback${deployment.rollback.reason ? `: ${deployment.rollback.reason}` : ''}`);
  else if (alarms.length > 0) parts.push(`alarms: ${alarms.join(', ')}`);
  if (deployment.deploymentCircuitBreaker?.status === 'TRIGGERED') parts.push('circuit breaker triggered');
  const to = taskDefinitionRevision(target?.taskDefinition);
  const from = sources.map((s) => taskDefinitionRevision(s.taskDefinition)).filter((x) => x !== undefined);
  const kind =
    sources.length === 0
      ? 'first deployment'
      : to && from.some((f) => f.family === to.family && f.revision > to.revision)
        ? 'revert to an older revision'
        : 'release';
  return [kind, ...parts].join('; ');
}

const iso = (d: Date | undefined) => d?.toISOString();

/** Reads all pages of ListServiceDeployments: nextToken, no documented order. */
async function listAll(ecs: ECSClient, cluster: string, service: string, since?: Date): Promise<Brief[]> {
  const { ListServiceDeploymentsCommand } = await import('@aws-sdk/client-ecs');
  const briefs: Brief[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(
      new ListServiceDeploymentsCommand({
        cluster,
        service,
        maxResults: 100,
        ...(since ? { createdAt: { after: since } } : {}),
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    briefs.push(...(page.serviceDeployments ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return briefs;
}

/** DescribeServiceDeployments and DescribeServiceRevisions each take at most 20 ARNs per call (API reference). */
const DESCRIBE_BATCH = 20;

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * The newest `limit` deployments. ListServiceDeployments pages and promises no order
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html), so every page is read
 * and sorted here by creation time; then only the shown ones are described, 20 ARNs a call
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceDeployments.html,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceRevisions.html). Neither describe call
 * promises to answer in request order: results are matched by ARN, and what ECS could not describe (`failures`) is
 * still listed from the brief.
 */
export async function readReleases(
  ecs: ECSClient,
  cluster: string,
  service: string,
  options: { limit: number; since?: Date | undefined },
): Promise<Release[]> {
  const { DescribeServiceDeploymentsCommand, DescribeServiceRevisionsCommand } = await import('@aws-sdk/client-ecs');
  const shown = (await listAll(ecs, cluster, service, options.since))
    .filter((b) => b.serviceDeploymentArn)
    .sort(
      (a, b) =>
        (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0) ||
        (b.serviceDeploymentArn ?? '').localeCompare(a.serviceDeploymentArn ?? ''),
    )
    .slice(0, options.limit);
  const deployments = new Map<string, ServiceDeployment>();
  for (const arns of batches(
    shown.map((b) => b.serviceDeploymentArn!),
    DESCRIBE_BATCH,
  )) {
    const out = await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: arns }));
    for (const d of out.serviceDeployments ?? [])
      if (d.serviceDeploymentArn) deployments.set(d.serviceDeploymentArn, d);
  }
  const revisionArns = new Set<string>();
  for (const b of shown) {
    const d = deployments.get(b.serviceDeploymentArn!);
    const target = d?.targetServiceRevision?.arn ?? b.targetServiceRevisionArn;
    if (target) revisionArns.add(target);
    for (const s of d?.sourceServiceRevisions ?? []) if (s.arn) revisionArns.add(s.arn);
  }
  const revisions = new Map<string, ServiceRevision>();
  for (const arns of batches([...revisionArns], DESCRIBE_BATCH)) {
    const out = await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: arns }));
    for (const r of out.serviceRevisions ?? []) if (r.serviceRevisionArn) revisions.set(r.serviceRevisionArn, r);
  }
  return shown.map((brief) => {
    const d = deployments.get(brief.serviceDeploymentArn!) ?? (brief as ServiceDeployment);
    const revisionArn = d.targetServiceRevision?.arn ?? brief.targetServiceRevisionArn;
    const target = revisionArn ? revisions.get(revisionArn) : undefined;
    const sources = (d.sourceServiceRevisions ?? [])
      .map((s) => (s.arn ? revisions.get(s.arn) : undefined))
      .filter((r): r is ServiceRevision => r !== undefined);
    const image = target?.containerImages?.find((c) => c.containerName === CONTAINER_NAME);
    const status = d.status ?? brief.status ?? 'UNKNOWN';
    const described = deployments.has(brief.serviceDeploymentArn!);
    return {
      deploymentArn: brief.serviceDeploymentArn!,
      createdAt: iso(d.createdAt ?? brief.createdAt),
      finishedAt: iso(d.finishedAt ?? d.stoppedAt ?? brief.finishedAt),
      status,
      outcome: OUTCOME[status] ?? status.toLowerCase(),
      statusReason: d.rollback?.reason ?? d.statusReason ?? brief.statusReason,
      revisionArn,
      taskDefinition: target?.taskDefinition,
      image: image?.image,
      imageDigest: image?.imageDigest,
      trigger: described ? trigger(d, target, sources) : 'unknown (ECS could not describe this deployment)',
      triggeredAlarms: d.alarms?.triggeredAlarmNames?.length ? [...d.alarms.triggeredAlarmNames] : undefined,
    };
  });
}

export function parseLimit(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 500) {
    throw new UsageError(`--limit must be a whole number from 1 to 500, got "${value}"`);
  }
  return Number(value);
}

/** The image's tag or digest, short enough for a table; the JSON has the full reference. */
function shortImage(image: string | undefined): string {
  if (!image) return '-';
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(image.lastIndexOf('/', at) + 1, at + 20);
  return image.slice(image.lastIndexOf('/') + 1);
}

export function renderReleases(releases: readonly Release[], stream: Writable & { isTTY?: boolean }): string {
  const c = colours(stream);
  const paint = (r: Release) =>
    r.status === 'SUCCESSFUL'
      ? c.green(r.outcome)
      : OUTCOME[r.status] === 'in flight'
        ? c.yellow(r.outcome)
        : c.red(r.outcome);
  return renderTable(
    ['created', 'outcome', 'image', 'trigger', 'revision (for rollback --to-revision)'],
    releases.map((r) => [
      r.createdAt?.replace(/\.\d{3}Z$/, 'Z') ?? '-',
      paint(r),
      shortImage(r.image),
      r.trigger,
      r.revisionArn ?? '-',
    ]),
  );
}

interface Options extends AwsCliOptions {
  stage?: string;
  limit: string;
  since?: string;
  cluster?: string;
  service?: string;
  json?: boolean;
}

const HELP = `
Lists the service's ECS deployments, newest first (all pages of ListServiceDeployments, sorted here: ECS documents no
order), with the target service revision's web image. The last column is the service-revision ARN that
\`sfdeploy rollback --to-revision\` takes. "trigger" is what ECS records: first deployment, release, or revert to an
older task-definition revision, plus ECS's own rollback (with its reason), the deployment alarms that fired, or the
circuit breaker. ECS records no caller: who ran UpdateService is in CloudTrail (event UpdateService).

Exit codes: 0 listed (also when there is nothing to list); 2 usage error or AWS access problem.

Examples:
  sfdeploy releases --stage prod
  sfdeploy releases --stage prod --limit 5 --json | jq -r '.releases[] | select(.outcome=="succeeded") | .revisionArn'
  sfdeploy releases --stage staging --since 2026-11-01T00:00:00Z`;

export function register(
  program: Command,
  makeClient: (aws: AwsCliOptions) => ECSClient | Promise<ECSClient> = defaultClient,
): void {
  const command = program
    .command('releases')
    .description('Deployment history: time, image, outcome, trigger and the revision ARN rollback --to-revision takes')
    .requiredOption('--stage <stage>', 'stage: dev, staging, prod')
    .option('--limit <n>', 'how many deployments, newest first', '20')
    .option('--since <iso-time>', 'only deployments created after this time (ISO 8601)')
    .option('--cluster <name>', 'cluster name (default softfactory-<stage>)')
    .option('--service <name>', 'service name (default softfactory-<stage>-web)')
    .option('--json', 'print one JSON document')
    .addHelpText('after', HELP);
  addAwsOptions(command).action((options: Options) =>
    runAction(
      async () => {
        const stage = parseStage(options.stage);
        const limit = parseLimit(options.limit);
        let since: Date | undefined;
        if (options.since !== undefined) {
          since = new Date(options.since);
          if (!/^\d{4}-\d{2}-\d{2}/.test(options.since) || Number.isNaN(since.getTime())) {
            throw new UsageError(
              `--since must be an ISO 8601 time such as 2026-11-01T00:00:00Z, got "${options.since}"`,
            );
          }
        }
        const names = stageNames(stage);
        const cluster = options.cluster ?? names.cluster;
        const service = options.service ?? names.service;
        const releases = await readReleases(await makeClient(options), cluster, service, { limit, since });
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ stage, cluster, service, releases }, null, 2)}\n`);
        } else if (releases.length === 0) {
          process.stdout.write(
            `No deployments of ${cluster}/${service}${since ? ` since ${since.toISOString()}` : ''}.\n`,
          );
        } else {
          process.stdout.write(`${renderReleases(releases, process.stdout)}\n`);
        }
        return EXIT_OK;
      },
      { json: options.json, explain: (error) => explainAwsError(error, options) },
    ),
  );
}

async function defaultClient(aws: AwsCliOptions): Promise<ECSClient> {
  const { ECSClient } = await import('@aws-sdk/client-ecs');
  return new ECSClient(awsClientConfig(aws));
}
