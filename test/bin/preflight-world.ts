/**
 * The AWS a stage's preflight talks to, faked at the SDK boundary with aws-sdk-client-mock. `healthyStage()` answers
 * as AWS does for an established prod stage with everything in order, in the documented response shapes (API
 * reference pages cited beside each); tests then change one answer. Shared by the preflight and deploy tests.
 */
import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import {
  CloudFormationClient,
  CloudFormationServiceException,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { DescribeAddressesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient, ListServiceDeploymentsCommand } from '@aws-sdk/client-ecs';
import { GetAccountSettingsCommand, GetFunctionConcurrencyCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { PreflightClients } from '../../bin/preflight/checks';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const CERT_ARN = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b`;
export const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:softfactory-prod-alarms`;
export const ROLE_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/alice`;

/** `-c` pairs of a fully configured prod stage. */
export const PROD_CONTEXT = [
  `account=${ACCOUNT}`,
  `region=${REGION}`,
  `certificateArn=${CERT_ARN}`,
  'domainName=app.example.com',
  'alarmEmails=oncall@example.com,lead@example.com',
];

export const mocks = {
  sts: mockClient(STSClient),
  cloudformation: mockClient(CloudFormationClient),
  ssm: mockClient(SSMClient),
  acm: mockClient(ACMClient),
  ecr: mockClient(ECRClient),
  secretsManager: mockClient(SecretsManagerClient),
  sns: mockClient(SNSClient),
  lambda: mockClient(LambdaClient),
  serviceQuotas: mockClient(ServiceQuotasClient),
  ec2: mockClient(EC2Client),
  ecs: mockClient(ECSClient),
};

export function resetMocks(): void {
  for (const mock of Object.values(mocks)) mock.reset();
}

export function clients(): PreflightClients {
  const config = { region: REGION };
  return {
    sts: new STSClient(config),
    cloudformation: new CloudFormationClient(config),
    ssm: new SSMClient(config),
    acm: new ACMClient(config),
    ecr: new ECRClient(config),
    secretsManager: new SecretsManagerClient(config),
    sns: new SNSClient(config),
    lambda: new LambdaClient(config),
    serviceQuotas: new ServiceQuotasClient(config),
    ec2: new EC2Client(config),
    ecs: new ECSClient(config),
  };
}

/**
 * CloudFormation's answer for a stack that does not exist: HTTP 400, code ValidationError, "Stack with id X does
 * not exist" (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DescribeStacks.html).
 */
export function missingStack(name: string): CloudFormationServiceException {
  return new CloudFormationServiceException({
    name: 'ValidationError',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: `Stack with id ${name} does not exist`,
  });
}

const stack = (
  name: string,
  status = 'UPDATE_COMPLETE',
  outputs: { OutputKey: string; OutputValue: string }[] = [],
) => ({
  Stacks: [
    {
      StackName: name,
      StackId: `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${name}/6f1c2b80-0a1b-11ef-9c3e-0a58a9feac02`,
      CreationTime: new Date('2026-01-10T09:00:00Z'),
      StackStatus: status as 'UPDATE_COMPLETE',
      Outputs: outputs,
    },
  ],
});

export const subscription = (email: string, confirmed: boolean) => ({
  SubscriptionArn: confirmed
    ? `${TOPIC_ARN}:${email.length}a2b3c4d-0000-4000-8000-000000000000`
    : 'PendingConfirmation',
  Owner: ACCOUNT,
  Protocol: 'email',
  Endpoint: email,
  TopicArn: TOPIC_ARN,
});

/** An established, healthy prod stage. */
export function healthyStage(): void {
  // https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html
  mocks.sts.on(GetCallerIdentityCommand).resolves({ UserId: 'AROAEXAMPLE:alice', Account: ACCOUNT, Arn: ROLE_ARN });
  mocks.cloudformation
    .on(DescribeStacksCommand, { StackName: 'CDKToolkit' })
    .resolves(stack('CDKToolkit', 'UPDATE_COMPLETE', [{ OutputKey: 'BootstrapVersion', OutputValue: '28' }]))
    .on(DescribeStacksCommand, { StackName: 'SoftFactory-Prod-Service' })
    .resolves(stack('SoftFactory-Prod-Service'));
  // https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
  mocks.ssm.on(GetParameterCommand, { Name: '/cdk-bootstrap/hnb659fds/version' }).resolves({
    Parameter: {
      Name: '/cdk-bootstrap/hnb659fds/version',
      Type: 'String',
      Value: '28',
      Version: 3,
      ARN: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/cdk-bootstrap/hnb659fds/version`,
      DataType: 'text',
    },
  });
  // https://docs.aws.amazon.com/acm/latest/APIReference/API_DescribeCertificate.html
  mocks.acm.on(DescribeCertificateCommand, { CertificateArn: CERT_ARN }).resolves({
    Certificate: {
      CertificateArn: CERT_ARN,
      DomainName: 'example.com',
      SubjectAlternativeNames: ['example.com', '*.example.com'],
      Status: 'ISSUED',
      Type: 'AMAZON_ISSUED',
      NotAfter: new Date('2027-03-01T23:59:59Z'),
      InUseBy: [],
    },
  });
  // https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html
  mocks.ecr.on(DescribeImagesCommand).resolves({
    imageDetails: [
      {
        registryId: ACCOUNT,
        repositoryName: 'softfactory',
        imageDigest: 'sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904aabbccddeeff001122334455',
        imageTags: ['v2.0'],
        imagePushedAt: new Date('2026-02-01T12:00:00Z'),
      },
    ],
  });
  // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
  mocks.secretsManager.on(GetSecretValueCommand).resolves({
    ARN: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:softfactory/prod/smoke-token-AbCdEf`,
    Name: 'softfactory/prod/smoke-token',
    VersionId: 'EXAMPLE1-90ab-cdef-fedc-ba987SECRET1',
    SecretString: 'sf_live_3f9a1c0b7d2e',
    VersionStages: ['AWSCURRENT'],
    CreatedDate: new Date('2026-01-11T08:00:00Z'),
  });
  // https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html: pages via NextToken.
  mocks.sns
    .on(ListSubscriptionsByTopicCommand, { TopicArn: TOPIC_ARN })
    .resolves({ Subscriptions: [subscription('oncall@example.com', true)], NextToken: 'page-2' })
    .on(ListSubscriptionsByTopicCommand, { TopicArn: TOPIC_ARN, NextToken: 'page-2' })
    .resolves({ Subscriptions: [subscription('lead@example.com', true)] });
  // https://docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html
  mocks.lambda.on(GetAccountSettingsCommand).resolves({
    AccountLimit: {
      TotalCodeSize: 80530636800,
      CodeSizeUnzipped: 262144000,
      CodeSizeZipped: 52428800,
      ConcurrentExecutions: 1000,
      UnreservedConcurrentExecutions: 1000,
    },
    AccountUsage: { TotalCodeSize: 52428800, FunctionCount: 14 },
  });
  mocks.lambda.on(GetFunctionConcurrencyCommand).resolves({});
  // https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html
  mocks.serviceQuotas.on(GetServiceQuotaCommand, { ServiceCode: 'ec2', QuotaCode: 'L-0263D0A3' }).resolves({
    Quota: {
      ServiceCode: 'ec2',
      ServiceName: 'Amazon Elastic Compute Cloud (Amazon EC2)',
      QuotaArn: `arn:aws:servicequotas:${REGION}:${ACCOUNT}:ec2/L-0263D0A3`,
      QuotaCode: 'L-0263D0A3',
      QuotaName: 'EC2-VPC Elastic IPs',
      Value: 5,
      Unit: 'None',
      Adjustable: true,
      GlobalQuota: false,
    },
  });
  // https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeAddresses.html: the stage's two NAT addresses.
  mocks.ec2.on(DescribeAddressesCommand).resolves({ Addresses: [natAddress(1, 'prod'), natAddress(2, 'prod')] });
  // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html
  mocks.ecs.on(ListServiceDeploymentsCommand).resolves({ serviceDeployments: [] });
}

export function natAddress(n: number, stage: string | undefined) {
  return {
    AllocationId: `eipalloc-0${n}23456789abcdef0`,
    PublicIp: `203.0.113.${10 + n}`,
    Domain: 'vpc' as const,
    NetworkBorderGroup: REGION,
    PublicIpv4Pool: 'amazon',
    ...(stage
      ? {
          AssociationId: `eipassoc-0${n}23456789abcdef0`,
          Tags: [
            { Key: 'project', Value: 'softfactory' },
            { Key: 'stage', Value: stage },
            { Key: 'aws:cloudformation:stack-name', Value: `SoftFactory-${stage}-Network` },
          ],
        }
      : {}),
  };
}

/** Changes the answers to those of an account where the stage was never deployed. */
export function firstDeploy(): void {
  mocks.cloudformation
    .on(DescribeStacksCommand, { StackName: 'SoftFactory-Prod-Service' })
    .rejects(missingStack('SoftFactory-Prod-Service'));
  mocks.ec2.on(DescribeAddressesCommand).resolves({ Addresses: [] });
}
