import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { resourcesOf, synthApp } from '../helpers/synth';

const dev = synthApp({ stage: 'dev' });
const prod = synthApp({ stage: 'prod' });

type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };

function functionNamed(template: typeof dev.service, name: string) {
  const found = Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).find(
    ([, r]) => r.Properties['FunctionName'] === name,
  );
  assert.ok(found, `function ${name}`);
  return { logicalId: found[0], properties: found[1].Properties };
}

/** Statements of the inline policies attached to the role of a function. */
function statementsOf(template: typeof dev.service, functionLogicalId: string): Statement[] {
  const fn = resourcesOf(template, 'AWS::Lambda::Function')[functionLogicalId]!;
  const roleId = (fn.Properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties['Roles']).includes(`"${roleId}"`))
    .flatMap((p) => (p.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement);
}

const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const READ_ONLY = /:(Describe|List|Get|BatchGet)/;

function assertNoWildcardOnMutations(statements: Statement[]): void {
  for (const statement of statements) {
    const mutating = actions(statement).filter((a) => !READ_ONLY.test(a) && !a.startsWith('xray:'));
    if (mutating.length === 0) continue;
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    for (const resource of resources) assert.notEqual(resource, '*', `${mutating.join(',')} on *`);
  }
}

describe('deploy path: hooks on the ECS service', () => {
  it('registers the smoke hook for both post-shift stages and the snapshot hook for PRE_SCALE_UP, each with a timeout', () => {
    const service = Object.values(resourcesOf(dev.service, 'AWS::ECS::Service'))[0]!;
    const hooks = (service.Properties['DeploymentConfiguration'] as { LifecycleHooks: Record<string, unknown>[] })
      .LifecycleHooks;
    const byStages = Object.fromEntries(hooks.map((h) => [(h['LifecycleStages'] as string[]).join(','), h]));
    const smoke = byStages['POST_TEST_TRAFFIC_SHIFT,POST_PRODUCTION_TRAFFIC_SHIFT'];
    const snapshot = byStages['PRE_SCALE_UP'];
    assert.ok(smoke && snapshot, JSON.stringify(Object.keys(byStages)));
    assert.deepEqual(smoke['TimeoutConfiguration'], { TimeoutInMinutes: 30, Action: 'ROLLBACK' });
    assert.deepEqual(snapshot['TimeoutConfiguration'], { TimeoutInMinutes: 60, Action: 'ROLLBACK' });
    assert.match(JSON.stringify(smoke['HookTargetArn']), /SmokeHookFunction/);
    assert.match(JSON.stringify(snapshot['HookTargetArn']), /PreDeploySnapshotFunction/);
  });

  it('lets ECS invoke exactly the hook function, not its other versions', () => {
    const roles = Object.entries(resourcesOf(dev.service, 'AWS::IAM::Role')).filter(([id]) =>
      /^Web(SmokeHook|PreDeploySnapshotHook)Role/.test(id),
    );
    assert.equal(roles.length, 2);
    for (const [, role] of roles) {
      assert.match(JSON.stringify(role.Properties['AssumeRolePolicyDocument']), /"Service":"ecs.amazonaws.com"/);
    }
    dev.service.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'lambda:InvokeFunction',
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SmokeHookFunction'), 'Arn'] },
          },
        ],
      },
    });
  });
});

describe('smoke hook function', () => {
  const smoke = functionNamed(dev.service, 'softfactory-dev-smoke');

  it('runs on nodejs22.x in the private subnets, so it egresses through the NAT gateways the test listener admits', () => {
    assert.equal(smoke.properties['Runtime'], 'nodejs22.x');
    const subnets = JSON.stringify((smoke.properties['VpcConfig'] as { SubnetIds: unknown }).SubnetIds);
    assert.match(subnets, /privateSubnet/);
    assert.doesNotMatch(subnets, /publicSubnet|isolatedSubnet/);
  });

  it('smokes green through the test listener port and production through 443, with the token read from a secret', () => {
    const env = (smoke.properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    assert.match(JSON.stringify(env['TEST_URL']), /:9443"/);
    assert.doesNotMatch(JSON.stringify(env['PRODUCTION_URL']), /:9443/);
    assert.match(JSON.stringify(env['TOKEN_SECRET_ARN']), /^\{"Ref":"SmokeHookToken\w+"\}$/);
    assert.ok(!Object.keys(env).some((k) => /TOKEN$/.test(k) && k !== 'TOKEN_SECRET_ARN'));
    dev.service.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'softfactory/dev/smoke-token' });
  });

  it('may read only its token secret and publish only to the stage topic', () => {
    const statements = statementsOf(dev.service, smoke.logicalId);
    const secretRead = statements.find((s) => actions(s).includes('secretsmanager:GetSecretValue'));
    assert.match(JSON.stringify(secretRead?.Resource), /SmokeHookToken/);
    const publish = statements.find((s) => actions(s).includes('sns:Publish'));
    assert.match(JSON.stringify(publish?.Resource), /^\{"Ref":"AlarmTopic\w+"\}$/);
    assertNoWildcardOnMutations(statements);
  });

  it('has error and throttle alarms like every function of ours', () => {
    for (const fn of ['smoke', 'predeploy-snapshot', 'rollback']) {
      for (const signal of ['errors', 'throttles']) {
        dev.service.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `softfactory-dev-${fn}-${signal}` });
      }
    }
  });
});

describe('pre-deploy snapshot hook', () => {
  const snapshot = functionNamed(prod.service, 'softfactory-prod-predeploy-snapshot');

  it('keeps the configured number of snapshots under its own prefix', () => {
    const env = (snapshot.properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    assert.equal(env['SNAPSHOT_PREFIX'], 'sf-prod-predeploy');
    assert.equal(env['RETAIN_SNAPSHOTS'], '10');
    assert.equal(env['MAX_WAIT_MINUTES'], '55');
    assert.equal(synthApp({ snapshotRetentionCount: '4' }).config.snapshotRetentionCount, 4);
  });

  it('may snapshot only this stage’s instance, and delete only its own tagged snapshots', () => {
    const statements = statementsOf(prod.service, snapshot.logicalId);
    assertNoWildcardOnMutations(statements);
    const create = statements.find((s) => actions(s).includes('rds:CreateDBSnapshot'))!;
    const createResources = JSON.stringify(create.Resource);
    assert.match(createResources, /:db:/);
    assert.match(createResources, /:snapshot:sf-prod-predeploy-\*/);
    const remove = statements.find((s) => actions(s).includes('rds:DeleteDBSnapshot'))!;
    assert.match(JSON.stringify(remove.Resource), /:snapshot:sf-prod-predeploy-\*/);
    assert.deepEqual(remove.Condition, {
      StringEquals: { 'aws:ResourceTag/softfactory:predeploy': 'true', 'aws:ResourceTag/softfactory:stage': 'prod' },
    });
  });
});

describe('rollback function', () => {
  const rollback = functionNamed(prod.service, 'softfactory-prod-rollback');

  it('listens to the alarm topic for the rollback alarms only (message-body filter), with undeliverable messages kept in a dead-letter queue', () => {
    prod.service.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      Endpoint: { 'Fn::GetAtt': [rollback.logicalId, 'Arn'] },
      TopicArn: { Ref: Match.stringLikeRegexp('^AlarmTopic') },
      FilterPolicyScope: 'MessageBody',
      FilterPolicy: {
        AlarmName: ['softfactory-prod-error-rate', 'softfactory-prod-latency', 'softfactory-prod-unhealthy-hosts'],
        NewStateValue: ['ALARM'],
      },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RollbackDeadLetters'), 'Arn'] } },
    });
  });

  it('sends failed asynchronous invocations to the dead-letter queue after two retries, and alarms on it', () => {
    prod.service.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: rollback.logicalId },
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RollbackDeadLetters'), 'Arn'] } },
      },
    });
    prod.service.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'softfactory-prod-rollback-dead-letters',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^AlarmTopic') }],
    });
  });

  it('knows the rollback alarms, the watch window and the cooldown from config', () => {
    const env = (rollback.properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    assert.equal(
      env['ROLLBACK_ALARM_NAMES'],
      'softfactory-prod-error-rate,softfactory-prod-latency,softfactory-prod-unhealthy-hosts',
    );
    assert.equal(env['WATCH_WINDOW_MINUTES'], '60');
    assert.equal(env['COOLDOWN_MINUTES'], '30');
    const tuned = synthApp({ stage: 'prod', rollbackWatchWindowMinutes: '15' });
    const tunedEnv = (
      functionNamed(tuned.service, 'softfactory-prod-rollback').properties['Environment'] as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    assert.equal(tunedEnv['WATCH_WINDOW_MINUTES'], '15');
  });

  it('keeps its per-service lock in a DynamoDB table with TTL', () => {
    prod.service.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('acts only on this stage’s service, passes only its task roles, and reads only the rollback alarms', () => {
    const statements = statementsOf(prod.service, rollback.logicalId);
    assertNoWildcardOnMutations(statements);
    const update = statements.find((s) => actions(s).includes('ecs:UpdateService'))!;
    assert.match(JSON.stringify(update.Resource), /^\{"Ref":"WebService\w+"\}$/);
    assert.match(
      JSON.stringify(update.Condition),
      /ecs:task-definition.*task-definition\/SoftFactoryProdServiceWebTask/,
    );
    const stop = statements.find((s) => actions(s).includes('ecs:StopServiceDeployment'))!;
    assert.match(JSON.stringify(stop.Resource), /service-deployment\/.*WebCluster.*WebService/);
    const pass = statements.find((s) => actions(s).includes('iam:PassRole'))!;
    const passed = (pass.Resource as { 'Fn::GetAtt': [string, string] }[]).map((r) =>
      r['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, ''),
    );
    assert.deepEqual(passed.sort(), ['WebTaskExecutionRole', 'WebTaskTaskRole']);
    assert.deepEqual(pass.Condition, { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    const alarms = statements.find((s) => actions(s).includes('cloudwatch:DescribeAlarms'))!;
    assert.equal((alarms.Resource as unknown[]).length, 3);
    assert.match(JSON.stringify(alarms.Resource), /alarm:softfactory-prod-error-rate/);
  });
});

describe('Lambda bundling', () => {
  it('bundles every function with the local esbuild into a runnable handler (no Docker)', () => {
    const bundled = synthApp({ stage: 'dev' }, { bundle: true });
    const outdir = bundled.app.synth().directory;
    const assets = JSON.parse(readFileSync(join(outdir, 'SoftFactory-Dev-Service.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string } }>;
    };
    const handlers = Object.values(assets.files)
      .map((f) => join(outdir, f.source.path, 'index.js'))
      .filter((p) => existsSync(p));
    assert.ok(handlers.length >= 3, `bundled handlers: ${handlers.length}`);
    for (const file of handlers) {
      const exported = require(file) as { handler?: unknown };
      assert.equal(typeof exported.handler, 'function', file);
    }
  });
});
