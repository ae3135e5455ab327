/**
 * Amazon SNS subscription filter-policy matching, as documented, for the operators our templates may use:
 * - https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html: "each property name in the
 *   filter policy matches a message attribute name [or body property name]. For each matching property name in the
 *   filter policy, at least one property value matches"; properties not named in the policy are ignored.
 * - https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering-scope.html: FilterPolicyScope MessageAttributes
 *   (default) or MessageBody.
 * - https://docs.aws.amazon.com/sns/latest/dg/message-filtering.html: body policies assume the payload is a
 *   well-formed JSON object (anything else matches no property, so it is not delivered).
 * - Operators: exact string/number values, `prefix`, `suffix`, `anything-but` (list), `exists`
 *   (https://docs.aws.amazon.com/sns/latest/dg/string-value-matching.html,
 *   https://docs.aws.amazon.com/sns/latest/dg/attribute-key-matching.html). Anything else throws, so a policy this
 *   evaluator cannot judge fails the test instead of passing it.
 */
export interface SnsMessage {
  readonly body: string;
  readonly attributes?: Readonly<Record<string, { readonly Type: string; readonly Value: string }>>;
}

type Condition = string | number | Record<string, unknown>;

function valueMatches(condition: Condition, present: boolean, value: unknown): boolean {
  if (typeof condition === 'string' || typeof condition === 'number') {
    if (!present) return false;
    const values = Array.isArray(value) ? value : [value];
    return values.some((v) => v === condition || (typeof condition === 'number' && Number(v) === condition));
  }
  const [op, arg] = Object.entries(condition)[0] ?? [];
  if (op === 'exists') return arg === present;
  if (!present) return false;
  const text = String(value);
  switch (op) {
    case 'prefix':
      return text.startsWith(String(arg));
    case 'suffix':
      return text.endsWith(String(arg));
    case 'anything-but':
      return !(Array.isArray(arg) ? arg : [arg]).includes(value);
    default:
      throw new Error(`filter operator ${op} is not modelled here`);
  }
}

function objectMatches(policy: Record<string, unknown>, target: Record<string, unknown>): boolean {
  return Object.entries(policy).every(([key, conditions]) => {
    const present = Object.hasOwn(target, key);
    const value = target[key];
    if (!Array.isArray(conditions)) {
      // Nested body properties: the policy nests like the payload.
      return (
        present &&
        typeof value === 'object' &&
        value !== null &&
        objectMatches(conditions as Record<string, unknown>, value as Record<string, unknown>)
      );
    }
    return (conditions as Condition[]).some((c) => valueMatches(c, present, value));
  });
}

/** Would SNS deliver `message` to a subscription with this FilterPolicy / FilterPolicyScope? */
export function snsFilterAccepts(
  policy: Record<string, unknown> | undefined,
  scope: string | undefined,
  message: SnsMessage,
): boolean {
  if (!policy) return true;
  if (scope === 'MessageBody') {
    let body: unknown;
    try {
      body = JSON.parse(message.body);
    } catch {
      return false;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
    return objectMatches(policy, body as Record<string, unknown>);
  }
  const attributes: Record<string, unknown> = {};
  for (const [key, a] of Object.entries(message.attributes ?? {})) {
    attributes[key] = a.Type === 'String.Array' ? JSON.parse(a.Value) : a.Value;
  }
  return objectMatches(policy, attributes);
}
