import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config';
import { Network } from '../constructs/network';

export interface NetworkStackProps extends StackProps {
  readonly config: StageConfig;
}

/** SoftFactory-<Stage>-Network: the VPC and NAT gateways every other stack lives in. */
export class NetworkStack extends Stack {
  public readonly network: Network;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.network = new Network(this, 'Network', {
      maxAzs: config.maxAzs,
      natGateways: config.natGateways,
      logRetentionDays: config.logRetentionDays,
    });
  }
}
