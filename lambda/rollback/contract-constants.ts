/**
 * The parts of the rollback contract that need no zod: the stages and the example payload. `sfdeploy rollback`
 * registers its options and prints its help from these alone; lambda/rollback/contract.ts re-exports them.
 */
import { STAGES } from '../../lib/config/stages';
import type { PipelineRequest } from './contract';

/** Stages the rollback function exists in: the stage config's list (lib/config/stages.ts, no dependencies). */
export const ROLLBACK_STAGES = STAGES;
export type RollbackStage = (typeof ROLLBACK_STAGES)[number];

/** Example payload, shown by `sfdeploy rollback --help`. */
export const EXAMPLE_PIPELINE_REQUEST: PipelineRequest = {
  action: 'rollback',
  reason: 'checkout errors after release 2025.11.26',
  requestedBy: 'ci:deploy-pipeline#1842',
  toRevision:
    'arn:aws:ecs:eu-west-1:123456789012:service-revision/softfactory-prod/softfactory-prod-web/4980306466373577095',
  dryRun: false,
};
