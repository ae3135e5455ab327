import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ConfigError, loadConfig } from '../../lib/config/load-config';
import { EPHEMERAL_MAX_MB, ephemeralStorageMb } from '../../lib/constructs/migration-runner';
import { buildApp, resourcesOf, synthApp } from '../helpers/synth';

const dir = mkdtempSync(join(tmpdir(), 'sf-migration-'));
const sqlite = join(dir, 'platform.db');
writeFileSync(sqlite, 'SQLite format 3\0');

const withLocalFile = synthApp({ stage: 'prod', migrationSource: sqlite });
const withS3Object = synthApp({
  stage: 'dev',
  migrationSource: 's3://softfactory-exports/platform.db',
  migrationSourceVersion: '"9b2cf535f27731c974343645a3985328"',
  migrationOnError: 'skip-row',
});

describe('migration runner (Data stack)', () => {
  it('exists only when a migration source is configured', () => {
    synthApp({ stage: 'dev' }).data.resourceCountIs('Custom::SoftFactoryMigration', 0);
    withLocalFile.data.resourceCountIs('Custom::SoftFactoryMigration', 1);
  });

  it('runs as a custom resource keyed by the source object and its version, so a changed file reruns it', () => {
    withLocalFile.data.hasResourceProperties('Custom::SoftFactoryMigration', {
      SourceUri: Match.anyValue(),
      SourceVersion: Match.stringLikeRegexp('^[0-9a-f]{64}$'),
    });
    withS3Object.data.hasResourceProperties('Custom::SoftFactoryMigration', {
      SourceUri: 's3://softfactory-exports/platform.db',
      SourceVersion: '"9b2cf535f27731c974343645a3985328"',
    });
  });

  it('continues long migrations across invocations through the provider’s isComplete polling', () => {
    withLocalFile.data.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    const worker = Object.values(resourcesOf(withLocalFile.data, 'AWS::Lambda::Function')).find(
      (f) => f.Properties['FunctionName'] === 'softfactory-prod-migrate',
    )!;
    assert.equal(worker.Properties['Handler'], 'index.isCompleteHandler');
    assert.equal(worker.Properties['Timeout'], 840);
    assert.equal(worker.Properties['Runtime'], 'nodejs22.x');
    const env = (worker.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    assert.equal(env['RDS_CA_BUNDLE_PATH'], '/var/task/rds-ca.pem');
    assert.equal(env['SCHEMA_MODE'], 'translate');
    assert.equal(env['ON_ERROR'], 'fail');
    assert.match(JSON.stringify(env['DB_SECRET_ARN']), /DatabaseInstanceSecret/);
    assert.match(JSON.stringify((worker.Properties['VpcConfig'] as { SubnetIds: unknown }).SubnetIds), /privateSubnet/);
  });

  it('waits no longer than CloudFormation waits for a custom resource (ServiceTimeout ≤ 3600 s), in the worst case', () => {
    // CloudFormation: ServiceTimeout "must be an integer from 1 to 3600"
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-cloudformation-customresource.html#cfn-cloudformation-customresource-servicetimeout).
    // The provider's waiter retries the isComplete task MaxAttempts times, IntervalSeconds apart, and each attempt
    // lasts up to the worker's Lambda timeout; the starter runs once before it.
    for (const synth of [withLocalFile, withS3Object]) {
      const t = synth.data;
      const resource = Object.values(resourcesOf(t, 'Custom::SoftFactoryMigration'))[0]!;
      const serviceTimeout = Number(resource.Properties['ServiceTimeout']);
      assert.ok(serviceTimeout >= 1 && serviceTimeout <= 3600, `ServiceTimeout ${serviceTimeout}`);
      const retry = waiterRetry(t);
      const starter = timeoutOf(t, /-migrate-start$/);
      const worker = timeoutOf(t, /-migrate$/);
      const worst = starter + (retry.MaxAttempts + 1) * worker + retry.MaxAttempts * retry.IntervalSeconds;
      assert.ok(worst <= serviceTimeout, `worst case ${worst} s > ServiceTimeout ${serviceTimeout} s`);
      assert.equal(retry.BackoffRate, 1);
      // …and still leaves several invocations: the work happens in checkpointed, resumable steps.
      assert.ok(retry.MaxAttempts + 1 >= 4, `${retry.MaxAttempts + 1} invocations`);
      // Every invocation stays within Lambda's 15-minute limit (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html).
      assert.ok(worker <= 900);
      const env = workerEnv(t);
      assert.ok(Number(env['OPERATION_BUDGET_MS']) <= (serviceTimeout - starter) * 1000);
      assert.equal(Number(env['RETRY_INTERVAL_MS']), retry.IntervalSeconds * 1000);
    }
  });

  it('sizes the worker’s /tmp from the source: a local file’s size, an S3 object the 10,240 MB maximum', () => {
    // Ephemeral storage: "any whole number between 512 and 10,240 MB"
    // (https://docs.aws.amazon.com/lambda/latest/dg/API_EphemeralStorage.html).
    const size = (t: Template) =>
      (
        Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find((f) =>
          String(f.Properties['FunctionName']).endsWith('-migrate'),
        )!.Properties['EphemeralStorage'] as { Size: number }
      ).Size;
    assert.equal(size(withLocalFile.data), 512);
    assert.equal(size(withS3Object.data), EPHEMERAL_MAX_MB);
    const MiB = 1024 * 1024;
    assert.equal(ephemeralStorageMb(2048 * MiB), 2048 + 256);
    assert.equal(ephemeralStorageMb(9984 * MiB), 10_240);
    assert.equal(ephemeralStorageMb(9984 * MiB + 1), null, 'past 10,240 MB no function can hold it');
    assert.equal(ephemeralStorageMb(null), 10_240);
  });

  it('reaches PostgreSQL only through its own security group, which the database admits', () => {
    const ingress = Object.values(resourcesOf(withLocalFile.data, 'AWS::EC2::SecurityGroupIngress')).filter((r) =>
      JSON.stringify(r.Properties['SourceSecurityGroupId']).includes('MigrationSecurityGroup'),
    );
    assert.equal(ingress.length, 1);
    assert.equal(ingress[0]!.Properties['FromPort'], 5432);
    assert.match(JSON.stringify(ingress[0]!.Properties['GroupId']), /DatabaseSecurityGroup/);
  });

  it('may read the source object and the credential, and write reports only under its stage prefix', () => {
    const policies = JSON.stringify(resourcesOf(withS3Object.data, 'AWS::IAM::Policy'));
    assert.match(
      policies,
      /"Action":\["s3:GetObject","s3:GetObjectVersion"\],"Effect":"Allow","Resource":\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":s3:::softfactory-exports\/platform\.db"\]\]\}/,
    );
    assert.match(policies, /secretsmanager:GetSecretValue/);
    assert.match(
      policies,
      /"Action":"s3:PutObject","Effect":"Allow","Resource":\{"Fn::Join":\["",\[\{"Fn::GetAtt":\["MigrationReports\w+","Arn"\]\},"\/dev\/\*"\]\]\}/,
    );
    withS3Object.data.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });

  it('passes cdk-nag with the runner in place', () => {
    const { app } = buildApp({ stage: 'prod', migrationSource: sqlite });
    assert.doesNotThrow(() => app.synth());
  });

  it('leaves no cdk-nag finding on the runner in a concrete account and region (literal ARNs) either', () => {
    for (const source of [
      { migrationSource: sqlite },
      { migrationSource: 's3://softfactory-exports/platform.db', migrationSourceVersion: '"9b2c"' },
    ] as Record<string, string>[]) {
      const { app } = buildApp({ stage: 'prod', account: '123456789012', region: 'eu-west-1', ...source });
      let failed = '';
      try {
        app.synth();
      } catch (error) {
        failed = (error as Error).message;
      }
      if (!failed) continue;
      // Other constructs may have findings of their own here; the report names each finding's construct path.
      const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: { violations: { ruleName: string }[] }[];
      };
      const all = report.pluginReports.flatMap((p) => p.violations);
      assert.ok(all.length > 0, failed);
      const ours = all.filter((v) => JSON.stringify(v).includes('/Migration/')).map((v) => v.ruleName);
      assert.deepEqual(ours, [], `unacknowledged on the runner: ${ours.join(', ')}`);
    }
  });
});

function timeoutOf(t: Template, name: RegExp): number {
  const fn = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find((f) =>
    name.test(String(f.Properties['FunctionName'])),
  );
  assert.ok(fn, `function ${name}`);
  return Number(fn.Properties['Timeout']);
}

function workerEnv(t: Template): Record<string, unknown> {
  const fn = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).find((f) =>
    String(f.Properties['FunctionName']).endsWith('-migrate'),
  )!;
  return (fn.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
}

/** The Retry of the provider's waiter state machine (its definition, with the ARN tokens blanked). */
function waiterRetry(t: Template): { MaxAttempts: number; IntervalSeconds: number; BackoffRate: number } {
  const machine = Object.values(resourcesOf(t, 'AWS::StepFunctions::StateMachine'))[0]!;
  const parts = (machine.Properties['DefinitionString'] as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const definition = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('')) as {
    States: Record<string, { Retry?: { MaxAttempts: number; IntervalSeconds: number; BackoffRate: number }[] }>;
  };
  const retries = Object.values(definition.States).flatMap((s) => s.Retry ?? []);
  assert.equal(retries.length, 1);
  return retries[0]!;
}

describe('migration config', () => {
  const load = (context: Record<string, string>) => loadConfig((k) => context[k], Object.keys(context));

  it('refuses a local file that does not exist', () => {
    assert.throws(
      () => load({ migrationSource: join(dir, 'missing.db') }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /^config: migrationSource = ".*missing\.db": expected an existing SQLite file or s3:\/\/<bucket>\/<key>$/.test(
          e.message,
        ),
    );
  });

  it('requires the object version with an S3 source', () => {
    assert.throws(
      () => load({ migrationSource: 's3://bucket/platform.db' }),
      /^ConfigError: config: migrationSourceVersion = \(unset\): is required with an s3:\/\/ migrationSource/,
    );
  });

  it('refuses migration settings without a source, and unknown modes', () => {
    assert.throws(
      () => load({ migrationOnError: 'skip-row' }),
      /config: migrationOnError = "skip-row": needs migrationSource/,
    );
    assert.throws(
      () => load({ migrationSource: sqlite, migrationSchemaMode: 'merge' }),
      /config: migrationSchemaMode = "merge": expected translate or existing/,
    );
  });
});
