import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { findExecTarget } from '../../bin/cli/ecs-target';
import { pluginInvocation, supportsResponseEnv } from '../../bin/cli/session-plugin';
import { commandLine } from '../../bin/commands/exec';
import { ACCOUNT, CLUSTER_ARN, task, taskArn, wire } from '../helpers/ecs-tasks';
import { awsError, cli, type FakeAws, fakePlugin, ok, startFakeAws } from '../helpers/fake-aws';

const ecs = mockClient(ECSClient);
afterEach(() => ecs.reset());
const client = () => new ECSClient({ region: 'eu-west-1' });

describe('choosing the task for a session (ListTasks pages, DescribeTasks, no order promised)', () => {
  it('takes the newest healthy task whose ECS Exec agent runs, across pages and in any order', async () => {
    // Given four running tasks on two pages, listed oldest-last and mixed: one without ECS Exec (started before it
    // was enabled), one whose agent is still PENDING, one unhealthy but newest, and two ready ones.
    const tasks = [
      task('aaa', { startedAt: '2026-11-26T08:00:00Z' }),
      task('bbb', { startedAt: '2026-11-26T11:00:00Z', health: 'UNHEALTHY' }),
      task('ccc', { startedAt: '2026-11-26T10:00:00Z' }),
      task('ddd', { startedAt: '2026-11-26T10:30:00Z', exec: false }),
      task('eee', { startedAt: '2026-11-26T10:45:00Z', agent: 'PENDING' }),
    ];
    ecs
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: [taskArn('ddd'), taskArn('aaa')], nextToken: 'p2' })
      .resolvesOnce({ taskArns: [taskArn('ccc'), taskArn('eee'), taskArn('bbb')] });
    ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({
      // DescribeTasks answers in no promised order: reversed here.
      tasks: tasks.filter((t) => input.tasks.includes(t.taskArn!)).reverse(),
      failures: [],
    }));
    // When
    const target = await findExecTarget(client(), { cluster: 'softfactory-prod', service: 'softfactory-prod-web' });
    // Then: ccc (healthy beats the newer unhealthy bbb; ddd and eee cannot take a session)
    assert.equal(target.taskId, 'ccc');
    assert.equal(target.runtimeId, 'ccc-1234567890');
    assert.equal(target.clusterName, 'softfactory-prod');
    const list = ecs.commandCalls(ListTasksCommand);
    assert.equal(list.length, 2);
    assert.equal(list[1]!.args[0].input.nextToken, 'p2');
    assert.equal(list[0]!.args[0].input.serviceName, 'softfactory-prod-web');
    assert.equal(list[0]!.args[0].input.desiredStatus, 'RUNNING');
  });

  it('says why no task can take a session (ECS Exec off, agent not running)', async () => {
    ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn('ddd'), taskArn('eee')] });
    ecs.on(DescribeTasksCommand).resolves({
      tasks: [
        task('ddd', { startedAt: '2026-11-26T10:30:00Z', exec: false }),
        task('eee', { startedAt: '2026-11-26T10:45:00Z', agent: 'PENDING' }),
      ],
    });
    await assert.rejects(
      findExecTarget(client(), { cluster: 'softfactory-prod', service: 'softfactory-prod-web' }),
      (error: Error) =>
        error.name === 'UsageError' &&
        /task ddd runs without ECS Exec/.test(error.message) &&
        /agent in task eee is PENDING/.test(error.message),
    );
  });

  it('refuses a service without running tasks, and a --task that is not in the cluster', async () => {
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });
    await assert.rejects(findExecTarget(client(), { cluster: 'c', service: 's' }), /has no running task/);
    ecs.on(DescribeTasksCommand).resolves({ tasks: [], failures: [{ arn: taskArn('zzz'), reason: 'MISSING' }] });
    await assert.rejects(
      findExecTarget(client(), { cluster: 'c', service: 's', task: 'zzz' }),
      /task zzz is not in cluster c/,
    );
  });
});

describe('the command line and the plugin invocation', () => {
  it('passes plain words as they are and single-quotes the rest', () => {
    assert.equal(commandLine([]), '/bin/sh');
    assert.equal(commandLine(['env']), 'env');
    assert.equal(commandLine(['python', '-c', "print('hi there')"]), `python -c 'print('\\''hi there'\\'')'`);
  });

  it('hands the session to plugins after 1.2.497.0 through AWS_SSM_START_SESSION_RESPONSE, older ones in argv', () => {
    assert.equal(supportsResponseEnv('1.2.707.0\n'), true);
    assert.equal(supportsResponseEnv('1.2.497.0'), false);
    assert.equal(supportsResponseEnv('1.2.463.0'), false);
    assert.equal(supportsResponseEnv('not a version'), false);
    const session = { sessionId: 's-1', streamUrl: 'wss://x', tokenValue: 'secret-token' };
    const plan = { session, region: 'eu-west-1', profile: '', request: { Target: 't' }, endpoint: 'https://e' };
    const viaEnv = pluginInvocation(plan, true, {});
    assert.deepEqual(viaEnv.args, [
      'AWS_SSM_START_SESSION_RESPONSE',
      'eu-west-1',
      'StartSession',
      '',
      '{"Target":"t"}',
      'https://e',
    ]);
    assert.equal(viaEnv.env['AWS_SSM_START_SESSION_RESPONSE'], JSON.stringify(session));
    assert.equal(pluginInvocation(plan, false, {}).args[0], JSON.stringify(session));
  });
});

describe('sfdeploy exec (node bin/sfdeploy.js, fake ECS, fake session-manager-plugin)', () => {
  let aws: FakeAws;
  before(async () => {
    aws = await startFakeAws();
  });
  after(() => aws.close());

  function ecsWithOneReadyTask(onExecute?: (input: Record<string, unknown>) => ReturnType<typeof ok>) {
    aws.seen.length = 0;
    aws.answer = (operation, input) => {
      if (operation === 'ListTasks') return ok({ taskArns: [taskArn('abc123')] });
      if (operation === 'DescribeTasks') return ok({ tasks: [wire(task('abc123'))], failures: [] });
      if (operation === 'ExecuteCommand') {
        return (
          onExecute?.(input) ??
          ok({
            clusterArn: CLUSTER_ARN,
            containerArn: `arn:aws:ecs:eu-west-1:${ACCOUNT}:container/softfactory-prod/abc123/c`,
            containerName: 'web',
            interactive: true,
            taskArn: taskArn('abc123'),
            session: {
              sessionId: 'ecs-execute-command-0a1b',
              streamUrl: 'wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/ecs-execute-command-0a1b',
              tokenValue: 'token-not-in-argv',
            },
          })
        );
      }
      return awsError('InvalidParameterException', `unexpected ${operation}`);
    };
  }

  it('opens /bin/sh in the chosen task and runs the plugin with the AWS CLI’s six arguments', async () => {
    ecsWithOneReadyTask();
    const plugin = fakePlugin();
    const run = await cli(['exec', '--stage', 'prod'], { endpoint: aws.endpoint, pathPrefix: plugin.dir });
    assert.equal(run.status, 0, run.stderr);
    const execute = aws.seen.find((s) => s.operation === 'ExecuteCommand');
    assert.deepEqual(execute?.input, {
      cluster: 'softfactory-prod',
      task: taskArn('abc123'),
      container: 'web',
      interactive: true,
      command: '/bin/sh',
    });
    const [call] = plugin.calls();
    assert.ok(call);
    assert.deepEqual(call.args, [
      'AWS_SSM_START_SESSION_RESPONSE',
      'eu-west-1',
      'StartSession',
      '',
      JSON.stringify({ Target: 'ecs:softfactory-prod_abc123_abc123-1234567890' }),
      aws.endpoint,
    ]);
    assert.deepEqual(JSON.parse(call.responseEnv ?? '{}'), {
      sessionId: 'ecs-execute-command-0a1b',
      streamUrl: 'wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/ecs-execute-command-0a1b',
      tokenValue: 'token-not-in-argv',
    });
    assert.doesNotMatch(call.args.join(' '), /token-not-in-argv/);
  });

  it('runs the command given after -- and names the profile for the plugin', async () => {
    ecsWithOneReadyTask();
    const plugin = fakePlugin({ version: '1.2.463.0' });
    // A profile `ops` in a shared credentials file of its own (and no key variables): the SDK signs with it, and the
    // plugin is told its name so it signs its own calls the same way.
    const credentials = join(plugin.dir, 'credentials');
    writeFileSync(credentials, '[ops]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = example\n');
    const run = await cli(['exec', '--stage', 'prod', '--', 'python', '-c', 'print(1)'], {
      endpoint: aws.endpoint,
      pathPrefix: plugin.dir,
      env: {
        AWS_PROFILE: 'ops',
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
        AWS_SHARED_CREDENTIALS_FILE: credentials,
        AWS_CONFIG_FILE: join(plugin.dir, 'config'),
      },
    });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(aws.seen.find((s) => s.operation === 'ExecuteCommand')?.input['command'], "python -c 'print(1)'");
    const [call] = plugin.calls();
    assert.equal(call?.args[3], 'ops');
    assert.equal(JSON.parse(call?.args[0] ?? '{}').sessionId, 'ecs-execute-command-0a1b'); // an old plugin: in argv
  });

  it('exits 1 when the plugin ends abnormally', async () => {
    ecsWithOneReadyTask();
    const plugin = fakePlugin({ exitCode: 255 });
    const run = await cli(['exec', '--stage', 'prod'], { endpoint: aws.endpoint, pathPrefix: plugin.dir });
    assert.equal(run.status, 1);
    assert.match(run.errors, /^sfdeploy: the session ended abnormally \(session-manager-plugin exit 255\)$/);
  });

  it('turns TargetNotConnectedException into one line and exit 2', async () => {
    ecsWithOneReadyTask(() =>
      awsError('TargetNotConnectedException', 'The execute command failed due to an internal error.'),
    );
    const plugin = fakePlugin();
    const run = await cli(['exec', '--stage', 'prod'], { endpoint: aws.endpoint, pathPrefix: plugin.dir });
    assert.equal(run.status, 2);
    assert.match(run.errors, /^sfdeploy: ECS Exec cannot reach the task's agent \(TargetNotConnectedException\)/);
    assert.equal(run.errors.split('\n').length, 1);
    assert.equal(plugin.calls().length, 0);
  });

  it('without the plugin on PATH: one line with the install page, exit 2, and no AWS call', async () => {
    ecsWithOneReadyTask();
    const run = await cli(['exec', '--stage', 'prod'], {
      endpoint: aws.endpoint,
      env: { PATH: '/nonexistent' },
    });
    assert.equal(run.status, 2);
    assert.equal(
      run.errors,
      'sfdeploy: session-manager-plugin is not on PATH: install the Session Manager plugin (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html)',
    );
    assert.equal(aws.seen.length, 0);
  });

  it('rejects an unknown stage with one line and exit 2, and shows examples in --help', async () => {
    const bad = await cli(['exec', '--stage', 'qa']);
    assert.equal(bad.status, 2);
    assert.equal(bad.errors, 'sfdeploy: --stage must be one of dev, staging, prod, got "qa"');
    const help = await cli(['exec', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Examples:\n {2}sfdeploy exec --stage staging\n/);
  });
});
