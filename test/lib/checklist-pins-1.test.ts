/**
 * The checklist map's pins, shard 1 of 3 (test/helpers/checklist-pins.ts): with a pinned template property removed,
 * the referenced test must fail.
 */
import { definePinMutations, definePinRules } from '../helpers/checklist-pins';

definePinRules();
definePinMutations(0, 3);
