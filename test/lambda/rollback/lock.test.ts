/** The DynamoDB store's conditional writes, against the in-memory table that honours ConditionExpression. */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoRollbackStore } from '../../../lambda/rollback/lock';
import type { RollbackStore } from '../../../lambda/rollback/ports';
import { evaluateCondition, FakeDynamoTable } from './fake-dynamodb';
import { deploymentArn, REGION, SERVICE_ARN, T0, TABLE, td } from './fixtures';

const at = (seconds: number) => new Date(T0 + seconds * 1000);
const DEPLOYMENT = deploymentArn('r9i43YFjvgF_xlg7m2eJ1r');

describe('rollback store (DynamoDB conditional writes)', () => {
  let table: FakeDynamoTable;
  let store: RollbackStore;

  beforeEach(() => {
    table = new FakeDynamoTable(TABLE);
    store = dynamoRollbackStore(new DynamoDBClient({ region: REGION }), {
      tableName: TABLE,
      serviceArn: SERVICE_ARN,
      lockTtlSeconds: 90,
    });
  });
  afterEach(() => table.restore());

  it('gives the service lock to one owner until it is released or expires', async () => {
    assert.equal(await store.acquireLock('a', at(0)), true);
    assert.equal(await store.acquireLock('b', at(10)), false);
    assert.equal(await store.acquireLock('a', at(20)), true, 're-entrant for its owner');
    await store.releaseLock('b');
    assert.ok(table.get(SERVICE_ARN, 'lock'), 'only the owner releases');
    assert.equal(await store.acquireLock('b', at(20 + 91)), true, 'an expired lease can be taken');
    await store.releaseLock('a');
    assert.equal(table.get(SERVICE_ARN, 'lock')?.['owner'], 'b', "a stale owner cannot release the new owner's lock");
    await store.releaseLock('b');
    assert.equal(table.get(SERVICE_ARN, 'lock'), undefined);
  });

  it('lets one attempt claim an incident; a stale acting claim can be retaken, a done one never', async () => {
    const claim = (owner: string, seconds: number) =>
      store.claimIncident(DEPLOYMENT, {
        owner,
        action: 'update-service',
        now: at(seconds),
        staleBefore: at(seconds - 120),
      });
    assert.equal(await claim('a', 0), true);
    assert.equal(await claim('b', 30), false, 'fresh acting claim');
    assert.equal(await claim('b', 121), true, 'acting claim older than the grace period');
    await store.completeIncident(DEPLOYMENT, 'b', at(125), deploymentArn('Qw8eRt5yUi3oPa1sDf7gHj'));
    assert.equal(await claim('c', 10_000), false, 'done is final');
    assert.deepEqual(await store.getIncident(DEPLOYMENT), {
      key: `${SERVICE_ARN}#${DEPLOYMENT}`,
      state: 'done',
      owner: 'b',
      updatedAt: at(125).toISOString(),
      action: 'update-service',
    });
  });

  it('refuses to complete or abandon an incident claimed by someone else', async () => {
    await store.claimIncident(DEPLOYMENT, { owner: 'a', action: 'stop-deployment', now: at(0), staleBefore: at(-120) });
    await assert.rejects(store.completeIncident(DEPLOYMENT, 'b', at(1)), { name: 'ConditionalCheckFailedException' });
    await store.abandonIncident(DEPLOYMENT, 'b');
    assert.equal((await store.getIncident(DEPLOYMENT))?.state, 'acting');
    await store.abandonIncident(DEPLOYMENT, 'a');
    assert.equal(await store.getIncident(DEPLOYMENT), undefined);
  });

  it('round-trips the last rollback', async () => {
    const record = {
      incidentKey: `${SERVICE_ARN}#${DEPLOYMENT}`,
      subjectDeploymentArn: DEPLOYMENT,
      action: 'update-service' as const,
      state: 'done' as const,
      startedAt: at(0).toISOString(),
      updatedAt: at(3).toISOString(),
      fromTaskDefinition: td(41),
      toTaskDefinition: td(40),
      createdDeploymentArn: deploymentArn('Qw8eRt5yUi3oPa1sDf7gHj'),
    };
    await store.putLastRollback(record, at(3));
    assert.deepEqual(await store.getLastRollback(), record);
    assert.equal(
      table.get(SERVICE_ARN, 'last-rollback')?.['expiresAt'],
      Math.floor(at(3).getTime() / 1000) + 90 * 24 * 3600,
    );
    await store.deleteLastRollback();
    assert.equal(await store.getLastRollback(), undefined);
  });
});

describe('fake DynamoDB condition evaluator', () => {
  const item = { pk: { S: 'p' }, state: { S: 'acting' }, expiresAt: { N: '100' } };
  const values = { ':acting': { S: 'acting' }, ':now': { N: '150' }, ':x': { S: 'x' } };
  const names = { '#state': 'state' };

  it('evaluates functions, comparisons, AND before OR, parentheses and NOT', () => {
    assert.equal(evaluateCondition('attribute_not_exists(pk)', undefined, names, values), true);
    assert.equal(evaluateCondition('attribute_not_exists(pk) OR expiresAt < :now', item, names, values), true);
    assert.equal(evaluateCondition('#state = :x OR #state = :acting AND expiresAt > :now', item, names, values), false);
    assert.equal(
      evaluateCondition('(#state = :x OR #state = :acting) AND NOT expiresAt > :now', item, names, values),
      true,
    );
    assert.equal(evaluateCondition('missing = :x', item, names, values), false, 'a missing attribute compares false');
  });

  it('rejects expressions it does not understand instead of guessing', () => {
    assert.throws(() => evaluateCondition('begins_with(pk, :x)', item, names, values));
    assert.throws(() => evaluateCondition('#nope = :x', item, names, values), /ExpressionAttributeNames/);
  });
});
