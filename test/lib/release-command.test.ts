/**
 * The release command in the templates and the config: off by default; with `releaseCommand` a PRE_SCALE_UP hook
 * (timeout = snapshot wait + command + margin, ROLLBACK on timeout) whose function may run only the service's task
 * definition family in this cluster and pass only the task's two roles
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle-hooks.html;
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../lib/config/messages';
import { buildApp, resourcesOf, synthApp } from '../helpers/synth';

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> };
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const COMMAND = '["flask","db","upgrade"]';

function releaseFunction(template: ReturnType<typeof synthApp>['service'], stage: string) {
  return Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).find(
    ([, r]) => r.Properties['FunctionName'] === `softfactory-${stage}-release-command`,
  );
}

function statementsOf(template: ReturnType<typeof synthApp>['service'], functionLogicalId: string): Statement[] {
  const fn = resourcesOf(template, 'AWS::Lambda::Function')[functionLogicalId]!;
  const roleId = (fn.Properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties['Roles']).includes(`"${roleId}"`))
    .flatMap((p) => (p.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement);
}

const hooksOf = (template: ReturnType<typeof synthApp>['service']) => {
  const service = Object.values(resourcesOf(template, 'AWS::ECS::Service'))[0]!;
  return (service.Properties['DeploymentConfiguration'] as { LifecycleHooks: Record<string, unknown>[] })
    .LifecycleHooks;
};

describe('release command: off by default', () => {
  const plain = synthApp({ stage: 'prod' });
  it('without releaseCommand there is no release-command function and only the snapshot hook at PRE_SCALE_UP', () => {
    assert.equal(plain.config.releaseCommand, undefined);
    assert.equal(releaseFunction(plain.service, 'prod'), undefined);
    const pre = hooksOf(plain.service).filter((h) => (h['LifecycleStages'] as string[]).includes('PRE_SCALE_UP'));
    assert.equal(pre.length, 1);
    assert.match(JSON.stringify(pre[0]?.['HookTargetArn']), /PreDeploySnapshotFunction/);
  });
});

describe('release command: the hook and its permissions', () => {
  const prod = synthApp({ stage: 'prod', releaseCommand: COMMAND, snapshotTimeoutMinutes: '45' });
  const found = releaseFunction(prod.service, 'prod');

  it('registers the release command at PRE_SCALE_UP beside the snapshot hook, timeout 45 + 30 + 5 min with ROLLBACK', () => {
    assert.ok(found, 'release-command function');
    const hooks = hooksOf(prod.service);
    const release = hooks.find((h) => JSON.stringify(h['HookTargetArn']).includes('ReleaseCommandFunction'));
    assert.ok(release, JSON.stringify(hooks.map((h) => h['HookTargetArn'])));
    assert.deepEqual(release['LifecycleStages'], ['PRE_SCALE_UP']);
    assert.deepEqual(release['TimeoutConfiguration'], { TimeoutInMinutes: 80, Action: 'ROLLBACK' });
    const snapshot = hooks.find((h) => JSON.stringify(h['HookTargetArn']).includes('PreDeploySnapshotFunction'));
    assert.deepEqual(snapshot?.['TimeoutConfiguration'], { TimeoutInMinutes: 45, Action: 'ROLLBACK' });
  });

  it('gives the function the command as JSON, the snapshot wait, the app log group and the stage topic', () => {
    const env = (found![1].Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    assert.equal(env['RELEASE_COMMAND'], COMMAND);
    assert.equal(env['CLUSTER'], 'softfactory-prod');
    assert.equal(env['CONTAINER_NAME'], 'web');
    assert.equal(env['SNAPSHOT_WAIT_MINUTES'], '45');
    assert.equal(env['SNAPSHOT_PREFIX'], 'sf-prod-predeploy');
    assert.match(JSON.stringify(env['LOG_GROUP_NAME']), /WebLogs/);
    assert.match(JSON.stringify(env['TOPIC_ARN']), /AlarmTopic/);
    assert.match(JSON.stringify(env['SECURITY_GROUPS']), /WebSecurityGroup/);
  });

  it('ecs:RunTask only on the service’s task definition family, only in this cluster', () => {
    const statements = statementsOf(prod.service, found![0]);
    const run = statements.filter((s) => actions(s).includes('ecs:RunTask'));
    assert.equal(run.length, 1);
    const family = String(
      (Object.values(resourcesOf(prod.service, 'AWS::ECS::TaskDefinition'))[0]!.Properties['Family'] as string) ?? '',
    );
    assert.ok(family, 'the task definition has a family');
    assert.match(JSON.stringify(run[0]!.Resource), new RegExp(`task-definition/${family}:\\*`));
    assert.match(JSON.stringify(run[0]!.Condition), /"ArnEquals":\{"ecs:cluster":.*cluster\/softfactory-prod"/);
  });

  it('iam:PassRole only for the task role and the execution role, to ECS tasks only', () => {
    const statements = statementsOf(prod.service, found![0]);
    const pass = statements.filter((s) => actions(s).includes('iam:PassRole'));
    assert.equal(pass.length, 1);
    const resources = pass[0]!.Resource as { 'Fn::GetAtt': [string, string] }[];
    assert.equal(resources.length, 2);
    const ids = resources.map((r) => r['Fn::GetAtt'][0]).sort();
    assert.ok(
      ids.every((id) => /^WebTask(TaskRole|ExecutionRole)/.test(id)),
      ids.join(','),
    );
    assert.ok(
      ids.some((id) => id.startsWith('WebTaskTaskRole')) && ids.some((id) => id.startsWith('WebTaskExecutionRole')),
    );
    assert.deepEqual(pass[0]!.Condition, { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
  });

  it('DescribeTasks/StopTask on this cluster’s tasks, ListTasks only with the cluster condition, GetLogEvents on the app log group', () => {
    const statements = statementsOf(prod.service, found![0]);
    const describe = statements.find((s) => actions(s).includes('ecs:DescribeTasks'));
    assert.match(JSON.stringify(describe?.Resource), /task\/softfactory-prod\/\*/);
    const list = statements.find((s) => actions(s).includes('ecs:ListTasks'));
    assert.equal(list?.Resource, '*');
    assert.match(JSON.stringify(list?.Condition), /ecs:cluster/);
    const logs = statements.find((s) => actions(s).includes('logs:GetLogEvents'));
    assert.match(JSON.stringify(logs?.Resource), /^\{"Fn::GetAtt":\["WebLogs\w+","Arn"\]\}$/);
    for (const s of statements) {
      const mutating = actions(s).filter((a) => !/:(Describe|List|Get)/.test(a));
      if (mutating.length === 0 || (s.Condition && JSON.stringify(s.Condition).includes('ecs:cluster'))) continue;
      assert.notEqual(s.Resource, '*', `${mutating.join(',')} on *`);
    }
  });

  it('has error and throttle alarms like every function of ours', () => {
    for (const signal of ['errors', 'throttles']) {
      prod.service.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `softfactory-prod-release-command-${signal}`,
      });
    }
  });

  it('cdk-nag finds nothing unacknowledged with the release command on', () => {
    const { app } = buildApp({ stage: 'prod', releaseCommand: COMMAND });
    assert.doesNotThrow(() => app.synth());
  });
});

describe('release command: config validation', () => {
  const load = (value: string) => buildApp({ stage: 'dev', releaseCommand: value }).config.releaseCommand;

  it('reads a JSON array or a plain command line', () => {
    assert.deepEqual(load(COMMAND), ['flask', 'db', 'upgrade']);
    assert.deepEqual(load('flask db upgrade'), ['flask', 'db', 'upgrade']);
  });

  for (const [value, why] of [
    ['[]', 'an empty list'],
    ['["flask", ""]', 'an empty string'],
    ['["flask", "   "]', 'a blank string'],
    ['["flask", 3]', 'a number'],
    ['[flask', 'not JSON'],
  ] as const) {
    it(`refuses ${why} (${value}), naming the key`, () => {
      assert.throws(
        () => load(value),
        (e: unknown) => e instanceof ConfigError && /releaseCommand/.test(e.message),
      );
    });
  }
});
