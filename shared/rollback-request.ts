/**
 * The example direct-invoke payload of the rollback function, shown by `sfdeploy rollback --help` (zod-free, so the
 * CLI prints its help without loading the schema). test/lambda/rollback/contract.test.ts parses it with the function's
 * own schema (lambda/rollback/contract.ts pipelineRequestSchema), so it cannot drift from what the function accepts.
 */
export const EXAMPLE_PIPELINE_REQUEST = {
  action: 'rollback',
  reason: 'checkout errors after release 2025.11.26',
  requestedBy: 'ci:deploy-pipeline#1842',
  toRevision:
    'arn:aws:ecs:eu-west-1:123456789012:service-revision/softfactory-prod/softfactory-prod-web/4980306466373577095',
  dryRun: false,
} as const;
