/**
 * `sfdeploy smoke --token-secret <name|arn>`: the token read with Secrets Manager GetSecretValue and judged by the
 * deploy hook's own rule. The core is driven with aws-sdk-client-mock answering GetSecretValue's documented shapes
 * (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html: SecretString or
 * SecretBinary; ResourceNotFoundException, DecryptionFailure, InvalidRequestException; AccessDeniedException from IAM,
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html); the command itself through
 * `node bin/sfdeploy.js` against a fake Secrets Manager endpoint (AWS_ENDPOINT_URL_SECRETS_MANAGER, the SDK's
 * service-specific endpoint variable: https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html)
 * speaking its JSON 1.1 protocol, and a fake SoftFactory.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  DecryptionFailure,
  GetSecretValueCommand,
  InvalidRequestException,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { explainAwsError } from '../../bin/cli/aws';
import { UsageError } from '../../bin/cli/support';
import { readTokenSecret } from '../../bin/commands/smoke';
import { SMOKE_TOKEN_PLACEHOLDER } from '../../lambda/smoke/env';
import { cli } from '../helpers/fake-aws';

const NAME = 'softfactory-staging-smoke-token';
const ARN = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${NAME}-a1B2c3`;
const TOKEN = 'secret-smoke-token';

/** A GetSecretValue answer as the API reference shows it. */
const secretValue = (fields: { SecretString?: string; SecretBinary?: Uint8Array }) => ({
  ARN,
  Name: NAME,
  VersionId: 'EXAMPLE1-90ab-cdef-fedc-ba987SECRET1',
  VersionStages: ['AWSCURRENT'],
  CreatedDate: new Date('2026-11-30T10:00:00Z'),
  ...fields,
});

describe('readTokenSecret (aws-sdk-client-mock, documented GetSecretValue shapes)', () => {
  const secrets = mockClient(SecretsManagerClient);
  const client = new SecretsManagerClient({ region: 'eu-west-1' });
  beforeEach(() => secrets.reset());

  const rejects = async (promise: Promise<unknown>, message: RegExp) => {
    await assert.rejects(promise, (error: unknown) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  };

  it('asks for the secret named, and returns the token a text secret holds', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: NAME }).resolves(secretValue({ SecretString: `  ${TOKEN}\n` }));
    assert.equal(await readTokenSecret(client, NAME), TOKEN);
    assert.equal(secrets.commandCalls(GetSecretValueCommand).length, 1);
  });

  it('reads the token field of a JSON secret, as the deploy hook does', async () => {
    secrets.on(GetSecretValueCommand).resolves(secretValue({ SecretString: JSON.stringify({ token: TOKEN }) }));
    assert.equal(await readTokenSecret(client, ARN), TOKEN);
  });

  it('refuses the placeholder the stack writes, with the hook’s reason (exit 2)', async () => {
    secrets.on(GetSecretValueCommand).resolves(secretValue({ SecretString: SMOKE_TOKEN_PLACEHOLDER }));
    await rejects(
      readTokenSecret(client, NAME),
      /^--token-secret: no usable token in softfactory-staging-smoke-token: the secret still holds the placeholder the stack created$/,
    );
  });

  it('refuses the shared test-mode token', async () => {
    secrets.on(GetSecretValueCommand).resolves(secretValue({ SecretString: 'demo_token' }));
    await rejects(readTokenSecret(client, NAME), /shared test-mode token demo_token/);
  });

  it('refuses a binary secret, saying how to store the token', async () => {
    secrets.on(GetSecretValueCommand).resolves(secretValue({ SecretBinary: new Uint8Array([1, 2, 3]) }));
    await rejects(readTokenSecret(client, NAME), /holds binary data; put the token in as a string/);
  });

  it('says there is no such secret for ResourceNotFoundException, pointing at the name and the region', async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejects(
        new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: {} }),
      );
    await rejects(
      readTokenSecret(client, NAME),
      /^--token-secret: Secrets Manager has no secret softfactory-staging-smoke-token \(Secrets Manager can't find the specified secret\.\); check the name or ARN, --region and --profile$/,
    );
  });

  it('names the KMS permission for DecryptionFailure', async () => {
    secrets.on(GetSecretValueCommand).rejects(
      new DecryptionFailure({
        message: "Secrets Manager can't decrypt the protected secret text using the provided KMS key.",
        $metadata: {},
      }),
    );
    await rejects(readTokenSecret(client, NAME), /cannot decrypt .*kms:Decrypt/);
  });

  it('passes on why a secret scheduled for deletion is refused', async () => {
    secrets.on(GetSecretValueCommand).rejects(
      new InvalidRequestException({
        message: "You can't perform this operation on the secret because it was marked for deletion.",
        $metadata: {},
      }),
    );
    await rejects(readTokenSecret(client, NAME), /refused .*marked for deletion/);
  });

  it('leaves AccessDeniedException to explainAwsError: one line with the fix', async () => {
    // Secrets Manager does not model AccessDeniedException (IAM answers it for every service), so the SDK raises its
    // service exception carrying the error code as name.
    const denied = new SecretsManagerServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      message: `User: arn:aws:sts::123456789012:assumed-role/dev/me is not authorized to perform: secretsmanager:GetSecretValue on resource: ${NAME} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
      $metadata: { httpStatusCode: 400 },
    });
    secrets.on(GetSecretValueCommand).rejects(denied);
    await assert.rejects(readTokenSecret(client, NAME), (error: unknown) => error === denied);
    assert.match(explainAwsError(denied) ?? '', /^access denied by AWS \(AccessDeniedException\): .*GetSecretValue/);
  });
});

describe('sfdeploy smoke --token-secret (node bin/sfdeploy.js, fake Secrets Manager and SoftFactory)', () => {
  let secretsManager: Server;
  let endpoint = '';
  let app: { url: string; process: ChildProcess };
  const requests: { target: string; body: Record<string, unknown> }[] = [];
  let answer: () => { status: number; body: unknown } = () => ({ status: 500, body: {} });

  before(async () => {
    secretsManager = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => {
        raw += chunk.toString();
      });
      req.on('end', () => {
        requests.push({ target: String(req.headers['x-amz-target'] ?? ''), body: JSON.parse(raw || '{}') });
        const { status, body } = answer();
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'req-1' });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => secretsManager.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(secretsManager.address() as AddressInfo).port}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/smoke/serve-fake.ts', '--token', TOKEN], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const port = await new Promise<string>((resolve, reject) => {
      let buffered = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const match = /listening (\d+)/.exec(buffered);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`fake server exited early (${code})`)));
    });
    app = { url: `http://127.0.0.1:${port}`, process: child };
  });
  after(() => {
    secretsManager.close();
    app.process.kill('SIGTERM');
  });
  beforeEach(() => {
    requests.length = 0;
  });

  /** `node bin/sfdeploy.js smoke …` against the fake Secrets Manager; `stderr` is only our own `sfdeploy:` lines. */
  async function sfdeploy(...args: string[]) {
    const run = await cli(['smoke', ...args], { endpoint, env: { NO_COLOR: '1' } });
    return { status: run.status, stdout: run.stdout, stderr: run.errors };
  }

  it('runs the authenticated checks with the token from the secret, in the region given', async () => {
    answer = () => ({ status: 200, body: { ARN, Name: NAME, SecretString: TOKEN, VersionStages: ['AWSCURRENT'] } });
    const run = await sfdeploy(
      '--url',
      app.url,
      '--token-secret',
      NAME,
      '--region',
      'eu-west-1',
      '--only',
      'auth-me-token',
      '--json',
    );
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.deepEqual(requests, [{ target: 'secretsmanager.GetSecretValue', body: { SecretId: NAME } }]);
    const document = JSON.parse(run.stdout) as { checks: { id: string; verdict: string }[] };
    assert.deepEqual(
      document.checks.map((c) => [c.id, c.verdict]),
      [['auth-me-token', 'pass']],
    );
  });

  it('exits 2 with one line for ResourceNotFoundException, without running a check', async () => {
    answer = () => ({
      status: 400,
      body: { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." },
    });
    const run = await sfdeploy('--url', app.url, '--token-secret', 'no-such-secret', '--region', 'eu-west-1');
    assert.equal(run.status, 2);
    assert.equal(
      run.stderr,
      "sfdeploy: --token-secret: Secrets Manager has no secret no-such-secret (Secrets Manager can't find the specified secret.); check the name or ARN, --region and --profile",
    );
    assert.equal(run.stdout, '');
  });

  it('exits 2 with one line for AccessDeniedException, and a JSON error document with --json', async () => {
    answer = () => ({
      status: 400,
      body: {
        __type: 'AccessDeniedException',
        Message: `User: arn:aws:sts::123456789012:assumed-role/dev/me is not authorized to perform: secretsmanager:GetSecretValue on resource: ${NAME}`,
      },
    });
    const run = await sfdeploy('--url', app.url, '--token-secret', NAME, '--region', 'eu-west-1', '--json');
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^sfdeploy: access denied by AWS \(AccessDeniedException\): .*GetSecretValue/);
    assert.equal(run.stderr.split('\n').length, 1);
    const document = JSON.parse(run.stdout) as { ok: boolean; error: { exitCode: number } };
    assert.equal(document.ok, false);
    assert.equal(document.error.exitCode, 2);
  });

  it('exits 2 before any AWS call when a second token source is given', async () => {
    const run = await sfdeploy('--url', app.url, '--token-secret', NAME, '--token', 'x');
    assert.equal(run.status, 2);
    assert.equal(run.stderr, 'sfdeploy: use only one of --token, --token-env and --token-secret');
    assert.equal(requests.length, 0);
  });
});
