/**
 * How a release moves production traffic (config key `deploymentStrategy`), and the arithmetic AWS documents for it.
 * No dependencies: the stage config validates with it, the web service renders it, the README and the rehearsal
 * read its timeline.
 *
 * ECS's strategies for the ECS deployment controller are ROLLING | BLUE_GREEN | LINEAR | CANARY
 * (DeploymentConfiguration.strategy, https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html);
 * this service offers the three that shift traffic between two target groups behind listener rules:
 * - blue_green: all production traffic at once, after the test-traffic checks;
 * - canary: `canaryPercent` of production traffic, wait `canaryBakeMinutes`, then the rest
 *   (CanaryConfiguration: canaryPercent "multiples of 0.1 from 0.1 to 100.0", canaryBakeTimeInMinutes "0 to 1440",
 *   https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html);
 * - linear: `linearStepPercent` more at each step, waiting `linearStepBakeMinutes` between steps, not after 100 %
 *   (LinearConfiguration: stepPercent "multiples of 0.1 from 3.0 to 100.0", stepBakeTimeInMinutes "0 to 1440",
 *   https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinearConfiguration.html).
 */

export const DEPLOYMENT_STRATEGIES = ['blue_green', 'canary', 'linear'] as const;
export type DeploymentStrategyName = (typeof DEPLOYMENT_STRATEGIES)[number];

/** The ranges the ECS API reference documents (pages above), in percent and minutes. */
export const CANARY_PERCENT_RANGE = { min: 0.1, max: 100 } as const;
export const LINEAR_STEP_PERCENT_RANGE = { min: 3, max: 100 } as const;
export const STEP_BAKE_MINUTES_RANGE = { min: 0, max: 1440 } as const;
/** A PAUSE hook's timeout: DeploymentLifecycleHookTimeoutConfiguration.timeoutInMinutes "Minimum value of 1. Maximum value of 20160". */
export const PAUSE_TIMEOUT_MINUTES_RANGE = { min: 1, max: 20160 } as const;

/**
 * CloudFormation "rejects deployments when the calculated deployment time exceeds 33 hours", because its operations
 * time out after 36 hours (AWS::ECS::Service CanaryConfiguration and LinearConfiguration,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-canaryconfiguration.html,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-ecs-service-linearconfiguration.html).
 */
export const CLOUDFORMATION_CALCULATED_LIMIT_MINUTES = 33 * 60;
export const CLOUDFORMATION_OPERATION_LIMIT_MINUTES = 36 * 60;

export interface StrategySettings {
  readonly deploymentStrategy: DeploymentStrategyName;
  readonly canaryPercent: number;
  readonly canaryBakeMinutes: number;
  readonly linearStepPercent: number;
  readonly linearStepBakeMinutes: number;
  /** Minutes after the whole of production traffic moved (DeploymentConfiguration.BakeTimeInMinutes). */
  readonly bakeTimeMinutes: number;
}

/** Whether `value` is a multiple of 0.1 (in tenths, so 0.3 counts despite binary floating point). */
export function isTenthMultiple(value: number): boolean {
  return Math.abs(value * 10 - Math.round(value * 10)) < 1e-9;
}

/**
 * The number of linear steps CloudFormation counts, as its LinearConfiguration page defines it: `(100 ÷ StepPercent) - 1`
 * when StepPercent divides 100 evenly, else `floor(100 ÷ StepPercent)` (the step bake is not applied after 100 %).
 */
export function linearBakedSteps(stepPercent: number): number {
  const tenths = Math.round(stepPercent * 10);
  return 1000 % tenths === 0 ? 1000 / tenths - 1 : Math.floor(1000 / tenths);
}

/**
 * CloudFormation's "calculated deployment time" of the template: `BakeTimeInMinutes + CanaryBakeTimeInMinutes` for a
 * canary, `BakeTimeInMinutes + StepBakeTimeInMinutes × steps` for a linear release, the bake alone for blue/green.
 */
export function calculatedDeploymentMinutes(s: StrategySettings): number {
  switch (s.deploymentStrategy) {
    case 'canary':
      return s.bakeTimeMinutes + s.canaryBakeMinutes;
    case 'linear':
      return s.bakeTimeMinutes + s.linearStepBakeMinutes * linearBakedSteps(s.linearStepPercent);
    case 'blue_green':
      return s.bakeTimeMinutes;
  }
}

/** One production traffic step: green's share after it, and the wait before the next step (or the final bake). */
export interface TrafficStep {
  readonly greenPercent: number;
  readonly waitMinutes: number;
}

/**
 * The production weights a forward release passes through, in order, ending at 100 %, each with the wait after it;
 * the last wait is the deployment bake. ECS runs the PRE_PRODUCTION_TRAFFIC_SHIFT hooks before each step
 * ("For linear and canary deployments, this stage is invoked before every traffic shift step", DeploymentLifecycleHook,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html).
 */
export function trafficSteps(s: StrategySettings): TrafficStep[] {
  const round = (v: number) => Math.round(v * 10) / 10;
  switch (s.deploymentStrategy) {
    case 'blue_green':
      return [{ greenPercent: 100, waitMinutes: s.bakeTimeMinutes }];
    case 'canary':
      return s.canaryPercent >= 100
        ? [{ greenPercent: 100, waitMinutes: s.bakeTimeMinutes }]
        : [
            { greenPercent: round(s.canaryPercent), waitMinutes: s.canaryBakeMinutes },
            { greenPercent: 100, waitMinutes: s.bakeTimeMinutes },
          ];
    case 'linear': {
      const steps: TrafficStep[] = [];
      const tenths = Math.round(s.linearStepPercent * 10);
      for (let at = tenths; at < 1000; at += tenths) {
        steps.push({ greenPercent: at / 10, waitMinutes: s.linearStepBakeMinutes });
      }
      steps.push({ greenPercent: 100, waitMinutes: s.bakeTimeMinutes });
      return steps;
    }
  }
}
