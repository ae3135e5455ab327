import {
  type aws_ecs as ecs,
  aws_events as events,
  type aws_sns as sns,
  aws_events_targets as targets,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';

export interface DeploymentEventsProps {
  /** The ECS service whose deployments are reported. */
  readonly service: ecs.IBaseService;
  /** The topic the messages go to. */
  readonly topic: sns.ITopic;
  /** Names the stage and dashboard in the messages, e.g. `softfactory-prod`. */
  readonly namePrefix: string;
  /**
   * Bake time after the production traffic shift, quoted in the "started" message.
   * @default 5
   */
  readonly bakeTimeMinutes?: number;
}

/**
 * EventBridge event and values, as documented in the Amazon ECS Developer Guide ("Amazon ECS service deployment
 * state change events", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html):
 * detail-type "ECS Deployment State Change", the service ARN in `resources`, and `detail.eventName`:
 * - SERVICE_DEPLOYMENT_IN_PROGRESS: "sent for both initial deployments and rollback deployments"; "the difference
 *   between the two is in the reason field".
 * - SERVICE_DEPLOYMENT_COMPLETED: "sent once a service reaches a steady state after a deployment" (a rollback's too).
 * - SERVICE_DEPLOYMENT_FAILED: "sent for services with deployment circuit breaker logic turned on". This service uses
 *   the native blue/green strategy without the circuit breaker (lib/constructs/web-service.ts): a failed hook or a
 *   deployment alarm shows up as a rollback deployment (IN_PROGRESS with a rolling-back reason, then COMPLETED), never
 *   as SERVICE_DEPLOYMENT_FAILED. So there is no rule for it: it would be a rule that never fires.
 */
export const DEPLOYMENT_EVENT = {
  source: 'aws.ecs',
  detailType: 'ECS Deployment State Change',
  inProgress: 'SERVICE_DEPLOYMENT_IN_PROGRESS',
  completed: 'SERVICE_DEPLOYMENT_COMPLETED',
} as const;

/**
 * How a rollback's reason reads ("ECS deployment circuit breaker: rolling back to deploymentId …"). EventBridge
 * wildcards are case-sensitive, so both spellings are listed. The started and rolling-back rules use the same list
 * (wildcard / anything-but wildcard), so every in-progress event produces exactly one message.
 */
export const ROLLBACK_REASON_PATTERNS = ['*rolling back*', '*Rolling back*', '*rollback*', '*Rollback*'];

/**
 * Sends the service's deployment state changes — started, rolling back, completed — to the topic, each as a
 * readable plain-text message (input transformer) that names the stage, service, deployment, ECS's reason, and what
 * to do first.
 */
export class DeploymentEvents extends Construct {
  public readonly rules: events.Rule[] = [];

  constructor(scope: Construct, id: string, props: DeploymentEventsProps) {
    super(scope, id);
    const bake = props.bakeTimeMinutes ?? 5;
    const name = props.namePrefix;
    const field = {
      reason: events.EventField.fromPath('$.detail.reason'),
      deployment: events.EventField.fromPath('$.detail.deploymentId'),
      service: events.EventField.fromPath('$.resources[0]'),
      time: events.EventField.fromPath('$.time'),
    };
    const facts = `Service: ${field.service}\nDeployment: ${field.deployment}\nTime: ${field.time}\nECS says: ${field.reason}`;

    this.rule('Started', props, [DEPLOYMENT_EVENT.inProgress], {
      reason: events.Match.anythingButWildcard(...ROLLBACK_REASON_PATTERNS),
      text:
        `[${name}] Deployment STARTED.\n${facts}\n\n` +
        `ECS shifts traffic blue/green, then bakes ${bake} minutes; if the error-rate, latency or unhealthy-hosts ` +
        `alarm fires in that time it rolls back by itself. Watch dashboard ${name}.`,
    });
    this.rule('RollingBack', props, [DEPLOYMENT_EVENT.inProgress], {
      reason: ROLLBACK_REASON_PATTERNS.flatMap((pattern) => events.Match.wildcard(pattern)),
      text:
        `[${name}] ROLLBACK in progress: ECS is returning the service to the previous revision.\n${facts}\n\n` +
        'First: find what failed: the alarm named in the reason, or the failing hook in the service deployment ' +
        '(aws ecs list-service-deployments). The database is never restored automatically.',
    });
    this.rule('Completed', props, [DEPLOYMENT_EVENT.completed], {
      // ECS sends COMPLETED for a rollback deployment too: the event does not say whether the release succeeded.
      text:
        `[${name}] Deployment COMPLETED: the service reached a steady state.\n${facts}\n\n` +
        'If a ROLLBACK message came before this one, the steady state is the previous revision: the release failed ' +
        `(\`sfdeploy release-status --stage <stage>\` shows the deployment's own status and reason).`,
    });
  }

  private rule(
    id: string,
    props: DeploymentEventsProps,
    eventNames: string[],
    options: { reason?: string[]; text: string },
  ): void {
    const rule = new events.Rule(this, id, {
      description: `${props.namePrefix}: ECS deployment ${id.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} to notifications`,
      eventPattern: {
        source: [DEPLOYMENT_EVENT.source],
        detailType: [DEPLOYMENT_EVENT.detailType],
        resources: [props.service.serviceArn],
        detail: { eventName: eventNames, ...(options.reason ? { reason: options.reason } : {}) },
      },
    });
    rule.addTarget(new targets.SnsTopic(props.topic, { message: events.RuleTargetInput.fromText(options.text) }));
    this.rules.push(rule);
  }
}
