import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  type ServiceDeployment,
  type ServiceRevision,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { readReleases } from '../../bin/commands/releases';
import { awsError, cli, type FakeAws, ok, startFakeAws } from '../helpers/fake-aws';

const ACCOUNT = '123456789012';
const CLUSTER = `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/softfactory-prod`;
const SERVICE = `arn:aws:ecs:eu-west-1:${ACCOUNT}:service/softfactory-prod/softfactory-prod-web`;
const IMAGE = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/softfactory`;
const deploymentArn = (i: number) =>
  `arn:aws:ecs:eu-west-1:${ACCOUNT}:service-deployment/softfactory-prod/softfactory-prod-web/d${i}`;
const revisionArn = (i: number) =>
  `arn:aws:ecs:eu-west-1:${ACCOUNT}:service-revision/softfactory-prod/softfactory-prod-web/r${i}`;

/**
 * A history of `count` deployments, deployment i deploying revision i (task definition revision i + 1) from revision
 * i - 1, created one day apart; `special` overrides single deployments (status, rollback, alarms, revert).
 */
function history(count: number, special: Record<number, Partial<ServiceDeployment> & { fromRevision?: number }> = {}) {
  const deployments: ServiceDeployment[] = [];
  for (let i = 0; i < count; i += 1) {
    const { fromRevision, ...extra } = special[i] ?? {};
    const from = fromRevision ?? i - 1;
    deployments.push({
      serviceDeploymentArn: deploymentArn(i),
      serviceArn: SERVICE,
      clusterArn: CLUSTER,
      createdAt: new Date(Date.UTC(2026, 9, 1 + i, 9)),
      startedAt: new Date(Date.UTC(2026, 9, 1 + i, 9, 1)),
      finishedAt: new Date(Date.UTC(2026, 9, 1 + i, 9, 20)),
      status: 'SUCCESSFUL',
      targetServiceRevision: { arn: revisionArn(i), requestedTaskCount: 2, runningTaskCount: 2, pendingTaskCount: 0 },
      sourceServiceRevisions:
        from >= 0 ? [{ arn: revisionArn(from), requestedTaskCount: 2, runningTaskCount: 0, pendingTaskCount: 0 }] : [],
      ...extra,
    });
  }
  const revisions: ServiceRevision[] = Array.from({ length: count }, (_, i) => ({
    serviceRevisionArn: revisionArn(i),
    serviceArn: SERVICE,
    clusterArn: CLUSTER,
    taskDefinition: `arn:aws:ecs:eu-west-1:${ACCOUNT}:task-definition/SoftFactoryProdServiceWebTask:${i + 1}`,
    containerImages: [
      { containerName: 'web', image: `${IMAGE}:v2.${i}`, imageDigest: `sha256:${String(i).padStart(4, '0')}` },
    ],
    createdAt: new Date(Date.UTC(2026, 9, 1 + i, 9)),
  }));
  return { deployments, revisions };
}

/** The list entries (ServiceDeploymentBrief) of a history, shuffled: ECS documents no order for them. */
function briefs(deployments: ServiceDeployment[]) {
  const order = deployments.map((_, i) => (i * 7) % deployments.length);
  return order.map((i) => {
    const d = deployments[i]!;
    return {
      serviceDeploymentArn: d.serviceDeploymentArn,
      serviceArn: d.serviceArn,
      clusterArn: d.clusterArn,
      createdAt: d.createdAt,
      startedAt: d.startedAt,
      finishedAt: d.finishedAt,
      status: d.status,
      targetServiceRevisionArn: d.targetServiceRevision?.arn,
    };
  });
}

const ecs = mockClient(ECSClient);
afterEach(() => ecs.reset());
const client = () => new ECSClient({ region: 'eu-west-1' });

function answer(world: ReturnType<typeof history>, pageSize = 10, unknown: string[] = []) {
  const list = briefs(world.deployments);
  ecs.on(ListServiceDeploymentsCommand).callsFake((input: { nextToken?: string }) => {
    const offset = Number(input.nextToken ?? 0);
    const next = offset + pageSize < list.length ? String(offset + pageSize) : undefined;
    return { serviceDeployments: list.slice(offset, offset + pageSize), ...(next ? { nextToken: next } : {}) };
  });
  ecs.on(DescribeServiceDeploymentsCommand).callsFake((input: { serviceDeploymentArns: string[] }) => {
    if (input.serviceDeploymentArns.length > 20) throw new Error('InvalidParameterException: more than 20 ARNs');
    const known = input.serviceDeploymentArns.filter((a) => !unknown.includes(a));
    return {
      // Answered in no particular order, and what ECS cannot find is a failure, not an error.
      serviceDeployments: world.deployments.filter((d) => known.includes(d.serviceDeploymentArn!)).reverse(),
      failures: input.serviceDeploymentArns
        .filter((a) => unknown.includes(a))
        .map((arn) => ({ arn, reason: 'MISSING', detail: 'not found' })),
    };
  });
  ecs.on(DescribeServiceRevisionsCommand).callsFake((input: { serviceRevisionArns: string[] }) => {
    if (input.serviceRevisionArns.length > 20) throw new Error('InvalidParameterException: more than 20 ARNs');
    return {
      serviceRevisions: world.revisions
        .filter((r) => input.serviceRevisionArns.includes(r.serviceRevisionArn!))
        .reverse(),
      failures: [],
    };
  });
}

describe('releases (ListServiceDeployments pages, Describe* in batches of 20)', () => {
  it('lists the newest first across shuffled pages, with image, revision and outcome', async () => {
    // Given 45 deployments on 5 pages in no order; the newest was rolled back by ECS after an alarm
    const world = history(45, {
      44: {
        status: 'ROLLBACK_SUCCESSFUL',
        rollback: {
          reason:
            'Service deployment rolled back because the CloudWatch alarm softfactory-prod-5xx-rate was triggered.',
          startedAt: new Date(),
          serviceRevisionArn: revisionArn(43),
        },
        alarms: {
          status: 'TRIGGERED',
          alarmNames: ['softfactory-prod-5xx-rate'],
          triggeredAlarmNames: ['softfactory-prod-5xx-rate'],
        },
      },
    });
    answer(world);
    // When
    const releases = await readReleases(client(), 'softfactory-prod', 'softfactory-prod-web', { limit: 25 });
    // Then
    assert.equal(releases.length, 25);
    assert.deepEqual(
      releases.map((r) => r.deploymentArn),
      Array.from({ length: 25 }, (_, k) => deploymentArn(44 - k)),
    );
    const newest = releases[0]!;
    assert.equal(newest.outcome, 'rolled back');
    assert.equal(newest.revisionArn, revisionArn(44));
    assert.equal(newest.image, `${IMAGE}:v2.44`);
    assert.match(newest.trigger, /^release; ECS rollback: Service deployment rolled back because the CloudWatch alarm/);
    assert.deepEqual(newest.triggeredAlarms, ['softfactory-prod-5xx-rate']);
    assert.equal(releases[1]!.outcome, 'succeeded');
    assert.equal(releases[1]!.trigger, 'release');
    assert.equal(ecs.commandCalls(ListServiceDeploymentsCommand).length, 5);
    for (const call of ecs.commandCalls(DescribeServiceDeploymentsCommand)) {
      assert.ok(call.args[0].input.serviceDeploymentArns!.length <= 20);
    }
    // only the 25 shown are described: 20 + 5
    assert.deepEqual(
      ecs.commandCalls(DescribeServiceDeploymentsCommand).map((c) => c.args[0].input.serviceDeploymentArns!.length),
      [20, 5],
    );
  });

  it('calls a deployment to an older task-definition revision a revert, and the very first a first deployment', async () => {
    // Deployment 3 went back from revision 2 to revision 1 (what sfdeploy rollback's UpdateService does)
    const world = history(4, { 3: { fromRevision: 2, targetServiceRevision: { arn: revisionArn(1) } } });
    answer(world);
    const releases = await readReleases(client(), 'c', 's', { limit: 10 });
    assert.equal(releases[0]!.trigger, 'revert to an older revision');
    assert.equal(releases[0]!.revisionArn, revisionArn(1));
    assert.equal(releases.at(-1)!.trigger, 'first deployment');
  });

  it('still lists a deployment ECS could not describe, from its list entry', async () => {
    const world = history(3);
    answer(world, 10, [deploymentArn(1)]);
    const releases = await readReleases(client(), 'c', 's', { limit: 10 });
    assert.equal(releases.length, 3);
    assert.equal(releases[1]!.deploymentArn, deploymentArn(1));
    assert.equal(releases[1]!.revisionArn, revisionArn(1));
    assert.match(releases[1]!.trigger, /could not describe/);
  });

  it('passes --since as the createdAt filter', async () => {
    answer(history(2));
    await readReleases(client(), 'c', 's', { limit: 5, since: new Date('2026-10-02T00:00:00Z') });
    assert.deepEqual(ecs.commandCalls(ListServiceDeploymentsCommand)[0]!.args[0].input.createdAt, {
      after: new Date('2026-10-02T00:00:00Z'),
    });
  });
});

describe('sfdeploy releases (node bin/sfdeploy.js against a fake ECS)', () => {
  let aws: FakeAws;
  before(async () => {
    aws = await startFakeAws();
  });
  after(() => aws.close());

  const epoch = (d: Date | undefined) => (d ? d.getTime() / 1000 : undefined);

  it('prints one JSON document, newest first, and exits 0', async () => {
    const world = history(5);
    const list = briefs(world.deployments);
    aws.answer = (operation, input) => {
      if (operation === 'ListServiceDeployments') {
        const offset = Number(input['nextToken'] ?? 0);
        const page = list.slice(offset, offset + 2).map((b) => ({
          ...b,
          createdAt: epoch(b.createdAt),
          startedAt: epoch(b.startedAt),
          finishedAt: epoch(b.finishedAt),
        }));
        return ok({ serviceDeployments: page, ...(offset + 2 < list.length ? { nextToken: String(offset + 2) } : {}) });
      }
      if (operation === 'DescribeServiceDeployments') {
        const arns = input['serviceDeploymentArns'] as string[];
        return ok({
          serviceDeployments: world.deployments
            .filter((d) => arns.includes(d.serviceDeploymentArn!))
            .map((d) => ({
              ...d,
              createdAt: epoch(d.createdAt),
              startedAt: epoch(d.startedAt),
              finishedAt: epoch(d.finishedAt),
            })),
          failures: [],
        });
      }
      if (operation === 'DescribeServiceRevisions') {
        const arns = input['serviceRevisionArns'] as string[];
        return ok({
          serviceRevisions: world.revisions
            .filter((r) => arns.includes(r.serviceRevisionArn!))
            .map((r) => ({ ...r, createdAt: epoch(r.createdAt) })),
          failures: [],
        });
      }
      return awsError('InvalidParameterException', `unexpected ${operation}`);
    };
    const run = await cli(['releases', '--stage', 'prod', '--limit', '3', '--json'], { endpoint: aws.endpoint });
    assert.equal(run.status, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as {
      cluster: string;
      releases: { revisionArn: string; image: string; createdAt: string }[];
    };
    assert.equal(doc.cluster, 'softfactory-prod');
    assert.deepEqual(
      doc.releases.map((r) => r.revisionArn),
      [revisionArn(4), revisionArn(3), revisionArn(2)],
    );
    assert.equal(doc.releases[0]!.image, `${IMAGE}:v2.4`);
    assert.equal(doc.releases[0]!.createdAt, '2026-10-05T09:00:00.000Z');
    const table = await cli(['releases', '--stage', 'prod', '--limit', '2'], { endpoint: aws.endpoint });
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /revision \(for rollback --to-revision\)/);
    assert.match(
      table.stdout,
      new RegExp(`2026-10-05T09:00:00Z\\s+succeeded\\s+softfactory:v2\\.4\\s+release\\s+${revisionArn(4)}`),
    );
  });

  it('answers access denied with one line and exit 2 (with --json, the error document)', async () => {
    aws.answer = () =>
      awsError('AccessDeniedException', 'User is not authorized to perform: ecs:ListServiceDeployments');
    const run = await cli(['releases', '--stage', 'prod', '--json'], { endpoint: aws.endpoint });
    assert.equal(run.status, 2);
    assert.match(run.errors, /^sfdeploy: access denied by AWS \(AccessDeniedException\)/);
    assert.equal((JSON.parse(run.stdout) as { ok: boolean }).ok, false);
  });

  it('rejects a bad --limit and --since with one line and exit 2; --help has examples', async () => {
    const limit = await cli(['releases', '--stage', 'prod', '--limit', '0']);
    assert.equal(limit.status, 2);
    assert.equal(limit.errors, 'sfdeploy: --limit must be a whole number from 1 to 500, got "0"');
    const since = await cli(['releases', '--stage', 'prod', '--since', 'last week']);
    assert.equal(since.status, 2);
    assert.match(since.errors, /^sfdeploy: --since must be an ISO 8601 time/);
    const help = await cli(['releases', '--help']);
    assert.match(help.stdout, /Examples:\n {2}sfdeploy releases --stage prod\n/);
  });
});
