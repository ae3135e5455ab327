import { aws_ec2 as ec2, aws_logs as logs, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { retentionDays } from './log-retention';

export interface NetworkProps {
  /** Availability zones to span (an environment-agnostic synth gets at most 2). */
  readonly maxAzs: number;
  /** NAT gateways; one per AZ is redundant, one in total is cheap. */
  readonly natGateways: number;
  /** Retention of the VPC flow-log group, in days. */
  readonly logRetentionDays: number;
}

/**
 * The VPC: public subnets (ALB, NAT), private subnets with egress (Fargate tasks, Lambda functions) and isolated
 * subnets (RDS). NAT gateways use Elastic IPs allocated here, so their addresses are known to the template: the
 * blue/green test listener admits only these addresses (our own smoke checker egresses through them).
 */
export class Network extends Construct {
  public readonly vpc: ec2.Vpc;
  /** Public IPv4 addresses of the NAT gateways, as `/32` CIDRs. */
  public readonly natCidrs: string[];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const eips = Array.from(
      { length: props.natGateways },
      (_, i) => new ec2.CfnEIP(this, `NatEip${i + 1}`, { domain: 'vpc' }),
    );
    this.natCidrs = eips.map((eip) => `${eip.attrPublicIp}/32`);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: props.maxAzs,
      natGateways: props.natGateways,
      natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: eips.map((eip) => eip.attrAllocationId) }),
      subnetConfiguration: [
        // No public address for whatever starts here: the ALB and the NAT gateways bring their own (Elastic IPs
        // above), nothing else belongs in these subnets (NIST.800.53.R5-VPCSubnetAutoAssignPublicIpDisabled).
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      // The default security group loses its rules (a CDK custom resource revokes them): nothing of ours uses it, and
      // a resource placed in it by mistake then reaches nothing (NIST.800.53.R5-VPCDefaultSecurityGroupClosed).
      restrictDefaultSecurityGroup: true,
    });
    for (const subnet of this.vpc.publicSubnets) {
      Validations.of(subnet.node.findChild('DefaultRoute')).acknowledge({
        id: 'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW',
        reason:
          'The public subnets hold only the internet-facing ALB and the NAT gateways: their 0.0.0.0/0 route to the internet gateway is what serves the public site and gives the private subnets egress; tasks, functions and RDS live in subnets without it.',
      });
    }
    // Rejected and accepted flows, for incident forensics (cdk-nag AwsSolutions-VPC7).
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogs', {
      retention: retentionDays(props.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const flowLog = this.vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
    });
    Validations.of(flowLog.node.findChild('IAMRole').node.findChild('DefaultPolicy')).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason:
        "aws-cdk-lib's grant to the flow-log role (write to this one log group), kept with its only role; a managed policy would be the same statements with a second lifecycle.",
    });
  }
}
