import { join } from 'node:path';
import {
  Duration,
  aws_ec2 as ec2,
  aws_lambda as lambda,
  aws_logs as logs,
  aws_lambda_nodejs as nodejs,
  RemovalPolicy,
  Validations,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { retentionDays } from './log-retention';

/** A function's environment as its own env type declares it: string values, optional ones left out when unset. */
export type FunctionEnvironment<Env> = { readonly [K in keyof Env]: Env[K] & (string | undefined) };

export interface HouseFunctionProps<Env extends FunctionEnvironment<Env> = Record<string, string>> {
  /** Folder under `lambda/` holding `handler.ts`. */
  readonly entry: string;
  /** Exported function to run. @default 'handler' */
  readonly handler?: string;
  /** Physical function name; fixed so the CLI and alarms can find it. */
  readonly functionName: string;
  /** The function description shown in the console. */
  readonly description: string;
  /** Environment, typed by the handler's own env type (e.g. `SmokeEnvironment`); unset optional keys are left out. */
  readonly environment: Env;
  /** @default 30 seconds */
  readonly timeout?: Duration;
  /** Memory in MiB. @default 256 */
  readonly memorySize?: number;
  /** Retention of the function's log group, in days (a CloudWatch Logs retention period). */
  readonly logRetentionDays: number;
  /** Run inside the VPC's private subnets. @default - outside any VPC */
  readonly vpc?: ec2.IVpc;
  /** Security groups inside the VPC (with `vpc`). @default - a new one CDK creates */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** Async invocations: retries before the on-failure destination. @default 2 */
  readonly retryAttempts?: number;
  /** Where failed asynchronous invocations go after the retries. @default none */
  readonly onFailure?: lambda.IDestination;
  /** @default unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** Shell commands run after bundling (`outputDir` is the bundle), e.g. to place a .wasm file beside it. */
  readonly afterBundling?: (inputDir: string, outputDir: string) => string[];
}

const LAMBDA_ROOT = join(__dirname, '..', '..', 'lambda');

/**
 * Our one Lambda function shape: Node.js 22 on arm64, bundled with the local esbuild (never Docker), source maps on,
 * JSON logs to a log group with retention, and the AWS SDK v3 bundled so the code runs against the
 * versions we tested.
 */
export class HouseFunction<Env extends FunctionEnvironment<Env> = Record<string, string>> extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HouseFunctionProps<Env>) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: retentionDays(props.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(LAMBDA_ROOT, props.entry, 'handler.ts'),
      handler: props.handler ?? 'handler',
      functionName: props.functionName,
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 256,
      environment: { ...definedValues(props.environment), NODE_OPTIONS: '--enable-source-maps' },
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      retryAttempts: props.retryAttempts ?? 2,
      onFailure: props.onFailure,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : undefined,
      securityGroups: props.securityGroups,
      bundling: {
        forceDockerBundling: false,
        sourceMap: true,
        minify: true,
        target: 'node22',
        format: nodejs.OutputFormat.CJS,
        externalModules: [],
        commandHooks: props.afterBundling
          ? {
              beforeBundling: () => [],
              beforeInstall: () => [],
              afterBundling: props.afterBundling,
            }
          : undefined,
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x, the runtime this code is built (esbuild target node22) and tested for; move with a tested upgrade.',
    });
    const role = this.function.role!;
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The AWS-managed basic execution policy only allows writing this function’s logs.',
    });
    // NIST 800-53 R5 findings every house function shares, each with why it holds for all of them.
    Validations.of(role).acknowledge({
      id: 'NIST.800.53.R5-IAMNoInlinePolicy',
      reason:
        "The function role's DefaultPolicy holds aws-cdk-lib grants and our scoped statements for this one function; a managed policy would be the same statements with a second lifecycle.",
    });
    if (props.reservedConcurrentExecutions === undefined) {
      Validations.of(this.function).acknowledge({
        id: 'NIST.800.53.R5-LambdaConcurrency',
        reason:
          "Unreserved by default: Lambda refuses a reservation that leaves the account's unreserved concurrency below 100, which new accounts (limit 10-50) always would (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html); the rollback function's reservation is opt-in (rollbackReservedConcurrency).",
      });
    }
    if (props.onFailure) {
      Validations.of(this.function).acknowledge({
        id: 'NIST.800.53.R5-LambdaDLQ',
        reason:
          'Failed asynchronous invocations go to the on-failure destination (onFailure), which records the request and error, instead of a dead-letter queue (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).',
      });
    }
    if (!props.vpc) {
      Validations.of(this.function).acknowledge({
        id: 'NIST.800.53.R5-LambdaInsideVPC',
        reason:
          'A house function runs outside the VPC only when it reaches nothing inside it: it calls AWS APIs only (TLS, IAM-authorised); the functions that reach the ALB or the database (smoke hook, migration runner) pass `vpc`.',
      });
    }
    if (props.vpc) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: 'The AWS-managed VPC access policy only manages this function’s network interfaces.',
      });
    }
  }
}

/** The set keys of an environment, as Lambda takes them (string values only). */
function definedValues<Env extends FunctionEnvironment<Env>>(environment: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(environment) as (keyof Env & string)[]) {
    const value = environment[key];
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}
