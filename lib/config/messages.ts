/**
 * The one-line config errors: `<where>: <key> = <value>: <what is allowed>`, where `<where>` is the stage file the
 * value came from (`config/prod.json`) or `config` for `-c key=value` and the stage defaults.
 */
import type { z } from 'zod';
import type { Kind } from './keys';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Where a value came from, as errors name it: `config` (`-c` and defaults) or a stage file's path. */
export const CLI = 'config';

/** What a well-formed value looks like, for keys whose schema message would be a bare regex. */
export const EXPECTED: Readonly<Record<string, string>> = {
  account: 'a 12-digit AWS account id',
  region: 'an AWS region such as eu-west-1',
  certificateArn: 'an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<uuid>)',
  domainName: 'a lower-case DNS name such as app.example.com',
  hostedZoneId: 'a Route 53 hosted zone id such as Z0123456789ABC',
  zoneName: 'a lower-case DNS zone name such as example.com',
  image: 'an image reference with a tag or digest, such as ghcr.io/acme/softfactory:2.0',
  imageRepository: 'an ECR repository name such as softfactory',
  imageTag: 'an image tag (letters, digits, _ . -; at most 128 characters)',
  imageDirectory: 'a directory holding a Dockerfile',
  dbInstanceClass: 'an RDS instance class such as db.t4g.small',
  alarmEmails: 'comma-separated e-mail addresses',
  availabilityZones: 'comma-separated availability zone names such as eu-west-1a,eu-west-1b',
  containerCommand: 'a command such as "python start_platform.py" or a JSON array of strings',
  releaseCommand: 'a command such as "flask db upgrade" or a JSON array of strings',
  latencyStatistic: 'p95 or p99',
  appEnvironment: 'production or development',
  appSecretArn: 'a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
  appSecretKeys: 'comma-separated environment variable names such as STRIPE_SECRET_KEY,SENTRY_DSN',
  smokeTokenSecretArn: 'a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
  backupCopyVaultArn: 'a backup vault ARN (arn:aws:backup:<region>:<account>:backup-vault:<name>)',
  migrationSource: 'an existing SQLite file or s3://<bucket>/<key>',
  migrationSchemaMode: 'translate or existing',
  migrationOnError: 'fail or skip-row',
};

/** In a stage file, lists are JSON arrays rather than comma-separated text. */
const EXPECTED_IN_FILE: Readonly<Record<string, string>> = {
  alarmEmails: 'a JSON array of e-mail addresses',
  availabilityZones: 'a JSON array of availability zone names such as ["eu-west-1a","eu-west-1b"]',
  containerCommand: 'a JSON array of strings such as ["python","start_platform.py"]',
  releaseCommand: 'a JSON array of strings such as ["flask","db","upgrade"]',
  appSecretKeys: 'a JSON array of environment variable names such as ["STRIPE_SECRET_KEY"]',
};

export function fail(where: string, key: string, value: unknown, problem: string): never {
  const shown = value === undefined ? '(unset)' : JSON.stringify(value);
  throw new ConfigError(`${where}: ${key} = ${shown}: ${problem}`);
}

export const expect = (what: string) => `expected ${what}`;

type Issue = z.core.$ZodIssue;

/** What a schema issue means to the person who typed the value. */
export function problemOf(key: string, issue: Issue, kind: Kind | undefined, inFile: boolean): string {
  if (issue.code === 'custom') return issue.message;
  const known = (inFile ? EXPECTED_IN_FILE[key] : undefined) ?? EXPECTED[key];
  if (issue.code === 'too_small' || issue.code === 'too_big') {
    if (issue.origin === 'number') return expect(rangeText(issue));
    if (issue.origin === 'string' && issue.code === 'too_small') return expect(known ?? 'a non-empty value');
    if (issue.origin === 'array' && issue.code === 'too_small') return expect(`${known ?? 'a list'}, not an empty one`);
  }
  if (issue.code === 'invalid_type') {
    const byKind: Record<Kind, string | undefined> = {
      int: 'a whole number',
      number: 'a number',
      bool: 'true or false',
      string: known ?? 'text',
      list: known ?? (inFile ? 'a JSON array' : 'a comma-separated list'),
      command: known,
    };
    return expect((kind && byKind[kind]) ?? known ?? issue.expected);
  }
  if (issue.code === 'invalid_value' && known === undefined) {
    return expect(`one of ${issue.values.map((v) => String(v)).join(', ')}`);
  }
  return expect(known ?? issue.message);
}

function rangeText(issue: Issue & { code: 'too_small' | 'too_big' }): string {
  if (issue.code === 'too_small' && typeof issue.minimum === 'number') {
    return issue.inclusive === false
      ? `a number greater than ${issue.minimum}`
      : `a number of at least ${issue.minimum}`;
  }
  if (issue.code === 'too_big' && typeof issue.maximum === 'number') return `a number of at most ${issue.maximum}`;
  return issue.message;
}
