/**
 * SDK clients of the rollback function, built with the shared options (lambda/shared/sdk-options.ts: bounded
 * retries, socket timeouts). After the last attempt the error reaches the handler, which throws, so Lambda's
 * asynchronous retries (and then the on-failure destination / dead-letter queue) take over.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { RDSClient } from '@aws-sdk/client-rds';
import { SNSClient } from '@aws-sdk/client-sns';
import { clientOptions } from '../shared/sdk-options';

export interface RollbackClients {
  readonly ecs: ECSClient;
  readonly cloudwatch: CloudWatchClient;
  readonly dynamodb: DynamoDBClient;
  readonly sns: SNSClient;
  readonly rds: RDSClient;
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
