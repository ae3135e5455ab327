import {
  Annotations,
  aws_certificatemanager as acm,
  aws_backup as backup,
  CfnOutput,
  aws_route53 as route53,
  aws_route53_targets as route53targets,
  Stack,
  type StackProps,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { resourcePrefix } from '../../shared/names';
import type { CertificateSource, StageConfig } from '../config/stage-config';
import { AlarmTopic } from '../constructs/alarm-topic';
import type { AppSecrets } from '../constructs/app-secrets';
import { ApprovalGate } from '../constructs/approval-gate';
import type { Backup } from '../constructs/backup';
import { Dashboard } from '../constructs/dashboard';
import type { Database } from '../constructs/database';
import { DeploymentEvents } from '../constructs/deployment-events';
import { LoadBalancer, TEST_LISTENER_PORT } from '../constructs/load-balancer';
import { LogArchive } from '../constructs/log-archive';
import { type LogArchiveBucket, logArchiveBucketName } from '../constructs/log-archive-bucket';
import { LogQueries } from '../constructs/log-queries';
import { alarmName, DEPLOYMENT_ALARM_SIGNALS } from '../constructs/monitoring/alarm-naming';
import { AppErrorLines } from '../constructs/monitoring/app-error-lines';
import { serviceMetrics } from '../constructs/monitoring/service-metrics';
import type { Network } from '../constructs/network';
import { PreDeploySnapshot } from '../constructs/predeploy-snapshot';
import { ReleaseCommandHook } from '../constructs/release-command-hook';
import { Rollback } from '../constructs/rollback';
import { ServiceAlarms } from '../constructs/service-alarms';
import { SmokeHook } from '../constructs/smoke-hook';
import { WebAcl } from '../constructs/web-acl';
import { isProductionMode, WebService } from '../constructs/web-service';

export interface ServiceStackProps extends StackProps {
  readonly config: StageConfig;
  readonly network: Network;
  readonly database: Database;
  /** The log archive (data stack) that the app's logs stream to. */
  readonly logArchive: LogArchiveBucket;
  /** The app's own secrets (data stack). */
  readonly appSecrets: AppSecrets;
  /** The stage's backup plan (data stack); the rollback lock table joins it. */
  readonly backup: Backup;
}

/** SoftFactory-<Stage>-Service: everything stateless — safe to replace. */
export class ServiceStack extends Stack {
  public readonly loadBalancer: LoadBalancer;
  public readonly web: WebService;
  public readonly webAcl: WebAcl;
  /** The stage's notification topic: subscribe functions to it, `topic.grantPublish(fn)` to publish. */
  public readonly alarmTopic: AlarmTopic;
  /** The stage's alarms: `alarms.alarmFunction(name, fn)` adds a function's error and throttle alarms. */
  public readonly alarms: ServiceAlarms;
  public readonly dashboard: Dashboard;
  public readonly logArchive: LogArchive;
  public readonly smokeHook: SmokeHook;
  public readonly preDeploySnapshot: PreDeploySnapshot;
  public readonly rollback: Rollback;
  /** Present when the stage has a `releaseCommand`. */
  public readonly releaseCommand?: ReleaseCommandHook;

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props);
    const { config, network, database } = props;
    const namePrefix = resourcePrefix(config.stage);

    this.loadBalancer = new LoadBalancer(this, 'LoadBalancer', {
      vpc: network.vpc,
      certificate: certificate(this, config.certificate),
      testClientCidrs: network.natCidrs,
      accessLogExpiryDays: config.accessLogExpiryDays,
      deletionProtection: config.deletionProtection,
      healthyHttpCodes: isProductionMode(config.appEnvironment, config.appTesting) ? '200,301' : '200',
    });
    this.dnsRecord(config.certificate);
    this.webAcl = new WebAcl(this, 'WebAcl', {
      resourceArn: this.loadBalancer.alb.loadBalancerArn,
      rateLimit: config.wafRateLimit,
      logRetentionDays: config.logRetentionDays,
      namePrefix,
    });
    // One list for the task's CORS_ORIGINS and the smoke checks that assert it.
    const corsAllowedOrigins = config.corsAllowedOrigins ?? [
      `https://${config.domainName ?? this.loadBalancer.alb.loadBalancerDnsName}`,
    ];
    this.web = new WebService(this, 'Web', {
      vpc: network.vpc,
      loadBalancer: this.loadBalancer,
      image: config.image,
      ...(config.containerCommand ? { command: config.containerCommand } : {}),
      cpu: config.cpu,
      memoryMiB: config.memoryMiB,
      appEnvironment: config.appEnvironment,
      appTesting: config.appTesting,
      appSecrets: props.appSecrets.containerSecrets,
      ...(config.domainName ? { publicBaseUrl: `https://${config.domainName}` } : {}),
      corsAllowedOrigins,
      minTasks: config.minTasks,
      maxTasks: config.maxTasks,
      cpuTargetPercent: config.cpuTargetPercent,
      requestsPerTarget: config.requestsPerTarget,
      database,
      logRetentionDays: config.logRetentionDays,
      bakeTimeMinutes: config.bakeTimeMinutes,
      release: {
        deploymentStrategy: config.deploymentStrategy,
        canaryPercent: config.canaryPercent,
        canaryBakeMinutes: config.canaryBakeMinutes,
        linearStepPercent: config.linearStepPercent,
        linearStepBakeMinutes: config.linearStepBakeMinutes,
      },
      // Fixed names: the alarms below read the load balancer, not the service, so naming them here makes no cycle.
      deploymentAlarmNames: DEPLOYMENT_ALARM_SIGNALS.map((signal) => alarmName(config.stage, signal)),
      namePrefix,
    });

    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', {
      topicName: `${namePrefix}-alarms`,
      alarmNamePattern: `${namePrefix}-*`,
      emails: config.alarmEmails,
    });
    const appErrorLines = new AppErrorLines(this, 'AppErrorLines', {
      logGroup: this.web.logGroup,
      namespace: `SoftFactory/${namePrefix}`,
    });
    const metrics = serviceMetrics({
      loadBalancer: this.loadBalancer,
      service: this.web.service,
      database: database.instance,
      errorRateMinRequests: config.errorRateMinRequests,
      appErrorLines: appErrorLines.metric,
    });
    this.alarms = new ServiceAlarms(this, 'Alarms', {
      config,
      metrics,
      action: this.alarmTopic.action,
      dashboardName: namePrefix,
    });
    // ECS reads the deployment alarms by name: let them exist before the service is created or updated.
    this.web.service.node.addDependency(...this.alarms.deploymentAlarms);
    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: namePrefix, metrics, alarms: this.alarms });
    new DeploymentEvents(this, 'DeploymentEvents', {
      service: this.web.service,
      topic: this.alarmTopic.topic,
      namePrefix,
      bakeTimeMinutes: config.bakeTimeMinutes,
    });

    const archivePrefix = `${namePrefix}/app/`;
    // By its fixed name: the IAM policy then names the bucket without a cross-stack reference.
    const archiveBucket = s3.Bucket.fromBucketAttributes(this, 'LogArchiveBucket', {
      bucketName: logArchiveBucketName(config.stage),
      encryptionKey: props.logArchive.key,
    });
    this.logArchive = new LogArchive(this, 'LogArchive', {
      logGroup: this.web.logGroup,
      bucket: archiveBucket,
      prefix: archivePrefix,
      deliveryStreamName: `${namePrefix}-app-logs`,
      logRetentionDays: config.logRetentionDays,
    });
    new LogQueries(this, 'LogQueries', {
      logGroups: [this.web.logGroup],
      folder: namePrefix,
      slowRequestMs: config.latencyThresholdMs,
    });

    // The deploy path: snapshot before scale-up, smoke green then production, roll back on later alarms.
    const host = config.domainName ?? this.loadBalancer.alb.loadBalancerDnsName;
    this.smokeHook = new SmokeHook(this, 'SmokeHook', {
      stage: config.stage,
      vpc: network.vpc,
      web: this.web,
      productionUrl: `https://${host}`,
      testUrl: `https://${host}:${TEST_LISTENER_PORT}`,
      // With a domain, connect to this stage's ALB while naming the domain: no DNS record needed before the gate.
      ...(config.domainName ? { connectTo: this.loadBalancer.alb.loadBalancerDnsName } : {}),
      ...(config.smokeTokenSecretArn ? { tokenSecretArn: config.smokeTokenSecretArn } : {}),
      // The checks of the mode the task really starts the app in (demo_token accepted only in test mode).
      appMode: isProductionMode(config.appEnvironment, config.appTesting) ? 'production' : 'test',
      allowedOrigins: corsAllowedOrigins,
      smokeWrites: config.smokeWrites,
      topic: this.alarmTopic.topic,
      topicKey: this.alarmTopic.key,
      timeoutMinutes: config.hookTimeoutMinutes,
      maxAttempts: config.smokeMaxAttempts,
      logRetentionDays: config.logRetentionDays,
    });
    if (config.approvalBeforeProduction) {
      new ApprovalGate(this, 'ApprovalGate', {
        stage: config.stage,
        web: this.web,
        topic: this.alarmTopic.topic,
        testUrl: `https://${host}:${TEST_LISTENER_PORT}`,
        timeoutMinutes: config.approvalTimeoutMinutes,
        namePrefix,
      });
    }
    this.preDeploySnapshot = new PreDeploySnapshot(this, 'PreDeploySnapshot', {
      stage: config.stage,
      database: database.instance,
      web: this.web,
      retainSnapshots: config.snapshotRetentionCount,
      timeoutMinutes: config.snapshotTimeoutMinutes,
      logRetentionDays: config.logRetentionDays,
    });
    if (config.releaseCommand) {
      // PRE_SCALE_UP like the snapshot hook; ECS documents no order between hooks of one stage, so the release
      // command waits for this deployment's snapshot itself (lambda/release-command/core.ts).
      this.releaseCommand = new ReleaseCommandHook(this, 'ReleaseCommand', {
        stage: config.stage,
        command: config.releaseCommand,
        web: this.web,
        vpc: network.vpc,
        database: database.instance,
        snapshotPrefix: this.preDeploySnapshot.snapshotPrefix,
        snapshotWaitMinutes: config.snapshotTimeoutMinutes,
        topic: this.alarmTopic.topic,
        topicKey: this.alarmTopic.key,
        logRetentionDays: config.logRetentionDays,
      });
    }
    this.rollback = new Rollback(this, 'Rollback', {
      stage: config.stage,
      web: this.web,
      topic: this.alarmTopic.topic,
      topicKey: this.alarmTopic.key,
      rollbackAlarmNames: DEPLOYMENT_ALARM_SIGNALS.map((signal) => alarmName(config.stage, signal)),
      database: database.instance,
      snapshotPrefix: this.preDeploySnapshot.snapshotPrefix,
      watchWindowMinutes: config.rollbackWatchWindowMinutes,
      cooldownMinutes: config.rollbackCooldownMinutes,
      logRetentionDays: config.logRetentionDays,
      reservedConcurrency: config.rollbackReservedConcurrency,
    });
    props.backup.protect(this.rollback, 'Backup', [backup.BackupResource.fromDynamoDbTable(this.rollback.lockTable)]);
    for (const [name, fn] of [
      ['smoke', this.smokeHook.function.function],
      ['predeploy-snapshot', this.preDeploySnapshot.function.function],
      ['rollback', this.rollback.function.function],
      ...(this.releaseCommand ? [['release-command', this.releaseCommand.function.function] as const] : []),
    ] as const) {
      this.alarms.alarmFunction(name, fn);
    }

    new CfnOutput(this, 'Url', { value: `https://${host}`, description: 'Public URL (production traffic)' });
    new CfnOutput(this, 'LoadBalancerDnsName', { value: this.loadBalancer.alb.loadBalancerDnsName });
    new CfnOutput(this, 'ClusterName', { value: this.web.cluster.clusterName });
    new CfnOutput(this, 'ServiceName', { value: this.web.service.serviceName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: namePrefix });
  }

  /**
   * With a hosted zone configured, the domain points at this stage's ALB (an alias A record), so nothing is left to do
   * by hand after the first deploy. The smoke hook does not depend on it: it connects to the ALB itself.
   */
  private dnsRecord(source: CertificateSource): void {
    if (source.kind !== 'create') return;
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'RecordZone', {
      hostedZoneId: source.hostedZoneId,
      zoneName: source.zoneName,
    });
    new route53.ARecord(this, 'AliasRecord', {
      zone,
      recordName: source.domainName,
      target: route53.RecordTarget.fromAlias(new route53targets.LoadBalancerTarget(this.loadBalancer.alb)),
      comment: 'SoftFactory: the public name of this stage’s load balancer',
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
