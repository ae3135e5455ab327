import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { stageNames } from '../../bin/cli/ecs-target';
import { appLogGroupName, execLogGroupName } from '../../lib/constructs/web-container';
import { EXAMPLE_ENV, only, resourcesOf, synthApp } from '../helpers/synth';

/**
 * ECS Exec as AWS documents it (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-exec.html): the
 * service starts its tasks with enableExecuteCommand, the task role may open the SSM message channels, and the
 * cluster's executeCommandConfiguration sends each session's commands and output to a log group (logging OVERRIDE).
 */
for (const { name, context } of [
  { name: 'env-agnostic', context: { stage: 'prod' } },
  { name: `account ${EXAMPLE_ENV.account} in ${EXAMPLE_ENV.region}`, context: { stage: 'prod', ...EXAMPLE_ENV } },
]) {
  describe(`ECS Exec in the service stack (${name})`, () => {
    const { service } = synthApp(context);
    const execGroupId = () =>
      Object.entries(resourcesOf(service, 'AWS::Logs::LogGroup')).find(
        ([, g]) => g.Properties['LogGroupName'] === '/softfactory/softfactory-prod/exec',
      )?.[0];

    it('starts the service’s tasks with ECS Exec enabled and an init process in the web container', () => {
      service.hasResourceProperties('AWS::ECS::Service', { EnableExecuteCommand: true });
      service.hasResourceProperties('AWS::ECS::TaskDefinition', {
        ContainerDefinitions: Match.arrayWith([
          Match.objectLike({ Name: 'web', LinuxParameters: { InitProcessEnabled: true } }),
        ]),
      });
    });

    it('logs every session to its own log group with the stage’s retention', () => {
      assert.ok(execGroupId(), 'exec log group');
      service.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: '/softfactory/softfactory-prod/exec',
        RetentionInDays: 30,
      });
      service.hasResourceProperties('AWS::ECS::Cluster', {
        ClusterName: 'softfactory-prod',
        Configuration: {
          ExecuteCommandConfiguration: {
            Logging: 'OVERRIDE',
            LogConfiguration: { CloudWatchLogGroupName: { Ref: execGroupId() }, CloudWatchEncryptionEnabled: false },
          },
        },
      });
    });

    it('lets the task role open the SSM channels and write only to the exec log group', () => {
      const taskRolePolicy = only(
        Object.fromEntries(
          Object.entries(resourcesOf(service, 'AWS::IAM::Policy')).filter(([id]) => id.startsWith('WebTaskTaskRole')),
        ),
        'task role policy',
      );
      const statements = (
        taskRolePolicy.Properties['PolicyDocument'] as { Statement: { Action: string | string[]; Resource: unknown }[] }
      ).Statement;
      const byAction = (action: string) =>
        statements.find((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]).includes(action));
      // aws-cdk-lib merges the two statements on `*` into one.
      assert.deepEqual(byAction('ssmmessages:OpenDataChannel')?.Action, [
        'logs:DescribeLogGroups',
        'ssmmessages:CreateControlChannel',
        'ssmmessages:CreateDataChannel',
        'ssmmessages:OpenControlChannel',
        'ssmmessages:OpenDataChannel',
      ]);
      const streams = byAction('logs:PutLogEvents');
      assert.ok(streams);
      const resource = JSON.stringify(streams.Resource);
      assert.match(resource, /log-group:/);
      assert.ok(resource.includes(`"Ref":"${execGroupId()}"`), resource);
      assert.match(resource, /:\*"/);
      // Every wildcard resource is one of the two AWS leaves without resource-level permissions.
      for (const s of statements.filter((x) => x.Resource === '*')) {
        for (const action of Array.isArray(s.Action) ? s.Action : [s.Action]) {
          assert.match(action, /^ssmmessages:|^logs:DescribeLogGroups$/);
        }
      }
    });
  });
}

describe('the names the CLI relies on', () => {
  it('are the ones the stack gives the cluster, service and log groups', () => {
    const { service } = synthApp({ stage: 'staging' });
    const names = stageNames('staging');
    service.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: names.cluster });
    service.hasResourceProperties('AWS::ECS::Service', { ServiceName: names.service });
    service.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: appLogGroupName(names.namePrefix) });
    service.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: execLogGroupName(names.namePrefix) });
    service.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({
          LogConfiguration: Match.objectLike({
            Options: Match.objectLike({ 'awslogs-group': Match.anyValue(), 'awslogs-stream-prefix': 'web' }),
          }),
        }),
      ]),
    });
  });
});
