import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseLocalPort, secretArnOf } from '../../bin/commands/db-tunnel';
import { ACCOUNT, task, taskArn, wire } from '../helpers/ecs-tasks';
import { awsError, cli, type FakeAws, fakePlugin, ok, startFakeAws } from '../helpers/fake-aws';

const SECRET_ARN = `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:SoftFactoryDevDataDatabaseSecret-AbCdEf`;
const DB_HOST = 'softfactory-prod.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com';
const PASSWORD = 'Zq9NeverPrintedXk2';

describe('db-tunnel pieces', () => {
  it('reads the secret ARN out of an ECS Secrets Manager JSON-key reference', () => {
    assert.equal(secretArnOf(`${SECRET_ARN}:host::`), SECRET_ARN);
    assert.equal(secretArnOf(`${SECRET_ARN}:host:AWSCURRENT:`), SECRET_ARN);
    assert.throws(() => secretArnOf('arn:aws:ssm:eu-west-1:1:parameter/x'), /not a Secrets Manager reference/);
  });

  it('takes local ports 1024-65535 only', () => {
    assert.equal(parseLocalPort(undefined), 15432);
    assert.equal(parseLocalPort('25432'), 25432);
    for (const bad of ['80', '70000', '5432x', '']) assert.throws(() => parseLocalPort(bad), /--local-port must be/);
  });
});

describe('sfdeploy db-tunnel (node bin/sfdeploy.js, fake ECS/Secrets Manager/SSM, fake session-manager-plugin)', () => {
  let aws: FakeAws;
  before(async () => {
    aws = await startFakeAws();
  });
  after(() => aws.close());

  function world() {
    aws.seen.length = 0;
    aws.answer = (operation, input) => {
      switch (operation) {
        case 'ListTasks':
          return ok({ taskArns: [taskArn('abc123')] });
        case 'DescribeTasks':
          return ok({ tasks: [wire(task('abc123'))], failures: [] });
        case 'DescribeTaskDefinition':
          // The task definition as ECS documents it: the secrets ECS injects, each a JSON key of the RDS secret.
          return ok({
            taskDefinition: {
              taskDefinitionArn: input['taskDefinition'],
              family: 'SoftFactoryProdServiceWebTask',
              revision: 42,
              containerDefinitions: [
                {
                  name: 'web',
                  environment: [{ name: 'DB_NAME', value: 'softfactory' }],
                  secrets: ['username', 'password', 'host', 'port'].map((field) => ({
                    name: `DB_${field.toUpperCase()}`,
                    valueFrom: `${SECRET_ARN}:${field}::`,
                  })),
                },
              ],
            },
          });
        case 'GetSecretValue':
          // The RDS secret's documented JSON structure.
          return ok({
            ARN: SECRET_ARN,
            Name: 'SoftFactoryDevDataDatabaseSecret',
            VersionId: 'v1',
            SecretString: JSON.stringify({
              engine: 'postgres',
              host: DB_HOST,
              port: 5432,
              username: 'softfactory',
              password: PASSWORD,
              dbname: 'softfactory',
              dbInstanceIdentifier: 'softfactory-prod',
            }),
            VersionStages: ['AWSCURRENT'],
            CreatedDate: 1_764_000_000,
          });
        case 'StartSession':
          return ok({
            SessionId: 'alice-0a1b2c3d4e',
            TokenValue: 'ssm-token',
            StreamUrl: 'wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/alice-0a1b2c3d4e',
          });
        case 'TerminateSession':
          return ok({ SessionId: input['SessionId'] });
        default:
          return awsError('InvalidRequest', `unexpected ${operation}`);
      }
    };
  }

  it('forwards a local port to the database through the task and prints how to connect, never the password', async () => {
    world();
    const plugin = fakePlugin();
    const run = await cli(['db-tunnel', '--stage', 'prod'], { endpoint: aws.endpoint, pathPrefix: plugin.dir });
    assert.equal(run.status, 0, run.stderr);
    const start = aws.seen.find((s) => s.operation === 'StartSession')?.input;
    assert.ok(start);
    assert.equal(start['Target'], 'ecs:softfactory-prod_abc123_abc123-1234567890');
    assert.equal(start['DocumentName'], 'AWS-StartPortForwardingSessionToRemoteHost');
    assert.deepEqual(start['Parameters'], { host: [DB_HOST], portNumber: ['5432'], localPortNumber: ['15432'] });
    assert.match(String(start['Reason']), /^sfdeploy db-tunnel prod by /);
    const [call] = plugin.calls();
    assert.ok(call);
    assert.deepEqual(call.args.slice(1, 4), ['eu-west-1', 'StartSession', '']);
    assert.deepEqual(JSON.parse(call.args[4]!), start); // the request the session was made with
    assert.equal(call.args[5], aws.endpoint); // SSM's endpoint, as the AWS CLI passes it
    assert.deepEqual(JSON.parse(call.responseEnv ?? '{}'), {
      SessionId: 'alice-0a1b2c3d4e',
      TokenValue: 'ssm-token',
      StreamUrl: 'wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/alice-0a1b2c3d4e',
    });
    assert.match(
      run.stderr,
      new RegExp(
        `sfdeploy migrate platform.db --pg-url "postgresql://softfactory@${DB_HOST.replace(/\./g, '\\.')}:15432/softfactory\\?sslmode=verify-full" --verify-only`,
      ),
    );
    assert.match(run.stderr, new RegExp(`--secret-id ${SECRET_ARN}`));
    for (const text of [run.stdout, run.stderr, ...call.args]) assert.doesNotMatch(text, new RegExp(PASSWORD));
  });

  it('prints one JSON document with --json (plugin chatter on stderr), to another host and local port', async () => {
    world();
    const plugin = fakePlugin();
    const restored = 'softfactory-prod-restore-20261126.c1a2b3c4d5e6.eu-west-1.rds.amazonaws.com';
    const run = await cli(['db-tunnel', '--stage', 'prod', '--local-port', '25432', '--db-host', restored, '--json'], {
      endpoint: aws.endpoint,
      pathPrefix: plugin.dir,
    });
    assert.equal(run.status, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.equal(doc['localPort'], 25432);
    assert.equal(doc['remoteHost'], restored);
    assert.equal(doc['sessionId'], 'alice-0a1b2c3d4e');
    assert.equal(doc['pgUrl'], `postgresql://softfactory@${restored}:25432/softfactory?sslmode=verify-full`);
    const start = aws.seen.find((s) => s.operation === 'StartSession')?.input;
    assert.deepEqual(start?.['Parameters'], { host: [restored], portNumber: ['5432'], localPortNumber: ['25432'] });
    assert.doesNotMatch(run.stdout, new RegExp(PASSWORD));
    assert.match(run.stderr, /Starting session with SessionId: fake-session/);
  });

  it('exits 1 when the plugin ends abnormally, 2 for a bad port before any AWS call', async () => {
    world();
    const failing = fakePlugin({ exitCode: 1 });
    const broken = await cli(['db-tunnel', '--stage', 'prod'], { endpoint: aws.endpoint, pathPrefix: failing.dir });
    assert.equal(broken.status, 1);
    assert.match(broken.errors, /^sfdeploy: the tunnel ended abnormally/);
    aws.seen.length = 0;
    const bad = await cli(['db-tunnel', '--stage', 'prod', '--local-port', '80'], {
      endpoint: aws.endpoint,
      pathPrefix: failing.dir,
    });
    assert.equal(bad.status, 2);
    assert.equal(bad.errors, 'sfdeploy: --local-port must be a port number from 1024 to 65535, got "80"');
    assert.equal(aws.seen.length, 0);
  });

  it('says when the caller may not read the database secret (exit 2, one line)', async () => {
    world();
    const base = aws.answer;
    aws.answer = (operation, input) =>
      operation === 'GetSecretValue'
        ? awsError('AccessDeniedException', 'User is not authorized to perform: secretsmanager:GetSecretValue')
        : base(operation, input);
    const plugin = fakePlugin();
    const run = await cli(['db-tunnel', '--stage', 'prod'], { endpoint: aws.endpoint, pathPrefix: plugin.dir });
    assert.equal(run.status, 2);
    assert.match(run.errors, /^sfdeploy: access denied by AWS \(AccessDeniedException\)/);
    assert.equal(
      aws.seen.some((s) => s.operation === 'StartSession'),
      false,
    );
  });

  it('shows examples in --help', async () => {
    const help = await cli(['db-tunnel', '--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Examples:\n {2}sfdeploy db-tunnel --stage prod\n/);
  });
});
