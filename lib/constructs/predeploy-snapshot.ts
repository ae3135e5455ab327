import {
  ArnFormat,
  Duration,
  aws_ecs as ecs,
  aws_iam as iam,
  type aws_rds as rds,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { PREDEPLOY_TAG, STAGE_TAG } from '../../lambda/shared/snapshots';
import { snapshotHookEnvironment, snapshotHookFunctionName } from '../../lambda/snapshot-hook/env';
import type { Stage } from '../config/stage-config';
import { HouseFunction } from './house-function';
import { wildcardArnFinding } from './nag';
import { grantReadThisServicesDeployments } from './service-deployment-access';
import type { WebService } from './web-service';

export interface PreDeploySnapshotProps {
  /** The stage, in the function name and the snapshots' tags and prefix. */
  readonly stage: Stage;
  /** The instance whose manual snapshots the hook takes and prunes. */
  readonly database: rds.IDatabaseInstance;
  /** The service whose deployments the hook runs in (PRE_SCALE_UP). */
  readonly web: WebService;
  /** How many of our own pre-deploy snapshots to keep. */
  readonly retainSnapshots: number;
  /** ECS hook timeout; the function gives up (FAILED) five minutes earlier so ECS sees a reason. */
  readonly timeoutMinutes: number;
  /** Retention of the function's log group, in days. */
  readonly logRetentionDays: number;
}

/**
 * The checklist's "backup created before deployment", as an ECS PRE_SCALE_UP lifecycle hook: a manual RDS snapshot
 * tagged with the service deployment, IN_PROGRESS until it is available, then SUCCEEDED; older pre-deploy snapshots
 * beyond the retention count are pruned (only ours: by identifier prefix and tags).
 */
export class PreDeploySnapshot extends Construct {
  public readonly function: HouseFunction;
  public readonly snapshotPrefix: string;

  constructor(scope: Construct, id: string, props: PreDeploySnapshotProps) {
    super(scope, id);
    this.snapshotPrefix = `sf-${props.stage}-predeploy`;
    this.function = new HouseFunction(this, 'Function', {
      entry: 'snapshot-hook',
      functionName: snapshotHookFunctionName(props.stage),
      description: 'ECS PRE_SCALE_UP hook: snapshot the database before each deployment, prune old ones',
      environment: snapshotHookEnvironment({
        stage: props.stage,
        dbInstanceId: props.database.instanceIdentifier,
        snapshotPrefix: this.snapshotPrefix,
        retainSnapshots: props.retainSnapshots,
        maxWaitMinutes: Math.max(1, props.timeoutMinutes - 5),
      }),
      timeout: Duration.seconds(60),
      logRetentionDays: props.logRetentionDays,
    });

    const stack = Stack.of(this);
    const ourSnapshots = stack.formatArn({
      service: 'rds',
      resource: 'snapshot',
      resourceName: `${this.snapshotPrefix}-*`,
      arnFormat: ARN_COLON,
    });
    const instanceArn = stack.formatArn({
      service: 'rds',
      resource: 'db',
      resourceName: props.database.instanceIdentifier,
      arnFormat: ARN_COLON,
    });
    const fn = this.function.function;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'SnapshotOurInstanceOnly',
        actions: ['rds:CreateDBSnapshot', 'rds:AddTagsToResource'],
        resources: [instanceArn, ourSnapshots],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadSnapshotsOfOurInstance',
        actions: ['rds:DescribeDBSnapshots'],
        resources: [
          instanceArn,
          stack.formatArn({ service: 'rds', resource: 'snapshot', resourceName: '*', arnFormat: ARN_COLON }),
        ],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'PruneOnlyOurTaggedSnapshots',
        actions: ['rds:DeleteDBSnapshot'],
        resources: [ourSnapshots],
        conditions: {
          StringEquals: { [`aws:ResourceTag/${PREDEPLOY_TAG}`]: 'true', [`aws:ResourceTag/${STAGE_TAG}`]: props.stage },
        },
      }),
    );

    // A revert (our own rollback) skips the snapshot: the hook reads what the deployment changes.
    grantReadThisServicesDeployments(fn, props.stage);
    Validations.of(fn.role!).acknowledge({
      id: wildcardArnFinding(stack, 'rds', `snapshot:${this.snapshotPrefix}-*`),
      reason:
        'Only snapshots with our own identifier prefix (deletion additionally requires our tags); their ids carry the deployment and time.',
    });
    Validations.of(fn.role!).acknowledge({
      id: wildcardArnFinding(stack, 'rds', 'snapshot:*'),
      reason: 'rds:DescribeDBSnapshots is read-only; the call filters by DBInstanceIdentifier.',
    });

    props.web.addLifecycleHook(
      'PreDeploySnapshotHook',
      this.function.function,
      [ecs.DeploymentLifecycleStage.PRE_SCALE_UP],
      props.timeoutMinutes,
    );
  }
}

/** RDS ARNs separate the resource type and name with a colon (`arn:aws:rds:…:snapshot:name`). */
const ARN_COLON = ArnFormat.COLON_RESOURCE_NAME;
