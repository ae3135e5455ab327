/**
 * Logs: retention of every log group, data protection of the app's log group, the archive to S3 through Firehose and
 * the saved Logs Insights queries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { STAGES } from '../../lib/config/stage-config';
import { CREDENTIAL_DATA_IDENTIFIERS, CUSTOM_DATA_IDENTIFIERS } from '../../lib/constructs/log-archive';
import { TUNED, templates } from '../helpers/monitoring';
import { only, resourcesOf, synthApp } from '../helpers/synth';

const prod = synthApp({ stage: 'prod' });
const dev = synthApp({ stage: 'dev' });
const tuned = synthApp(TUNED);

// ---------------------------------------------------------------------------------------------------------------

describe('log retention', () => {
  const everyStage = STAGES.map((stage) => (stage === 'prod' ? prod : stage === 'dev' ? dev : synthApp({ stage })));

  it('keeps every log group of every stack of every stage at least 30 days', () => {
    let count = 0;
    for (const result of everyStage) {
      for (const template of templates(result)) {
        for (const [id, group] of Object.entries(resourcesOf(template, 'AWS::Logs::LogGroup'))) {
          count += 1;
          const days = group.Properties['RetentionInDays'];
          assert.equal(typeof days, 'number', `${result.config.stage} ${id} has a retention`);
          assert.ok((days as number) >= 30, `${result.config.stage} ${id} keeps ${days} days`);
        }
      }
    }
    assert.ok(count >= 6 * STAGES.length, `found ${count} log groups`);
  });

  it('applies a longer configured retention to every log group we create', () => {
    for (const template of templates(tuned)) {
      for (const group of Object.values(resourcesOf(template, 'AWS::Logs::LogGroup'))) {
        assert.equal(group.Properties['RetentionInDays'], 90);
      }
    }
  });
});

describe('log data protection', () => {
  const appLogs = Object.entries(resourcesOf(prod.service, 'AWS::Logs::LogGroup')).find(
    ([, g]) => g.Properties['LogGroupName'] === '/softfactory/softfactory-prod/app',
  );
  assert.ok(appLogs);
  const policy = appLogs[1].Properties['DataProtectionPolicy'] as {
    Version: string;
    Configuration: { CustomDataIdentifier: { Name: string; Regex: string }[] };
    Statement: { DataIdentifier: unknown[]; Operation: Record<string, unknown> }[];
  };

  it('audits and masks credentials and tokens in the app’s log group', () => {
    assert.equal(policy.Version, '2021-06-01');
    const [audit, mask] = policy.Statement;
    assert.ok(audit && mask);
    assert.deepEqual(Object.keys(audit.Operation), ['Audit']);
    assert.deepEqual(mask.Operation, { Deidentify: { MaskConfig: {} } });
    assert.deepEqual(audit.DataIdentifier, mask.DataIdentifier);
    const identifiers = JSON.stringify(mask.DataIdentifier);
    for (const managed of CREDENTIAL_DATA_IDENTIFIERS) {
      assert.ok(identifiers.includes(`:dataprotection::aws:data-identifier/${managed}`), managed);
    }
    for (const custom of Object.keys(CUSTOM_DATA_IDENTIFIERS)) assert.ok(identifiers.includes(`"${custom}"`), custom);
    assert.deepEqual(
      policy.Configuration.CustomDataIdentifier.map((c) => c.Name),
      Object.keys(CUSTOM_DATA_IDENTIFIERS),
    );
  });

  it('masks the same credentials and tokens in the WAF log group, whose URIs and query strings can carry them', () => {
    // Headers are redacted by the WAF logging configuration; the rest of a request is masked like the app's lines.
    const waf = Object.values(resourcesOf(prod.service, 'AWS::Logs::LogGroup')).find(
      (g) => g.Properties['LogGroupName'] === 'aws-waf-logs-softfactory-prod',
    );
    const wafPolicy = waf?.Properties['DataProtectionPolicy'] as typeof policy | undefined;
    assert.ok(wafPolicy, 'the WAF log group has a data-protection policy');
    assert.deepEqual(
      wafPolicy.Statement.map((st) => [Object.keys(st.Operation), st.DataIdentifier]),
      policy.Statement.map((st) => [Object.keys(st.Operation), st.DataIdentifier]),
    );
    assert.deepEqual(wafPolicy.Configuration, policy.Configuration);
  });

  it('writes custom identifiers CloudWatch Logs accepts (≤ 200 characters from its allowed set)', () => {
    for (const { Name, Regex } of policy.Configuration.CustomDataIdentifier) {
      assert.match(Name, /^[A-Za-z0-9_-]{1,128}$/);
      assert.ok(Regex.length <= 200, `${Name} regex length`);
      assert.match(Regex, /^[A-Za-z0-9_#=@/;,\- ^$?[\]{}|\\*+.]+$/, `${Name} uses only allowed characters`);
    }
  });

  it('masks the secrets SoftFactory could log, and leaves ordinary lines alone', () => {
    const masks = (line: string) => Object.values(CUSTOM_DATA_IDENTIFIERS).some((r) => new RegExp(r).test(line));
    for (const secret of [
      'Authorization: Bearer 3f9a8c7d6e5b4a39',
      'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.c2lnbmF0dXJlLXZhbHVl',
      'connecting to postgresql://softfactory:s3cr3t@db.internal:5432/softfactory',
      'POST /login password=hunter22 user=bob',
    ]) {
      assert.equal(masks(secret), true, secret);
    }
    for (const ordinary of ['GET /health HTTP/1.1 200', 'invalid password for user bob', 'https://example.com/api']) {
      assert.equal(masks(ordinary), false, ordinary);
    }
  });
});

describe('log archive', () => {
  it('wires the app log group → subscription → Firehose → archive bucket with lifecycle, end to end', () => {
    const appLogGroupId = Object.entries(resourcesOf(prod.service, 'AWS::Logs::LogGroup')).find(
      ([, g]) => g.Properties['LogGroupName'] === '/softfactory/softfactory-prod/app',
    )?.[0];
    // log group → subscription filter (every event) → delivery stream
    const subscription = only(resourcesOf(prod.service, 'AWS::Logs::SubscriptionFilter'), 'subscription');
    assert.deepEqual(subscription.Properties['LogGroupName'], { Ref: appLogGroupId });
    assert.equal(subscription.Properties['FilterPattern'], '');
    const streamId = Object.keys(resourcesOf(prod.service, 'AWS::KinesisFirehose::DeliveryStream'))[0];
    assert.deepEqual(subscription.Properties['DestinationArn'], { 'Fn::GetAtt': [streamId, 'Arn'] });
    // CloudWatch Logs may put records into the stream
    const roleId = (subscription.Properties['RoleArn'] as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    prod.service.hasResourceProperties(
      'AWS::IAM::Role',
      Match.objectLike({
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [Match.objectLike({ Principal: { Service: 'logs.amazonaws.com' } })],
        }),
      }),
    );
    const logsPolicy = Object.values(resourcesOf(prod.service, 'AWS::IAM::Policy')).find((p) =>
      JSON.stringify(p.Properties['Roles']).includes(roleId as string),
    );
    assert.match(JSON.stringify(logsPolicy?.Properties), /firehose:PutRecord/);

    // delivery stream → the data stack's archive bucket, compressed, date-partitioned
    const stream = only(resourcesOf(prod.service, 'AWS::KinesisFirehose::DeliveryStream'), 'stream');
    const s3 = stream.Properties['ExtendedS3DestinationConfiguration'] as {
      BucketARN: unknown;
      CompressionFormat: string;
      Prefix: string;
      ErrorOutputPrefix: string;
      ProcessingConfiguration: { Processors: { Type: string }[] };
      RoleARN: { 'Fn::GetAtt': string[] };
      CloudWatchLoggingOptions: { Enabled: boolean; LogStreamName: unknown };
    };
    assert.match(JSON.stringify(s3.BucketARN), /:s3:::softfactory-prod-logs-/);
    assert.equal(s3.CompressionFormat, 'GZIP');
    assert.match(
      s3.Prefix,
      /^softfactory-prod\/app\/year=!\{timestamp:yyyy\}\/month=!\{timestamp:MM\}\/day=!\{timestamp:dd\}\/$/,
    );
    assert.match(s3.ErrorOutputPrefix, /!\{firehose:error-output-type\}/);
    assert.deepEqual(
      s3.ProcessingConfiguration.Processors.map((p) => p.Type),
      ['Decompression', 'CloudWatchLogProcessing', 'AppendDelimiterToRecord'],
    );
    assert.deepEqual(stream.Properties['DeliveryStreamEncryptionConfigurationInput'], { KeyType: 'AWS_OWNED_CMK' });
    // Firehose's role may write only its prefix
    const deliveryPolicy = Object.values(resourcesOf(prod.service, 'AWS::IAM::Policy')).find((p) =>
      JSON.stringify(p.Properties['Roles']).includes(s3.RoleARN['Fn::GetAtt'][0] as string),
    );
    const delivery = JSON.stringify(deliveryPolicy?.Properties);
    assert.match(delivery, /s3:PutObject/);
    assert.match(delivery, /softfactory-prod-logs-.*\/softfactory-prod\/app\/\*/);
    assert.doesNotMatch(delivery, /s3:DeleteObject/);
    // …and log its delivery errors to exactly the stream the stream is configured with
    const logging = s3.CloudWatchLoggingOptions;
    assert.equal(logging.Enabled, true);
    assert.ok(delivery.includes(JSON.stringify(logging.LogStreamName)), 'PutLogEvents on the configured error stream');

    // the bucket: stateful (data stack), named as the stream expects, encrypted, private, TLS-only, lifecycle
    const bucket = only(resourcesOf(prod.data, 'AWS::S3::Bucket'), 'archive bucket') as {
      Properties: Record<string, unknown>;
      DeletionPolicy?: string;
    };
    assert.match(JSON.stringify(bucket.Properties['BucketName']), /softfactory-prod-logs-/);
    // Kept on stack deletion, deleted only when a create rolls back (its name is fixed; a retry must not collide).
    assert.equal(bucket.DeletionPolicy, 'RetainExceptOnCreate');
    prod.data.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: 'aws:kms' }) }),
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Status: 'Enabled',
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
              { StorageClass: 'GLACIER', TransitionInDays: 90 },
            ],
            ExpirationInDays: 365,
          }),
        ]),
      },
    });
    prod.data.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
  });

  it('expires archived logs at the configured age', () => {
    tuned.data.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 730 })]) },
    });
  });

  it('saves Logs Insights queries: errors in the last 5 minutes, requests slower than 500 ms, 5xx by path', () => {
    const queries = Object.values(resourcesOf(prod.service, 'AWS::Logs::QueryDefinition')).map((q) => q.Properties);
    const byName = Object.fromEntries(queries.map((q) => [q['Name'] as string, q]));
    const appQueries = [
      'softfactory-prod/5xx-by-path',
      'softfactory-prod/errors-last-5-minutes',
      'softfactory-prod/slow-requests',
    ];
    // The fourth reads the WAF log group (test/lib/audit-monitoring.test.ts).
    assert.deepEqual(Object.keys(byName).sort(), [...appQueries, 'softfactory-prod/waf-rate-limit-blocks']);
    const appLogGroupId = Object.entries(resourcesOf(prod.service, 'AWS::Logs::LogGroup')).find(
      ([, g]) => g.Properties['LogGroupName'] === '/softfactory/softfactory-prod/app',
    )?.[0];
    for (const name of appQueries) assert.deepEqual(byName[name]?.['LogGroupNames'], [{ Ref: appLogGroupId }]);
    assert.match(
      byName['softfactory-prod/errors-last-5-minutes']?.['QueryString'] as string,
      /filter @message like \/\(\?i\)\(error\|exception/,
    );
    assert.match(
      byName['softfactory-prod/slow-requests']?.['QueryString'] as string,
      /duration_ms > 500 or request_seconds > 0.5/,
    );
    assert.match(
      byName['softfactory-prod/5xx-by-path']?.['QueryString'] as string,
      /filter status like \/\^5\/[\s\S]*stats count\(\*\) as responses by status, method, path/,
    );
  });
});
