/**
 * The rollback and pre-deploy snapshot constructs in the synthesized service stack: what ships to CloudFormation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp, resourcesOf, synthApp } from '../../helpers/synth';

function rollbackFunction(template: ReturnType<typeof synthApp>['service']) {
  const found = Object.values(resourcesOf(template, 'AWS::Lambda::Function')).find(
    (f) => f.Properties['FunctionName'] === 'softfactory-prod-rollback',
  );
  assert.ok(found, 'rollback function');
  return found;
}

describe('rollback function: reserved concurrency', () => {
  it('reserves none by default (Lambda refuses a reservation that leaves the unreserved pool below its minimum, as in new accounts with limits of 10-50)', () => {
    const { service } = synthApp({ stage: 'prod' });
    assert.equal(rollbackFunction(service).Properties['ReservedConcurrentExecutions'], undefined);
  });

  it('reserves config.rollbackReservedConcurrency when it is given', () => {
    const { service } = synthApp({ stage: 'prod', rollbackReservedConcurrency: '3' });
    assert.equal(rollbackFunction(service).Properties['ReservedConcurrentExecutions'], 3);
  });
});

describe('cdk-nag acknowledgements of the rollback and snapshot-hook roles', () => {
  const ours = /\/(Rollback|PreDeploySnapshot)\//;
  for (const stage of ['dev', 'staging', 'prod']) {
    const forms: [string, Record<string, string>][] = [
      ['env-agnostic (token ARNs)', {}],
      [
        'with -c account=123456789012 -c region=eu-west-1 (literal ARNs)',
        { account: '123456789012', region: 'eu-west-1' },
      ],
    ];
    for (const [form, context] of forms) {
      it(`hold for ${stage} synthesized ${form}`, () => {
        const { stacks } = buildApp({ stage, ...context });
        const report = new AwsSolutionsChecks().validateScope(stacks.service);
        const mine = report.violations.filter((v) =>
          v.violatingResources.some((r) => ours.test(r.constructPath ?? '')),
        );
        assert.deepEqual(
          mine.map((v) => v.ruleName),
          [],
        );
      });
    }
  }
});

describe('deployment-event rules', () => {
  it('listen only for events ECS sends a native blue/green service without the circuit breaker (IN_PROGRESS, COMPLETED; SERVICE_DEPLOYMENT_FAILED is circuit-breaker only)', () => {
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html
    const { service } = synthApp({ stage: 'prod' });
    const [ecsService] = Object.values(resourcesOf(service, 'AWS::ECS::Service'));
    const config = ecsService?.Properties['DeploymentConfiguration'] as {
      Strategy?: string;
      DeploymentCircuitBreaker?: { Enable?: boolean };
    };
    assert.equal(config.Strategy, 'BLUE_GREEN');
    assert.notEqual(config.DeploymentCircuitBreaker?.Enable, true);
    const names = Object.values(resourcesOf(service, 'AWS::Events::Rule')).flatMap(
      (r) => (r.Properties['EventPattern'] as { detail: { eventName: string[] } }).detail.eventName,
    );
    assert.deepEqual([...new Set(names)].sort(), ['SERVICE_DEPLOYMENT_COMPLETED', 'SERVICE_DEPLOYMENT_IN_PROGRESS']);
  });
});
