import {
  Duration,
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_iam as iam,
  aws_kms as kms,
  RemovalPolicy,
  SecretValue,
  aws_secretsmanager as secretsmanager,
  type aws_sns as sns,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { SMOKE_TOKEN_PLACEHOLDER, type SmokeEnvironment } from '../../lambda/smoke/env';
import type { AppMode } from '../../lambda/smoke/spec';
import { functionName, smokeTokenSecretName } from '../../shared/names';
import type { DeploymentStrategyName } from '../config/deployment-strategy';
import type { Stage } from '../config/stage-config';
import { HouseFunction } from './house-function';
import { type HookStage, PRE_PRODUCTION_TRAFFIC_SHIFT, type WebService } from './web-service';

export interface SmokeHookProps {
  /** The stage, in the function and secret names. */
  readonly stage: Stage;
  /** The VPC; the function runs in its private subnets to reach the load balancer's test listener. */
  readonly vpc: ec2.IVpc;
  /** The service whose deployments the hook gates. */
  readonly web: WebService;
  /** Public URL (production listener). */
  readonly productionUrl: string;
  /** Green through the test listener; reachable only from the NAT gateways' addresses. */
  readonly testUrl: string;
  /**
   * Where the checks connect while the URLs keep naming the domain (TLS server name, certificate, Host header): this
   * stage's load balancer DNS name. Set it when the URLs name a configured domain, so the gate needs no public DNS
   * record (the first deployment runs before one exists) and checks this stage's ALB even behind a CDN.
   */
  readonly connectTo?: string;
  /**
   * An existing secret holding the smoke user's token (so it can be filled before the first deploy); absent → the
   * construct creates `softfactory/<stage>/smoke-token` holding a placeholder the hook recognises.
   */
  readonly tokenSecretArn?: string;
  /**
   * The mode the stage runs SoftFactory in, which decides the mode checks of the default spec (issue 16).
   * @default `test` for dev, `production` for staging and prod
   */
  readonly appMode?: AppMode;
  /**
   * The origins the app allows (the task's CORS_ORIGINS): the CORS checks assert each exactly.
   * @default - the production URL's origin
   */
  readonly allowedOrigins?: readonly string[];
  /**
   * Also make the spec's unattended writes against green at POST_TEST_TRAFFIC_SHIFT (never after the production shift).
   * @default true
   */
  readonly smokeWrites?: boolean;
  /** Where the hook publishes notices (e.g. checks skipped for want of a token). */
  readonly topic: sns.ITopic;
  /** The topic's KMS key, which the function needs to publish. */
  readonly topicKey: kms.IKey;
  /** Minutes ECS waits for the hook at each stage before rolling back. */
  readonly timeoutMinutes: number;
  /** Invocations per stage before transient failures become FAILED. */
  readonly maxAttempts: number;
  /** Retention of the function's log group, in days. */
  readonly logRetentionDays: number;
}

/** Seconds between IN_PROGRESS re-invocations, and the suite's own deadline. */
const CALLBACK_DELAY_SECONDS = 30;
const SUITE_TIMEOUT_SECONDS = 60;

/**
 * The checklist's post-deploy verification as a deployment gate: the smoke suite runs against green through the
 * test listener at POST_TEST_TRAFFIC_SHIFT (and, for canary and linear releases, before every production traffic step
 * at PRE_PRODUCTION_TRAFFIC_SHIFT) and against the public URL at POST_PRODUCTION_TRAFFIC_SHIFT. A failure
 * answers FAILED and ECS rolls back. The function runs in the private subnets so its requests leave through the NAT
 * gateways, whose addresses are the only ones the test listener admits. Its bearer token lives in a per-stage
 * secret read at run time (an operator puts the smoke user's token there).
 */
export class SmokeHook extends Construct {
  public readonly function: HouseFunction;
  public readonly tokenSecret: secretsmanager.ISecret;

  constructor(scope: Construct, id: string, props: SmokeHookProps) {
    super(scope, id);
    if (props.timeoutMinutes * 60 < props.maxAttempts * (CALLBACK_DELAY_SECONDS + SUITE_TIMEOUT_SECONDS)) {
      throw new Error(
        `hookTimeoutMinutes ${props.timeoutMinutes} is too short for smokeMaxAttempts ${props.maxAttempts}: ` +
          `allow at least ${Math.ceil((props.maxAttempts * (CALLBACK_DELAY_SECONDS + SUITE_TIMEOUT_SECONDS)) / 60)} minutes`,
      );
    }
    if (props.tokenSecretArn) {
      // Complete or partial: GetSecretValue takes either as SecretId; the grant below covers both.
      this.tokenSecret = secretsmanager.Secret.fromSecretPartialArn(this, 'Token', props.tokenSecretArn);
    } else {
      // A recognisable placeholder, not a random value: the hook skips the authenticated checks (saying why) until
      // an operator puts the smoke user's token here, instead of failing every deployment on a token nobody holds.
      // Its own customer-managed key (NIST.800.53.R5-SecretsManagerUsingKMSKey): grantRead below gives the function
      // kms:Decrypt on it through Secrets Manager only. Destroyed with the secret, after KMS's waiting period.
      const tokenKey = new kms.Key(this, 'TokenKey', {
        description: `Encrypts the ${props.stage} smoke-check token`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const created = new secretsmanager.Secret(this, 'Token', {
        secretName: smokeTokenSecretName(props.stage),
        description:
          'Bearer token of the smoke-check user: replace the placeholder with a real user token (never the shared demo token)',
        secretStringValue: SecretValue.unsafePlainText(SMOKE_TOKEN_PLACEHOLDER),
        encryptionKey: tokenKey,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      Validations.of(created).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'An application token issued by SoftFactory, not an AWS credential: SoftFactory has no rotation API; rotate by hand (README runbook).',
      });
      Validations.of(created).acknowledge({
        id: 'NIST.800.53.R5-SecretsManagerRotationEnabled',
        reason:
          'A bearer token SoftFactory issues to the dedicated smoke user: only the app can mint a new one and it has no API a rotation function could call; an operator rotates it by hand (README "Compliance": sign in as the smoke user, put the new token here).',
      });
      this.tokenSecret = created;
    }

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Smoke checker: HTTPS out to the load balancer through the NAT gateways',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      ec2.Port.tcp(443),
      'HTTPS to the public and test listeners and AWS APIs',
    );
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(9443), 'The blue/green test listener');
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(80), 'Plain HTTP to the ALB (the 301 check)');

    const environment: SmokeEnvironment = {
      STAGE: props.stage,
      APP_MODE: props.appMode ?? (props.stage === 'dev' ? 'test' : 'production'),
      PRODUCTION_URL: props.productionUrl,
      TEST_URL: props.testUrl,
      ...(props.connectTo ? { CONNECT_TO: props.connectTo } : {}),
      ...(props.allowedOrigins ? { CORS_ALLOWED_ORIGINS: props.allowedOrigins.join(',') } : {}),
      SMOKE_WRITES: props.smokeWrites === false ? 'false' : 'true',
      TOKEN_SECRET_ARN: this.tokenSecret.secretArn,
      TOPIC_ARN: props.topic.topicArn,
      MAX_ATTEMPTS: String(props.maxAttempts),
      CALLBACK_DELAY_SECONDS: String(CALLBACK_DELAY_SECONDS),
      SUITE_TIMEOUT_MS: String(SUITE_TIMEOUT_SECONDS * 1000),
    };
    this.function = new HouseFunction(this, 'Function', {
      entry: 'smoke',
      functionName: functionName(props.stage, 'smoke'),
      description: 'ECS blue/green hook: runs the production checklist smoke suite against green, then production',
      environment,
      timeout: Duration.seconds(SUITE_TIMEOUT_SECONDS + 30),
      memorySize: 512,
      logRetentionDays: props.logRetentionDays,
      vpc: props.vpc,
      securityGroups: [securityGroup],
      retryAttempts: 0,
    });
    const fn = this.function.function;
    if (props.tokenSecretArn) {
      // Exactly the configured ARN, complete or partial: with a partial one (no `-xxxxxx` suffix) the suffix is the
      // wildcard (https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen).
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [props.tokenSecretArn, `${props.tokenSecretArn}-??????`],
        }),
      );
    } else {
      this.tokenSecret.grantRead(fn);
    }
    // Not topic.grantPublish: for an encrypted topic it also grants kms:GenerateDataKey*; these two suffice.
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.topic.topicArn] }));
    // Publishing to a topic encrypted with a customer-managed key needs these two on the key.
    props.topicKey.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');

    props.web.addLifecycleHook('SmokeHook', fn, smokeStages(props.web.strategy), props.timeoutMinutes);
  }
}

/**
 * Where the smoke gate runs: green through the test listener once its test traffic has shifted, and the public URL
 * once all production traffic has. A canary or linear release also runs it at PRE_PRODUCTION_TRAFFIC_SHIFT, which ECS
 * invokes before every production traffic step (DeploymentLifecycleHook,
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html), so green is checked
 * through the test listener again before each step; a failure there rolls back with production traffic never beyond
 * the step already taken. For blue/green that stage would only repeat POST_TEST_TRAFFIC_SHIFT's check.
 */
export function smokeStages(strategy: DeploymentStrategyName): HookStage[] {
  return [
    ecs.DeploymentLifecycleStage.POST_TEST_TRAFFIC_SHIFT,
    ...(strategy === 'blue_green' ? [] : [PRE_PRODUCTION_TRAFFIC_SHIFT as HookStage]),
    ecs.DeploymentLifecycleStage.POST_PRODUCTION_TRAFFIC_SHIFT,
  ];
}
