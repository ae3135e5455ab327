import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type App, aws_dynamodb as dynamodb, aws_s3 as s3, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, type NagPack, NIST80053R5Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { STAGES } from '../../lib/config/stage-config';
import { buildApp, EXAMPLE_ENV } from '../helpers/synth';

/** Unacknowledged findings of `pack` over the app's stacks, as `<rule id> <construct path>`. */
function openFindings(pack: NagPack, stacks: readonly IConstruct[]): string[] {
  return stacks.flatMap((stack) =>
    pack
      .validateScope(stack)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath ?? ''}`)),
  );
}

/** Synthesizes (which runs the Aspects, e.g. log-group encryption, and both packs as validation plugins). */
function synthesizes(app: App): void {
  assert.doesNotThrow(() => app.synth());
}

const ENVIRONMENTS = [
  { name: 'environment-agnostic', context: {} },
  { name: `account ${EXAMPLE_ENV.account} in ${EXAMPLE_ENV.region}`, context: { ...EXAMPLE_ENV } },
] as const;

describe('cdk-nag AwsSolutions and NIST.800.53.R5', () => {
  for (const stage of STAGES) {
    for (const env of ENVIRONMENTS) {
      it(`finds nothing unacknowledged in the ${stage} app (${env.name})`, () => {
        const { app, stacks } = buildApp({ stage, ...env.context });
        // cdk-nag 3 packs are policy-validation plugins: synth throws "Validation failed" listing each finding.
        synthesizes(app);
        const all = [stacks.network, stacks.data, stacks.service];
        assert.deepEqual(openFindings(new AwsSolutionsChecks(), all), []);
        assert.deepEqual(openFindings(new NIST80053R5Checks(), all), []);
      });
    }
  }

  it('finds nothing unacknowledged with the migration runner configured (its bucket, functions and provider)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sf-nag-'));
    const sqlite = join(dir, 'platform.db');
    writeFileSync(sqlite, 'SQLite format 3\0');
    const { app, stacks } = buildApp({ stage: 'prod', migrationSource: sqlite });
    synthesizes(app);
    const data = [stacks.data];
    assert.deepEqual(openFindings(new AwsSolutionsChecks(), data), []);
    const migration = openFindings(new NIST80053R5Checks(), data).filter((f) => f.includes('/Migration/'));
    assert.deepEqual(migration, []);
  });

  it('fails synthesis when a resource breaks an AwsSolutions rule and nobody acknowledged it', () => {
    const { app, stacks } = buildApp({ stage: 'dev' });
    new s3.CfnBucket(stacks.data, 'UnencryptedUnloggedBucket', {});
    assert.throws(() => app.synth(), /Validation failed/);
  });

  it('fails synthesis on a NIST.800.53.R5 finding alone, and accepts its acknowledgement next to the resource', () => {
    // On demand and with point-in-time recovery, the table passes AwsSolutions; NIST wants it in a backup plan.
    const probe = (acknowledge: boolean) => {
      const { app, stacks } = buildApp({ stage: 'dev' });
      const table = new dynamodb.Table(stacks.service, 'ProbeTable', {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      });
      if (acknowledge) {
        Validations.of(table).acknowledge({
          id: 'NIST.800.53.R5-DynamoDBInBackupPlan',
          reason: 'probe table in a test',
        });
      }
      return app;
    };
    assert.throws(() => probe(false).synth(), /Validation failed/);
    assert.doesNotThrow(() => probe(true).synth());
  });

  it('accepts an AwsSolutions acknowledgement that names the one finding next to its resource', () => {
    const { app, stacks } = buildApp({ stage: 'dev' });
    const bucket = new s3.Bucket(stacks.data, 'ProbeBucket', {
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    });
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'probe bucket in a test' });
    // A plain bucket breaks NIST rules too (logging, replication, versioning, KMS): one acknowledgement each.
    for (const rule of [
      'S3BucketLoggingEnabled',
      'S3BucketReplicationEnabled',
      'S3BucketVersioningEnabled',
      'S3DefaultEncryptionKMS',
    ]) {
      Validations.of(bucket).acknowledge({ id: `NIST.800.53.R5-${rule}`, reason: 'probe bucket in a test' });
    }
    assert.doesNotThrow(() => app.synth());
  });
});
