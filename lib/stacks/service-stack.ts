import {
  Annotations,
  aws_certificatemanager as acm,
  CfnOutput,
  aws_route53 as route53,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { CertificateSource, StageConfig } from '../config/stage-config';
import type { Database } from '../constructs/database';
import { LoadBalancer } from '../constructs/load-balancer';
import type { Network } from '../constructs/network';
import { WebAcl } from '../constructs/web-acl';
import { WebService } from '../constructs/web-service';

export interface ServiceStackProps extends StackProps {
  readonly config: StageConfig;
  readonly network: Network;
  readonly database: Database;
}

/** SoftFactory-<Stage>-Service: everything stateless — safe to replace. */
export class ServiceStack extends Stack {
  public readonly loadBalancer: LoadBalancer;
  public readonly web: WebService;
  public readonly webAcl: WebAcl;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config, network, database } = props;
    const namePrefix = `softfactory-${config.stage}`;

    this.loadBalancer = new LoadBalancer(this, 'LoadBalancer', {
      vpc: network.vpc,
      certificate: certificate(this, config.certificate),
      testClientCidrs: network.natCidrs,
      accessLogExpiryDays: config.accessLogExpiryDays,
    });
    this.webAcl = new WebAcl(this, 'WebAcl', {
      resourceArn: this.loadBalancer.alb.loadBalancerArn,
      rateLimit: config.wafRateLimit,
      logRetentionDays: config.logRetentionDays,
      namePrefix,
    });
    this.web = new WebService(this, 'Web', {
      vpc: network.vpc,
      loadBalancer: this.loadBalancer,
      image: config.image,
      command: config.containerCommand,
      cpu: config.cpu,
      memoryMiB: config.memoryMiB,
      desiredCount: config.desiredCount,
      minTasks: config.minTasks,
      maxTasks: config.maxTasks,
      cpuTargetPercent: config.cpuTargetPercent,
      requestsPerTarget: config.requestsPerTarget,
      database,
      logRetentionDays: config.logRetentionDays,
      bakeTimeMinutes: config.bakeTimeMinutes,
      namePrefix,
    });
    this.acknowledgeFindings();

    const host = config.domainName ?? this.loadBalancer.alb.loadBalancerDnsName;
    new CfnOutput(this, 'Url', { value: `https://${host}`, description: 'Public URL (production traffic)' });
    new CfnOutput(this, 'LoadBalancerDnsName', { value: this.loadBalancer.alb.loadBalancerDnsName });
    new CfnOutput(this, 'ClusterName', { value: this.web.cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { value: this.web.service.serviceName });
  }

  private acknowledgeFindings(): void {
    Validations.of(this.loadBalancer.alb.connections.securityGroups[0]!).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'A public web service: ports 443 and 80 (301 to HTTPS) are open to the internet by design; the test port is not.',
    });
    Validations.of(this.loadBalancer.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket receives ALB access logs; S3 server access logs of a log bucket would only log the log delivery.',
    });
    Validations.of(this.web.taskDefinition.obtainExecutionRole()).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource-level permissions (AWS service authorization reference); every other action is scoped.',
    });
    Validations.of(this.web.service.node.findChild('AlternateTargetRole')).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers]',
      reason:
        'The AWS-maintained policy ECS blue/green needs to shift listener-rule weights; AWS updates it with the feature.',
    });
    Validations.of(this.web.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'Only non-secret values are plain environment variables (FLASK_ENV, APP_PORT, DB_NAME); credentials come from Secrets Manager.',
    });
  }
}

function certificate(scope: Construct, source: CertificateSource): acm.ICertificate {
  if (source.kind === 'create') {
    const zone = route53.HostedZone.fromHostedZoneAttributes(scope, 'Zone', {
      hostedZoneId: source.hostedZoneId,
      zoneName: source.zoneName,
    });
    return new acm.Certificate(scope, 'Certificate', {
      domainName: source.domainName,
      validation: acm.CertificateValidation.fromDns(zone),
    });
  }
  if (source.placeholder) {
    Annotations.of(scope).addWarningV2(
      'softfactory:placeholder-certificate',
      'No certificate configured: synthesized with a placeholder ARN. A real deploy needs -c certificateArn=… or -c domainName=… -c hostedZoneId=… -c zoneName=….',
    );
  }
  return acm.Certificate.fromCertificateArn(scope, 'Certificate', source.arn);
}
