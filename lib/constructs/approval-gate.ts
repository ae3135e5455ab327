import { aws_ecs as ecs, aws_events as events, type aws_sns as sns, aws_events_targets as targets } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { Stage } from '../config/stage-config';
import type { WebService } from './web-service';

export interface ApprovalGateProps {
  /** The stage, in the commands the notice quotes. */
  readonly stage: Stage;
  /** The service whose releases pause. */
  readonly web: WebService;
  /** Where the notice goes (the stage's notification topic). */
  readonly topic: sns.ITopic;
  /** Green through the test listener: what the person approving looks at. */
  readonly testUrl: string;
  /** Minutes ECS waits for `sfdeploy promote` before it rolls the release back (1–20160). */
  readonly timeoutMinutes: number;
  /** Names the stage in the notice, e.g. `softfactory-prod`. */
  readonly namePrefix: string;
}

/**
 * The EventBridge event ECS emits when a deployment reaches a PAUSE hook: detail-type `ECS Hook State Change`, event
 * name `HOOK_AWAITING_ACTION` ("Pause hooks for Amazon ECS service deployments",
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html). That page documents no
 * other field of the event, so the rule also matches the service ARN in `resources`, where ECS puts it in its other
 * service events (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html),
 * and the notice quotes nothing else from the event: the hook id is read by `sfdeploy promote` from
 * DescribeServiceDeployments, as the guide says to.
 */
export const HOOK_AWAITING_ACTION_EVENT = {
  source: 'aws.ecs',
  detailType: 'ECS Hook State Change',
  eventName: 'HOOK_AWAITING_ACTION',
} as const;

/**
 * Manual promotion (issue 14 point 3): every release pauses at POST_TEST_TRAFFIC_SHIFT — green serving the test
 * listener, production still on the old revision — until a person runs `sfdeploy promote` (CONTINUE) or `sfdeploy
 * abort` (ROLLBACK); after `timeoutMinutes` ECS rolls back by itself. The smoke hook runs at the same stage: ECS
 * documents that "both hooks must complete before the deployment proceeds to the next stage"
 * (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle-hooks.html), so a promotion never
 * moves production traffic past a failing smoke suite. The pause and the URL to look at go to the topic.
 */
export class ApprovalGate extends Construct {
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ApprovalGateProps) {
    super(scope, id);
    props.web.addPauseHook(
      'ApprovalPause',
      [ecs.DeploymentLifecycleStage.POST_TEST_TRAFFIC_SHIFT],
      props.timeoutMinutes,
    );
    const name = props.namePrefix;
    const stage = props.stage;
    this.rule = new events.Rule(this, 'Paused', {
      description: `${name}: a release paused for approval, to notifications`,
      eventPattern: {
        source: [HOOK_AWAITING_ACTION_EVENT.source],
        detailType: [HOOK_AWAITING_ACTION_EVENT.detailType],
        resources: [props.web.service.serviceArn],
        detail: { eventName: [HOOK_AWAITING_ACTION_EVENT.eventName] },
      },
    });
    const time = events.EventField.fromPath('$.time');
    this.rule.addTarget(
      new targets.SnsTopic(props.topic, {
        message: events.RuleTargetInput.fromText(
          `[${name}] Release PAUSED for approval (${time}): the new revision serves the test listener, production traffic has not moved.\n\n` +
            `Look at it: ${props.testUrl} (reachable from the NAT gateways' addresses only; the smoke suite checks it too).\n` +
            `Promote: sfdeploy promote --stage ${stage}\n` +
            `Abort:   sfdeploy abort --stage ${stage} --reason "<why>"\n\n` +
            `If nobody acts within ${props.timeoutMinutes} minutes, ECS rolls the release back (timeout action ROLLBACK).`,
        ),
      }),
    );
  }
}
