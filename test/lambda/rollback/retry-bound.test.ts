/**
 * The retry bound is real SDK behaviour, so it is tested against the real retry loop (a fake HTTP handler
 * answering ECS's throttling error), not through aws-sdk-client-mock, which replaces `send` and with it the
 * retry middleware.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { ECSClient, ListServiceDeploymentsCommand } from '@aws-sdk/client-ecs';
import { buildClients } from '../../../lambda/rollback/clients';
import { AWS_MAX_ATTEMPTS, clientOptions } from '../../../lambda/shared/sdk-options';
import { CLUSTER_ARN, REGION, SERVICE_ARN } from './fixtures';

describe('AWS retry bound', () => {
  it('gives every client of the function the same explicit bound of 3 attempts', async () => {
    const clients = buildClients(REGION);
    assert.equal(AWS_MAX_ATTEMPTS, 3);
    for (const client of Object.values(clients)) {
      assert.equal(await client.config.maxAttempts(), AWS_MAX_ATTEMPTS);
    }
  });

  it('gives up after 3 attempts when ECS keeps throttling, and surfaces ThrottlingException', async () => {
    let attempts = 0;
    const requestHandler = {
      handle: async () => {
        attempts++;
        return {
          response: {
            statusCode: 400,
            headers: {
              'content-type': 'application/x-amz-json-1.1',
              'x-amzn-requestid': `8d3c6a1e-0b7f-4e2a-9c5d-00000000000${attempts}`,
            },
            body: Readable.from([
              Buffer.from(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' })),
            ]),
          },
        };
      },
    };
    const ecs = new ECSClient(
      clientOptions(REGION, {
        credentials: {
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        },
        requestHandler,
      }),
    );

    await assert.rejects(
      ecs.send(new ListServiceDeploymentsCommand({ cluster: CLUSTER_ARN, service: SERVICE_ARN })),
      (error: Error) => {
        assert.equal(error.name, 'ThrottlingException');
        assert.equal((error as Error & { $metadata: { attempts: number } }).$metadata.attempts, 3);
        return true;
      },
    );
    assert.equal(attempts, AWS_MAX_ATTEMPTS);
  });
});
