/**
 * The one convention for a function's environment: each function declares a zod schema of its variables
 * (`lambda/<function>/env.ts`); the handler parses `process.env` with it (the output type), and the CDK construct
 * builds the environment typed by `LambdaEnvironment<typeof schema>` — the schema's keys, with string values as Lambda
 * passes them (a `z.coerce.number()` variable is written as a string; an enum keeps its literal type; a key with a
 * default or `.optional()` may be left out). HouseFunction takes that type, so a construct cannot set a variable the
 * function does not read, nor miss one it requires.
 */
import type { z } from 'zod';

type AsEnvValue<T> = T extends string | undefined ? T : string | (undefined extends T ? undefined : never);

export type LambdaEnvironment<S extends z.ZodType> = { readonly [K in keyof z.input<S>]: AsEnvValue<z.input<S>[K]> };
