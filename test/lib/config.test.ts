import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../lib/config/load-config';
import {
  dbMaxConnections,
  defaultMaxConnections,
  instanceClassMemoryGiB,
  PLACEHOLDER_CERTIFICATE_ARN,
  type StageConfig,
} from '../../lib/config/stage-config';

function load(context: Record<string, unknown>): StageConfig {
  return loadConfig((key) => context[key], Object.keys(context));
}

function rejects(context: Record<string, unknown>, pattern: RegExp): void {
  assert.throws(
    () => load(context),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, 'a ConfigError');
      assert.equal(error.message.includes('\n'), false, 'one line');
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('stage config', () => {
  it('defaults to dev with a placeholder certificate and an ECR image', () => {
    const config = load({});
    assert.equal(config.stage, 'dev');
    assert.deepEqual(config.certificate, { kind: 'import', arn: PLACEHOLDER_CERTIFICATE_ARN, placeholder: true });
    assert.deepEqual(config.image, { kind: 'ecr', repository: 'softfactory', tag: 'v2.0' });
    assert.equal(config.account, undefined);
    assert.equal(config.logRetentionDays, 30);
    assert.equal(config.slowQueryMs, 500);
    assert.equal(config.bakeTimeMinutes, 5);
  });

  it('gives prod redundancy and protection by default', () => {
    const prod = load({ stage: 'prod' });
    const dev = load({ stage: 'dev' });
    assert.equal(prod.multiAz, true);
    assert.equal(prod.deletionProtection, true);
    assert.equal(prod.backupRetentionDays, 30);
    assert.equal(dev.backupRetentionDays, 7);
    assert.equal(dev.multiAz, false);
    assert.equal(dev.natGateways, 1);
    assert.ok(prod.natGateways >= 2);
  });

  it('reads overrides given as context strings', () => {
    const config = load({
      stage: 'staging',
      cpu: '1024',
      memoryMiB: '3072',
      minTasks: '3',
      maxTasks: '6',
      multiAz: 'true',
      alarmEmails: 'ops@example.com, oncall@example.com',
      containerCommand: 'gunicorn -b 0.0.0.0:8000 app:app',
      account: '123456789012',
      region: 'eu-west-1',
      certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012',
      domainName: 'staging.example.com',
    });
    assert.equal(config.cpu, 1024);
    assert.equal(config.memoryMiB, 3072);
    assert.equal(config.minTasks, 3);
    assert.equal(config.multiAz, true);
    assert.deepEqual(config.alarmEmails, ['ops@example.com', 'oncall@example.com']);
    assert.deepEqual(config.containerCommand, ['gunicorn', '-b', '0.0.0.0:8000', 'app:app']);
    assert.equal(config.region, 'eu-west-1');
  });

  it('imports a certificate by ARN or creates a DNS-validated one', () => {
    const arn = 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';
    assert.deepEqual(load({ certificateArn: arn, domainName: 'app.example.com' }).certificate, {
      kind: 'import',
      arn,
      placeholder: false,
    });
    assert.deepEqual(
      load({ domainName: 'app.example.com', hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com' }).certificate,
      { kind: 'create', domainName: 'app.example.com', hostedZoneId: 'Z0123456789ABC', zoneName: 'example.com' },
    );
  });

  it('takes the image from a registry reference or a local Dockerfile directory', () => {
    assert.deepEqual(load({ image: 'ghcr.io/acme/softfactory:2.0' }).image, {
      kind: 'registry',
      name: 'ghcr.io/acme/softfactory:2.0',
    });
    const directory = mkdtempSync(join(tmpdir(), 'softfactory-image-'));
    writeFileSync(join(directory, 'Dockerfile'), 'FROM python:3.12-slim\n');
    assert.deepEqual(load({ imageDirectory: directory }).image, { kind: 'directory', path: directory });
    assert.deepEqual(load({ imageTag: 'v2.1' }).image, { kind: 'ecr', repository: 'softfactory', tag: 'v2.1' });
  });

  it('rejects an unknown stage', () =>
    rejects({ stage: 'qa' }, /^config: stage = "qa": expected one of dev, staging, prod$/));
  it('rejects a negative count', () =>
    rejects({ minTasks: '-2' }, /^config: minTasks = -2: expected a number of at least 1$/));
  it('rejects a non-numeric count', () =>
    rejects({ maxTasks: 'many' }, /^config: maxTasks = "many": expected a whole number$/));
  it('rejects a malformed certificate ARN', () =>
    rejects(
      { certificateArn: 'arn:aws:acm:bad' },
      /^config: certificateArn = "arn:aws:acm:bad": expected an ACM certificate ARN/,
    ));
  it('rejects a CPU size Fargate does not offer', () =>
    rejects({ cpu: '300' }, /^config: cpu = 300: expected one of 256, 512, 1024/));
  it('rejects a memory size Fargate does not pair with the CPU', () =>
    rejects(
      { cpu: '256', memoryMiB: '4096' },
      /^config: memoryMiB = 4096: Fargate offers cpu 256 with memoryMiB 512–2048/,
    ));
  it('rejects minTasks above maxTasks', () =>
    rejects({ minTasks: '5', maxTasks: '2' }, /^config: minTasks = 5: must not exceed maxTasks \(2\)$/));
  it('refuses desiredCount: the template sets no DesiredCount, so autoscaling owns the count (aws/aws-cdk#3919)', () =>
    rejects({ desiredCount: '9' }, /^config: unknown key "-c desiredCount" \(known keys: stage, /));
  it('rejects account without region', () =>
    rejects({ account: '123456789012' }, /^config: region = \(unset\): account and region go together/));
  it('rejects a malformed account id', () =>
    rejects(
      { account: '1234', region: 'eu-west-1' },
      /^config: account = "1234": expected a 12-digit AWS account id$/,
    ));
  it('rejects a malformed region', () =>
    rejects({ account: '123456789012', region: 'Mars' }, /^config: region = "Mars": expected an AWS region/));
  it('rejects a malformed e-mail address', () =>
    rejects(
      { alarmEmails: 'ops@example.com,nobody' },
      /^config: alarmEmails = \["ops@example.com","nobody"\]: expected comma-separated e-mail addresses$/,
    ));
  it('rejects a non-boolean flag', () =>
    rejects({ multiAz: 'yes' }, /^config: multiAz = "yes": expected true or false$/));
  it('rejects log retention below 30 days', () =>
    rejects({ logRetentionDays: '14' }, /^config: logRetentionDays = 14: expected a number of at least 30$/));
  it('rejects a retention CloudWatch Logs does not offer', () =>
    rejects({ logRetentionDays: '45' }, /^config: logRetentionDays = 45: expected one of 30, 60, 90/));
  it('rejects prod without deletion protection', () =>
    rejects(
      { stage: 'prod', deletionProtection: 'false' },
      /^config: deletionProtection = false: must be true in prod$/,
    ));
  it('rejects more NAT gateways than AZs', () =>
    rejects({ natGateways: '3' }, /^config: natGateways = 3: must not exceed maxAzs \(2\)$/));
  it('rejects storage ceiling below the allocation', () =>
    rejects(
      { dbAllocatedStorageGiB: '200' },
      /^config: dbMaxAllocatedStorageGiB = 100: must be at least dbAllocatedStorageGiB \(200\)$/,
    ));
  it('rejects a malformed DB instance class', () =>
    rejects(
      { dbInstanceClass: 't4g.small' },
      /^config: dbInstanceClass = "t4g.small": expected an RDS instance class/,
    ));
  it('rejects a WAF rate limit below WAF\u2019s minimum', () =>
    rejects({ wafRateLimit: '5' }, /^config: wafRateLimit = 5: expected a number of at least 10$/));
  it('rejects two image sources at once', () =>
    rejects(
      { image: 'nginx:1', imageDirectory: '.' },
      /^config: imageDirectory = "\.": must be unset: image is already set/,
    ));
  it('rejects a half-specified certificate to create', () =>
    rejects(
      { hostedZoneId: 'Z0123456789ABC' },
      /^config: domainName = \(unset\): is required: creating a certificate needs/,
    ));
  it('rejects importing and creating a certificate at once', () =>
    rejects(
      {
        certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012',
        hostedZoneId: 'Z0123456789ABC',
      },
      /^config: hostedZoneId = "Z0123456789ABC": must be unset when certificateArn is given/,
    ));
  it('rejects a malformed image tag', () =>
    rejects({ imageTag: 'bad tag' }, /^config: imageTag = "bad tag": expected an image tag/));
  it('requires the host name with an imported certificate, since the smoke checks verify TLS against it', () =>
    rejects(
      { certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012' },
      /^config: domainName = \(unset\): is required with certificateArn: the smoke checks verify TLS/,
    ));
  it('rejects a snapshot hook timeout too short for a snapshot', () =>
    rejects({ snapshotTimeoutMinutes: '5' }, /^config: snapshotTimeoutMinutes = 5: expected a number of at least 10$/));
  it('rejects zero retained snapshots', () =>
    rejects({ snapshotRetentionCount: '0' }, /^config: snapshotRetentionCount = 0: expected a number of at least 1$/));
  it('rejects an unknown key so typos do not fall back to defaults', () =>
    rejects({ cpus: '1024' }, /^config: unknown key "-c cpus" \(did you mean "-c cpu"\?\)$/));
  it('ignores CDK feature flags and CDK-internal context keys', () => {
    assert.equal(load({ '@aws-cdk/core:checkSecretUsage': true, 'aws:cdk:enable-path-metadata': true }).stage, 'dev');
  });
});

describe('stage config: alarms and logs', () => {
  it('defaults to the checklist thresholds: 1 % errors, 500 ms at p95, 80 % CPU/memory/disk, 365-day archive', () => {
    const config = load({});
    assert.equal(config.errorRatePercent, 1);
    assert.equal(config.errorRateMinRequests, 20);
    assert.equal(config.latencyThresholdMs, 500);
    assert.equal(config.latencyStatistic, 'p95');
    assert.deepEqual(
      [config.cpuAlarmPercent, config.memoryAlarmPercent, config.diskAlarmPercent, config.dbCpuAlarmPercent],
      [80, 80, 80, 80],
    );
    assert.equal(config.dbFreeStoragePercent, 20);
    assert.equal(config.dbConnectionsPercent, 80);
    assert.equal(config.dbMaxConnections, undefined);
    assert.equal(config.logArchiveExpiryDays, 365);
  });

  it('reads alarm overrides, including a fractional error rate and p99', () => {
    const config = load({
      errorRatePercent: '0.5',
      latencyStatistic: 'p99',
      latencyThresholdMs: '800',
      dbMaxConnections: '300',
    });
    assert.equal(config.errorRatePercent, 0.5);
    assert.equal(config.latencyStatistic, 'p99');
    assert.equal(config.latencyThresholdMs, 800);
    assert.equal(dbMaxConnections(config), 300);
  });

  it('derives max_connections from the instance class like RDS: LEAST(memory / 9531392, 5000)', () => {
    assert.equal(dbMaxConnections(load({ stage: 'dev' })), 225);
    assert.equal(dbMaxConnections(load({ stage: 'prod' })), 901);
    assert.equal(instanceClassMemoryGiB('db.t3.micro'), 1);
    assert.equal(instanceClassMemoryGiB('db.r6g.xlarge'), 32);
    assert.equal(instanceClassMemoryGiB('db.m6i.4xlarge'), 64);
    assert.equal(defaultMaxConnections('db.r7g.2xlarge'), 5000, 'capped at 5000');
    assert.equal(instanceClassMemoryGiB('db.x2g.large'), undefined);
  });

  it('rejects an error rate of 0', () =>
    rejects({ errorRatePercent: '0' }, /^config: errorRatePercent = 0: expected a number greater than 0$/));
  it('rejects an error rate above 100', () =>
    rejects({ errorRatePercent: '150' }, /^config: errorRatePercent = 150: expected a number of at most 100$/));
  it('rejects a non-numeric error rate', () =>
    rejects({ errorRatePercent: 'one' }, /^config: errorRatePercent = "one": expected a number$/));
  it('rejects an error-rate volume gate of 0 requests', () =>
    rejects({ errorRateMinRequests: '0' }, /^config: errorRateMinRequests = 0: expected a number of at least 1$/));
  it('rejects a latency percentile other than p95 or p99', () =>
    rejects({ latencyStatistic: 'p90' }, /^config: latencyStatistic = "p90": expected p95 or p99$/));
  it('rejects a latency budget of 0 ms', () =>
    rejects({ latencyThresholdMs: '0' }, /^config: latencyThresholdMs = 0: expected a number of at least 1$/));
  it('rejects a CPU alarm above 100 %', () =>
    rejects({ cpuAlarmPercent: '101' }, /^config: cpuAlarmPercent = 101: expected a number of at most 100$/));
  it('rejects a memory alarm of 0 %', () =>
    rejects({ memoryAlarmPercent: '0' }, /^config: memoryAlarmPercent = 0: expected a number of at least 1$/));
  it('rejects a disk alarm above 100 %', () =>
    rejects({ diskAlarmPercent: '120' }, /^config: diskAlarmPercent = 120: expected a number of at most 100$/));
  it('rejects a database CPU alarm of 0 %', () =>
    rejects({ dbCpuAlarmPercent: '0' }, /^config: dbCpuAlarmPercent = 0: expected a number of at least 1$/));
  it('rejects a free-storage alarm at 100 % (it would always fire)', () =>
    rejects({ dbFreeStoragePercent: '100' }, /^config: dbFreeStoragePercent = 100: expected a number of at most 99$/));
  it('rejects a connections alarm above 100 %', () =>
    rejects({ dbConnectionsPercent: '110' }, /^config: dbConnectionsPercent = 110: expected a number of at most 100$/));
  it('requires dbMaxConnections for an instance class whose memory it does not know', () => {
    rejects(
      { dbInstanceClass: 'db.x2g.large' },
      /^config: dbMaxConnections = \(unset\): is required for dbInstanceClass db.x2g.large .*SHOW max_connections/,
    );
    assert.equal(dbMaxConnections(load({ dbInstanceClass: 'db.x2g.large', dbMaxConnections: '1000' })), 1000);
  });
  it('rejects a non-positive dbMaxConnections', () =>
    rejects({ dbMaxConnections: '0' }, /^config: dbMaxConnections = 0: expected a number of at least 1$/));
  it('rejects an archive expiry at or before the Glacier transition (90 days)', () =>
    rejects(
      { logArchiveExpiryDays: '90' },
      /^config: logArchiveExpiryDays = 90: must exceed 90: archived logs move to Glacier/,
    ));
});
