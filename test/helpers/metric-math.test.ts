/**
 * The metric-math evaluator the alarm tests rely on: each rule of the subset it claims (FILL, MAX, IF, arithmetic,
 * no datapoint from an unfilled empty input, only the returned query counts) against hand-computed values, and the
 * error-rate alarm's query graph against an oracle written without metric math.
 * Semantics: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { evaluate, type MetricQuery } from './metric-math';

const stat = (Id: string, MetricName = Id.toUpperCase()): MetricQuery => ({
  Id,
  MetricStat: { Metric: { MetricName } },
  ReturnData: false,
});
const expr = (Id: string, Expression: string, ReturnData = false): MetricQuery => ({ Id, Expression, ReturnData });
const returning = (expression: string, ...inputs: MetricQuery[]) => ({
  Metrics: [expr('out', expression, true), ...inputs],
});

describe('metric-math evaluator', () => {
  it('replaces a missing datapoint with FILL’s value, and leaves a present one alone', () => {
    const alarm = returning('FILL(a, 0) + FILL(b, 7)', stat('a'), stat('b'));
    assert.equal(evaluate(alarm, {}), 7);
    assert.equal(evaluate(alarm, { A: 2, B: 3 }), 5);
    assert.equal(evaluate(alarm, { B: 0 }), 0, 'a datapoint of 0 is not missing');
  });

  it('yields no datapoint when an input without FILL has none, as CloudWatch does', () => {
    assert.equal(evaluate(returning('a + 1', stat('a')), {}), undefined);
    assert.equal(evaluate(returning('a + 1', stat('a')), { A: 1 }), 2);
    assert.equal(evaluate(returning('FILL(a, 0) + b', stat('a'), stat('b')), { A: 1 }), undefined);
  });

  it('takes the largest of MAX([…]) and follows expressions that read other expressions', () => {
    const alarm = returning(
      'MAX([x, y])',
      expr('x', 'FILL(a, 0) * 2'),
      expr('y', 'FILL(b, 0) + 1'),
      stat('a'),
      stat('b'),
    );
    assert.equal(evaluate(alarm, { A: 5, B: 3 }), 10);
    assert.equal(evaluate(alarm, { A: 1, B: 3 }), 4);
    assert.equal(evaluate(alarm, {}), 1);
  });

  it('chooses IF’s branch by its comparison, with arithmetic precedence inside', () => {
    const alarm = returning('IF(t >= 20, 100 * e / t, 0)', stat('t'), stat('e'));
    assert.equal(evaluate(alarm, { T: 19, E: 19 }), 0);
    assert.equal(evaluate(alarm, { T: 20, E: 5 }), 25);
    assert.equal(evaluate(alarm, { T: 40, E: 2 }), 5);
  });

  it('evaluates the query with ReturnData not false, wherever it stands in the list', () => {
    const alarm = { Metrics: [stat('a'), expr('hidden', 'FILL(a, 0) * 1000'), expr('shown', 'FILL(a, 0) + 1', true)] };
    assert.equal(evaluate(alarm, { A: 1 }), 2);
    assert.throws(() => evaluate({ Metrics: [stat('a')] }, { A: 1 }), /a returned query/);
  });

  const seed = Number(process.env['SFDEPLOY_FUZZ_SEED'] ?? 20261203);
  it(`agrees with a plain-arithmetic oracle on the error-rate alarm's queries for any minute (seed ${seed})`, () => {
    // The queries exactly as the synthesized error-rate alarm has them (dimensions left out), gate 20 requests.
    const errorRate = {
      Metrics: [
        expr('expr_1', 'IF(total >= 20, 100 * errors / total, 0)', true),
        expr('total', 'MAX([served, errors])'),
        expr('served', 'FILL(requests, 0)'),
        stat('requests', 'RequestCount'),
        expr('errors', 'FILL(target5xx, 0) + FILL(elb5xx, 0)'),
        stat('target5xx', 'HTTPCode_Target_5XX_Count'),
        stat('elb5xx', 'HTTPCode_ELB_5XX_Count'),
      ],
    };
    const oracle = (requests?: number, target?: number, elb?: number): number => {
      let failed = 0;
      if (target !== undefined) failed += target;
      if (elb !== undefined) failed += elb;
      const answered = requests === undefined || requests < failed ? failed : requests;
      if (answered < 20) return 0;
      return (failed * 100) / answered;
    };
    const count = fc.option(fc.nat({ max: 500 }), { nil: undefined });
    fc.assert(
      fc.property(count, count, count, (requests, target, elb) => {
        const values: Record<string, number> = {};
        if (requests !== undefined) values['RequestCount'] = requests;
        if (target !== undefined) values['HTTPCode_Target_5XX_Count'] = target;
        if (elb !== undefined) values['HTTPCode_ELB_5XX_Count'] = elb;
        const got = evaluate(errorRate, values);
        assert.ok(got !== undefined);
        assert.ok(Math.abs(got - oracle(requests, target, elb)) < 1e-9, `${got} for ${JSON.stringify(values)}`);
      }),
      { seed, numRuns: 500 },
    );
  });
});
