import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  StartLiveTailCommand,
  type StartLiveTailResponseStream,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';
import { followLogs, type LogLine, parseSince, register, searchLogs } from '../../bin/commands/logs';
import { awsError, cli, type FakeAws, ok, startFakeAws } from '../helpers/fake-aws';

const GROUP = '/softfactory/softfactory-prod/app';
const GROUP_ARN = `arn:aws:logs:eu-west-1:123456789012:log-group:${GROUP}`;
const stream = (task: string) => `web/web/${task}`;
const NOW = Date.parse('2026-11-26T12:00:00Z');

const logs = mockClient(CloudWatchLogsClient);
afterEach(() => logs.reset());
const client = () => new CloudWatchLogsClient({ region: 'eu-west-1' });

describe('--since', () => {
  it('takes durations back from now and ISO 8601 times', () => {
    assert.equal(parseSince('1h', NOW), NOW - 3_600_000);
    assert.equal(parseSince('30m', NOW), NOW - 1_800_000);
    assert.equal(parseSince('2d', NOW), NOW - 2 * 86_400_000);
    assert.equal(parseSince('2026-11-26T09:00:00Z', NOW), Date.parse('2026-11-26T09:00:00Z'));
    assert.equal(parseSince('2026-11-26', NOW), Date.parse('2026-11-26'));
  });

  it('refuses anything else, and the future, as a usage error', () => {
    for (const bad of ['yesterday', '1 hour', '1y', '-1h', '2026-13-45T99:00:00Z', '']) {
      assert.throws(
        () => parseSince(bad, NOW),
        (e: Error) => e.name === 'UsageError',
        bad,
      );
    }
    assert.throws(() => parseSince('2027-01-01T00:00:00Z', NOW), /in the future/);
  });
});

describe('searching (FilterLogEvents pages: a page may be empty while more follow)', () => {
  it('reads every page in the order CloudWatch returns, passing the filter pattern and range', async () => {
    logs
      .on(FilterLogEventsCommand)
      .resolvesOnce({
        events: [
          {
            timestamp: NOW - 3000,
            ingestionTime: NOW - 2900,
            logStreamName: stream('aaaa1111'),
            message: 'ERROR one\n',
            eventId: '1',
          },
        ],
        nextToken: 't1',
      })
      .resolvesOnce({ events: [], nextToken: 't2' })
      .resolvesOnce({
        events: [
          {
            timestamp: NOW - 2000,
            ingestionTime: NOW - 1900,
            logStreamName: stream('bbbb2222'),
            message: 'ERROR two',
            eventId: '2',
          },
          {
            timestamp: NOW - 1000,
            ingestionTime: NOW - 900,
            logStreamName: stream('aaaa1111'),
            message: 'ERROR three',
            eventId: '3',
          },
        ],
      });
    const lines: LogLine[] = [];
    const count = await searchLogs(
      client(),
      { logGroupName: GROUP, startTime: NOW - 3_600_000, endTime: NOW, filterPattern: 'ERROR' },
      (l) => lines.push(l),
    );
    assert.equal(count, 3);
    assert.deepEqual(
      lines.map((l) => l.message),
      ['ERROR one', 'ERROR two', 'ERROR three'],
    );
    const calls = logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    assert.deepEqual(
      calls.map((c) => c.nextToken),
      [undefined, 't1', 't2'],
    );
    assert.equal(calls[0]!.filterPattern, 'ERROR');
    assert.equal(calls[0]!.startTime, NOW - 3_600_000);
    assert.equal(calls[0]!.logGroupName, GROUP);
  });

  it('stops at --limit without reading further pages', async () => {
    logs.on(FilterLogEventsCommand).resolves({
      events: Array.from({ length: 5 }, (_, i) => ({
        timestamp: NOW + i,
        logStreamName: stream('a'),
        message: `m${i}`,
        eventId: `${i}`,
      })),
      nextToken: 'more',
    });
    const lines: LogLine[] = [];
    assert.equal(await searchLogs(client(), { logGroupName: GROUP, startTime: 0, limit: 3 }, (l) => lines.push(l)), 3);
    assert.equal(logs.commandCalls(FilterLogEventsCommand).length, 1);
  });
});

/**
 * A Live Tail response stream as the API documents it: one sessionStart, then a sessionUpdate each second (here each
 * few milliseconds), possibly empty; `end` closes the session with SessionTimeoutException (after three hours in AWS).
 */
function liveTail(
  batches: { message: string; timestamp: number; task?: string; sampled?: boolean }[][],
  end?: 'timeout',
) {
  return async function* (): AsyncGenerator<StartLiveTailResponseStream> {
    yield { sessionStart: { requestId: 'r', sessionId: 's', logGroupIdentifiers: [GROUP_ARN] } };
    for (const batch of batches) {
      await new Promise((r) => setTimeout(r, 5));
      yield {
        sessionUpdate: {
          sessionMetadata: { sampled: batch.some((b) => b.sampled) },
          sessionResults: batch.map((b) => ({
            logStreamName: stream(b.task ?? 'aaaa1111'),
            logGroupIdentifier: GROUP_ARN,
            message: b.message,
            timestamp: b.timestamp,
            ingestionTime: b.timestamp + 100,
          })),
        },
      };
    }
    if (end === 'timeout') {
      yield {
        SessionTimeoutException: {
          name: 'SessionTimeoutException',
          $fault: 'client',
          message: 'Session timed out',
          $metadata: {},
        } as never,
      };
      return;
    }
    // Then quiet: an empty update every few milliseconds, forever, as a live session is.
    for (;;) {
      await new Promise((r) => setTimeout(r, 5));
      yield { sessionUpdate: { sessionMetadata: { sampled: false }, sessionResults: [] } };
    }
  };
}

function describeGroup() {
  logs.on(DescribeLogGroupsCommand).resolves({
    logGroups: [
      { logGroupName: `${GROUP}-old`, arn: `${GROUP_ARN}-old:*`, logGroupArn: `${GROUP_ARN}-old` },
      { logGroupName: GROUP, arn: `${GROUP_ARN}:*`, logGroupArn: GROUP_ARN },
    ],
  });
}

describe('following (StartLiveTail)', () => {
  it('prints live events, warns once when sampled, starts a new session after the timeout, and stops on abort', async () => {
    describeGroup();
    logs
      .on(StartLiveTailCommand)
      .resolvesOnce({
        responseStream: liveTail(
          [
            [{ message: 'first', timestamp: NOW }],
            [
              { message: 'busy', timestamp: NOW + 1, sampled: true },
              { message: 'busy2', timestamp: NOW + 2, sampled: true },
            ],
          ],
          'timeout',
        )(),
      })
      .resolvesOnce({ responseStream: liveTail([[{ message: 'after timeout', timestamp: NOW + 10 }]])() });
    const lines: string[] = [];
    const warnings: string[] = [];
    const controller = new AbortController();
    await followLogs(
      client(),
      { logGroupName: GROUP, filterPattern: 'ERROR', warn: (w) => warnings.push(w) },
      (l) => {
        lines.push(l.message);
        if (l.message === 'after timeout') controller.abort();
      },
      controller.signal,
    );
    assert.deepEqual(lines, ['first', 'busy', 'busy2', 'after timeout']);
    const starts = logs.commandCalls(StartLiveTailCommand).map((c) => c.args[0].input);
    assert.equal(starts.length, 2);
    assert.deepEqual(starts[0]!.logGroupIdentifiers, [GROUP_ARN]); // the ARN without ":*", as the API requires
    assert.equal(starts[0]!.logEventFilterPattern, 'ERROR');
    assert.equal(warnings.filter((w) => /sampling/.test(w)).length, 1);
    assert.ok(warnings.some((w) => /three-hour limit/.test(w)));
  });

  it('with --since prints the history first, then live events, the seam once', async () => {
    describeGroup();
    let clock = NOW;
    logs
      .on(FilterLogEventsCommand)
      // the history up to the moment of the first call
      .resolvesOnce({
        events: [{ timestamp: NOW - 60_000, logStreamName: stream('aaaa1111'), message: 'old', eventId: '1' }],
      })
      // the seam: events timestamped after the history that were ingested before the session started
      .resolvesOnce({
        events: [{ timestamp: NOW + 500, logStreamName: stream('aaaa1111'), message: 'seam', eventId: '2' }],
      });
    logs.on(StartLiveTailCommand).resolves({
      responseStream: liveTail([
        // Live Tail also delivers the seam event (ingested after the session started): printed once
        [{ message: 'seam', timestamp: NOW + 500 }],
        [{ message: 'new', timestamp: NOW + 2000 }],
      ])(),
    });
    const lines: string[] = [];
    const controller = new AbortController();
    await followLogs(
      client(),
      {
        logGroupName: GROUP,
        since: NOW - 600_000,
        now: () => {
          clock += 1000;
          return clock;
        },
      },
      (l) => {
        lines.push(l.message);
        if (l.message === 'new') controller.abort();
      },
      controller.signal,
    );
    assert.deepEqual(lines, ['old', 'seam', 'new']);
    const [history, seam] = logs.commandCalls(FilterLogEventsCommand).map((c) => c.args[0].input);
    assert.equal(history!.startTime, NOW - 600_000);
    assert.equal(seam!.startTime, history!.endTime! + 1);
  });

  it('says so in one line when the log group does not exist (pages of DescribeLogGroups read)', async () => {
    logs
      .on(DescribeLogGroupsCommand)
      .resolvesOnce({ logGroups: [{ logGroupName: `${GROUP}-old`, logGroupArn: `${GROUP_ARN}-old` }], nextToken: 'n' })
      .resolvesOnce({ logGroups: [] });
    await assert.rejects(
      followLogs(client(), { logGroupName: GROUP }, () => {}, new AbortController().signal),
      (e: Error) =>
        e.name === 'UsageError' && /log group \/softfactory\/softfactory-prod\/app does not exist/.test(e.message),
    );
  });

  it('the command ends with exit 0 on Ctrl-C (SIGINT) during --follow', async () => {
    describeGroup();
    logs.on(StartLiveTailCommand).resolves({ responseStream: liveTail([[{ message: 'hello', timestamp: NOW }]])() });
    const program = new Command().exitOverride();
    register(program, () => client());
    const listenersBefore = process.listenerCount('SIGINT');
    const original = process.stdout.write.bind(process.stdout);
    const written: string[] = [];
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      if (typeof chunk !== 'string') return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
      written.push(chunk);
      if (chunk.includes('hello')) setImmediate(() => process.emit('SIGINT'));
      return true;
    }) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'sfdeploy', 'logs', '--stage', 'prod', '--follow']);
    } finally {
      process.stdout.write = original;
    }
    assert.equal(process.exitCode, 0);
    assert.match(written.join(''), /^2026-11-26T12:00:00\.000Z \[aaaa1111\] hello\n$/);
    assert.equal(process.listenerCount('SIGINT'), listenersBefore);
  });
});

describe('sfdeploy logs (node bin/sfdeploy.js against a fake CloudWatch Logs)', () => {
  let aws: FakeAws;
  before(async () => {
    aws = await startFakeAws();
  });
  after(() => aws.close());

  it('prints the matching events of every page as one JSON document', async () => {
    aws.seen.length = 0;
    aws.answer = (operation, input) => {
      if (operation !== 'FilterLogEvents') return awsError('InvalidParameterException', `unexpected ${operation}`);
      const token = input['nextToken'];
      if (!token)
        return ok({
          events: [
            { timestamp: NOW, ingestionTime: NOW, logStreamName: stream('a1'), message: 'GET / 200', eventId: 'e1' },
          ],
          nextToken: 'p2',
          searchedLogStreams: [],
        });
      return ok({
        events: [
          {
            timestamp: NOW + 1,
            ingestionTime: NOW + 1,
            logStreamName: stream('a2'),
            message: 'GET /x 500',
            eventId: 'e2',
          },
        ],
      });
    };
    const run = await cli(['logs', '--stage', 'prod', '--since', '2h', '--filter', '{ $.status >= 500 }', '--json'], {
      endpoint: aws.endpoint,
    });
    assert.equal(run.status, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as { logGroupName: string; events: { message: string }[] };
    assert.equal(doc.logGroupName, GROUP);
    assert.deepEqual(
      doc.events.map((e) => e.message),
      ['GET / 200', 'GET /x 500'],
    );
    const first = aws.seen[0]!.input;
    assert.equal(first['logGroupName'], GROUP);
    assert.equal(first['filterPattern'], '{ $.status >= 500 }');
    assert.ok(Math.abs(Number(first['endTime']) - Number(first['startTime']) - 2 * 3_600_000) < 5_000);
  });

  it('explains a bad filter pattern and a missing log group in one line, exit 2', async () => {
    aws.answer = () => awsError('InvalidParameterException', 'Invalid filter pattern');
    const filter = await cli(['logs', '--stage', 'prod', '--filter', '{ $.status >'], { endpoint: aws.endpoint });
    assert.equal(filter.status, 2);
    assert.match(filter.errors, /^sfdeploy: --filter is not a valid CloudWatch Logs filter pattern/);
    aws.answer = () => awsError('ResourceNotFoundException', 'The specified log group does not exist.');
    const missing = await cli(['logs', '--stage', 'dev'], { endpoint: aws.endpoint });
    assert.equal(missing.status, 2);
    assert.match(missing.errors, /^sfdeploy: The specified log group does not exist\.: is the stage deployed/);
  });

  it('rejects a bad --since with one line and exit 2; --help has examples', async () => {
    const run = await cli(['logs', '--stage', 'prod', '--since', 'yesterday']);
    assert.equal(run.status, 2);
    assert.equal(
      run.errors,
      'sfdeploy: --since must be a duration (30m, 1h, 2d) or an ISO 8601 time (2026-11-26T09:00:00Z), got "yesterday"',
    );
    const help = await cli(['logs', '--help']);
    assert.match(help.stdout, /Examples:\n {2}sfdeploy logs --stage prod --since 30m --filter ERROR\n/);
  });
});
