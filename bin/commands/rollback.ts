/**
 * `sfdeploy rollback`: asks the stage's rollback function to roll the service back, and prints its decision.
 * The function decides (same rules, lock and incident idempotency as for alarms); this command only builds the
 * request, invokes synchronously and renders the answer.
 */
import { hostname, userInfo } from 'node:os';
import type { Writable } from 'node:stream';
import type { InvokeCommand, InvokeCommandOutput } from '@aws-sdk/client-lambda';
import type { Command } from 'commander';
import type { Outcome, PipelineRequest, RollbackResult } from '../../lambda/rollback/contract';
import { EXAMPLE_PIPELINE_REQUEST } from '../../shared/rollback-request';
import { STAGES as ROLLBACK_STAGES } from '../../shared/stages';
import { type AwsCliOptions, addAwsOptions, awsClientConfig, explainAwsError } from '../cli/aws';
import { colours, EXIT_CHECK_FAILED, EXIT_OK, renderTable, runAction, UsageError } from '../cli/support';

export interface RollbackCommandOptions {
  readonly stage: string;
  readonly reason: string;
  readonly toRevision?: string | undefined;
  readonly expectImage?: string | undefined;
  readonly requestedBy?: string | undefined;
  readonly dryRun?: boolean | undefined;
  readonly json?: boolean | undefined;
  readonly functionName?: string | undefined;
}

export interface RollbackIo {
  /** A LambdaClient, or anything that answers InvokeCommand like one. */
  readonly lambda: { send(command: InvokeCommand): Promise<InvokeCommandOutput> };
  readonly stdout: Writable & { isTTY?: boolean };
}

/**
 * The contract's schemas (zod), loaded on first use instead of when the command is registered. `require` because
 * buildRequest is synchronous; it is the same module instance a dynamic `import()` returns.
 */
function contract(): typeof import('../../lambda/rollback/contract') {
  return require('../../lambda/rollback/contract');
}

/** Outcomes that leave the service rolled back (or, in a dry run, would): exit 0. */
const SUCCESS: readonly Outcome[] = ['acted', 'would-act', 'satisfied'];

function defaultRequester(): string {
  try {
    return `${userInfo().username}@${hostname()}`;
  } catch {
    return `sfdeploy@${hostname()}`;
  }
}

/** Validates the options into the function's payload; every mistake is a UsageError (exit 2). */
export function buildRequest(options: RollbackCommandOptions): { functionName: string; request: PipelineRequest } {
  if (!(ROLLBACK_STAGES as readonly string[]).includes(options.stage)) {
    throw new UsageError(`unknown stage "${options.stage}" (expected one of: ${ROLLBACK_STAGES.join(', ')})`);
  }
  if (!options.reason || options.reason.trim() === '')
    throw new UsageError('--reason must say why you are rolling back');
  const { pipelineRequestSchema, rollbackFunctionName } = contract();
  const parsed = pipelineRequestSchema.safeParse({
    action: 'rollback',
    reason: options.reason,
    requestedBy: options.requestedBy?.trim() || defaultRequester(),
    ...(options.toRevision ? { toRevision: options.toRevision } : {}),
    ...(options.expectImage ? { expectImage: options.expectImage } : {}),
    dryRun: Boolean(options.dryRun),
  });
  if (!parsed.success) {
    const flag: Record<string, string> = {
      reason: '--reason',
      requestedBy: '--requested-by',
      toRevision: '--to-revision',
      expectImage: '--expect-image',
    };
    const first = parsed.error.issues[0];
    const name = first ? (flag[String(first.path[0])] ?? String(first.path[0])) : 'request';
    throw new UsageError(`${name}: ${first?.message ?? 'invalid'}`);
  }
  return { functionName: options.functionName ?? rollbackFunctionName(options.stage), request: parsed.data };
}

function decodePayload(payload: Uint8Array | undefined): unknown {
  if (!payload || payload.length === 0) return undefined;
  const text = new TextDecoder().decode(payload);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function functionErrorMessage(body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const b = body as { errorType?: unknown; errorMessage?: unknown };
    if (typeof b.errorMessage === 'string')
      return `${typeof b.errorType === 'string' ? `${b.errorType}: ` : ''}${b.errorMessage}`;
  }
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** Renders the function's answer for people. */
export function renderResult(
  functionName: string,
  result: RollbackResult,
  stream: Writable & { isTTY?: boolean },
): string {
  const c = colours(stream);
  const paint = SUCCESS.includes(result.outcome) ? c.green : result.outcome === 'failed' ? c.red : c.yellow;
  const d = result.decision;
  const rows: string[][] = [
    ['function', functionName],
    ['outcome', paint(result.outcome + (result.dryRun ? ' (dry run: nothing changed)' : ''))],
  ];
  if (d) {
    rows.push(['decision', `${d.action} [${d.code}]`], ['reason', d.reason]);
    if (d.fromRevision || d.fromTaskDefinition)
      rows.push(['from', [d.fromRevision, d.fromTaskDefinition].filter(Boolean).join('  ')]);
    if (d.toRevision || d.taskDefinition)
      rows.push(['to', [d.toRevision, d.taskDefinition].filter(Boolean).join('  ')]);
    if (d.incidentKey) rows.push(['incident', d.incidentKey]);
  }
  if (result.serviceDeploymentArn) rows.push(['ecs deployment', result.serviceDeploymentArn]);
  if (result.error) rows.push(['error', c.red(result.error)]);
  for (const issue of result.issues ?? []) rows.push(['issue', issue]);
  if (result.database)
    rows.push([
      'database',
      `${result.database.note} (never restored automatically; see the README runbook, "Database restore after a rollback")`,
    ]);
  return renderTable(['field', 'value'], rows);
}

/** The command body, callable in-process with any Lambda client (tests pass a mocked one). */
export async function runRollback(options: RollbackCommandOptions, io: RollbackIo): Promise<number> {
  const { functionName, request } = buildRequest(options);
  const [{ InvokeCommand }, { rollbackResultSchema }] = await Promise.all([
    import('@aws-sdk/client-lambda'),
    import('../../lambda/rollback/contract'),
  ]);
  let out: InvokeCommandOutput;
  try {
    out = await io.lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(request)),
      }),
    );
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') {
      throw new Error(
        `function ${functionName} not found: is the ${options.stage} stage deployed, and are the AWS account and region right?`,
      );
    }
    throw error;
  }
  const body = decodePayload(out.Payload);
  if (out.FunctionError) {
    throw new Error(`${functionName} failed (${out.FunctionError}): ${functionErrorMessage(body)}`);
  }
  const result = rollbackResultSchema.safeParse(body);
  if (!result.success)
    throw new Error(`${functionName} answered something unexpected: ${JSON.stringify(body)?.slice(0, 300)}`);
  io.stdout.write(
    options.json
      ? `${JSON.stringify(result.data, null, 2)}\n`
      : `${renderResult(functionName, result.data, io.stdout)}\n`,
  );
  if (SUCCESS.includes(result.data.outcome)) return EXIT_OK;
  // The one line a pipeline log shows first: why nothing (or not everything) happened.
  const d = result.data.decision;
  process.stderr.write(
    `sfdeploy: rollback ${result.data.outcome}${d ? ` [${d.code}]` : ''}: ${d?.reason ?? result.data.error ?? 'no reason given'}\n`,
  );
  return EXIT_CHECK_FAILED;
}

const HELP = `
What it does
  Invokes the stage's rollback function (softfactory-<stage>-rollback) synchronously with the payload
  below and prints its decision. The function applies the same rules as for alarms: a deployment in flight
  is stopped with ROLLBACK; otherwise the service goes back to the previous successful revision (or
  --to-revision). It never rolls back a rollback or to the running revision, honours the cooldown, and acts
  at most once per incident, so running this twice, or while an alarm fires, makes one change. Unlike an
  alarm, a request may roll back outside the watch window. The database is never restored: the answer names
  the newest pre-deploy snapshot; README.md (Runbook: database restore after a rollback) has the restore procedure.

Payload sent to the function (pipelines may invoke it directly with the same JSON)
  ${JSON.stringify(EXAMPLE_PIPELINE_REQUEST, null, 2).replace(/\n/g, '\n  ')}
  action       "rollback" (required)
  reason       why, 3-500 characters (required)
  requestedBy  who or what asks (required; default here: <user>@<host>)
  toRevision   ECS service-revision ARN of this service to return to (optional)
  expectImage  act only if the deployment to undo deploys this image (optional; pipelines pass the image they
               deployed, so a run that failed before its own ECS deployment never rolls back an older release)
  dryRun       decide and report without changing anything (optional, default false)

Examples
  $ sfdeploy rollback --stage prod --reason "checkout 500s after 2025.11.26" --dry-run
  $ sfdeploy rollback --stage prod --reason "checkout 500s" --requested-by "ci:#1842" --json
  $ sfdeploy rollback --stage prod --reason "release v2.1 failed" \\
      --expect-image 123456789012.dkr.ecr.eu-west-1.amazonaws.com/softfactory:v2.1
  $ sfdeploy rollback --stage staging --reason "bad config" \\
      --to-revision arn:aws:ecs:eu-west-1:123456789012:service-revision/softfactory-staging/softfactory-staging-web/4980306466373577095

Exit codes
  0  rolled back, already rolled back / rolling back, or (--dry-run) would roll back
  1  the function refused (cooldown, loop guard, nothing to roll back to, …) or failed
  2  usage error (unknown stage, empty reason, malformed revision ARN)

AWS credentials and region come from the usual chain (AWS_PROFILE, AWS_REGION, …).
`;

export function register(program: Command): void {
  const command = program
    .command('rollback')
    .description(
      "Roll the service back through the stage's rollback function (same rules as alarm-triggered rollbacks).",
    )
    .requiredOption('--stage <stage>', `stage to roll back (${ROLLBACK_STAGES.join(', ')})`)
    .requiredOption('--reason <text>', 'why; recorded in the notification and logs')
    .option('--to-revision <arn>', 'service-revision ARN to return to (default: the previous successful revision)')
    .option(
      '--expect-image <uri>',
      'roll back only if the deployment to undo deploys this image (repo:tag or repo@sha256:…); else refuse',
    )
    .option('--requested-by <who>', 'who is asking (default: <user>@<host>)')
    .option('--dry-run', 'print the decision without changing anything')
    .option('--json', 'print the function’s answer as JSON')
    .option('--function-name <name>', 'override the function name (default: softfactory-<stage>-rollback)')
    .addHelpText('after', HELP);
  addAwsOptions(command).action((opts: RollbackCommandOptions & AwsCliOptions) =>
    runAction(
      async () => {
        buildRequest(opts); // usage errors before touching AWS
        const { LambdaClient } = await import('@aws-sdk/client-lambda');
        const lambda = new LambdaClient(awsClientConfig(opts));
        return runRollback(opts, { lambda, stdout: process.stdout });
      },
      { json: opts.json, explain: (error) => explainAwsError(error, opts) },
    ),
  );
}
