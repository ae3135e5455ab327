import { Fn, Stack, type StackProps, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config';
import { Network } from '../constructs/network';

export interface NetworkStackProps extends StackProps {
  readonly config: StageConfig;
}

/** SoftFactory-<Stage>-Network: the VPC and NAT gateways every other stack lives in. */
export class NetworkStack extends Stack {
  public readonly network: Network;
  private readonly config: StageConfig;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.config = config;
    this.network = new Network(this, 'Network', {
      maxAzs: config.maxAzs,
      natGateways: config.natGateways,
      logRetentionDays: config.logRetentionDays,
    });
  }

  /**
   * The zones the VPC spans. CDK gives an environment-agnostic stack only two (`Fn::GetAZs` picks 0 and 1), which
   * would silently turn prod's three into two; overriding this getter is how the CDK documents choosing them
   * (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.Stack.html#availabilityzones). Pinned zones from config
   * win; otherwise an env-agnostic synth selects the region's first `maxAzs` zones at deploy time (`Fn::GetAZs`), and
   * a synth with account/region uses CDK's context lookup (committed in cdk.context.json).
   */
  override get availabilityZones(): string[] {
    // Called by Stack's own constructor before `config` is set.
    if (this.config === undefined) return super.availabilityZones;
    if (this.config.availabilityZones) return [...this.config.availabilityZones];
    if (Token.isUnresolved(this.region)) {
      return Array.from({ length: this.config.maxAzs }, (_, i) => Fn.select(i, Fn.getAzs()));
    }
    return super.availabilityZones;
  }
}
