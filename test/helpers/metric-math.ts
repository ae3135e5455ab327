/**
 * A small evaluator of CloudWatch metric math, for tests that check what a math alarm computes. It covers the subset
 * our alarms use — FILL(x, v), MAX([a, b]), IF(cond, a, b), arithmetic and comparisons — with CloudWatch's rule that
 * an expression over an input with no datapoint (and no FILL) has no datapoint either
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html).
 * Test infrastructure with its own tests (metric-math.test.ts): a wrong evaluator would make alarm tests lie.
 */
import assert from 'node:assert/strict';

/** A query of `AWS::CloudWatch::Alarm` `Metrics`, as the template has it. */
export interface MetricQuery {
  Id: string;
  Expression?: string;
  MetricStat?: { Metric: { MetricName: string } };
  ReturnData?: boolean;
}

/**
 * Evaluates a math alarm's returned expression for one period, as CloudWatch would. `values` holds one datapoint
 * per metric name; a metric left out has no datapoint in that period.
 */
export function evaluate(alarm: { Metrics?: MetricQuery[] }, values: Record<string, number>): number | undefined {
  const queries = new Map((alarm.Metrics ?? []).map((q) => [q.Id, q]));
  const datapoint = (id: string): number | undefined => {
    const query = queries.get(id);
    assert.ok(query, `metric id ${id}`);
    if (query.MetricStat) return values[query.MetricStat.Metric.MetricName];
    const js = (query.Expression as string)
      .replace(/FILL\((\w+),\s*([\d.]+)\)/g, '(v.$1 ?? $2)')
      .replace(/MAX\(\[([^\]]+)\]\)/g, 'Math.max($1)')
      .replace(/IF\(/g, 'iff(')
      .replace(/\b([a-z]\w*)\b(?!\s*[(.])/g, (name) => (name === 'v' || name === 'iff' ? name : `v.${name}`))
      .replace(/v\.v\./g, 'v.');
    const ids = [...queries.keys()];
    const v: Record<string, number | undefined> = {};
    for (const other of ids) if (other !== id && js.includes(`v.${other}`)) v[other] = datapoint(other);
    if (Object.entries(v).some(([name, value]) => value === undefined && !js.includes(`(v.${name} ??`))) {
      return undefined; // CloudWatch yields no datapoint when an unfilled input has none
    }
    const iff = (c: boolean, a: number, b: number) => (c ? a : b);
    return new Function('v', 'iff', `return ${js};`)(v, iff) as number;
  };
  const returned = (alarm.Metrics ?? []).find((q) => q.ReturnData !== false);
  assert.ok(returned, 'a returned query');
  return datapoint(returned.Id);
}
