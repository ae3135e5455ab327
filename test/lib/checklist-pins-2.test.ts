/**
 * The checklist map's pins, shard 2 of 3 (test/helpers/checklist-pins.ts): with a pinned template property removed,
 * the referenced test must fail.
 */
import { definePinMutations } from '../helpers/checklist-pins';

definePinMutations(1, 3);
