/**
 * Mutual exclusion and idempotency on DynamoDB conditional writes.
 *
 * Table (created by the infrastructure): partition key `pk` (S), sort key `sk` (S), TTL attribute `expiresAt`
 * (N, epoch seconds). All items of one service share `pk` = service ARN:
 * - `sk = lock`: the per-service lock, a lease with an owner and an expiry. Expiry is enforced by the
 *   condition (`expiresAt < :now`), not by TTL: DynamoDB deletes expired items lazily (hours, even days).
 * - `sk = incident#<deployment ARN>`: one item per incident, `acting` while an attempt changes ECS, `done`
 *   after. Created with `attribute_not_exists`, so concurrent triggers for one incident make one change.
 * - `sk = last-rollback`: the service's last rollback, for the cooldown, the loop guard, and to tell whether
 *   an attempt that timed out mid-call changed ECS before a retry acts again.
 * Reads are strongly consistent: a stale read here is a second rollback.
 *
 * Why a store of our own and not Powertools' idempotency utility (@aws-lambda-powertools/idempotency): that utility
 * makes one handler call idempotent per request — it hashes the event (or a JMESPath subset of it) into a key, records
 * IN_PROGRESS, and returns the saved response to a repeat of the same payload until it expires
 * (https://aws.amazon.com/blogs/compute/implementing-idempotent-aws-lambda-functions-with-powertools-for-aws-lambda-typescript/).
 * What rollback needs is keyed by the service, not by the payload: different events (an alarm's SNS message, a
 * pipeline's direct invoke, a retry of either) for one incident must make one change; a lease must exclude a second
 * actor while the first changes ECS; and the last rollback must outlive every request for the cooldown and loop guard.
 * None of those is a cached response to an identical request.
 */
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { RollbackAction } from './decide';
import type { RollbackStore } from './ports';

type Item = Record<string, AttributeValue>;
type Plain = Record<string, string | number | undefined>;

function toItem(values: Plain): Item {
  const item: Item = {};
  for (const [k, v] of Object.entries(values)) {
    if (typeof v === 'string') item[k] = { S: v };
    else if (typeof v === 'number') item[k] = { N: String(v) };
  }
  return item;
}

function str(item: Item, key: string): string | undefined {
  const v = item[key];
  return v && 'S' in v ? v.S : undefined;
}

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

const epoch = (d: Date) => Math.floor(d.getTime() / 1000);
/** Incident and last-rollback items live 90 days: long enough for a post-mortem. */
const RECORD_TTL_SECONDS = 90 * 24 * 3600;

export function dynamoRollbackStore(
  ddb: DynamoDBClient,
  options: { readonly tableName: string; readonly serviceArn: string; readonly lockTtlSeconds: number },
): RollbackStore {
  const TableName = options.tableName;
  const pk = options.serviceArn;
  const key = (sk: string): Item => toItem({ pk, sk });
  const incidentSk = (deploymentArn: string) => `incident#${deploymentArn}`;

  return {
    async acquireLock(owner, now) {
      try {
        await ddb.send(
          new PutItemCommand({
            TableName,
            Item: toItem({
              pk,
              sk: 'lock',
              owner,
              acquiredAt: now.toISOString(),
              expiresAt: epoch(now) + options.lockTtlSeconds,
            }),
            ConditionExpression: 'attribute_not_exists(pk) OR #expiresAt < :now OR #owner = :owner',
            ExpressionAttributeNames: { '#expiresAt': 'expiresAt', '#owner': 'owner' },
            ExpressionAttributeValues: toItem({ ':now': epoch(now), ':owner': owner }),
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async releaseLock(owner) {
      try {
        await ddb.send(
          new DeleteItemCommand({
            TableName,
            Key: key('lock'),
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: toItem({ ':owner': owner }),
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    },

    async getIncident(deploymentArn) {
      const out = await ddb.send(
        new GetItemCommand({ TableName, Key: key(incidentSk(deploymentArn)), ConsistentRead: true }),
      );
      if (!out.Item) return undefined;
      const state = str(out.Item, 'state');
      return {
        key: str(out.Item, 'incidentKey') ?? `${pk}#${deploymentArn}`,
        state: state === 'done' ? 'done' : 'acting',
        owner: str(out.Item, 'owner') ?? '',
        updatedAt: str(out.Item, 'updatedAt') ?? '',
        action: str(out.Item, 'action') as RollbackAction | undefined,
      };
    },

    async claimIncident(deploymentArn, claim) {
      try {
        await ddb.send(
          new PutItemCommand({
            TableName,
            Item: toItem({
              pk,
              sk: incidentSk(deploymentArn),
              incidentKey: `${pk}#${deploymentArn}`,
              state: 'acting',
              owner: claim.owner,
              action: claim.action,
              startedAt: claim.now.toISOString(),
              updatedAt: claim.now.toISOString(),
              expiresAt: epoch(claim.now) + RECORD_TTL_SECONDS,
            }),
            ConditionExpression: 'attribute_not_exists(pk) OR (#state = :acting AND #updatedAt < :staleBefore)',
            ExpressionAttributeNames: { '#state': 'state', '#updatedAt': 'updatedAt' },
            ExpressionAttributeValues: toItem({ ':acting': 'acting', ':staleBefore': claim.staleBefore.toISOString() }),
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailure(error)) return false;
        throw error;
      }
    },

    async completeIncident(deploymentArn, owner, now, createdDeploymentArn) {
      await ddb.send(
        new UpdateItemCommand({
          TableName,
          Key: key(incidentSk(deploymentArn)),
          UpdateExpression: createdDeploymentArn
            ? 'SET #state = :done, #updatedAt = :now, createdDeploymentArn = :created'
            : 'SET #state = :done, #updatedAt = :now',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#state': 'state', '#updatedAt': 'updatedAt', '#owner': 'owner' },
          ExpressionAttributeValues: toItem({
            ':done': 'done',
            ':now': now.toISOString(),
            ':owner': owner,
            ...(createdDeploymentArn ? { ':created': createdDeploymentArn } : {}),
          }),
        }),
      );
    },

    async abandonIncident(deploymentArn, owner) {
      try {
        await ddb.send(
          new DeleteItemCommand({
            TableName,
            Key: key(incidentSk(deploymentArn)),
            ConditionExpression: '#owner = :owner AND #state = :acting',
            ExpressionAttributeNames: { '#owner': 'owner', '#state': 'state' },
            ExpressionAttributeValues: toItem({ ':owner': owner, ':acting': 'acting' }),
          }),
        );
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    },

    async markIncidentDone(deploymentArn, now) {
      await ddb.send(
        new UpdateItemCommand({
          TableName,
          Key: key(incidentSk(deploymentArn)),
          UpdateExpression: 'SET #state = :done, #updatedAt = :now, #expiresAt = :expires',
          ExpressionAttributeNames: { '#state': 'state', '#updatedAt': 'updatedAt', '#expiresAt': 'expiresAt' },
          ExpressionAttributeValues: toItem({
            ':done': 'done',
            ':now': now.toISOString(),
            ':expires': epoch(now) + RECORD_TTL_SECONDS,
          }),
        }),
      );
    },

    async getLastRollback() {
      const out = await ddb.send(new GetItemCommand({ TableName, Key: key('last-rollback'), ConsistentRead: true }));
      const item = out.Item;
      if (!item) return undefined;
      const action = str(item, 'action');
      const state = str(item, 'state');
      const incidentKey = str(item, 'incidentKey');
      const subjectDeploymentArn = str(item, 'subjectDeploymentArn');
      const startedAt = str(item, 'startedAt');
      if (
        (action !== 'stop-deployment' && action !== 'update-service') ||
        !incidentKey ||
        !subjectDeploymentArn ||
        !startedAt
      ) {
        return undefined;
      }
      return {
        incidentKey,
        subjectDeploymentArn,
        action,
        state: state === 'done' ? 'done' : 'acting',
        startedAt,
        updatedAt: str(item, 'updatedAt') ?? startedAt,
        fromTaskDefinition: str(item, 'fromTaskDefinition'),
        toTaskDefinition: str(item, 'toTaskDefinition'),
        createdDeploymentArn: str(item, 'createdDeploymentArn'),
      };
    },

    async putLastRollback(record, now) {
      await ddb.send(
        new PutItemCommand({
          TableName,
          Item: toItem({ pk, sk: 'last-rollback', ...record, expiresAt: epoch(now) + RECORD_TTL_SECONDS }),
        }),
      );
    },

    async deleteLastRollback() {
      await ddb.send(new DeleteItemCommand({ TableName, Key: key('last-rollback') }));
    },
  };
}
