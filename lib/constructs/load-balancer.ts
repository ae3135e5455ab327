import {
  Aws,
  type aws_certificatemanager as acm,
  CfnMapping,
  Duration,
  aws_ec2 as ec2,
  aws_elasticloadbalancingv2 as elbv2,
  Fn,
  aws_iam as iam,
  RemovalPolicy,
  Stack,
  aws_s3 as s3,
  Token,
  Validations,
} from 'aws-cdk-lib';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';

export interface LoadBalancerProps {
  /** The VPC; the load balancer goes into its public subnets. */
  readonly vpc: ec2.IVpc;
  /** The HTTPS listener's certificate (ACM, in the stack's region). */
  readonly certificate: acm.ICertificate;
  /** CIDRs allowed to reach the blue/green test listener (our own checkers' egress addresses). */
  readonly testClientCidrs: readonly string[];
  /** Days before access logs expire. */
  readonly accessLogExpiryDays: number;
  /**
   * Days an overwritten or deleted access-log object is kept as a noncurrent version (the bucket is versioned, so a
   * deletion by mistake or by an intruder covering tracks can be undone for this long).
   * @default 30
   */
  readonly noncurrentVersionExpiryDays?: number;
  /**
   * ELB deletion protection: DeleteLoadBalancer fails until it is turned off (`config.deletionProtection`: on in prod,
   * off in dev and staging so `cdk destroy` works).
   * @default false
   */
  readonly deletionProtection?: boolean;
  /**
   * HTTP codes a healthy target answers to `GET /health`. ALB health checks send no `X-Forwarded-Proto`
   * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html: no custom
   * headers), and SoftFactory in production mode redirects such requests (301), so production mode needs 301 here;
   * the container health check (`/ready`, with the header) is what proves the database is reachable.
   */
  readonly healthyHttpCodes: string;
}

/** The port of the test listener, on which ECS routes to the green revision before production traffic shifts. */
export const TEST_LISTENER_PORT = 9443;
/** The container port SoftFactory listens on. */
export const APP_PORT = 8000;

/**
 * Internet-facing ALB: HTTPS 443 (TLS 1.3 policy), HTTP 80 answering 301 → HTTPS, invalid headers dropped,
 * defensive desync mitigation, access logs to S3. Two target groups (blue, green) for ECS native blue/green:
 * a production rule on 443 and a test rule on a dedicated port that only `testClientCidrs` can reach.
 *
 * The rules, listeners and target groups take nothing from the task definition or service: after each deployment
 * ECS rewrites the production rule's weights, and a stack update that touched the rule would reset live traffic
 * to the old target group (aws/aws-cdk#36649). A test asserts they are byte-identical across image/count changes.
 */
export class LoadBalancer extends Construct {
  public readonly alb: elbv2.ApplicationLoadBalancer;
  public readonly httpsListener: elbv2.ApplicationListener;
  public readonly testListener: elbv2.ApplicationListener;
  public readonly blueTargetGroup: elbv2.ApplicationTargetGroup;
  public readonly greenTargetGroup: elbv2.ApplicationTargetGroup;
  public readonly productionRule: elbv2.ApplicationListenerRule;
  public readonly testRule: elbv2.ApplicationListenerRule;
  public readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: LoadBalancerProps) {
    super(scope, id);
    const noncurrentVersionExpiryDays = props.noncurrentVersionExpiryDays ?? 30;
    // ALB access logs support SSE-S3 only (no KMS).
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // Versioned (NIST.800.53.R5-S3BucketVersioningEnabled): ELB never overwrites a log object, so noncurrent
      // versions exist only after a deletion, and expire after noncurrentVersionExpiryDays.
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(props.accessLogExpiryDays),
          noncurrentVersionExpiration: Duration.days(noncurrentVersionExpiryDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        // Expiring a current version in a versioned bucket leaves a delete marker; once its noncurrent version is
        // gone, this removes the marker (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-configuration-examples.html).
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
      removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    });

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Public HTTPS and HTTP (redirect); test listener only from our checkers',
      allowAllOutbound: false,
    });
    securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS from the internet');
    securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'HTTP from the internet (301 to HTTPS)');
    for (const cidr of props.testClientCidrs) {
      securityGroup.addIngressRule(
        ec2.Peer.ipv4(cidr),
        ec2.Port.tcp(TEST_LISTENER_PORT),
        'Test listener: smoke checker',
      );
    }

    this.alb = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      securityGroup,
      dropInvalidHeaderFields: true,
      desyncMitigationMode: elbv2.DesyncMitigationMode.DEFENSIVE,
      http2Enabled: true,
      deletionProtection: props.deletionProtection ?? false,
    });
    enableAccessLogs(this, this.alb, this.accessLogBucket, 'alb');

    const targetGroup = (name: string) =>
      new elbv2.ApplicationTargetGroup(this, name, {
        vpc: props.vpc,
        port: APP_PORT,
        protocol: elbv2.ApplicationProtocol.HTTP,
        targetType: elbv2.TargetType.IP,
        deregistrationDelay: Duration.seconds(30),
        healthCheck: {
          path: '/health',
          healthyHttpCodes: props.healthyHttpCodes,
          interval: Duration.seconds(15),
          timeout: Duration.seconds(5),
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 3,
        },
      });
    this.blueTargetGroup = targetGroup('Blue');
    this.greenTargetGroup = targetGroup('Green');

    const redirect = this.alb.addRedirect({
      sourceProtocol: elbv2.ApplicationProtocol.HTTP,
      sourcePort: 80,
      targetProtocol: elbv2.ApplicationProtocol.HTTPS,
      targetPort: 443,
    });
    Validations.of(redirect).acknowledge({
      id: 'NIST.800.53.R5-ELBv2ACMCertificateRequired',
      reason:
        'The plain-HTTP listener serves nothing: its only action is a 301 to HTTPS on 443, whose listener (and the test listener) use the ACM certificate.',
    });
    const notFound = elbv2.ListenerAction.fixedResponse(404, {
      contentType: 'application/json',
      messageBody: '{"error":"not found"}',
    });
    this.httpsListener = this.alb.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [props.certificate],
      sslPolicy: elbv2.SslPolicy.TLS13_12_RES_PQ,
      defaultAction: notFound,
      open: false,
    });
    this.testListener = this.alb.addListener('Test', {
      port: TEST_LISTENER_PORT,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [props.certificate],
      sslPolicy: elbv2.SslPolicy.TLS13_12_RES_PQ,
      defaultAction: elbv2.ListenerAction.fixedResponse(403, {
        contentType: 'application/json',
        messageBody: '{"error":"forbidden"}',
      }),
      open: false,
    });

    const allTraffic = [elbv2.ListenerCondition.pathPatterns(['/*'])];
    this.productionRule = new elbv2.ApplicationListenerRule(this, 'ProductionRule', {
      listener: this.httpsListener,
      priority: 10,
      conditions: allTraffic,
      action: elbv2.ListenerAction.weightedForward([
        { targetGroup: this.blueTargetGroup, weight: 100 },
        { targetGroup: this.greenTargetGroup, weight: 0 },
      ]),
    });
    // Defence in depth: the security group already limits the port; the rule also checks the source address.
    this.testRule = new elbv2.ApplicationListenerRule(this, 'TestRule', {
      listener: this.testListener,
      priority: 10,
      conditions: [elbv2.ListenerCondition.sourceIps([...props.testClientCidrs])],
      action: elbv2.ListenerAction.weightedForward([
        { targetGroup: this.blueTargetGroup, weight: 0 },
        { targetGroup: this.greenTargetGroup, weight: 100 },
      ]),
    });
    this.acknowledgeFindings(props);
  }

  /** The findings a public load balancer raises, each with why it holds here. */
  private acknowledgeFindings(props: LoadBalancerProps): void {
    Validations.of(this.alb.connections.securityGroups[0]!).acknowledge({
      id: 'AwsSolutions-EC23',
      reason:
        'A public web service: ports 443 and 80 (301 to HTTPS) are open to the internet by design; the test port is not.',
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This bucket receives ALB access logs; S3 server access logs of a log bucket would only log the log delivery.',
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'NIST.800.53.R5-S3BucketLoggingEnabled',
      reason:
        'This bucket receives ALB access logs; S3 server access logs of a log bucket would only log the log delivery.',
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'NIST.800.53.R5-S3DefaultEncryptionKMS',
      reason:
        'ELB delivers access logs only to buckets encrypted with SSE-S3, not SSE-KMS (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html).',
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'NIST.800.53.R5-S3BucketReplicationEnabled',
      reason:
        'Access logs are diagnostic data that expire after accessLogExpiryDays; versioning covers deletion, and a second-region copy would double the storage for logs of a regional load balancer.',
    });
    if (!props.deletionProtection) {
      Validations.of(this.alb).acknowledge({
        id: 'NIST.800.53.R5-ELBDeletionProtectionEnabled',
        reason:
          'Off by configuration (deletionProtection), as in dev and staging, whose teardown must not need a manual step; prod requires it on (the config refuses prod without it).',
      });
    }
    const securityGroup = this.alb.connections.securityGroups[0]!;
    // Both rules read the ingress CIDRs, and the test listener's are the NAT gateways' Elastic IPs: deploy-time
    // tokens, on which the rules throw ("Rule threw an error during validation").
    Validations.of(securityGroup).acknowledge({
      id: 'NIST.800.53.R5-EC2RestrictedCommonPorts',
      reason:
        'Ingress is 443 and 80 (301 to HTTPS) from anywhere, by design for a public site, plus the test port from the NAT gateways’ addresses only; no other port (template test "opens 80 and 443 to the internet and nothing else").',
    });
    Validations.of(securityGroup).acknowledge({
      id: 'NIST.800.53.R5-EC2RestrictedSSH',
      reason:
        'No SSH (22) ingress at all: 443 and 80 from anywhere, the test port from the NAT gateways’ addresses (template test "opens 80 and 443 to the internet and nothing else").',
    });
  }
}

/**
 * ALB access logs without knowing the region at synth time (aws-cdk-lib's logAccessLogs needs it). Regions opened
 * before August 2022 deliver as a regional Elastic Load Balancing account; newer ones as the log-delivery service
 * principal. Both are granted; the account comes from a region mapping (the stack's own account where none exists).
 */
function enableAccessLogs(
  scope: Construct,
  alb: elbv2.ApplicationLoadBalancer,
  bucket: s3.Bucket,
  prefix: string,
): void {
  const stack = Stack.of(scope);
  const objects = bucket.arnForObjects(`${prefix}/AWSLogs/${Aws.ACCOUNT_ID}/*`);
  const servicePrincipal = new iam.PolicyStatement({
    sid: 'LogDeliveryWrite',
    actions: ['s3:PutObject'],
    resources: [objects],
    principals: [new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com')],
  });
  bucket.addToResourcePolicy(servicePrincipal);
  const regionalAccount = (account: string) =>
    new iam.PolicyStatement({
      sid: 'RegionalElbAccountWrite',
      actions: ['s3:PutObject'],
      resources: [objects],
      principals: [new iam.ArnPrincipal(account)],
    });
  if (!Token.isUnresolved(stack.region)) {
    // A concrete region: its ELB account (if it has one) is known now, so no mapping and no transform.
    const account = RegionInfo.get(stack.region).elbv2Account;
    if (account) bucket.addToResourcePolicy(regionalAccount(`arn:${stack.partition}:iam::${account}:root`));
  } else {
    bucket.addToResourcePolicy(regionalAccount(regionalElbAccountArn(scope)));
  }
  alb.setAttribute('access_logs.s3.enabled', 'true');
  alb.setAttribute('access_logs.s3.bucket', bucket.bucketName);
  alb.setAttribute('access_logs.s3.prefix', prefix);
  // ELB checks write access when the attribute is set, so the policy must exist first.
  alb.node.addDependency(bucket);
}

/**
 * The regional ELB account of an environment-agnostic stack's region, from a mapping with the stack's own account as
 * the default (Fn::FindInMap's DefaultValue, which needs the AWS::LanguageExtensions transform).
 */
function regionalElbAccountArn(scope: Construct): string {
  const mapping: Record<string, Record<string, string>> = {};
  for (const region of RegionInfo.regions) {
    const account = RegionInfo.get(region.name).elbv2Account;
    if (account) mapping[region.name] = { account };
  }
  const elbAccounts = new CfnMapping(scope, 'ElbAccounts', { mapping, lazy: true });
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub pattern, not a JS template
  return Fn.sub('arn:${AWS::Partition}:iam::${ElbAccount}:root', {
    ElbAccount: elbAccounts.findInMap(Aws.REGION, 'account', Aws.ACCOUNT_ID),
  });
}
