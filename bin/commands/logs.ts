/**
 * `sfdeploy logs`: the app's log group (`/softfactory/softfactory-<stage>/app`, a fixed name the web service gives it),
 * searched with FilterLogEvents and followed with CloudWatch Logs Live Tail.
 *
 * Why Live Tail for --follow rather than polling FilterLogEvents: Live Tail pushes events as they are ingested, once a
 * second, so late-ingested events are not lost between polls and no read quota is spent on polling; the costs are that
 * it samples above 500 events per second (it says so, `sessionMetadata.sampled`, and so do we), ends a session after
 * three hours (we start a new one) and bills per session minute
 * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartLiveTail.html).
 */
import type { CloudWatchLogsClient, FilteredLogEvent, LiveTailSessionLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import type { Command } from 'commander';
import { appLogGroupName } from '../../lib/constructs/web-container';
import { type AwsCliOptions, addAwsOptions, awsClientConfig, explainAwsError } from '../cli/aws';
import { parseStage, stageNames } from '../cli/ecs-target';
import { colours, EXIT_OK, runAction, UsageError } from '../cli/support';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--since`: a duration back from now (90s, 30m, 1h, 2d, 1w) or an ISO 8601 time; anything else is one line, exit 2. */
export function parseSince(value: string, now: number = Date.now()): number {
  const relative = /^(\d+)([smhdw])$/.exec(value.trim());
  if (relative) return now - Number(relative[1]) * UNIT_MS[relative[2]!]!;
  const time = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim()) ? Date.parse(value) : NaN;
  if (Number.isNaN(time)) {
    throw new UsageError(
      `--since must be a duration (30m, 1h, 2d) or an ISO 8601 time (2026-11-26T09:00:00Z), got "${value}"`,
    );
  }
  if (time > now) throw new UsageError(`--since ${value} is in the future`);
  return time;
}

/** One log event as printed: the JSON line, or `time [task] message`. */
export interface LogLine {
  readonly timestamp: number;
  readonly logStreamName: string;
  readonly message: string;
  readonly eventId?: string | undefined;
  readonly ingestionTime?: number | undefined;
}

export type Sink = (line: LogLine) => void;

function toLine(e: FilteredLogEvent | LiveTailSessionLogEvent): LogLine {
  return {
    timestamp: e.timestamp ?? 0,
    logStreamName: e.logStreamName ?? '',
    message: (e.message ?? '').replace(/\n$/, ''),
    eventId: 'eventId' in e ? e.eventId : undefined,
    ingestionTime: e.ingestionTime,
  };
}

/** `web/web/<task id>` → the task id's first 8 characters: enough to tell tasks apart in a terminal. */
export function formatLine(line: LogLine): string {
  const stream = line.logStreamName.split('/').pop() ?? line.logStreamName;
  return `${new Date(line.timestamp).toISOString()} [${stream.slice(0, 8)}] ${line.message}`;
}

export interface SearchOptions {
  readonly logGroupName: string;
  readonly startTime: number;
  readonly endTime?: number | undefined;
  readonly filterPattern?: string | undefined;
  readonly limit?: number | undefined;
}

/**
 * Every matching event in the range, all pages (nextToken; a page may be empty while more follow), in the order
 * CloudWatch returns them: sorted by event time, then ingestion time
 * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html). Printed page by
 * page, so a long range starts printing at once. Returns how many events were printed.
 */
export async function searchLogs(
  logs: CloudWatchLogsClient,
  options: SearchOptions,
  sink: Sink,
  signal?: AbortSignal,
): Promise<number> {
  const { FilterLogEventsCommand } = await import('@aws-sdk/client-cloudwatch-logs');
  let count = 0;
  let nextToken: string | undefined;
  do {
    const page = await logs.send(
      new FilterLogEventsCommand({
        logGroupName: options.logGroupName,
        startTime: options.startTime,
        ...(options.endTime !== undefined ? { endTime: options.endTime } : {}),
        ...(options.filterPattern ? { filterPattern: options.filterPattern } : {}),
        ...(nextToken ? { nextToken } : {}),
      }),
      signal ? { abortSignal: signal } : {},
    );
    for (const event of page.events ?? []) {
      if (options.limit !== undefined && count >= options.limit) return count;
      sink(toLine(event));
      count += 1;
    }
    nextToken = page.nextToken;
  } while (nextToken && !signal?.aborted);
  return count;
}

/** The log group's ARN without the trailing `:*` (what StartLiveTail takes), or a UsageError when it does not exist. */
export async function logGroupArn(logs: CloudWatchLogsClient, name: string): Promise<string> {
  const { DescribeLogGroupsCommand } = await import('@aws-sdk/client-cloudwatch-logs');
  let nextToken: string | undefined;
  do {
    const page = await logs.send(
      new DescribeLogGroupsCommand({ logGroupNamePrefix: name, ...(nextToken ? { nextToken } : {}) }),
    );
    const group = page.logGroups?.find((g) => g.logGroupName === name);
    if (group) return group.logGroupArn ?? (group.arn ?? '').replace(/:\*$/, '');
    nextToken = page.nextToken;
  } while (nextToken);
  throw new UsageError(
    `log group ${name} does not exist here: is the stage deployed in this account and region (--profile, --region)?`,
  );
}

export interface FollowOptions {
  readonly logGroupName: string;
  readonly filterPattern?: string | undefined;
  /** Print from here up to the moment the live session starts, then follow. */
  readonly since?: number | undefined;
  readonly now?: () => number;
  readonly warn?: (text: string) => void;
}

/**
 * Follows the log group with Live Tail until `signal` aborts (Ctrl-C). The response stream sends one sessionStart,
 * then a sessionUpdate every second, and ends a session with SessionTimeoutException after three hours, when a new one
 * is started (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_StartLiveTailResponseStream.html).
 * With `since`, the history up to the first session's start is printed first (FilterLogEvents); events timestamped in
 * the seam that Live Tail also delivers are printed once.
 */
export async function followLogs(
  logs: CloudWatchLogsClient,
  options: FollowOptions,
  sink: Sink,
  signal: AbortSignal,
): Promise<void> {
  const { StartLiveTailCommand } = await import('@aws-sdk/client-cloudwatch-logs');
  const now = options.now ?? Date.now;
  const warn = options.warn ?? (() => {});
  const arn = await logGroupArn(logs, options.logGroupName);
  let historyUntil: number | undefined;
  if (options.since !== undefined) {
    historyUntil = now();
    await searchLogs(
      logs,
      {
        logGroupName: options.logGroupName,
        startTime: options.since,
        endTime: historyUntil,
        filterPattern: options.filterPattern,
      },
      sink,
      signal,
    );
  }
  const seam = new Set<string>();
  const key = (l: LogLine) => `${l.logStreamName}\u0000${l.timestamp}\u0000${l.message}`;
  let seamUntil = 0;
  let first = true;
  while (!signal.aborted) {
    let timedOut = false;
    try {
      const out = await logs.send(
        new StartLiveTailCommand({
          logGroupIdentifiers: [arn],
          ...(options.filterPattern ? { logEventFilterPattern: options.filterPattern } : {}),
        }),
        { abortSignal: signal },
      );
      let sampledWarned = false;
      for await (const event of out.responseStream ?? []) {
        if (signal.aborted) return;
        if (event.sessionStart) {
          if (first && historyUntil !== undefined) {
            // Events timestamped between the history's end and now that were ingested before the session started.
            seamUntil = now();
            await searchLogs(
              logs,
              {
                logGroupName: options.logGroupName,
                startTime: historyUntil + 1,
                endTime: seamUntil,
                filterPattern: options.filterPattern,
              },
              (line) => {
                seam.add(key(line));
                sink(line);
              },
              signal,
            );
          }
          first = false;
        } else if (event.sessionUpdate) {
          if (event.sessionUpdate.sessionMetadata?.sampled && !sampledWarned) {
            warn(
              'Live Tail is sampling (more than 500 matching events a second): some events are not shown; narrow --filter',
            );
            sampledWarned = true;
          }
          for (const result of event.sessionUpdate.sessionResults ?? []) {
            const line = toLine(result);
            if (line.timestamp <= seamUntil && seam.has(key(line))) continue;
            sink(line);
          }
        } else if (event.SessionTimeoutException) {
          timedOut = true;
          break;
        } else if (event.SessionStreamingException) {
          throw new Error(
            `Live Tail failed: ${event.SessionStreamingException.message ?? 'SessionStreamingException'}`,
          );
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    if (!timedOut && !signal.aborted) {
      // The stream ended without a timeout notice (a dropped connection): start again, as after a timeout.
      warn('Live Tail session ended; starting a new one');
    } else if (timedOut) {
      warn('Live Tail session reached its three-hour limit; starting a new one');
    }
    if (!timedOut && !signal.aborted) await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

interface Options extends AwsCliOptions {
  stage?: string;
  since?: string;
  filter?: string;
  follow?: boolean;
  limit?: string;
  logGroup?: string;
  json?: boolean;
}

const HELP = `
Reads the app's log group /softfactory/softfactory-<stage>/app (gunicorn's access and error log, the app's own
lines). Without --follow: the events since --since (default 1h), oldest first, all pages. With --follow: the live
events (CloudWatch Logs Live Tail; with --since, the history first) until Ctrl-C. --filter takes a CloudWatch Logs
filter pattern: words ("ERROR"), phrases ('"connection refused"'), JSON ('{ $.status = 500 }'), or exclusions
('ERROR -healthcheck') (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html).
Masked values stay masked unless you hold logs:Unmask. Needs logs:FilterLogEvents, and for --follow
logs:DescribeLogGroups and logs:StartLiveTail.

Output: one line per event (time, first 8 characters of the task id, message); with --json, one JSON document
{logGroupName, events:[…]}, or with --follow one JSON object per line.
Exit codes: 0 printed (also when nothing matched), or --follow ended with Ctrl-C; 2 usage error (e.g. a bad --since)
or AWS access problem.

Examples:
  sfdeploy logs --stage prod --since 30m --filter ERROR
  sfdeploy logs --stage prod --follow --filter '"POST /api/checkout"'
  sfdeploy logs --stage staging --since 2026-11-26T09:00:00Z --filter '{ $.status >= 500 }' --json
  sfdeploy logs --stage prod --follow --since 10m`;

export function register(
  program: Command,
  makeClient: (aws: AwsCliOptions) => CloudWatchLogsClient | Promise<CloudWatchLogsClient> = defaultClient,
): void {
  const command = program
    .command('logs')
    .description("Search or follow the app's log group (FilterLogEvents, Live Tail)")
    .requiredOption('--stage <stage>', 'stage: dev, staging, prod')
    .option('--since <when>', 'from this long ago (30m, 1h, 2d) or this ISO 8601 time (default: 1h; --follow: now)')
    .option('--filter <pattern>', 'CloudWatch Logs filter pattern')
    .option('--follow', 'keep printing new events until Ctrl-C')
    .option('--limit <n>', 'stop after this many events (without --follow)')
    .option('--log-group <name>', 'log group (default /softfactory/softfactory-<stage>/app)')
    .option('--json', 'JSON output')
    .addHelpText('after', HELP);
  addAwsOptions(command).action((options: Options) =>
    runAction(
      async () => {
        const stage = parseStage(options.stage);
        const now = Date.now();
        const since = options.since !== undefined ? parseSince(options.since, now) : undefined;
        let limit: number | undefined;
        if (options.limit !== undefined) {
          if (!/^\d+$/.test(options.limit) || Number(options.limit) < 1) {
            throw new UsageError(`--limit must be a whole number ≥ 1, got "${options.limit}"`);
          }
          if (options.follow) throw new UsageError('--limit applies without --follow only');
          limit = Number(options.limit);
        }
        const logGroupName = options.logGroup ?? appLogGroupName(stageNames(stage).namePrefix);
        const logs = await makeClient(options);
        const out = colours(process.stdout);
        if (options.follow) {
          const controller = new AbortController();
          const stop = () => controller.abort();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          try {
            await followLogs(
              logs,
              {
                logGroupName,
                filterPattern: options.filter,
                since,
                warn: (text) => process.stderr.write(`${colours(process.stderr).yellow(text)}\n`),
              },
              (line) =>
                process.stdout.write(
                  options.json ? `${JSON.stringify({ logGroupName, ...line })}\n` : `${colourLine(line, out)}\n`,
                ),
              controller.signal,
            );
          } finally {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
          }
          return EXIT_OK;
        }
        const events: LogLine[] = [];
        const count = await searchLogs(
          logs,
          { logGroupName, startTime: since ?? now - UNIT_MS['h']!, endTime: now, filterPattern: options.filter, limit },
          options.json ? (line) => events.push(line) : (line) => process.stdout.write(`${colourLine(line, out)}\n`),
        );
        if (options.json) process.stdout.write(`${JSON.stringify({ logGroupName, events })}\n`);
        else if (count === 0) process.stderr.write(`No matching events in ${logGroupName}.\n`);
        return EXIT_OK;
      },
      { json: options.json, explain: (error) => explainLogsError(error) ?? explainAwsError(error, options) },
    ),
  );
}

function colourLine(line: LogLine, c: ReturnType<typeof colours>): string {
  const text = formatLine(line);
  const cut = text.indexOf('] ') + 1;
  return c.enabled ? `${c.dim(text.slice(0, cut))}${text.slice(cut)}` : text;
}

/** CloudWatch Logs' answers to a wrong log group or filter pattern, as one line (exit 2). */
function explainLogsError(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'ResourceNotFoundException') {
    return `${error.message.replace(/\s+/g, ' ').trim()}: is the stage deployed in this account and region (--profile, --region)?`;
  }
  if (error.name === 'InvalidParameterException' && /filter/i.test(error.message)) {
    return `--filter is not a valid CloudWatch Logs filter pattern (${error.message.replace(/\s+/g, ' ').trim()})`;
  }
  return undefined;
}

async function defaultClient(aws: AwsCliOptions): Promise<CloudWatchLogsClient> {
  const { CloudWatchLogsClient } = await import('@aws-sdk/client-cloudwatch-logs');
  return new CloudWatchLogsClient(awsClientConfig(aws));
}
