/**
 * `sfdeploy release-status`: did the latest ECS service deployment really succeed with the image we shipped?
 * A stable service is not a successful release: after a failed blue/green deployment ECS rolls back and the service
 * is stable again — on the old image. Pipelines must read the deployment itself.
 */
import type {
  ECSClient,
  ListServiceDeploymentsCommandOutput,
  ServiceDeployment,
  ServiceRevision,
} from '@aws-sdk/client-ecs';

type ServiceDeploymentList = ListServiceDeploymentsCommandOutput['serviceDeployments'];

import type { Command } from 'commander';
import { CONTAINER_NAME } from '../../lib/constructs/web-container';
import { clusterName, webServiceName } from '../../shared/names';
import { STAGES, type Stage } from '../../shared/stages';
import { AwsAccessError, type AwsCliOptions, addAwsOptions, awsClientConfig, explainAwsError } from '../cli/aws';
import { colours, EXIT_CHECK_FAILED, EXIT_OK, renderTable, runAction, UsageError } from '../cli/support';

/**
 * "Could not find out": ECS did not answer (throttling after the SDK's retries, network, credentials, access). Exit 2,
 * never 1: a pipeline rolls back only on 1 ("the release failed"), so an unanswered question must not look like a
 * failed release.
 */
export class CouldNotFindOut extends Error {
  override readonly name = 'CouldNotFindOut';
}

/** Errors worth another poll while --wait lasts: throttling, 5xx, timeouts, sockets. */
function isTransient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Error & { $fault?: string; $retryable?: unknown; code?: unknown };
  if (/Throttl|TooManyRequests|RequestLimitExceeded/.test(e.name) || e.$fault === 'server' || e.$retryable) return true;
  return ['TimeoutError', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND'].some(
    (c) => e.name === c || e.code === c,
  );
}

export type ReleaseVerdict = 'succeeded' | 'failed' | 'in-flight';

export interface ReleaseStatus {
  readonly verdict: ReleaseVerdict;
  readonly reason: string;
  readonly deploymentArn?: string;
  readonly deploymentStatus?: string;
  readonly runningImage?: string;
  readonly expectedImage?: string;
}

const IN_FLIGHT = new Set(['PENDING', 'IN_PROGRESS', 'STOP_REQUESTED']);
const ROLLING_BACK = new Set(['ROLLBACK_REQUESTED', 'ROLLBACK_IN_PROGRESS', 'ROLLBACK_SUCCESSFUL', 'ROLLBACK_FAILED']);

/** Pure verdict over one deployment and its target revision. */
export function evaluateRelease(
  deployment: ServiceDeployment | undefined,
  revision: ServiceRevision | undefined,
  expectedImage?: string,
): ReleaseStatus {
  if (!deployment) return { verdict: 'failed', reason: 'the service has no deployments', expectedImage };
  const status = deployment.status ?? 'UNKNOWN';
  const image = revision?.containerImages?.find((c) => c.containerName === CONTAINER_NAME);
  const base = {
    deploymentArn: deployment.serviceDeploymentArn,
    deploymentStatus: status,
    runningImage: image?.image,
    expectedImage,
  };
  const why = deployment.rollback?.reason ?? deployment.statusReason;
  if (ROLLING_BACK.has(status)) {
    return { ...base, verdict: 'failed', reason: `ECS rolled the deployment back (${status})${why ? `: ${why}` : ''}` };
  }
  if (status === 'STOPPED') {
    return { ...base, verdict: 'failed', reason: `the deployment was stopped${why ? `: ${why}` : ''}` };
  }
  if (IN_FLIGHT.has(status)) {
    const stage = deployment.lifecycleStage ? ` at ${deployment.lifecycleStage}` : '';
    return { ...base, verdict: 'in-flight', reason: `the deployment is still in flight (${status}${stage})` };
  }
  if (status !== 'SUCCESSFUL') return { ...base, verdict: 'failed', reason: `unexpected deployment status ${status}` };
  if (expectedImage && !imageMatches(expectedImage, image?.image, image?.imageDigest)) {
    return {
      ...base,
      verdict: 'failed',
      reason: `the deployment succeeded but runs ${image?.image ?? 'no web container'}, not ${expectedImage}`,
    };
  }
  return { ...base, verdict: 'succeeded', reason: 'the latest deployment completed successfully' };
}

function imageMatches(expected: string, image: string | undefined, digest: string | undefined): boolean {
  if (expected.includes('@sha256:')) return digest === expected.slice(expected.indexOf('@') + 1) || image === expected;
  return image === expected;
}

/** How far back to look for the newest deployment (ListServiceDeployments' createdAt filter). */
const HISTORY_DAYS = 90;

/**
 * Reads the newest service deployment and its target revision. ListServiceDeployments pages (nextToken) and documents
 * no order (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html): every page
 * since the createdAt bound is read and sorted here.
 */
export async function readLatestRelease(
  ecs: ECSClient,
  cluster: string,
  service: string,
  expectedImage?: string,
  now: () => number = Date.now,
): Promise<ReleaseStatus> {
  const { DescribeServiceDeploymentsCommand, DescribeServiceRevisionsCommand, ListServiceDeploymentsCommand } =
    await import('@aws-sdk/client-ecs');
  const briefs: NonNullable<ServiceDeploymentList>[number][] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs.send(
      new ListServiceDeploymentsCommand({
        cluster,
        service,
        createdAt: { after: new Date(now() - HISTORY_DAYS * 24 * 60 * 60_000) },
        maxResults: 100,
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    briefs.push(...(page.serviceDeployments ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const newest = briefs.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0))[0];
  if (!newest?.serviceDeploymentArn) return evaluateRelease(undefined, undefined, expectedImage);
  const described = await ecs.send(
    new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [newest.serviceDeploymentArn] }),
  );
  const deployment = described.serviceDeployments?.[0];
  const revisionArn = deployment?.targetServiceRevision?.arn;
  const revisions = revisionArn
    ? await ecs.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [revisionArn] }))
    : undefined;
  return evaluateRelease(deployment, revisions?.serviceRevisions?.[0], expectedImage);
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly onPoll?: (status: ReleaseStatus) => void;
}

/**
 * Polls until the deployment leaves flight or the wait ends; still in flight then is a failure. A transient read
 * error (throttling, network) is polled through; when the wait ends on one, or on any other error, the answer is
 * CouldNotFindOut.
 */
export async function waitForRelease(read: () => Promise<ReleaseStatus>, options: WaitOptions): Promise<ReleaseStatus> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  for (;;) {
    let status: ReleaseStatus;
    try {
      status = await read();
    } catch (error) {
      if (!isTransient(error) || now() + options.intervalMs > deadline) throw couldNotFindOut(error);
      await sleep(options.intervalMs);
      continue;
    }
    options.onPoll?.(status);
    if (status.verdict !== 'in-flight') return status;
    if (now() + options.intervalMs > deadline) {
      return {
        ...status,
        verdict: 'failed',
        reason: `${status.reason} when the wait ended after ${Math.round(options.timeoutMs / 1000)} s`,
      };
    }
    await sleep(options.intervalMs);
  }
}

function couldNotFindOut(error: unknown): CouldNotFindOut {
  if (error instanceof CouldNotFindOut) return error;
  const why =
    explainAwsError(error) ??
    (error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error));
  return new CouldNotFindOut(`could not find out the release status (${why}); nothing is known about the release`, {
    cause: error,
  });
}

interface Options {
  stage?: string;
  expectImage?: string;
  wait?: boolean;
  timeout: string;
  interval: string;
  cluster?: string;
  service?: string;
  region?: string;
  profile?: string;
  json?: boolean;
}

function positiveSeconds(name: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`${name} must be a whole number of seconds ≥ 1, got "${value}"`);
  return Number(value) * 1000;
}

export function register(
  program: Command,
  makeClient: (aws: AwsCliOptions) => ECSClient | Promise<ECSClient> = defaultClient,
): void {
  const command = program
    .command('release-status')
    .description('Exit 0 only if the latest ECS deployment completed successfully (with the expected image)')
    .requiredOption('--stage <stage>', `stage: ${STAGES.join(', ')}`)
    .option(
      '--expect-image <uri:tag>',
      'image the web container must run, e.g. 1234.dkr.ecr.eu-west-1.amazonaws.com/softfactory:v2.1',
    )
    .option('--wait', 'poll while the deployment is in flight (until it ends or --timeout)')
    .option('--timeout <seconds>', 'how long --wait waits', '1800')
    .option('--interval <seconds>', 'seconds between polls', '15')
    .option('--cluster <name>', 'cluster name (default softfactory-<stage>)')
    .option('--service <name>', 'service name (default softfactory-<stage>-web)')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
A service that ECS rolled back is stable again, on the old image: only the deployment's own status says whether the
release succeeded. Exit codes: 0 succeeded; 1 the release failed (rolled back, stopped, wrong image, still in flight
when --wait ended); 2 could not find out (throttling, network, credentials, access denied) or usage error. Pipelines
roll back on 1 only.

Examples:
  sfdeploy release-status --stage prod
  sfdeploy release-status --stage prod --expect-image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/softfactory:v2.1 --wait
  sfdeploy release-status --stage staging --wait --timeout 900 --json`,
    );
  addAwsOptions(command).action((options: Options) =>
    runAction(
      async () => {
        const stage = options.stage as Stage;
        if (!(STAGES as readonly string[]).includes(stage)) {
          throw new UsageError(`--stage must be one of ${STAGES.join(', ')}, got "${options.stage}"`);
        }
        const timeoutMs = positiveSeconds('--timeout', options.timeout);
        const intervalMs = positiveSeconds('--interval', options.interval);
        const cluster = options.cluster ?? clusterName(stage);
        const service = options.service ?? webServiceName(stage);
        const ecs = await makeClient(options);
        const read = () => readLatestRelease(ecs, cluster, service, options.expectImage);
        const c = colours(process.stderr);
        let status: ReleaseStatus;
        try {
          status = options.wait
            ? await waitForRelease(read, {
                timeoutMs,
                intervalMs,
                onPoll: (s) => {
                  if (!options.json && s.verdict === 'in-flight') process.stderr.write(`${c.dim(`… ${s.reason}`)}\n`);
                },
              })
            : await read();
        } catch (error) {
          // exit 2, never 1: see CouldNotFindOut. A credentials/region/access problem is said as its fix alone.
          const explained = explainAwsError(error, options);
          if (explained) throw new AwsAccessError(explained);
          throw new UsageError(couldNotFindOut(error).message);
        }
        const verdict = status.verdict === 'in-flight' ? 'failed' : status.verdict;
        if (options.json) {
          process.stdout.write(
            `${JSON.stringify({ stage, cluster, service, ...status, verdict, passed: verdict === 'succeeded' })}\n`,
          );
        } else {
          const out = colours(process.stdout);
          const shown = verdict === 'succeeded' ? out.green(verdict) : out.red(verdict);
          process.stdout.write(
            `${renderTable(
              ['field', 'value'],
              [
                ['service', `${cluster}/${service}`],
                ['deployment', status.deploymentArn ?? '-'],
                ['status', status.deploymentStatus ?? '-'],
                ['running image', status.runningImage ?? '-'],
                ['expected image', status.expectedImage ?? '(any)'],
                ['verdict', shown],
              ],
            )}\n${status.reason}\n`,
          );
        }
        return verdict === 'succeeded' ? EXIT_OK : EXIT_CHECK_FAILED;
      },
      { json: options.json, explain: (error) => explainAwsError(error, options) },
    ),
  );
}

async function defaultClient(aws: AwsCliOptions): Promise<ECSClient> {
  const { ECSClient } = await import('@aws-sdk/client-ecs');
  return new ECSClient(awsClientConfig(aws));
}
