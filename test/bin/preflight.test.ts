/** `sfdeploy preflight`: the checks against AWS faked at the SDK boundary, and the command as a process. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ResourceNotFoundException as AcmNotFound, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeAddressesCommand } from '@aws-sdk/client-ec2';
import { DescribeImagesCommand, ImageNotFoundException } from '@aws-sdk/client-ecr';
import { ListServiceDeploymentsCommand, ServiceNotFoundException } from '@aws-sdk/client-ecs';
import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  ResourceNotFoundException as LambdaNotFound,
} from '@aws-sdk/client-lambda';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  NoSuchResourceException,
  ServiceQuotasServiceException,
} from '@aws-sdk/client-service-quotas';
import { ListSubscriptionsByTopicCommand } from '@aws-sdk/client-sns';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { Command } from 'commander';
import { register } from '../../bin/commands/preflight';
import {
  type CheckResult,
  nameCovers,
  type PreflightReport,
  requiredBootstrapVersion,
  runPreflight,
} from '../../bin/preflight/checks';
import { loadStageSetup, PROJECT_DIR } from '../../bin/preflight/stage';
import { SMOKE_TOKEN_PLACEHOLDER } from '../../lambda/smoke/env';
import {
  ACCOUNT,
  CERT_ARN,
  clients,
  firstDeploy,
  healthyStage,
  missingStack,
  mocks,
  natAddress,
  PROD_CONTEXT,
  REGION,
  resetMocks,
  subscription,
  TOPIC_ARN,
} from './preflight-world';

async function preflight(
  context: readonly string[] = PROD_CONTEXT,
  projectDir = PROJECT_DIR,
): Promise<PreflightReport> {
  const setup = await loadStageSetup('prod', context, undefined, projectDir);
  return runPreflight(clients(), {
    stage: 'prod',
    config: setup.config,
    region: REGION,
    bootstrapQualifier: setup.bootstrapQualifier,
    projectDir,
  });
}

function check(report: PreflightReport, id: string): CheckResult {
  const found = report.checks.find((c) => c.id === id);
  assert.ok(found, `no check ${id}`);
  return found;
}

beforeEach(() => {
  resetMocks();
  healthyStage();
});
afterEach(() => resetMocks());

describe('preflight: a healthy established stage', () => {
  it('passes every check and exits 0', async () => {
    const report = await preflight();
    assert.deepEqual(
      report.checks.map((c) => `${c.id}:${c.status}`),
      [
        'credentials:pass',
        'bootstrap:pass',
        'certificate:pass',
        'image:pass',
        'smoke-token:pass',
        'alarm-subscriptions:pass',
        'lambda-concurrency:pass',
        'elastic-ips:pass',
        'deployment-in-flight:pass',
      ],
    );
    assert.equal(report.exitCode, 0);
    assert.equal(report.firstDeploy, false);
    assert.match(check(report, 'certificate').detail, /covers app\.example\.com/);
    assert.match(check(report, 'alarm-subscriptions').detail, /^2 of 2 confirmed/);
    // Both SNS pages were read, and ECS was asked for the in-flight states of the stage's service.
    assert.equal(mocks.sns.commandCalls(ListSubscriptionsByTopicCommand).length, 2);
    const ecsInput = mocks.ecs.commandCalls(ListServiceDeploymentsCommand)[0]!.args[0].input;
    assert.equal(ecsInput.cluster, 'softfactory-prod');
    assert.equal(ecsInput.service, 'softfactory-prod-web');
    assert.deepEqual(ecsInput.status, [
      'PENDING',
      'IN_PROGRESS',
      'STOP_REQUESTED',
      'ROLLBACK_REQUESTED',
      'ROLLBACK_IN_PROGRESS',
    ]);
    assert.deepEqual(mocks.ecr.commandCalls(DescribeImagesCommand)[0]!.args[0].input, {
      repositoryName: 'softfactory',
      imageIds: [{ imageTag: 'v2.0' }],
    });
  });
});

describe('preflight: first deploy', () => {
  it('skips what the Service stack creates, saying why, and still exits 0', async () => {
    firstDeploy();
    const report = await preflight();
    assert.equal(report.firstDeploy, true);
    for (const id of ['smoke-token', 'alarm-subscriptions', 'deployment-in-flight']) {
      assert.equal(check(report, id).status, 'skipped', id);
      assert.match(check(report, id).detail, /^first deploy: /, id);
    }
    assert.equal(mocks.secretsManager.commandCalls(GetSecretValueCommand).length, 0);
    assert.equal(mocks.ecs.commandCalls(ListServiceDeploymentsCommand).length, 0);
    // No addresses yet: the stage needs its two NAT addresses, within the quota of 5.
    assert.match(check(report, 'elastic-ips').detail, /0 in use of 5; 2 more for 2 NAT gateway/);
    assert.equal(report.exitCode, 0);
  });

  it('still reads a smoke token secret the config names (it can be filled before the first deploy)', async () => {
    firstDeploy();
    const arn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:softfactory/prod/own-token-AbCdEf`;
    const report = await preflight([...PROD_CONTEXT, `smokeTokenSecretArn=${arn}`]);
    assert.equal(check(report, 'smoke-token').status, 'pass');
    assert.equal(mocks.secretsManager.commandCalls(GetSecretValueCommand)[0]!.args[0].input.SecretId, arn);
  });
});

describe('preflight: credentials', () => {
  it('fails credentials for another account, skips the rest and exits 2', async () => {
    mocks.sts.on(GetCallerIdentityCommand).resolves({
      UserId: 'AIDAEXAMPLE',
      Account: '999999999999',
      Arn: 'arn:aws:iam::999999999999:user/bob',
    });
    const report = await preflight();
    assert.equal(check(report, 'credentials').status, 'fail');
    assert.match(check(report, 'credentials').detail, /account 999999999999, the prod config deploys to 123456789012/);
    assert.ok(report.checks.slice(1).every((c) => c.status === 'skipped'));
    assert.equal(report.exitCode, 2);
    assert.equal(mocks.cloudformation.calls().length, 0);
  });
});

describe('preflight: CDK bootstrap', () => {
  it('fails without a CDKToolkit stack, with the bootstrap command as the fix', async () => {
    mocks.cloudformation.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).rejects(missingStack('CDKToolkit'));
    const report = await preflight();
    assert.equal(check(report, 'bootstrap').status, 'fail');
    assert.equal(check(report, 'bootstrap').fix, `run \`npx cdk bootstrap aws://${ACCOUNT}/${REGION}\``);
    assert.equal(report.exitCode, 1);
  });

  it('fails a bootstrap older than the app requires', async () => {
    mocks.ssm.on(GetParameterCommand).resolves({ Parameter: { Name: '/cdk-bootstrap/hnb659fds/version', Value: '5' } });
    const report = await preflight();
    assert.equal(check(report, 'bootstrap').status, 'fail');
    assert.match(check(report, 'bootstrap').detail, /version 5; this app needs at least 6/);
  });

  it('reads the required version from the synthesized assembly of this stage, else uses the synthesizer minimum', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sfdeploy-assembly-'));
    const artifact = (v: number) => ({
      type: 'aws:cloudformation:stack',
      properties: {
        requiresBootstrapStackVersion: v,
        bootstrapStackVersionSsmParameter: '/cdk-bootstrap/custom1/version',
      },
    });
    writeFileSync(
      join(dir, 'manifest.json'),
      JSON.stringify({
        version: '48.0.0',
        artifacts: {
          'SoftFactory-Prod-Network': artifact(6),
          'SoftFactory-Prod-Service.assets': {
            type: 'cdk:asset-manifest',
            properties: { requiresBootstrapStackVersion: 22 },
          },
          'SoftFactory-Dev-Service': artifact(30),
        },
      }),
    );
    assert.deepEqual(requiredBootstrapVersion('prod', 'hnb659fds', dir), {
      version: 22,
      ssmParameter: '/cdk-bootstrap/custom1/version',
      source: 'the synthesized cdk.out',
    });
    assert.equal(requiredBootstrapVersion('staging', 'hnb659fds', dir).version, 6);
    assert.equal(requiredBootstrapVersion('prod', 'q', join(dir, 'missing')).ssmParameter, '/cdk-bootstrap/q/version');
  });
});

describe('preflight: certificate', () => {
  it('covers a host with ACM’s wildcard rule: one label only', () => {
    assert.equal(nameCovers('*.example.com', 'app.example.com'), true);
    assert.equal(nameCovers('*.example.com', 'a.b.example.com'), false);
    assert.equal(nameCovers('*.example.com', 'example.com'), false);
    assert.equal(nameCovers('App.Example.com', 'app.example.com'), true);
    assert.equal(nameCovers('app.example.com', 'api.example.com'), false);
  });

  it('fails a certificate that is still PENDING_VALIDATION', async () => {
    mocks.acm.on(DescribeCertificateCommand).resolves({
      Certificate: { CertificateArn: CERT_ARN, DomainName: 'app.example.com', Status: 'PENDING_VALIDATION' },
    });
    const result = check(await preflight(), 'certificate');
    assert.equal(result.status, 'fail');
    assert.match(result.detail, /PENDING_VALIDATION/);
    assert.match(result.fix ?? '', /complete its validation/);
  });

  it('fails a certificate of another region without asking ACM', async () => {
    const usEast = CERT_ARN.replace(REGION, 'us-east-1');
    const result = check(await preflight([...PROD_CONTEXT, `certificateArn=${usEast}`]), 'certificate');
    assert.equal(result.status, 'fail');
    assert.match(result.detail, /in us-east-1, the load balancer in eu-west-1/);
    assert.equal(mocks.acm.commandCalls(DescribeCertificateCommand).length, 0);
  });

  it('fails when no name covers a two-label subdomain', async () => {
    const result = check(await preflight([...PROD_CONTEXT, 'domainName=app.eu.example.com']), 'certificate');
    assert.equal(result.status, 'fail');
    assert.match(result.detail, /none of which covers app\.eu\.example\.com/);
  });

  it('fails an unknown certificate ARN', async () => {
    mocks.acm
      .on(DescribeCertificateCommand)
      .rejects(
        new AcmNotFound({ $metadata: { httpStatusCode: 400 }, message: `Could not find certificate ${CERT_ARN}.` }),
      );
    assert.match(check(await preflight(), 'certificate').detail, /^no certificate /);
  });

  it('fails the placeholder certificate, and skips when the stack creates one', async () => {
    const bare = PROD_CONTEXT.filter((p) => !p.startsWith('certificateArn') && !p.startsWith('domainName'));
    // With account and region the config itself refuses the placeholder (one line, exit 2) before any check runs.
    await assert.rejects(
      loadStageSetup('prod', bare, undefined),
      /certificateArn = \(unset\): is required once account and region are set/,
    );
    // Without them (the account then comes from the credentials), the certificate check fails it.
    const envAgnostic = bare.filter((p) => !p.startsWith('account=') && !p.startsWith('region='));
    assert.equal(check(await preflight(envAgnostic), 'certificate').status, 'fail');
    const created = check(
      await preflight([...bare, 'domainName=app.example.com', 'hostedZoneId=Z0123456789ABC', 'zoneName=example.com']),
      'certificate',
    );
    assert.equal(created.status, 'skipped');
    assert.match(created.detail, /requests a DNS-validated certificate for app\.example\.com/);
  });
});

describe('preflight: image', () => {
  it('fails a tag that is not in ECR, naming the image to push', async () => {
    mocks.ecr.on(DescribeImagesCommand).rejects(
      new ImageNotFoundException({
        $metadata: { httpStatusCode: 400 },
        message: "The image with imageId {imageDigest:'null', imageTag:'v2.1'} does not exist within the repository",
      }),
    );
    const setup = await loadStageSetup('prod', PROD_CONTEXT, 'v2.1');
    const report = await runPreflight(clients(), {
      stage: 'prod',
      config: setup.config,
      region: REGION,
      bootstrapQualifier: 'hnb659fds',
      projectDir: PROJECT_DIR,
    });
    const result = check(report, 'image');
    assert.equal(result.status, 'fail');
    assert.match(result.fix ?? '', /docker push 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com\/softfactory:v2\.1/);
    assert.equal(report.exitCode, 1);
  });

  it('passes an image directory with a Dockerfile and fails one without', async () => {
    const project = mkdtempSync(join(tmpdir(), 'sfdeploy-project-'));
    mkdirSync(join(project, 'app'));
    mkdirSync(join(project, 'empty'));
    writeFileSync(join(project, 'app', 'Dockerfile'), 'FROM python:3.12-slim\n');
    const withImage = (dir: string) => [...PROD_CONTEXT, `imageDirectory=${dir}`];
    assert.equal(check(await preflight(withImage('app'), project), 'image').status, 'pass');
    // A directory without a Dockerfile is refused by the config (relative to the project), before any check runs.
    await assert.rejects(
      preflight(withImage('empty'), project),
      /imageDirectory = "empty": .*it holds no Dockerfile \(relative to /,
    );
    assert.equal(mocks.ecr.commandCalls(DescribeImagesCommand).length, 0);
  });
});

describe('preflight: smoke token', () => {
  it('fails while the secret holds the placeholder the stack wrote, with the command that fills it', async () => {
    mocks.secretsManager.on(GetSecretValueCommand).resolves({
      Name: 'softfactory/prod/smoke-token',
      SecretString: SMOKE_TOKEN_PLACEHOLDER,
      VersionStages: ['AWSCURRENT'],
    });
    const result = check(await preflight(), 'smoke-token');
    assert.equal(result.status, 'fail');
    assert.match(result.detail, /placeholder/);
    assert.match(result.fix ?? '', /aws secretsmanager put-secret-value --secret-id softfactory\/prod\/smoke-token/);
  });

  it('accepts the token as JSON {"token": …}, as a rotation function writes it', async () => {
    mocks.secretsManager
      .on(GetSecretValueCommand)
      .resolves({ SecretString: '{"token":"sf_live_x","rotated":"2026-01-01"}' });
    assert.equal(check(await preflight(), 'smoke-token').status, 'pass');
  });
});

describe('preflight: alarm subscriptions', () => {
  it('fails an address still PendingConfirmation on a later page', async () => {
    mocks.sns
      .on(ListSubscriptionsByTopicCommand, { TopicArn: TOPIC_ARN, NextToken: 'page-2' })
      .resolves({ Subscriptions: [subscription('lead@example.com', false)] });
    const result = check(await preflight(), 'alarm-subscriptions');
    assert.equal(result.status, 'fail');
    assert.match(result.detail, /PendingConfirmation\): lead@example\.com/);
    assert.match(result.fix ?? '', /confirmation mail sent to lead@example\.com/);
  });

  it('passes an address this deploy will subscribe, saying so', async () => {
    const report = await preflight([...PROD_CONTEXT.slice(0, -1), 'alarmEmails=oncall@example.com,new@example.com']);
    const result = check(report, 'alarm-subscriptions');
    assert.equal(result.status, 'pass');
    assert.match(result.detail, /1 of 2 confirmed; new@example\.com will be subscribed by this deploy/);
  });

  it('skips with the fix when no alarm e-mail is configured', async () => {
    // With account and region, prod refuses to load without a recipient (config); env-agnostic, preflight says how to add one.
    await assert.rejects(
      loadStageSetup('prod', PROD_CONTEXT.slice(0, -1), undefined),
      /alarmEmails = \[\]: needs at least one address for prod/,
    );
    const envAgnostic = PROD_CONTEXT.slice(0, -1).filter((p) => !p.startsWith('account=') && !p.startsWith('region='));
    const result = check(await preflight(envAgnostic), 'alarm-subscriptions');
    assert.equal(result.status, 'skipped');
    assert.match(result.fix ?? '', /-c alarmEmails=/);
  });
});

describe('preflight: Lambda concurrency', () => {
  it('fails a rollback reservation that would leave fewer than 100 unreserved', async () => {
    mocks.lambda.on(GetAccountSettingsCommand).resolves({
      AccountLimit: { ConcurrentExecutions: 120, UnreservedConcurrentExecutions: 110 },
    });
    mocks.lambda
      .on(GetFunctionConcurrencyCommand)
      .rejects(new LambdaNotFound({ $metadata: { httpStatusCode: 404 }, message: 'Function not found', Type: 'User' }));
    const result = check(await preflight([...PROD_CONTEXT, 'rollbackReservedConcurrency=20']), 'lambda-concurrency');
    assert.equal(result.status, 'fail');
    assert.match(
      result.detail,
      /110 unreserved − 20 more for softfactory-prod-rollback = 90, below Lambda’s minimum of 100/,
    );
  });

  it('counts a reservation the function already holds as taken', async () => {
    mocks.lambda.on(GetAccountSettingsCommand).resolves({
      AccountLimit: { ConcurrentExecutions: 120, UnreservedConcurrentExecutions: 100 },
    });
    mocks.lambda.on(GetFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: 20 });
    const result = check(await preflight([...PROD_CONTEXT, 'rollbackReservedConcurrency=20']), 'lambda-concurrency');
    assert.equal(result.status, 'pass');
  });
});

describe('preflight: Elastic IPs', () => {
  it('fails when the NAT gateways’ addresses would exceed the quota', async () => {
    firstDeploy();
    mocks.ec2.on(DescribeAddressesCommand).resolves({
      Addresses: [
        natAddress(1, undefined),
        natAddress(2, undefined),
        natAddress(3, 'staging'),
        natAddress(4, 'staging'),
      ],
    });
    const result = check(await preflight(), 'elastic-ips');
    assert.equal(result.status, 'fail');
    assert.match(result.detail, /4 in use of 5; 2 more for 2 NAT gateway/);
    assert.match(result.fix ?? '', /L-0263D0A3/);
  });

  it('falls back to the AWS default quota when none is applied', async () => {
    mocks.serviceQuotas.on(GetServiceQuotaCommand).rejects(
      new NoSuchResourceException({
        $metadata: { httpStatusCode: 400 },
        message: 'The request failed because the specified resource does not exist.',
      }),
    );
    mocks.serviceQuotas.on(GetAWSDefaultServiceQuotaCommand).resolves({
      Quota: { ServiceCode: 'ec2', QuotaCode: 'L-0263D0A3', QuotaName: 'EC2-VPC Elastic IPs', Value: 5 },
    });
    assert.equal(check(await preflight(), 'elastic-ips').status, 'pass');
    assert.equal(mocks.serviceQuotas.commandCalls(GetAWSDefaultServiceQuotaCommand).length, 1);
  });
});

describe('preflight: deployment in flight', () => {
  it('fails when any page lists a deployment in flight', async () => {
    const brief = (id: string, status: string) => ({
      serviceDeploymentArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service-deployment/softfactory-prod/softfactory-prod-web/${id}`,
      serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/softfactory-prod/softfactory-prod-web`,
      clusterArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/softfactory-prod`,
      status: status as 'IN_PROGRESS',
      createdAt: new Date('2026-03-01T10:00:00Z'),
    });
    mocks.ecs
      .on(ListServiceDeploymentsCommand)
      .resolves({ serviceDeployments: [], nextToken: 'next' })
      .on(ListServiceDeploymentsCommand, { nextToken: 'next' })
      .resolves({ serviceDeployments: [brief('Qw8eRt5yUi3oPa1sDf7gHj', 'ROLLBACK_IN_PROGRESS')] });
    const result = check(await preflight(), 'deployment-in-flight');
    assert.equal(result.status, 'fail');
    assert.match(result.detail, /Qw8eRt5yUi3oPa1sDf7gHj is ROLLBACK_IN_PROGRESS/);
    assert.match(result.fix ?? '', /sfdeploy release-status --stage prod --wait/);
  });

  it('skips when the service is gone although the stack exists', async () => {
    mocks.ecs
      .on(ListServiceDeploymentsCommand)
      .rejects(new ServiceNotFoundException({ $metadata: { httpStatusCode: 400 }, message: 'Service not found.' }));
    assert.equal(check(await preflight(), 'deployment-in-flight').status, 'skipped');
  });
});

describe('preflight: checks that cannot run', () => {
  it('marks an access-denied check as could not run: exit 2 alone, exit 1 beside a real failure', async () => {
    mocks.serviceQuotas.on(GetServiceQuotaCommand).rejects(
      new ServiceQuotasServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'User is not authorized to perform: servicequotas:GetServiceQuota',
      }),
    );
    const report = await preflight();
    const result = check(report, 'elastic-ips');
    assert.equal(result.couldNotRun, true);
    assert.match(result.detail, /^could not run: access denied by AWS \(AccessDeniedException\)/);
    assert.equal(report.exitCode, 2);
    mocks.ecr.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ $metadata: {}, message: 'no image' }));
    assert.equal((await preflight()).exitCode, 1);
  });
});

describe('sfdeploy preflight (command)', () => {
  it('prints one JSON document and exits 1 when a check fails', async () => {
    mocks.ecr.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ $metadata: {}, message: 'no image' }));
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    const program = new Command().exitOverride();
    register(program, { stdout, makeClients: () => clients() });
    await program.parseAsync([
      'node',
      'sfdeploy',
      'preflight',
      '--stage',
      'prod',
      '--json',
      ...PROD_CONTEXT.flatMap((p) => ['-c', p]),
    ]);
    const doc = JSON.parse(text) as { ok: boolean; exitCode: number; checks: CheckResult[] };
    assert.equal(doc.ok, false);
    assert.equal(doc.exitCode, 1);
    assert.equal(doc.checks.find((c) => c.id === 'image')?.status, 'fail');
    assert.equal(process.exitCode, 1);
    process.exitCode = 0;
  });

  it('shows examples and the exit codes in --help', () => {
    const run = spawnSync(process.execPath, ['bin/sfdeploy.js', 'preflight', '--help'], { encoding: 'utf8' });
    assert.equal(run.status, 0);
    assert.match(run.stdout, /Exit codes: 0 .*; 1 a check failed; 2 /s);
    assert.match(run.stdout, /Examples:\n {2}sfdeploy preflight --stage prod/);
  });

  it('answers a config mistake with one line and exit 2, before any AWS call', () => {
    const run = spawnSync(
      process.execPath,
      ['bin/sfdeploy.js', 'preflight', '--stage', 'prod', '-c', 'natGateways=7', '--region', REGION],
      { encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(run.status, 2);
    assert.equal(run.stderr, 'sfdeploy: config: natGateways = 7: expected a number of at most 3\n');
    assert.equal(run.stdout, '');
  });

  it('refuses -c without key=value and an unknown stage with one line, exit 2', () => {
    for (const args of [
      ['--stage', 'prod', '-c', 'domainName'],
      ['--stage', 'qa'],
    ]) {
      const run = spawnSync(process.execPath, ['bin/sfdeploy.js', 'preflight', ...args], { encoding: 'utf8' });
      assert.equal(run.status, 2, run.stderr);
      assert.match(run.stderr, /^sfdeploy: (-c expects key=value|--stage must be one of)/);
      assert.equal(run.stderr.split('\n').length, 2);
    }
  });
});
