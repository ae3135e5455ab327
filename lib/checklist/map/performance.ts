/**
 * The checklist map's PERFORMANCE PHASE: response-time benchmarks, caching, database
 * query performance.
 * One part of CHECKLIST_MAP: lib/checklist/checklist-map.ts lists the parts in the checklist's order.
 */
import type { MapEntry } from '../coverage';
import { BOTH_SHIFTS, cdk, pin, SMOKE_SPEC, STACKS, section, smoke, test } from './refs';

export const PERFORMANCE_PHASE: readonly MapEntry[] = [
  ...section('PERFORMANCE PHASE › 1. Response Time Benchmarks', [
    {
      id: 'perf-1-auth-100ms',
      text: 'Auth endpoint < 100ms',
      enforcement: [
        ...smoke('auth-me-token', 'auth-me'),
        ...BOTH_SHIFTS,
        test(SMOKE_SPEC, 'holds API reads to the checklist latency budgets: auth 100 ms, SNS 200 ms, review 300 ms'),
      ],
    },
    {
      id: 'perf-1-sns-200ms',
      text: 'SNS endpoints < 200ms (with caching)',
      enforcement: [
        ...smoke('sns-accounts-token', 'sns-accounts'),
        ...BOTH_SHIFTS,
        test(SMOKE_SPEC, 'holds API reads to the checklist latency budgets: auth 100 ms, SNS 200 ms, review 300 ms'),
      ],
    },
    {
      id: 'perf-1-review-300ms',
      text: 'Review endpoints < 300ms',
      enforcement: [
        ...smoke('review-listings-token', 'review-listings'),
        ...BOTH_SHIFTS,
        test(SMOKE_SPEC, 'holds API reads to the checklist latency budgets: auth 100 ms, SNS 200 ms, review 300 ms'),
      ],
    },
  ]),
  ...section('PERFORMANCE PHASE › 2. Caching Validation', [
    {
      id: 'perf-2-cache-stats',
      text: 'Cache statistics endpoint working',
      enforcement: [...smoke('cache-stats'), ...BOTH_SHIFTS],
    },
    {
      id: 'perf-2-cache-hit-rate',
      text: 'Cache hit rate > 50% (after warm-up)',
      outOfScope:
        'Needs a warm-up load and the app’s own counters; the app publishes no hit-rate metric the deployment could ' +
        'alarm on. A candidate once it does (a CloudWatch metric from /api/cache/stats).',
    },
  ]),
  ...section('PERFORMANCE PHASE › 3. Database Query Performance', [
    {
      id: 'perf-3-slow-query-log',
      text: 'Slow query logging enabled',
      enforcement: [
        cdk(
          'parameter group log_min_duration_statement = slowQueryMs (500)',
          STACKS,
          'forces TLS and logs statements slower than 500 ms',
          pin('data', 'AWS::RDS::DBParameterGroup', 'Parameters.log_min_duration_statement'),
        ),
        cdk(
          'postgresql log exported to CloudWatch Logs',
          STACKS,
          'exports PostgreSQL logs to log groups with 30-day retention created before the instance',
        ),
      ],
    },
    {
      id: 'perf-3-indexes-cover-queries',
      text: 'Indexes cover common queries',
      outOfScope:
        'Which queries are common is the app’s knowledge (its models and query patterns). The deployment keeps every ' +
        'index the app declared (int-3-indexes) and shows uncovered queries in the slow-statement log and Performance ' +
        'Insights; deciding on an index is a person’s job.',
    },
  ]),
];
