/**
 * The stage names, on their own: no dependencies, so the `sfdeploy` CLI can list and check stages without loading
 * zod, and every layer (lib/, lambda/, bin/) reads the same list. lib/config/stage-config.ts re-exports them.
 */
export const STAGES = ['dev', 'staging', 'prod'] as const;
export type Stage = (typeof STAGES)[number];
