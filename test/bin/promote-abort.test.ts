/**
 * `sfdeploy promote` / `sfdeploy abort` (issue 14 point 3): the pure core against aws-sdk-client-mock, and the CLI
 * through `node bin/sfdeploy.js` against a fake ECS endpoint. The fakes answer as the API reference documents:
 * ListServiceDeployments pages with nextToken in no promised order and filters by status
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html); DescribeServiceDeployments
 * takes at most 20 ARNs and reports lifecycleHookDetails {hookId, targetType, targetArn, status, expiresAt,
 * timeoutAction} (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceDeployments.html);
 * ContinueServiceDeployment takes serviceDeploymentArn, hookId, action and answers serviceDeploymentArn, for a pause
 * hook in AWAITING_ACTION of an IN_PROGRESS deployment only
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/continue-service-deployment.html).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  ClientException,
  ContinueServiceDeploymentCommand,
  type ContinueServiceDeploymentCommandInput,
  DescribeServiceDeploymentsCommand,
  type DescribeServiceDeploymentsCommandInput,
  ECSClient,
  ListServiceDeploymentsCommand,
  type ListServiceDeploymentsCommandInput,
  type ServiceDeployment,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { actOnPausedRelease, findPausedReleases, NothingToAct } from '../../bin/commands/promote';
import { type Answer, awsError, cli, type FakeAws, ok, startFakeAws } from '../helpers/fake-aws';

const ACCOUNT = '123456789012';
const CLUSTER = 'softfactory-prod';
const SERVICE = 'softfactory-prod-web';
const SERVICE_ARN = `arn:aws:ecs:eu-west-1:${ACCOUNT}:service/${CLUSTER}/${SERVICE}`;
const deploymentArn = (id: string) => `arn:aws:ecs:eu-west-1:${ACCOUNT}:service-deployment/${CLUSTER}/${SERVICE}/${id}`;
const SMOKE_ARN = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:softfactory-prod-smoke`;
const PAUSE_ID = 'ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw';

type Status = NonNullable<ServiceDeployment['status']>;
type HookStatus = 'AWAITING_ACTION' | 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';

/** A deployment as ECS describes it, with a smoke Lambda hook and (optionally) a pause hook. */
function deployment(
  id: string,
  status: Status,
  pause?: HookStatus,
  smoke: HookStatus = 'SUCCEEDED',
): ServiceDeployment {
  return {
    serviceDeploymentArn: deploymentArn(id),
    serviceArn: SERVICE_ARN,
    clusterArn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:cluster/${CLUSTER}`,
    status,
    lifecycleStage: 'POST_TEST_TRAFFIC_SHIFT',
    createdAt: new Date('2026-12-03T12:00:00Z'),
    targetServiceRevision: { arn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:service-revision/${CLUSTER}/${SERVICE}/${id}9` },
    lifecycleHookDetails: [
      { hookId: `ecs-lambda-${id}`, targetType: 'AWS_LAMBDA', targetArn: SMOKE_ARN, status: smoke },
      ...(pause
        ? [
            {
              hookId: id === 'paused' ? PAUSE_ID : `ecs-pause-${id}`,
              targetType: 'PAUSE' as const,
              status: pause,
              expiresAt: new Date('2026-12-03T16:00:00Z'),
              timeoutAction: 'ROLLBACK' as const,
            },
          ]
        : []),
    ],
  };
}

/**
 * ECS holding `world`: ListServiceDeployments filters by status and answers two per page, newest not first;
 * ContinueServiceDeployment refuses anything but an AWAITING_ACTION pause of an IN_PROGRESS deployment.
 */
function installEcs(
  mock: ReturnType<typeof mockClient>,
  world: ServiceDeployment[],
): ContinueServiceDeploymentCommandInput[] {
  const continued: ContinueServiceDeploymentCommandInput[] = [];
  mock.on(ListServiceDeploymentsCommand).callsFake(async (input: ListServiceDeploymentsCommandInput) => {
    assert.equal(input.cluster, CLUSTER);
    assert.equal(input.service, SERVICE);
    const matching = world.filter((d) => !input.status || input.status.includes(d.status as never));
    const offset = input.nextToken ? Number(input.nextToken.slice(4)) : 0;
    const page = matching.slice(offset, offset + 2);
    return {
      serviceDeployments: page.map((d) => ({ serviceDeploymentArn: d.serviceDeploymentArn, status: d.status })),
      ...(offset + 2 < matching.length ? { nextToken: `tok-${offset + 2}` } : {}),
    };
  });
  mock.on(DescribeServiceDeploymentsCommand).callsFake(async (input: DescribeServiceDeploymentsCommandInput) => {
    const arns = input.serviceDeploymentArns ?? [];
    if (arns.length > 20) throw new Error('at most 20 ARNs');
    return { serviceDeployments: world.filter((d) => arns.includes(d.serviceDeploymentArn ?? '')), failures: [] };
  });
  mock.on(ContinueServiceDeploymentCommand).callsFake(async (input: ContinueServiceDeploymentCommandInput) => {
    const d = world.find((w) => w.serviceDeploymentArn === input.serviceDeploymentArn);
    const hook = d?.lifecycleHookDetails?.find((h) => h.hookId === input.hookId);
    if (d?.status !== 'IN_PROGRESS' || hook?.targetType !== 'PAUSE' || hook.status !== 'AWAITING_ACTION') {
      throw new ClientException({ message: 'The hook is not awaiting action.', $metadata: { httpStatusCode: 400 } });
    }
    continued.push(input);
    hook.status = 'SUCCEEDED';
    return { serviceDeploymentArn: input.serviceDeploymentArn };
  });
  return continued;
}

describe('promote/abort core (aws-sdk-client-mock)', () => {
  const ecs = mockClient(ECSClient);
  const client = new ECSClient({ region: 'eu-west-1' });
  afterEach(() => ecs.reset());
  after(() => ecs.restore());
  const target = { cluster: CLUSTER, service: SERVICE, stage: 'prod' };

  it('finds the paused release on a later page among in-progress deployments, ignoring finished ones', async () => {
    installEcs(ecs, [
      deployment('old', 'SUCCESSFUL', 'SUCCEEDED'),
      deployment('lambdaonly', 'IN_PROGRESS'),
      deployment('other', 'IN_PROGRESS'),
      deployment('paused', 'IN_PROGRESS', 'AWAITING_ACTION', 'IN_PROGRESS'),
    ]);
    const found = await findPausedReleases(client, CLUSTER, SERVICE);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.serviceDeploymentArn, deploymentArn('paused'));
    assert.equal(found[0]?.hookId, PAUSE_ID);
    assert.equal(found[0]?.expiresAt, '2026-12-03T16:00:00.000Z');
    assert.deepEqual(found[0]?.otherHooks, [{ targetType: 'AWS_LAMBDA', targetArn: SMOKE_ARN, status: 'IN_PROGRESS' }]);
    assert.ok(ecs.commandCalls(ListServiceDeploymentsCommand).length >= 2, 'read every page');
    for (const call of ecs.commandCalls(ListServiceDeploymentsCommand)) {
      assert.deepEqual(call.args[0].input.status, ['IN_PROGRESS']);
    }
  });

  it('promote answers CONTINUE with the deployment ARN and hook id of the pause', async () => {
    const continued = installEcs(ecs, [deployment('paused', 'IN_PROGRESS', 'AWAITING_ACTION')]);
    const result = await actOnPausedRelease(client, target, 'CONTINUE');
    assert.deepEqual(continued, [
      { serviceDeploymentArn: deploymentArn('paused'), hookId: PAUSE_ID, action: 'CONTINUE' },
    ]);
    assert.equal(result.serviceDeploymentArn, deploymentArn('paused'));
  });

  it('abort answers ROLLBACK', async () => {
    const continued = installEcs(ecs, [deployment('paused', 'IN_PROGRESS', 'AWAITING_ACTION')]);
    await actOnPausedRelease(client, target, 'ROLLBACK');
    assert.equal(continued[0]?.action, 'ROLLBACK');
  });

  for (const [what, world] of [
    ['no deployment in flight', [deployment('old', 'SUCCESSFUL', 'SUCCEEDED')]],
    ['an in-flight deployment whose pause was already answered', [deployment('done', 'IN_PROGRESS', 'SUCCEEDED')]],
    ['an in-flight deployment whose pause timed out', [deployment('late', 'IN_PROGRESS', 'TIMED_OUT')]],
    ['an in-flight deployment with no pause hook', [deployment('plain', 'IN_PROGRESS')]],
  ] as const) {
    it(`refuses, without calling ContinueServiceDeployment, when there is ${what}`, async () => {
      installEcs(ecs, [...world]);
      await assert.rejects(actOnPausedRelease(client, target, 'CONTINUE'), (error: unknown) => {
        assert.ok(error instanceof NothingToAct);
        assert.match(error.message, /is paused for approval: nothing to promote/);
        return true;
      });
      assert.equal(ecs.commandCalls(ContinueServiceDeploymentCommand).length, 0);
    });
  }

  it('refuses to guess between two paused releases, and acts on the one --deployment names', async () => {
    const continued = installEcs(ecs, [
      deployment('paused', 'IN_PROGRESS', 'AWAITING_ACTION'),
      deployment('second', 'IN_PROGRESS', 'AWAITING_ACTION'),
    ]);
    await assert.rejects(actOnPausedRelease(client, target, 'CONTINUE'), /2 releases are paused.*--deployment <arn>/);
    await actOnPausedRelease(client, { ...target, deploymentArn: deploymentArn('second') }, 'ROLLBACK');
    assert.deepEqual(continued, [
      { serviceDeploymentArn: deploymentArn('second'), hookId: 'ecs-pause-second', action: 'ROLLBACK' },
    ]);
  });

  it('says ECS refused when the pause ends between the read and the call (timed out meanwhile)', async () => {
    const world = [deployment('paused', 'IN_PROGRESS', 'AWAITING_ACTION')];
    installEcs(ecs, world);
    ecs.on(DescribeServiceDeploymentsCommand).callsFake(async () => {
      const described = structuredClone(world);
      const pause = world[0]?.lifecycleHookDetails?.[1];
      if (pause) pause.status = 'TIMED_OUT'; // ECS takes the timeout action right after answering
      return { serviceDeployments: described, failures: [] };
    });
    await assert.rejects(actOnPausedRelease(client, target, 'CONTINUE'), (error: unknown) => {
      assert.ok(error instanceof NothingToAct);
      assert.match(error.message, /ECS refused to promote .*ClientException.*timed out or been answered/);
      return true;
    });
  });
});

describe('sfdeploy promote / abort (node bin/sfdeploy.js against a fake ECS)', () => {
  let fake: FakeAws;
  let world: ServiceDeployment[];
  const seconds = (d: Date | undefined) => (d ? d.getTime() / 1000 : undefined);
  /** The JSON protocol's view of a deployment: timestamps as epoch seconds. */
  const wire = (d: ServiceDeployment) => ({
    ...d,
    createdAt: seconds(d.createdAt),
    lifecycleHookDetails: d.lifecycleHookDetails?.map((h) => ({ ...h, expiresAt: seconds(h.expiresAt) })),
  });
  before(async () => {
    fake = await startFakeAws((operation, input): Answer => {
      if (operation === 'ListServiceDeployments') {
        const status = input['status'] as string[] | undefined;
        const matching = world.filter((d) => !status || status.includes(String(d.status)));
        return ok({
          serviceDeployments: matching.map((d) => ({ serviceDeploymentArn: d.serviceDeploymentArn, status: d.status })),
        });
      }
      if (operation === 'DescribeServiceDeployments') {
        const arns = input['serviceDeploymentArns'] as string[];
        return ok({
          serviceDeployments: world.filter((d) => arns.includes(String(d.serviceDeploymentArn))).map(wire),
          failures: [],
        });
      }
      if (operation === 'ContinueServiceDeployment') return ok({ serviceDeploymentArn: input['serviceDeploymentArn'] });
      return awsError('UnknownOperationException', operation);
    });
  });
  after(() => fake.close());
  const run = (args: string[]) => cli(args, { endpoint: fake.endpoint });
  const continues = () => fake.seen.filter((s) => s.operation === 'ContinueServiceDeployment').map((s) => s.input);

  it('promote: exit 0, ContinueServiceDeployment CONTINUE, and a JSON document with --json', async () => {
    world = [deployment('paused', 'IN_PROGRESS', 'AWAITING_ACTION')];
    const before = continues().length;
    const result = await run(['promote', '--stage', 'prod', '--json']);
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(continues().slice(before), [
      { serviceDeploymentArn: deploymentArn('paused'), hookId: PAUSE_ID, action: 'CONTINUE' },
    ]);
    const doc = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.equal(doc['ok'], true);
    assert.equal(doc['action'], 'CONTINUE');
    assert.equal(doc['serviceDeploymentArn'], deploymentArn('paused'));
    assert.equal(doc['lifecycleStage'], 'POST_TEST_TRAFFIC_SHIFT');
  });

  it('abort --reason: exit 0, ROLLBACK, the reason in the output', async () => {
    world = [deployment('paused', 'IN_PROGRESS', 'AWAITING_ACTION')];
    const before = continues().length;
    const result = await run(['abort', '--stage', 'prod', '--reason', 'checkout renders blank']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(continues().slice(before)[0]?.['action'], 'ROLLBACK');
    assert.match(result.stdout, /ROLLBACK/);
    assert.match(result.stdout, /checkout renders blank/);
    assert.match(result.stdout, /production traffic never moved/);
  });

  it('nothing paused: exit 1, one sfdeploy line, no ContinueServiceDeployment; --json says ok:false', async () => {
    world = [deployment('old', 'SUCCESSFUL', 'SUCCEEDED')];
    const before = continues().length;
    const plain = await run(['promote', '--stage', 'prod']);
    assert.equal(plain.status, 1);
    assert.equal(plain.errors.split('\n').length, 1);
    assert.match(
      plain.errors,
      /^sfdeploy: no release of softfactory-prod\/softfactory-prod-web is paused for approval: nothing to promote/,
    );
    const json = await run(['abort', '--stage', 'prod', '--json']);
    assert.equal(json.status, 1);
    const doc = JSON.parse(json.stdout) as { ok: boolean; error: { exitCode: number; message: string } };
    assert.equal(doc.ok, false);
    assert.equal(doc.error.exitCode, 1);
    assert.match(doc.error.message, /nothing to abort/);
    assert.equal(continues().length, before);
  });

  it('a usage mistake is exit 2 and one line; access denied is exit 2 and says so', async () => {
    const bad = await run(['promote', '--stage', 'qa']);
    assert.equal(bad.status, 2);
    assert.match(bad.errors, /^sfdeploy: --stage must be one of dev, staging, prod, got "qa"$/);
    const denied = await cli(['abort', '--stage', 'prod'], { endpoint: (await deniedEcs()).endpoint });
    assert.equal(denied.status, 2);
    assert.match(denied.errors, /^sfdeploy: access denied by AWS \(AccessDeniedException\)/);
  });

  for (const command of ['promote', 'abort']) {
    it(`${command} --help ends with an Examples block`, async () => {
      const help = await run([command, '--help']);
      assert.equal(help.status, 0);
      assert.match(help.stdout, new RegExp(`Examples:\\n(  sfdeploy ${command} --stage .*\\n)+$`));
    });
  }

  const denied: FakeAws[] = [];
  async function deniedEcs(): Promise<FakeAws> {
    const f = await startFakeAws(() =>
      awsError('AccessDeniedException', 'not authorized to perform ecs:ListServiceDeployments'),
    );
    denied.push(f);
    return f;
  }
  after(async () => {
    for (const f of denied) await f.close();
  });
});
