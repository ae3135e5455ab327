/**
 * Network failures reach the snapshot hook as the SDK raises them: Node socket errors with `code` (ECONNREFUSED,
 * ECONNRESET) and the SDK's own TimeoutError when an endpoint accepts and never answers. They are transient: the hook
 * answers IN_PROGRESS and ECS asks again after callBackDelay; FAILED would roll the release back over a network blip
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html: FAILED rolls back,
 * IN_PROGRESS re-invokes). Real RDS clients (the handler's own, with our timeouts) against real sockets on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ECSClient, ListServiceDeploymentsCommand } from '@aws-sdk/client-ecs';
import { clientOptions, SDK_REQUEST_TIMEOUT_MS } from '../../../lambda/shared/sdk-options';
import { isTransient } from '../../../lambda/snapshot-hook/core';
import { createHandler, snapshotHookRdsClient } from '../../../lambda/snapshot-hook/handler';

const CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const ENV = { STAGE: 'prod', DB_INSTANCE_ID: 'softfactory-prod-db', MAX_CREATE_ATTEMPTS: '3' };
const SNAPSHOT_ID = 'sf-prod-predeploy-0e1f2a3b4c5d-20251126104500';

function hookEvent(hookDetails?: Record<string, unknown>) {
  return {
    executionId: 'a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    lifecycleStage: 'PRE_SCALE_UP',
    resourceArn:
      'arn:aws:ecs:eu-west-1:123456789012:service-deployment/softfactory-prod/softfactory-prod-web/r9i43YFjvgF_xlg7m2eJ1r',
    executionDetails: {
      serviceArn: 'arn:aws:ecs:eu-west-1:123456789012:service/softfactory-prod/softfactory-prod-web',
      targetServiceRevisionArn:
        'arn:aws:ecs:eu-west-1:123456789012:service-revision/softfactory-prod/softfactory-prod-web/4980306466373585014',
      testTrafficWeights: {},
      productionTrafficWeights: {},
    },
    ...(hookDetails ? { hookDetails } : {}),
  };
}

/** A TCP server on 127.0.0.1 that treats every connection with `onConnection`. */
async function tcpServer(onConnection: (socket: Socket) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { server, url: `http://127.0.0.1:${address.port}` };
}

/** A port nobody listens on: bind one, note it, close it. */
async function closedPortUrl(): Promise<string> {
  const { server, url } = await tcpServer(() => undefined);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return url;
}

const quiet = { info: () => undefined, warn: () => undefined };

function handlerAt(endpoint: string, extra: Record<string, unknown> = {}) {
  const rds = snapshotHookRdsClient({ region: 'eu-west-1', endpoint, credentials: CREDENTIALS, ...extra });
  // ECS at the same unreachable endpoint: the hook cannot tell whether this is a revert, so it takes the snapshot.
  const ecs = new ECSClient(clientOptions('eu-west-1', { endpoint, credentials: CREDENTIALS, maxAttempts: 1 }));
  return createHandler({
    env: ENV,
    rds,
    ecs,
    log: quiet,
    now: () => new Date('2025-11-26T10:46:00Z'),
  });
}

describe('snapshot hook: SDK socket errors are transient, not FAILED', () => {
  const sockets = new Set<Socket>();
  let hanging: { server: Server; url: string };
  let resetting: { server: Server; url: string };
  before(async () => {
    hanging = await tcpServer((socket) => {
      sockets.add(socket); // accepts, reads, never answers
    });
    resetting = await tcpServer((socket) => {
      socket.on('data', () => socket.resetAndDestroy());
    });
  });
  after(() => {
    for (const s of sockets) s.destroy();
    hanging.server.close();
    resetting.server.close();
  });

  it('classifies a Node socket error by its code (the SDK keeps name "Error")', () => {
    for (const code of ['ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET']) {
      assert.equal(isTransient(Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code })), true, code);
    }
    assert.equal(isTransient(Object.assign(new Error('denied'), { name: 'AccessDenied', $fault: 'client' })), false);
  });

  it('answers IN_PROGRESS when RDS refuses the connection (ECONNREFUSED) while the snapshot is being read', async () => {
    const handler = handlerAt(await closedPortUrl());
    const answer = await handler(hookEvent({ snapshotId: SNAPSHOT_ID, snapshotRequestedAt: '2025-11-26T10:45:00Z' }));
    assert.equal(answer.hookStatus, 'IN_PROGRESS');
    assert.equal(answer.hookDetails?.['snapshotId'], SNAPSHOT_ID);
  });

  it('answers IN_PROGRESS (one create attempt counted) when CreateDBSnapshot cannot connect (ECONNREFUSED)', async () => {
    const handler = handlerAt(await closedPortUrl());
    const answer = await handler(hookEvent());
    assert.equal(answer.hookStatus, 'IN_PROGRESS');
    assert.equal(answer.hookDetails?.['createAttempts'], 1);
  });

  it('answers IN_PROGRESS when RDS resets the connection (ECONNRESET)', async () => {
    const handler = handlerAt(resetting.url);
    const answer = await handler(hookEvent({ snapshotId: SNAPSHOT_ID, snapshotRequestedAt: '2025-11-26T10:45:00Z' }));
    assert.equal(answer.hookStatus, 'IN_PROGRESS');
  });

  it(`gives up on an endpoint that never answers after its ${SDK_REQUEST_TIMEOUT_MS / 1000} s request timeout, far inside the hook's 60 s, and answers IN_PROGRESS`, async () => {
    const handler = handlerAt(hanging.url, { maxAttempts: 1 });
    const started = Date.now();
    const answer = await handler(hookEvent({ snapshotId: SNAPSHOT_ID, snapshotRequestedAt: '2025-11-26T10:45:00Z' }));
    const took = Date.now() - started;
    assert.equal(answer.hookStatus, 'IN_PROGRESS');
    assert.ok(took >= SDK_REQUEST_TIMEOUT_MS - 500 && took < 15_000, `took ${took} ms`);
  });

  it("gives the rollback function's clients the same request timeout (a hanging ECS endpoint fails the call, not the function)", async () => {
    const ecs = new ECSClient(
      clientOptions('eu-west-1', { endpoint: hanging.url, credentials: CREDENTIALS, maxAttempts: 1 }),
    );
    const started = Date.now();
    await assert.rejects(
      ecs.send(new ListServiceDeploymentsCommand({ service: 'softfactory-prod-web' })),
      (error: Error) => {
        assert.equal(error.name, 'TimeoutError');
        return true;
      },
    );
    assert.ok(Date.now() - started < 15_000);
  });
});
