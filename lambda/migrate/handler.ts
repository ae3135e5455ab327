/**
 * Lambda adapter for the migration runner (CDK Provider framework): `onEventHandler` and `isCompleteHandler`.
 * Validates env and event, builds the AWS ports (S3 source and reports, Secrets Manager credential, TLS against
 * the RDS CA bundle), and calls the core in runner.ts.
 */
import { createWriteStream, existsSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import type { ClientConfig } from 'pg';
import { z } from 'zod';
import { type MigrateConfig, parseMigrateEnv } from './env';
import { customResourceEventSchema, type IsCompleteResult, isComplete, onEvent, type RunnerPorts } from './runner';

const s3 = new S3Client({});
const secrets = new SecretsManagerClient({});

const secretSchema = z.object({
  username: z.string().min(1),
  password: z.string().min(1),
  host: z.string().min(1),
  port: z.coerce.number().int().positive().default(5432),
  dbname: z.string().min(1).optional(),
});

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// URI: ${uri}`);
  return { bucket: m[1] as string, key: m[2] as string };
}

/** Builds a pg connection that verifies the server certificate against the RDS CA bundle. */
export function tlsConnection(
  secret: z.infer<typeof secretSchema>,
  config: Pick<MigrateConfig, 'DB_NAME' | 'RDS_CA_BUNDLE_PATH'>,
): ClientConfig {
  return {
    host: secret.host,
    port: secret.port,
    user: secret.username,
    password: secret.password,
    database: secret.dbname ?? config.DB_NAME,
    // rds.force_ssl=1: TLS is mandatory, and the certificate must chain to the RDS CA and match the host name.
    ssl: { ca: readFileSync(config.RDS_CA_BUNDLE_PATH, 'utf8'), rejectUnauthorized: true, servername: secret.host },
    connectionTimeoutMillis: 15_000,
  };
}

const TMP = '/tmp';
const SOURCE_PREFIX = 'sfdeploy-source-';

/** Bytes free in `dir` for this process. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/**
 * Refuses an object larger than the free space of /tmp — the function's ephemeral storage, 512 to 10,240 MB
 * (https://docs.aws.amazon.com/lambda/latest/dg/API_EphemeralStorage.html) — before downloading any of it.
 */
export function checkFits(uri: string, size: number | undefined, free: number): void {
  if (size === undefined || size <= free) return;
  const mb = (n: number) => `${Math.ceil(n / 1024 / 1024)} MB`;
  throw new Error(
    `migration source ${uri} is ${mb(size)}, more than this function's free /tmp (${mb(free)}; Lambda's ephemeral ` +
      'storage is at most 10,240 MB): migrate it from a machine in the VPC with `sfdeploy migrate <file> --pg-url …`',
  );
}

function ports(config: MigrateConfig, context: Context): RunnerPorts {
  return {
    async fetchSource(uri, version) {
      const safe = version.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
      const name = `${SOURCE_PREFIX}${safe}.db`;
      const local = `${TMP}/${name}`;
      // A warm container keeps /tmp: the same version is downloaded once; any other version's file goes.
      if (existsSync(local)) return local;
      for (const f of readdirSync(TMP)) if (f.startsWith(SOURCE_PREFIX)) rmSync(`${TMP}/${f}`, { force: true });
      const { bucket, key } = parseS3Uri(uri);
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!(object.Body instanceof Readable)) throw new Error(`s3 object ${uri} has no readable body`);
      try {
        checkFits(uri, object.ContentLength, freeBytes(TMP));
      } catch (error) {
        object.Body.destroy();
        throw error;
      }
      await pipeline(object.Body, createWriteStream(`${local}.partial`));
      renameSync(`${local}.partial`, local);
      return local;
    },
    async putObject(key, body, contentType) {
      await s3.send(
        new PutObjectCommand({
          Bucket: config.REPORT_BUCKET,
          Key: key,
          Body: body,
          ContentType: contentType,
          // Encryption: the bucket's default (the construct decides SSE-S3 or KMS).
        }),
      );
      return `s3://${config.REPORT_BUCKET}/${key}`;
    },
    async connection() {
      const value = await secrets.send(new GetSecretValueCommand({ SecretId: config.DB_SECRET_ARN }));
      const secret = secretSchema.parse(JSON.parse(value.SecretString ?? '{}'));
      return tlsConnection(secret, config);
    },
    remainingMs: () => context.getRemainingTimeInMillis(),
    log(message, fields) {
      // One JSON line per step; never the connection details.
      console.log(JSON.stringify({ level: 'INFO', message, ...fields }));
    },
  };
}

export async function onEventHandler(event: unknown): Promise<{ PhysicalResourceId: string }> {
  return onEvent(customResourceEventSchema.parse(event));
}

export async function isCompleteHandler(event: unknown, context: Context): Promise<IsCompleteResult> {
  const config = parseMigrateEnv(process.env);
  return isComplete(customResourceEventSchema.parse(event), config, ports(config, context));
}
