/**
 * The contract between ECS native blue/green deployments and a Lambda lifecycle hook.
 * ECS invokes the function at a lifecycle stage with the event below and reads `hookStatus` from the answer:
 * SUCCEEDED continues, FAILED rolls back, IN_PROGRESS re-invokes after `callBackDelay` seconds (default 30)
 * with the returned `hookDetails`. A missing/invalid answer or a thrown error also rolls back.
 * (AWS docs: "Lambda hooks for Amazon ECS service deployments", "Lifecycle hooks for Amazon ECS service deployments".)
 */
import { z } from 'zod';

export const LIFECYCLE_STAGES = [
  'RECONCILE_SERVICE',
  'PRE_SCALE_UP',
  'POST_SCALE_UP',
  'TEST_TRAFFIC_SHIFT',
  'POST_TEST_TRAFFIC_SHIFT',
  'PRE_PRODUCTION_TRAFFIC_SHIFT',
  'PRODUCTION_TRAFFIC_SHIFT',
  'POST_PRODUCTION_TRAFFIC_SHIFT',
] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** Map of service-revision ARN → traffic weight in percent. */
const weights = z.record(z.string(), z.number()).optional().default({});

export const lifecycleHookEventSchema = z.object({
  executionId: z.string().min(1),
  lifecycleStage: z.string().min(1),
  resourceArn: z.string().optional(),
  executionDetails: z.object({
    serviceArn: z.string().min(1),
    targetServiceRevisionArn: z.string().min(1),
    testTrafficWeights: weights,
    productionTrafficWeights: weights,
  }),
  /** Carried between IN_PROGRESS invocations, and/or set statically on the service's hook configuration. */
  hookDetails: z.record(z.string(), z.unknown()).nullish(),
});
export type LifecycleHookEvent = z.infer<typeof lifecycleHookEventSchema>;

export type HookStatus = 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS';

export interface LifecycleHookResponse {
  readonly hookStatus: HookStatus;
  /** Seconds until ECS invokes the hook again; only meaningful with IN_PROGRESS. */
  readonly callBackDelay?: number;
  readonly hookDetails?: Record<string, unknown>;
}

type Weights = Record<string, number>;
/** Which weight map shows the rollback picture at each stage; stages not listed never show it. */
const ROLLBACK_WEIGHTS = new Map<string, 'test' | 'production'>([
  ['TEST_TRAFFIC_SHIFT', 'test'],
  ['POST_TEST_TRAFFIC_SHIFT', 'test'],
  ['PRODUCTION_TRAFFIC_SHIFT', 'production'],
  ['POST_PRODUCTION_TRAFFIC_SHIFT', 'production'],
]);

/**
 * True when ECS is rolling back. There is no ROLLBACK stage: ECS re-invokes the recurring TEST_TRAFFIC_SHIFT /
 * PRODUCTION_TRAFFIC_SHIFT hooks with the weights shifting back, i.e. the revision this deployment targets at
 * 0 % while another revision carries the traffic (AWS docs, "Lifecycle hooks during rollback"). Hooks must not
 * block a rollback: they answer SUCCEEDED at once.
 *
 * Only the weights of the listener the stage shifts are consulted. PRE_PRODUCTION_TRAFFIC_SHIFT is excluded on
 * purpose: before every forward shift it legitimately reports the target at 0 % and the old revision at 100 %,
 * which is exactly the rollback picture. The POST_* stages arrive with empty weight maps (nothing to judge).
 */
export function isRollback(event: LifecycleHookEvent): boolean {
  const { testTrafficWeights, productionTrafficWeights, targetServiceRevisionArn } = event.executionDetails;
  const listener = ROLLBACK_WEIGHTS.get(event.lifecycleStage);
  const shifted: Weights =
    listener === 'test' ? testTrafficWeights : listener === 'production' ? productionTrafficWeights : {};
  const others = Object.entries(shifted).filter(([arn]) => arn !== targetServiceRevisionArn);
  if (others.length === 0) return false;
  return (shifted[targetServiceRevisionArn] ?? 0) === 0 && others.some(([, weight]) => weight > 0);
}
