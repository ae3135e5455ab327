/**
 * Issue 13 part B: the database master password rotated by Secrets Manager, enhanced monitoring, IAM database
 * authentication, and the AWS Backup plan of the database and the rollback lock table — each as a template
 * assertion, prod and dev differences included, and NIST 800-53 R5 / AwsSolutions finding nothing unacknowledged on
 * these resources.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { ConfigError } from '../../lib/config/load-config';
import { Database, URL_UNSAFE_PASSWORD_CHARACTERS } from '../../lib/constructs/database';
import { buildApp, EXAMPLE_ENV, only, resourcesOf, type SynthResult, synthApp } from '../helpers/synth';

type Template = SynthResult['data'];
type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
};

const prod = synthApp({ stage: 'prod' });
const staging = synthApp({ stage: 'staging' });
const dev = synthApp({ stage: 'dev' });

const json = (v: unknown) => JSON.stringify(v);
const resources = (t: Template, type: string) => resourcesOf(t, type) as unknown as Record<string, Resource>;
const oneOf = (t: Template, type: string) => only(resources(t, type), type);
const logicalIdOf = (t: Template, type: string, match: (r: Resource) => boolean): string => {
  const found = Object.entries(resources(t, type)).filter(([, r]) => match(r));
  assert.equal(found.length, 1, `exactly one ${type} matches`);
  return found[0]![0];
};
const getAtt = (id: string, attr: string) => ({ 'Fn::GetAtt': [id, attr] });

function dbInstance(t: Template): Resource {
  return oneOf(t, 'AWS::RDS::DBInstance');
}
function rotationApplication(t: Template): Resource {
  return oneOf(t, 'AWS::Serverless::Application');
}
function securityGroupId(t: Template, description: RegExp): string {
  return logicalIdOf(t, 'AWS::EC2::SecurityGroup', (r) => description.test(String(r.Properties['GroupDescription'])));
}
function isolatedSubnetImports(t: Template): string[] {
  // The isolated subnets are the network stack's exports whose names carry the subnet group "isolated".
  const endpoint = oneOf(t, 'AWS::EC2::VPCEndpoint');
  return (endpoint.Properties['SubnetIds'] as { 'Fn::ImportValue': string }[]).map((s) => s['Fn::ImportValue']);
}

describe('database credential rotation (Secrets Manager single-user rotation)', () => {
  // https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_turn-on-for-db.html
  it('rotates the master secret every databaseCredentialRotationDays (default 30) and never as a side effect of a deploy', () => {
    for (const r of [prod, dev]) {
      const schedule = oneOf(r.data, 'AWS::SecretsManager::RotationSchedule');
      const attachment = logicalIdOf(r.data, 'AWS::SecretsManager::SecretTargetAttachment', () => true);
      assert.deepEqual(schedule.Properties['SecretId'], { Ref: attachment });
      assert.deepEqual(schedule.Properties['RotationRules'], { ScheduleExpression: 'rate(30 days)' });
      // AWS::SecretsManager::RotationSchedule RotateImmediatelyOnUpdate defaults to true: a deploy would rotate.
      assert.equal(schedule.Properties['RotateImmediatelyOnUpdate'], false);
      assert.deepEqual(
        schedule.Properties['RotationLambdaARN'],
        getAtt(
          logicalIdOf(r.data, 'AWS::Serverless::Application', () => true),
          'Outputs.RotationLambdaARN',
        ),
      );
    }
    const weekly = synthApp({ stage: 'dev', databaseCredentialRotationDays: '7' });
    assert.deepEqual(oneOf(weekly.data, 'AWS::SecretsManager::RotationSchedule').Properties['RotationRules'], {
      ScheduleExpression: 'rate(7 days)',
    });
  });

  it('refuses a rotation interval outside the 1–1000 days Secrets Manager accepts', () => {
    // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_RotationRulesType.html
    for (const days of ['0', '1001']) {
      assert.throws(
        () => synthApp({ stage: 'dev', databaseCredentialRotationDays: days }),
        (e: unknown) => e instanceof ConfigError && /databaseCredentialRotationDays = /.test(e.message),
      );
    }
  });

  it("runs AWS's PostgreSQL single-user rotation function in the isolated subnets with the URL-safe password alphabet", () => {
    for (const r of [prod, dev]) {
      const app = rotationApplication(r.data);
      const mapping = json(r.data.toJSON());
      assert.match(mapping, /SecretsManagerRDSPostgreSQLRotationSingleUser/);
      const params = app.Properties['Parameters'] as Record<string, unknown>;
      const subnets = isolatedSubnetImports(r.data);
      assert.ok(subnets.length >= 2);
      for (const s of subnets) assert.match(s, /isolatedSubnet/);
      assert.deepEqual(params['vpcSubnetIds'], {
        'Fn::Join': [
          '',
          subnets.flatMap((s, i) => (i === 0 ? [{ 'Fn::ImportValue': s }] : [',', { 'Fn::ImportValue': s }])),
        ],
      });
      assert.deepEqual(
        params['vpcSecurityGroupIds'],
        getAtt(securityGroupId(r.data, /^Secrets Manager rotation function/), 'GroupId'),
      );
      // The rotated password lands in DATABASE_URL too: no character that needs URL escaping.
      assert.equal(params['excludeCharacters'], URL_UNSAFE_PASSWORD_CHARACTERS);
    }
  });

  it('reaches Secrets Manager through an interface endpoint in the isolated subnets, by the endpoint’s own DNS name (private DNS off, so no other VPC client is rerouted)', () => {
    // https://docs.aws.amazon.com/vpc/latest/privatelink/privatelink-access-aws-services.html
    for (const r of [prod, dev]) {
      const endpoint = oneOf(r.data, 'AWS::EC2::VPCEndpoint');
      const endpointId = logicalIdOf(r.data, 'AWS::EC2::VPCEndpoint', () => true);
      assert.equal(endpoint.Properties['VpcEndpointType'], 'Interface');
      assert.match(json(endpoint.Properties['ServiceName']), /\.secretsmanager/);
      assert.equal(endpoint.Properties['PrivateDnsEnabled'], false);
      assert.equal(isolatedSubnetImports(r.data).length, r.config.maxAzs);
      const params = rotationApplication(r.data).Properties['Parameters'] as Record<string, unknown>;
      assert.deepEqual(params['endpoint'], {
        'Fn::Join': [
          '',
          [
            'https://',
            { 'Fn::Select': [1, { 'Fn::Split': [':', { 'Fn::Select': [0, getAtt(endpointId, 'DnsEntries')] }] }] },
          ],
        ],
      });
    }
  });

  it('lets the rotation function out only to the database on 5432 and the endpoint on 443, and admits it there', () => {
    for (const r of [prod, dev]) {
      const rotation = securityGroupId(r.data, /^Secrets Manager rotation function/);
      const database = securityGroupId(r.data, /^PostgreSQL: admits only/);
      const endpointGroup = (oneOf(r.data, 'AWS::EC2::VPCEndpoint').Properties['SecurityGroupIds'] as unknown[])[0];
      const rotationGroup = resources(r.data, 'AWS::EC2::SecurityGroup')[rotation]!;
      assert.equal(rotationGroup.Properties['SecurityGroupEgress'], undefined, 'no allow-all egress');
      const egress = Object.values(resources(r.data, 'AWS::EC2::SecurityGroupEgress')).filter(
        (e) => json(e.Properties['GroupId']) === json(getAtt(rotation, 'GroupId')),
      );
      assert.deepEqual(
        egress
          .map((e) => [e.Properties['FromPort'], e.Properties['ToPort'], e.Properties['DestinationSecurityGroupId']])
          .sort((a, b) => Number(a[0]) - Number(b[0])),
        [
          [443, 443, endpointGroup],
          [5432, 5432, getAtt(database, 'GroupId')],
        ],
      );
      const ingressFromRotation = Object.values(resources(r.data, 'AWS::EC2::SecurityGroupIngress')).filter(
        (i) => json(i.Properties['SourceSecurityGroupId']) === json(getAtt(rotation, 'GroupId')),
      );
      assert.deepEqual(
        ingressFromRotation
          .map((i) => [i.Properties['GroupId'], i.Properties['FromPort'], i.Properties['ToPort']])
          .sort((a, b) => Number(a[1]) - Number(b[1])),
        [
          [endpointGroup, 443, 443],
          [getAtt(database, 'GroupId'), 5432, 5432],
        ],
      );
      // Nobody else reaches the endpoint: no CIDR ingress (CDK's `open` default would admit the whole VPC).
      const endpointSg = json(endpointGroup).match(/"(\w+)","GroupId"/)![1]!;
      assert.equal(
        resources(r.data, 'AWS::EC2::SecurityGroup')[endpointSg]!.Properties['SecurityGroupIngress'],
        undefined,
      );
    }
  });

  it('keeps the app on its password: the task still reads DB_PASSWORD from the rotated secret at start', () => {
    const taskDefinition = oneOf(prod.service, 'AWS::ECS::TaskDefinition');
    assert.match(
      json(taskDefinition.Properties['ContainerDefinitions']),
      /"Name":"DB_PASSWORD","ValueFrom":\{"Fn::Join":\["",\[\{"Fn::ImportValue":"[^"]*DatabaseInstanceSecretAttachment[^"]*"\},":password::"\]\]\}/,
    );
  });
});

describe('enhanced monitoring and IAM database authentication', () => {
  // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Monitoring.OS.Enabling.html
  it('monitors the OS every 60 s in staging and prod, with a role RDS assumes, and not in dev', () => {
    for (const r of [prod, staging]) {
      const db = dbInstance(r.data);
      assert.equal(db.Properties['MonitoringInterval'], 60);
      const role = resources(r.data, 'AWS::IAM::Role')[
        (db.Properties['MonitoringRoleArn'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]
      ]!;
      assert.match(json(role.Properties['AssumeRolePolicyDocument']), /monitoring\.rds\.amazonaws\.com/);
      assert.match(json(role.Properties['ManagedPolicyArns']), /AmazonRDSEnhancedMonitoringRole/);
    }
    const db = dbInstance(dev.data);
    assert.equal(db.Properties['MonitoringInterval'], undefined);
    assert.equal(db.Properties['MonitoringRoleArn'], undefined);
    assert.equal(json(dev.data.toJSON()).includes('monitoring.rds.amazonaws.com'), false);
  });

  it('takes any interval RDS allows from config and refuses the others', () => {
    // MonitoringInterval: "Valid Values: 0, 1, 5, 10, 15, 30, 60" (CreateDBInstance API reference).
    const dev15 = synthApp({ stage: 'dev', databaseMonitoringIntervalSeconds: '15' });
    assert.equal(dbInstance(dev15.data).Properties['MonitoringInterval'], 15);
    const prodOff = synthApp({ stage: 'prod', databaseMonitoringIntervalSeconds: '0' });
    assert.equal(dbInstance(prodOff.data).Properties['MonitoringInterval'], undefined);
    assert.throws(
      () => synthApp({ stage: 'dev', databaseMonitoringIntervalSeconds: '20' }),
      (e: unknown) => e instanceof ConfigError && /databaseMonitoringIntervalSeconds = 20/.test(e.message),
    );
  });

  it('enables IAM database authentication in every stage', () => {
    // https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html
    for (const r of [prod, staging, dev])
      assert.equal(dbInstance(r.data).Properties['EnableIAMDatabaseAuthentication'], true);
  });

  it('keeps Multi-AZ and deletion protection on in prod (acknowledged in dev, where the stage is torn down)', () => {
    assert.equal(dbInstance(prod.data).Properties['MultiAZ'], true);
    assert.equal(dbInstance(prod.data).Properties['DeletionProtection'], true);
    assert.equal(dbInstance(dev.data).Properties['MultiAZ'], false);
    assert.equal(dbInstance(dev.data).Properties['DeletionProtection'], false);
  });
});

/** Minutes since Sunday 00:00 UTC of an RDS window bound such as `Sun:22:30` or (daily) `00:30` on `day`. */
function minutesOf(bound: string, day = 0): number {
  const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  const m = /^(?:([A-Za-z]{3}):)?(\d{2}):(\d{2})$/.exec(bound);
  assert.ok(m, bound);
  const d = m[1] ? days.indexOf(m[1].toLowerCase()) : day;
  return d * 1440 + Number(m[2]) * 60 + Number(m[3]);
}

describe('AWS Backup plan of the database and the lock table', () => {
  function plan(t: Template) {
    const p = oneOf(t, 'AWS::Backup::BackupPlan').Properties['BackupPlan'] as {
      BackupPlanRule: Record<string, unknown>[];
    };
    return only(Object.fromEntries(p.BackupPlanRule.map((r, i) => [i, r])), 'backup rule');
  }

  it('backs up daily at 03:00 UTC and keeps each recovery point backupRetentionDays (7 dev, 14 staging, 30 prod)', () => {
    // https://docs.aws.amazon.com/aws-backup/latest/devguide/creating-a-backup-plan.html
    for (const [r, days] of [
      [dev, 7],
      [staging, 14],
      [prod, 30],
    ] as const) {
      const rule = plan(r.data);
      assert.equal(rule['ScheduleExpression'], 'cron(0 3 * * ? *)');
      assert.deepEqual(rule['Lifecycle'], { DeleteAfterDays: days });
      assert.equal(rule['StartWindowMinutes'], 60);
      assert.equal(rule['CompletionWindowMinutes'], 240);
      assert.deepEqual(
        rule['TargetBackupVault'],
        getAtt(
          logicalIdOf(r.data, 'AWS::Backup::BackupVault', () => true),
          'BackupVaultName',
        ),
      );
      assert.equal(rule['CopyActions'], undefined);
    }
  });

  it('opens its window at least an hour after the database’s pinned backup and maintenance windows close', () => {
    // AWS Backup does not start a database backup within an hour before or during its maintenance window
    // (https://docs.aws.amazon.com/aws-backup/latest/devguide/plan-options-and-configuration.html); RDS picks a
    // random window from an 8-hour block unless one is set, so both are pinned.
    const db = dbInstance(prod.data);
    const backupWindow = String(db.Properties['PreferredBackupWindow']);
    const maintenance = String(db.Properties['PreferredMaintenanceWindow']);
    const start = Number(/^cron\(0 (\d+) /.exec(String(plan(prod.data)['ScheduleExpression']))![1]) * 60;
    const backupEnd = minutesOf(backupWindow.split('-')[1]!);
    assert.ok(start - backupEnd >= 60, `${backupWindow} vs ${start / 60}:00`);
    // The weekly maintenance window, against the daily start on the day after it (Monday).
    const maintenanceEnd = minutesOf(maintenance.split('-')[1]!);
    const nextStart = Math.ceil(maintenanceEnd / 1440) * 1440 + start;
    assert.ok(nextStart - maintenanceEnd >= 60 && minutesOf(maintenance.split('-')[0]!) % 1440 > start + 60);
    assert.equal(dbInstance(dev.data).Properties['PreferredBackupWindow'], backupWindow);
  });

  it('stores recovery points in a vault encrypted with its own rotating customer-managed key, retained on deletion but not after a rolled-back create, under a name a re-created stack does not collide with', () => {
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html (RetainExceptOnCreate)
    for (const r of [prod, dev]) {
      const vault = oneOf(r.data, 'AWS::Backup::BackupVault');
      const keyId = (vault.Properties['EncryptionKeyArn'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const key = resources(r.data, 'AWS::KMS::Key')[keyId]!;
      assert.equal(key.Properties['EnableKeyRotation'], true);
      assert.match(String(key.Properties['Description']), /Backup vault/);
      assert.equal(vault.DeletionPolicy, 'RetainExceptOnCreate');
      assert.equal(key.DeletionPolicy, 'RetainExceptOnCreate');
      // The name is not a literal: it ends with a part of AWS::StackId, new for every created stack.
      assert.equal(typeof vault.Properties['BackupVaultName'], 'object');
      assert.match(
        json(vault.Properties['BackupVaultName']),
        new RegExp(`softfactory-${r.config.stage}-backups.*AWS::StackId`),
      );
    }
  });

  it('selects the database in the data stack and the rollback lock table in the service stack, both with the plan’s one role', () => {
    for (const r of [prod, dev]) {
      const planId = logicalIdOf(r.data, 'AWS::Backup::BackupPlan', () => true);
      const roleId = logicalIdOf(r.data, 'AWS::IAM::Role', (x) => json(x.Properties).includes('backup.amazonaws.com'));
      const dbId = logicalIdOf(r.data, 'AWS::RDS::DBInstance', () => true);
      const dataSelection = oneOf(r.data, 'AWS::Backup::BackupSelection').Properties;
      assert.deepEqual(dataSelection['BackupPlanId'], getAtt(planId, 'BackupPlanId'));
      const sel = dataSelection['BackupSelection'] as Record<string, unknown>;
      assert.deepEqual(sel['IamRoleArn'], getAtt(roleId, 'Arn'));
      assert.match(json(sel['Resources']), new RegExp(`:db:",\\{"Ref":"${dbId}"\\}`));

      const tableId = logicalIdOf(r.service, 'AWS::DynamoDB::Table', () => true);
      const serviceSelection = oneOf(r.service, 'AWS::Backup::BackupSelection').Properties;
      assert.match(json(serviceSelection['BackupPlanId']), /Fn::ImportValue.*BackupPlanId/);
      const ssel = serviceSelection['BackupSelection'] as Record<string, unknown>;
      assert.match(json(ssel['IamRoleArn']), new RegExp(`Fn::ImportValue.*${roleId}Arn`));
      assert.deepEqual(ssel['Resources'], [getAtt(tableId, 'Arn')]);
      assert.equal(ssel['ListOfTags'], undefined, 'by ARN, not by tag');
    }
  });

  it('lets the backup role use the vault key and the database key through their key policies (no inline IAM policy)', () => {
    const roleId = logicalIdOf(prod.data, 'AWS::IAM::Role', (x) => json(x.Properties).includes('backup.amazonaws.com'));
    const role = resources(prod.data, 'AWS::IAM::Role')[roleId]!;
    assert.match(json(role.Properties['ManagedPolicyArns']), /service-role\/AWSBackupServiceRolePolicyForBackup/);
    assert.equal(
      Object.values(resources(prod.data, 'AWS::IAM::Policy')).some((p) => json(p.Properties['Roles']).includes(roleId)),
      false,
    );
    const keysAdmitting = Object.values(resources(prod.data, 'AWS::KMS::Key')).filter((k) => {
      const statements = (k.Properties['KeyPolicy'] as { Statement: Record<string, unknown>[] }).Statement;
      return statements.some(
        (s) =>
          json(s['Principal']) === json({ AWS: getAtt(roleId, 'Arn') }) &&
          json(s['Action']).includes('kms:Decrypt') &&
          json(s['Action']).includes('kms:GenerateDataKey'),
      );
    });
    assert.deepEqual(
      keysAdmitting.map((k) => String(k.Properties['Description']).split(' ').slice(0, 2).join(' ')).sort(),
      ['Encrypts softfactory-prod:', 'Encrypts the'],
    );
  });

  it('copies each recovery point to the vault named by backupCopyVaultArn, kept as long as the original', () => {
    // https://docs.aws.amazon.com/aws-backup/latest/devguide/cross-region-backup.html
    const copyVault = 'arn:aws:backup:eu-central-1:123456789012:backup-vault:softfactory-copies';
    const copied = synthApp({ stage: 'prod', ...EXAMPLE_ENV, backupCopyVaultArn: copyVault });
    assert.deepEqual(plan(copied.data)['CopyActions'], [
      { DestinationBackupVaultArn: copyVault, Lifecycle: { DeleteAfterDays: 30 } },
    ]);
  });

  it('refuses a copy vault in the deploy region or one that is not a vault ARN', () => {
    assert.throws(
      () =>
        synthApp({
          stage: 'prod',
          ...EXAMPLE_ENV,
          backupCopyVaultArn: 'arn:aws:backup:eu-west-1:123456789012:backup-vault:same-region',
        }),
      (e: unknown) => e instanceof ConfigError && /backupCopyVaultArn .*another region than eu-west-1/.test(e.message),
    );
    assert.throws(
      () => synthApp({ stage: 'dev', backupCopyVaultArn: 'arn:aws:s3:::not-a-vault' }),
      (e: unknown) => e instanceof ConfigError && /backupCopyVaultArn = "arn:aws:s3:::not-a-vault"/.test(e.message),
    );
  });
});

describe('cdk-nag on the database hardening resources', () => {
  // Ours: the database construct (instance, secret, rotation, endpoint), the backup plan and its selections, the lock
  // table. Log-group encryption is issue 13 part A's (one aspect over every log group), so its rule is left to that test.
  const ours = /\/(Database|Backup)\/|\/Rollback\/(Locks|Backup)\//;
  const partA = new Set(['NIST.800.53.R5-CloudWatchLogGroupEncrypted']);
  for (const stage of ['dev', 'staging', 'prod']) {
    for (const [form, context] of [
      ['env-agnostic', {}],
      ['with account 123456789012 and region eu-west-1', EXAMPLE_ENV],
    ] as const) {
      it(`NIST 800-53 R5 and AwsSolutions find nothing unacknowledged on them in ${stage}, ${form}`, () => {
        const { stacks } = buildApp({ stage, ...context });
        const found: string[] = [];
        for (const stack of [stacks.data, stacks.service]) {
          for (const pack of [new NIST80053R5Checks(), new AwsSolutionsChecks()]) {
            for (const v of pack.validateScope(stack).violations) {
              if (partA.has(v.ruleName)) continue;
              for (const r of v.violatingResources) {
                if (ours.test(r.constructPath ?? '')) found.push(`${v.ruleName} ${r.constructPath}`);
              }
            }
          }
        }
        assert.deepEqual(found, []);
      });
    }
  }

  it('reports a second database left out of the backup plan, and nothing else on it (the check is not vacuous)', () => {
    const bare = buildApp({ stage: 'dev' });
    new Database(bare.stacks.data, 'Bare', {
      stage: 'dev',
      vpc: bare.stacks.network.network.vpc,
      instanceIdentifier: 'bare',
      instanceClass: 'db.t4g.small',
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 20,
      multiAz: true,
      backupRetentionDays: 1,
      deletionProtection: true,
      slowQueryMs: 500,
      logRetentionDays: 30,
      credentialRotationDays: 30,
      monitoringIntervalSeconds: 60,
    });
    const findings = new NIST80053R5Checks()
      .validateScope(bare.stacks.data)
      .violations.filter((v) => v.violatingResources.some((r) => /\/Bare\//.test(r.constructPath ?? '')))
      .map((v) => v.ruleName)
      .filter((rule) => !partA.has(rule));
    // Everything else the construct does on its own (rotation, monitoring, IAM auth) holds for the second instance.
    assert.deepEqual(findings, ['NIST.800.53.R5-RDSInBackupPlan']);
  });

  it('refuses a monitoring interval or rotation period the construct is given directly that RDS or Secrets Manager would refuse', () => {
    const { stacks } = buildApp({ stage: 'dev' });
    const base = {
      stage: 'dev',
      vpc: stacks.network.network.vpc,
      instanceIdentifier: 'probe',
      instanceClass: 'db.t4g.small',
      allocatedStorageGiB: 20,
      maxAllocatedStorageGiB: 20,
      multiAz: false,
      backupRetentionDays: 1,
      deletionProtection: false,
      slowQueryMs: 500,
      logRetentionDays: 30,
      credentialRotationDays: 30,
      monitoringIntervalSeconds: 0,
    };
    assert.throws(
      () => new Database(stacks.data, 'P1', { ...base, monitoringIntervalSeconds: 45 }),
      /one of 0, 1, 5, 10, 15, 30, 60/,
    );
    assert.throws(() => new Database(stacks.data, 'P2', { ...base, credentialRotationDays: 0 }), /1–1000 days/);
  });
});
