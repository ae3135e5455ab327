/**
 * Issue 13 (NIST 800-53 R5): log groups and secrets encrypted with customer-managed keys.
 * Log-group encryption: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aws_logs as logs } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { LOGS_KEY_ACTIONS } from '../../lib/constructs/log-encryption';
import { buildApp, resourcesOf, type SynthResult, synthApp } from '../helpers/synth';

const prod = synthApp({ stage: 'prod' });
const dev = synthApp({ stage: 'dev' });
const imported = synthApp({
  stage: 'dev',
  appSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:softfactory/app-AbCdEf',
});

const templates = (r: SynthResult) =>
  [
    ['network', r.network],
    ['data', r.data],
    ['service', r.service],
  ] as const;

/** The logical id of the stack's log-encryption key. */
function logKeyId(template: Template): string {
  const keys = Object.entries(resourcesOf(template, 'AWS::KMS::Key')).filter(([, k]) =>
    String(k.Properties['Description']).startsWith('Encrypts the CloudWatch Logs log groups of'),
  );
  assert.equal(keys.length, 1, 'one log-encryption key per stack');
  return keys[0]![0];
}

describe('log groups encrypted with their stack’s customer-managed key (NIST.800.53.R5-CloudWatchLogGroupEncrypted)', () => {
  for (const [stage, r] of [
    ['prod', prod],
    ['dev', dev],
  ] as const) {
    for (const [name, template] of templates(r)) {
      it(`encrypts every log group of the ${stage} ${name} stack with that stack's own key`, () => {
        const key = logKeyId(template);
        const groups = Object.entries(resourcesOf(template, 'AWS::Logs::LogGroup'));
        assert.ok(groups.length > 0, 'the stack has log groups');
        for (const [id, group] of groups) {
          assert.deepEqual(group.Properties['KmsKeyId'], { 'Fn::GetAtt': [key, 'Arn'] }, id);
        }
      });

      it(`keeps the ${stage} ${name} stack's retention: every group still expires after logRetentionDays`, () => {
        for (const [id, group] of Object.entries(resourcesOf(template, 'AWS::Logs::LogGroup'))) {
          assert.equal(group.Properties['RetentionInDays'], r.config.logRetentionDays, id);
        }
      });
    }
  }

  it('rotates the key yearly, retains it with the retained log groups, and admits CloudWatch Logs only for this account’s log groups', () => {
    for (const [, template] of templates(prod)) {
      const id = logKeyId(template);
      const key = template.toJSON().Resources[id];
      assert.equal(key.Properties.EnableKeyRotation, true);
      assert.equal(key.DeletionPolicy, 'RetainExceptOnCreate');
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            {
              Sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
              Effect: 'Allow',
              Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
              Action: [...LOGS_KEY_ACTIONS].sort(),
              Resource: '*',
              Condition: {
                ArnLike: {
                  'kms:EncryptionContext:aws:logs:arn': {
                    'Fn::Join': [
                      '',
                      [
                        'arn:',
                        { Ref: 'AWS::Partition' },
                        ':logs:',
                        { Ref: 'AWS::Region' },
                        ':',
                        { Ref: 'AWS::AccountId' },
                        ':log-group:*',
                      ],
                    ],
                  },
                },
              },
            },
          ]),
        },
      });
    }
  });

  it('encrypts a log group added later by any construct, and leaves one that names its own key alone', () => {
    const { stacks } = buildApp({ stage: 'dev' });
    new logs.CfnLogGroup(stacks.service, 'LateGroup', { retentionInDays: 30 });
    new logs.CfnLogGroup(stacks.service, 'OwnKeyGroup', {
      retentionInDays: 30,
      kmsKeyId: 'arn:aws:kms:eu-west-1:123456789012:key/12345678-1234-1234-1234-123456789012',
    });
    const template = Template.fromStack(stacks.service);
    const key = logKeyId(template);
    const groups = resourcesOf(template, 'AWS::Logs::LogGroup');
    const byId = (prefix: string) => Object.entries(groups).find(([id]) => id.startsWith(prefix))![1];
    assert.deepEqual(byId('LateGroup').Properties['KmsKeyId'], { 'Fn::GetAtt': [key, 'Arn'] });
    assert.equal(
      byId('OwnKeyGroup').Properties['KmsKeyId'],
      'arn:aws:kms:eu-west-1:123456789012:key/12345678-1234-1234-1234-123456789012',
    );
  });
});

describe('secrets of ours with customer-managed keys (NIST.800.53.R5-SecretsManagerUsingKMSKey)', () => {
  it('encrypts the generated app secrets and the external one with the app-secrets key, retained and rotating', () => {
    const keys = Object.entries(resourcesOf(prod.data, 'AWS::KMS::Key')).filter(([, k]) =>
      String(k.Properties['Description']).startsWith('Encrypts the SoftFactory app secrets'),
    );
    assert.equal(keys.length, 1);
    const [keyId, key] = keys[0]!;
    assert.equal(key.Properties['EnableKeyRotation'], true);
    assert.equal(prod.data.toJSON().Resources[keyId].DeletionPolicy, 'RetainExceptOnCreate');
    const appSecrets = Object.entries(resourcesOf(prod.data, 'AWS::SecretsManager::Secret')).filter(([id]) =>
      id.startsWith('AppSecrets'),
    );
    assert.equal(appSecrets.length, 4, 'PLATFORM_SECRET_KEY, JWT_SECRET, ENCRYPTION_KEY, External');
    for (const [id, secret] of appSecrets) {
      assert.deepEqual(secret.Properties['KmsKeyId'], { 'Fn::GetAtt': [keyId, 'Arn'] }, id);
    }
  });

  it('lets any principal of the account decrypt the app secrets through Secrets Manager only, as aws/secretsmanager does', () => {
    // Reading a secret stays an IAM decision on the secret (the execution role's grant); the key adds no reader
    // names, which would be a Data → Service reference.
    prod.data.hasResourceProperties('AWS::KMS::Key', {
      Description: Match.stringLikeRegexp('^Encrypts the SoftFactory app secrets'),
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'AllowThisAccountThroughSecretsManagerOnly',
            Effect: 'Allow',
            Principal: { AWS: '*' },
            Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
            Resource: '*',
            Condition: {
              StringEquals: {
                'kms:CallerAccount': { Ref: 'AWS::AccountId' },
                'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              },
            },
          },
        ]),
      },
    });
    assert.doesNotMatch(JSON.stringify(resourcesOf(prod.data, 'AWS::KMS::Key')), /ExecutionRole/);
    // The execution role still reads exactly the secrets it is granted.
    prod.service.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'] }),
        ]),
      },
    });
  });

  it('encrypts the created smoke token with its own key, which the smoke function may decrypt', () => {
    const keys = Object.entries(resourcesOf(dev.service, 'AWS::KMS::Key')).filter(([, k]) =>
      String(k.Properties['Description']).includes('smoke-check token'),
    );
    assert.equal(keys.length, 1);
    const [keyId, key] = keys[0]!;
    assert.equal(key.Properties['EnableKeyRotation'], true);
    dev.service.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'softfactory/dev/smoke-token',
      KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    // grantRead names the function's role in the key policy (same stack), for kms:Decrypt only.
    assert.deepEqual(
      (key.Properties['KeyPolicy'] as { Statement: { Principal: unknown; Action: unknown }[] }).Statement.filter((st) =>
        JSON.stringify(st.Principal).includes('SmokeHookFunctionServiceRole'),
      ).map((st) => st.Action),
      ['kms:Decrypt'],
    );
  });

  it('creates no app-secrets key when the app secret is imported (its owner chose its key)', () => {
    const keys = Object.values(resourcesOf(imported.data, 'AWS::KMS::Key')).filter((k) =>
      String(k.Properties['Description']).startsWith('Encrypts the SoftFactory app secrets'),
    );
    assert.equal(keys.length, 0);
    assert.equal(imported.stacks.data.appSecrets.key, undefined);
  });
});
