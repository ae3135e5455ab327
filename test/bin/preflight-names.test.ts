/**
 * Preflight looks resources up by the physical names the stacks give them (bin/preflight/stage.ts). This proves the
 * names, and the tags it counts the stage's Elastic IPs by, against the synthesized templates.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { resourceNames, stackNames } from '../../bin/preflight/stage';
import { EXAMPLE_ENV, type SynthResult, synthApp } from '../helpers/synth';

describe('preflight names match the synthesized prod stage', () => {
  let synth: SynthResult;
  before(() => {
    synth = synthApp({ stage: 'prod', account: EXAMPLE_ENV.account, region: EXAMPLE_ENV.region });
  });

  it('names the three stacks as createStacks does', () => {
    const { network, data, service } = synth.stacks;
    assert.deepEqual(stackNames('prod'), {
      network: network.stackName,
      data: data.stackName,
      service: service.stackName,
    });
  });

  it('names the cluster, service, alarm topic, smoke token secret and rollback function as the Service stack does', () => {
    const names = resourceNames('prod');
    synth.service.hasResourceProperties('AWS::ECS::Cluster', { ClusterName: names.cluster });
    synth.service.hasResourceProperties('AWS::ECS::Service', { ServiceName: names.service });
    synth.service.hasResourceProperties('AWS::SNS::Topic', { TopicName: names.alarmTopic });
    synth.service.hasResourceProperties('AWS::SecretsManager::Secret', { Name: names.smokeTokenSecret });
    synth.service.hasResourceProperties('AWS::Lambda::Function', { FunctionName: names.rollbackFunction });
  });

  it('tags every NAT Elastic IP with project and stage, which preflight counts as the stage’s own', () => {
    const eips = synth.network.findResources('AWS::EC2::EIP');
    assert.equal(Object.keys(eips).length, synth.config.natGateways);
    synth.network.allResourcesProperties('AWS::EC2::EIP', {
      Tags: Match.arrayWith([
        { Key: 'project', Value: 'softfactory' },
        { Key: 'stage', Value: 'prod' },
      ]),
    });
  });
});
