import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { ConfigError, loadConfig } from '../../lib/config/load-config';
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
    assert.equal(worker.Properties['Timeout'], 900);
    assert.equal(worker.Properties['Runtime'], 'nodejs22.x');
    const env = (worker.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
    assert.equal(env['RDS_CA_BUNDLE_PATH'], '/var/task/rds-ca.pem');
    assert.equal(env['SCHEMA_MODE'], 'translate');
    assert.equal(env['ON_ERROR'], 'fail');
    assert.match(JSON.stringify(env['DB_SECRET_ARN']), /DatabaseInstanceSecret/);
    assert.match(JSON.stringify((worker.Properties['VpcConfig'] as { SubnetIds: unknown }).SubnetIds), /privateSubnet/);
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
});

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
