/**
 * Our own rollback must not wait for a fresh pre-deploy snapshot. The snapshot hook reads the deployment it is called
 * for (DescribeServiceDeployments: targetServiceRevision, sourceServiceRevisions; DescribeServiceRevisions:
 * taskDefinition — https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html) and answers
 * SUCCEEDED at once for a revert (an older revision of the same family replacing a newer one): what our rollback's
 * UpdateService deploys. Anything it cannot tell is treated as a release: the snapshot is taken.
 */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import {
  AccessDeniedException,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  ECSClient,
} from '@aws-sdk/client-ecs';
import { CreateDBSnapshotCommand, DescribeDBSnapshotsCommand, RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler } from '../../../lambda/snapshot-hook/handler';
import { resourcesOf, synthApp } from '../../helpers/synth';

const A = 'arn:aws:ecs:eu-west-1:123456789012';
const DEPLOYMENT = `${A}:service-deployment/softfactory-prod/softfactory-prod-web/r9i43YFjvgF_xlg7m2eJ1r`;
const REV = (id: string) => `${A}:service-revision/softfactory-prod/softfactory-prod-web/${id}`;
const TD = (n: number) => `${A}:task-definition/softfactory-prod-web:${n}`;
const quiet = { info: () => undefined, warn: () => undefined };

function event() {
  return {
    executionId: 'a1b2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    lifecycleStage: 'PRE_SCALE_UP',
    resourceArn: DEPLOYMENT,
    executionDetails: {
      serviceArn: `${A}:service/softfactory-prod/softfactory-prod-web`,
      targetServiceRevisionArn: REV('target'),
      testTrafficWeights: {},
      productionTrafficWeights: {},
    },
  };
}

describe('snapshot hook: a revert (our rollback) skips the snapshot', () => {
  const ecs = mockClient(ECSClient);
  const rds = mockClient(RDSClient);
  const handler = () => createHandler({ env: { STAGE: 'prod', DB_INSTANCE_ID: 'softfactory-prod-db' }, log: quiet });

  function deployment(targetTd: number, sourceTd: number) {
    ecs.on(DescribeServiceDeploymentsCommand).resolves({
      serviceDeployments: [
        {
          serviceDeploymentArn: DEPLOYMENT,
          status: 'IN_PROGRESS',
          lifecycleStage: 'PRE_SCALE_UP',
          targetServiceRevision: {
            arn: REV('target'),
            requestedTaskCount: 2,
            runningTaskCount: 0,
            pendingTaskCount: 0,
          },
          sourceServiceRevisions: [
            { arn: REV('source'), requestedTaskCount: 2, runningTaskCount: 2, pendingTaskCount: 0 },
          ],
        },
      ],
      failures: [],
    });
    ecs.on(DescribeServiceRevisionsCommand).resolves({
      serviceRevisions: [
        { serviceRevisionArn: REV('target'), taskDefinition: TD(targetTd) },
        { serviceRevisionArn: REV('source'), taskDefinition: TD(sourceTd) },
      ],
      failures: [],
    });
  }

  beforeEach(() => {
    ecs.reset();
    rds.reset();
    rds.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    rds.on(CreateDBSnapshotCommand).resolves({
      DBSnapshot: { DBSnapshotIdentifier: 'sf-prod-predeploy-x', Status: 'creating', SnapshotCreateTime: new Date() },
    });
  });
  after(() => {
    ecs.restore();
    rds.restore();
  });

  it('answers SUCCEEDED at once, with no snapshot, for UpdateService back from :41 to :40 (our rollback)', async () => {
    deployment(40, 41);
    const answer = await handler()(event());
    assert.equal(answer.hookStatus, 'SUCCEEDED');
    assert.match(String(answer.hookDetails?.['skipped']), /revert to .*:40 from .*:41/);
    assert.equal(rds.commandCalls(CreateDBSnapshotCommand).length, 0);
  });

  it('takes the snapshot for a release (:40 → :41)', async () => {
    deployment(41, 40);
    const answer = await handler()(event());
    assert.equal(answer.hookStatus, 'IN_PROGRESS');
    assert.equal(rds.commandCalls(CreateDBSnapshotCommand).length, 1);
  });

  it('takes the snapshot when ECS will not say what the deployment changes', async () => {
    ecs
      .on(DescribeServiceDeploymentsCommand)
      .rejects(new AccessDeniedException({ message: 'not authorized', $metadata: { httpStatusCode: 400 } }));
    const answer = await handler()(event());
    assert.equal(answer.hookStatus, 'IN_PROGRESS');
    assert.equal(rds.commandCalls(CreateDBSnapshotCommand).length, 1);
  });

  it('may read exactly this service’s deployments and revisions (fixed names that match the synthesized service)', () => {
    const { service } = synthApp({ stage: 'prod' });
    const [ecsService] = Object.values(resourcesOf(service, 'AWS::ECS::Service'));
    assert.equal(ecsService?.Properties['ServiceName'], 'softfactory-prod-web');
    const [cluster] = Object.values(resourcesOf(service, 'AWS::ECS::Cluster'));
    assert.equal(cluster?.Properties['ClusterName'], 'softfactory-prod');
    const policies = JSON.stringify(
      Object.entries(resourcesOf(service, 'AWS::IAM::Policy')).filter(([id]) => id.startsWith('PreDeploySnapshot')),
    );
    assert.match(policies, /ecs:DescribeServiceDeployments/);
    assert.match(policies, /service-deployment\/softfactory-prod\/softfactory-prod-web\/\*/);
    assert.match(policies, /service-revision\/softfactory-prod\/softfactory-prod-web\/\*/);
  });
});
