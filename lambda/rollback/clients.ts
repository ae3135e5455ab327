/**
 * SDK clients of the rollback function, with the retry bound spelled out. The standard retry strategy
 * retries throttling and transient errors with exponential backoff and jitter; after AWS_MAX_ATTEMPTS the
 * error reaches the handler, which throws, so Lambda's asynchronous retries (and then the on-failure
 * destination / dead-letter queue) take over. Nothing here retries forever.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { RDSClient } from '@aws-sdk/client-rds';
import { SNSClient } from '@aws-sdk/client-sns';

/** Attempts per AWS call, the first included. */
export const AWS_MAX_ATTEMPTS = 3;

export interface RollbackClients {
  readonly ecs: ECSClient;
  readonly cloudwatch: CloudWatchClient;
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly rds: RDSClient;
}

/** Options shared by every client; `extra` exists for tests that exercise the real retry loop. */
export function clientOptions(region: string, extra: Record<string, unknown> = {}) {
  return { region, maxAttempts: AWS_MAX_ATTEMPTS, retryMode: 'standard', ...extra } as const;
}

export function buildClients(region: string): RollbackClients {
  const options = clientOptions(region);
  return {
    ecs: new ECSClient(options),
    cloudwatch: new CloudWatchClient(options),
    dynamodb: new DynamoDBClient(options),
    sns: new SNSClient(options),
    rds: new RDSClient(options),
  };
}
