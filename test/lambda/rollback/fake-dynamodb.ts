/**
 * A tiny in-memory DynamoDB table behind a mocked DynamoDBClient (aws-sdk-client-mock), so the lock and
 * incident records behave like the real service: PutItem/UpdateItem/DeleteItem honour ConditionExpression
 * and fail with ConditionalCheckFailedException, UpdateItem upserts, GetItem returns copies.
 *
 * Supported expression grammar (what lambda/rollback/lock.ts uses, and a little more):
 *   cond  := or ; or := and ('OR' and)* ; and := not ('AND' not)* ; not := 'NOT' not | atom
 *   atom  := '(' cond ')' | attribute_exists(path) | attribute_not_exists(path) | operand cmp operand
 *   cmp   := = | <> | < | <= | > | >=  ;  operand := name | #name | :value
 *   update := 'SET' path '=' :value (',' path '=' :value)*
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DeleteItemCommandInput,
  DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

type Item = Record<string, AttributeValue>;
type Names = Record<string, string> | undefined;
type Values = Record<string, AttributeValue> | undefined;

function tokenize(expression: string): string[] {
  const tokens = expression.match(/\(|\)|,|<>|<=|>=|=|<|>|[#:]?[A-Za-z_][A-Za-z0-9_.-]*/g);
  return tokens ?? [];
}

function scalar(v: AttributeValue | undefined): string | number | undefined {
  if (!v) return undefined;
  if ('S' in v && v.S !== undefined) return v.S;
  if ('N' in v && v.N !== undefined) return Number(v.N);
  return undefined;
}

export function evaluateCondition(expression: string, item: Item | undefined, names: Names, values: Values): boolean {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++];
  const expect = (t: string) => {
    if (next() !== t) throw new Error(`fake-dynamodb: expected ${t} in "${expression}"`);
  };
  const attributeName = (token: string) => {
    if (token.startsWith('#')) {
      const name = names?.[token];
      if (!name) throw new Error(`fake-dynamodb: ${token} not in ExpressionAttributeNames`);
      return name;
    }
    return token;
  };
  const operand = (): AttributeValue | undefined => {
    const t = next();
    if (!t) throw new Error(`fake-dynamodb: unexpected end of "${expression}"`);
    if (t.startsWith(':')) {
      const v = values?.[t];
      if (!v) throw new Error(`fake-dynamodb: ${t} not in ExpressionAttributeValues`);
      return v;
    }
    return item?.[attributeName(t)];
  };
  const atom = (): boolean => {
    const t = peek();
    if (t === '(') {
      next();
      const v = or();
      expect(')');
      return v;
    }
    if (t === 'attribute_exists' || t === 'attribute_not_exists') {
      next();
      expect('(');
      const path = attributeName(next() ?? '');
      expect(')');
      const exists = item !== undefined && item[path] !== undefined;
      return t === 'attribute_exists' ? exists : !exists;
    }
    const left = scalar(operand());
    const op = next();
    const right = scalar(operand());
    if (left === undefined || right === undefined) return false;
    switch (op) {
      case '=':
        return left === right;
      case '<>':
        return left !== right;
      case '<':
        return left < right;
      case '<=':
        return left <= right;
      case '>':
        return left > right;
      case '>=':
        return left >= right;
      default:
        throw new Error(`fake-dynamodb: unsupported operator ${op}`);
    }
  };
  const not = (): boolean => {
    if (peek() === 'NOT') {
      next();
      return !not();
    }
    return atom();
  };
  const and = (): boolean => {
    let v = not();
    while (peek() === 'AND') {
      next();
      const r = not();
      v = v && r;
    }
    return v;
  };
  const or = (): boolean => {
    let v = and();
    while (peek() === 'OR') {
      next();
      const r = and();
      v = v || r;
    }
    return v;
  };
  const result = or();
  if (i !== tokens.length) throw new Error(`fake-dynamodb: trailing tokens in "${expression}"`);
  return result;
}

function applyUpdate(expression: string, item: Item, names: Names, values: Values): Item {
  const m = /^\s*SET\s+(.+)$/i.exec(expression);
  if (!m) throw new Error(`fake-dynamodb: only SET updates are supported: "${expression}"`);
  const updated: Item = { ...item };
  for (const assignment of m[1]!.split(',')) {
    const [path, value] = assignment.split('=').map((s) => s.trim());
    if (!path || !value) throw new Error(`fake-dynamodb: cannot parse "${assignment}"`);
    const name = path.startsWith('#') ? names?.[path] : path;
    const v = values?.[value];
    if (!name || !v) throw new Error(`fake-dynamodb: unresolved "${assignment}"`);
    updated[name] = v;
  }
  return updated;
}

function conditionFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: { httpStatusCode: 400 },
  });
}

export class FakeDynamoTable {
  readonly items = new Map<string, Item>();
  /** The mocked client: every DynamoDBClient instance answers from this table until `restore()`. */
  readonly mock = mockClient(DynamoDBClient);
  /** Counts of calls per operation, for assertions. */
  readonly calls = { put: 0, get: 0, update: 0, delete: 0, conditionFailures: 0 };

  constructor(readonly tableName: string) {
    this.install();
  }

  restore(): void {
    this.mock.restore();
  }

  private keyOf(key: Item | undefined): string {
    return `${scalar(key?.['pk'])}\u0000${scalar(key?.['sk'])}`;
  }

  private checkTable(name: string | undefined): void {
    if (name !== this.tableName) throw new Error(`fake-dynamodb: unexpected table ${name}`);
  }

  private check(expression: string | undefined, item: Item | undefined, names: Names, values: Values): void {
    if (expression && !evaluateCondition(expression, item, names, values)) {
      this.calls.conditionFailures++;
      throw conditionFailed();
    }
  }

  private install(): void {
    const mock = this.mock;
    mock.reset();
    mock.on(PutItemCommand).callsFake(async (input: PutItemCommandInput) => {
      this.checkTable(input.TableName);
      this.calls.put++;
      const k = this.keyOf(input.Item);
      this.check(
        input.ConditionExpression,
        this.items.get(k),
        input.ExpressionAttributeNames,
        input.ExpressionAttributeValues,
      );
      this.items.set(k, structuredClone(input.Item ?? {}));
      return {};
    });
    mock.on(GetItemCommand).callsFake(async (input: GetItemCommandInput) => {
      this.checkTable(input.TableName);
      this.calls.get++;
      const item = this.items.get(this.keyOf(input.Key));
      return item ? { Item: structuredClone(item) } : {};
    });
    mock.on(DeleteItemCommand).callsFake(async (input: DeleteItemCommandInput) => {
      this.checkTable(input.TableName);
      this.calls.delete++;
      const k = this.keyOf(input.Key);
      this.check(
        input.ConditionExpression,
        this.items.get(k),
        input.ExpressionAttributeNames,
        input.ExpressionAttributeValues,
      );
      this.items.delete(k);
      return {};
    });
    mock.on(UpdateItemCommand).callsFake(async (input: UpdateItemCommandInput) => {
      this.checkTable(input.TableName);
      this.calls.update++;
      const k = this.keyOf(input.Key);
      const existing = this.items.get(k);
      this.check(input.ConditionExpression, existing, input.ExpressionAttributeNames, input.ExpressionAttributeValues);
      const base = existing ?? { ...(input.Key ?? {}) };
      this.items.set(
        k,
        applyUpdate(
          input.UpdateExpression ?? '',
          base,
          input.ExpressionAttributeNames,
          input.ExpressionAttributeValues,
        ),
      );
      return {};
    });
  }

  /** Plain view of one item (S and N only), for assertions. */
  get(pk: string, sk: string): Record<string, string | number> | undefined {
    const item = this.items.get(`${pk}\u0000${sk}`);
    if (!item) return undefined;
    return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, scalar(v) ?? ''])) as Record<
      string,
      string | number
    >;
  }

  itemsOf(pk: string): Record<string, Record<string, string | number>> {
    const out: Record<string, Record<string, string | number>> = {};
    for (const key of this.items.keys()) {
      const [p, s] = key.split('\u0000');
      if (p === pk && s) out[s] = this.get(p, s)!;
    }
    return out;
  }
}
