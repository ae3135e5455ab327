/**
 * AWS configuration and access problems, through the real entry point (`node bin/sfdeploy.js`) with the SDK v3's own
 * default credential chain and region resolution: each is exactly one line on stderr (nothing else — no SDK
 * Node-version notice, no stack), says how to fix it, and exits 2 ("configuration or access"), never 1 ("a check
 * failed"). With --json a JSON error document is on stdout.
 *
 * The environment is built from nothing (no inherited AWS_* variables), with the shared files pointed at a temporary
 * HOME: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE are the documented overrides
 * (https://docs.aws.amazon.com/sdkref/latest/guide/file-location.html), AWS_EC2_METADATA_DISABLED keeps the chain off
 * the instance-metadata endpoint (https://docs.aws.amazon.com/sdkref/latest/guide/feature-imds-credentials.html), and
 * AWS_ENDPOINT_URL_ECS points ECS at a fake on 127.0.0.1
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const KEYS = {
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

describe('AWS errors a person can act on (node bin/sfdeploy.js)', () => {
  let home = '';
  let server: Server;
  let endpoint = '';
  /** What the fake ECS answers: a documented JSON-1.1 error (`__type` names the exception). */
  let answer: { status: number; type: string; message: string } = { status: 500, type: 'ServerException', message: '' };

  before(async () => {
    home = mkdtempSync(join(tmpdir(), 'sfdeploy-aws-'));
    mkdirSync(join(home, '.aws', 'sso', 'cache'), { recursive: true });
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(answer.status, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': 'req-1',
        });
        res.end(JSON.stringify({ __type: answer.type, message: answer.message }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  after(() => {
    server.close();
    rmSync(home, { recursive: true, force: true });
  });

  function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['bin/sfdeploy.js', ...args], {
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: home,
          AWS_CONFIG_FILE: join(home, '.aws', 'config'),
          AWS_SHARED_CREDENTIALS_FILE: join(home, '.aws', 'credentials'),
          AWS_EC2_METADATA_DISABLED: 'true',
          ...env,
        },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });
  }

  /** Exactly one line on stderr, starting `sfdeploy: `, exit 2. */
  function oneLine(run: Run, pattern: RegExp): void {
    const lines = run.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `expected one line on stderr, got:\n${run.stderr}`);
    assert.match(lines[0] ?? '', /^sfdeploy: /);
    assert.match(lines[0] ?? '', pattern);
    assert.equal(run.status, 2, run.stderr);
  }

  it('no region anywhere: says --region or AWS_REGION (the SDK: "Region is missing"), and no SDK notice', async () => {
    const run = await cli(['release-status', '--stage', 'prod'], KEYS);
    oneLine(run, /no AWS region: pass --region <region> .* or set AWS_REGION/);
  });

  it('no region with --json: the error is also a JSON document on stdout', async () => {
    const run = await cli(['release-status', '--stage', 'prod', '--json'], KEYS);
    oneLine(run, /no AWS region/);
    const doc = JSON.parse(run.stdout) as { ok: boolean; error: { name: string; message: string; exitCode: number } };
    assert.equal(doc.ok, false);
    assert.equal(doc.error.exitCode, 2);
    assert.match(doc.error.message, /^no AWS region/);
  });

  it('no credentials in the chain: says aws sso login / --profile / access keys', async () => {
    const run = await cli(['release-status', '--stage', 'prod', '--region', 'eu-west-1']);
    oneLine(run, /no AWS credentials found: run `aws sso login --profile <name>`/);
  });

  it('--profile that is in neither shared file: names the profile and the files', async () => {
    writeFileSync(join(home, '.aws', 'config'), '[profile other]\nregion = eu-west-1\n');
    const run = await cli(['release-status', '--stage', 'prod', '--region', 'eu-west-1', '--profile', 'nosuch']);
    oneLine(
      run,
      /AWS profile "nosuch" is not in .*\.aws\/config or .*\.aws\/credentials: run `aws configure sso --profile nosuch`/,
    );
  });

  it('AWS_PROFILE set to a missing profile is named the same way', async () => {
    const run = await cli(['release-status', '--stage', 'prod', '--region', 'eu-west-1'], { AWS_PROFILE: 'ghost' });
    oneLine(run, /AWS profile "ghost" is not in/);
  });

  /** An SSO profile as `aws configure sso` writes it (https://docs.aws.amazon.com/cli/latest/userguide/sso-configure-profile-token.html). */
  function ssoProfile(): void {
    writeFileSync(
      join(home, '.aws', 'config'),
      [
        '[profile ops]',
        'sso_session = corp',
        'sso_account_id = 123456789012',
        'sso_role_name = Deployer',
        'region = eu-west-1',
        '[sso-session corp]',
        'sso_start_url = https://corp.awsapps.com/start',
        'sso_region = eu-west-1',
        'sso_registration_scopes = sso:account:access',
        '',
      ].join('\n'),
    );
  }

  it('an SSO profile never logged in: says `aws sso login --profile ops`', async () => {
    ssoProfile();
    rmSync(join(home, '.aws', 'sso', 'cache'), { recursive: true, force: true });
    mkdirSync(join(home, '.aws', 'sso', 'cache'), { recursive: true });
    const run = await cli(['release-status', '--stage', 'prod', '--profile', 'ops']);
    oneLine(run, /the AWS SSO session has expired or was never started: run `aws sso login --profile ops`/);
  });

  it('an SSO profile whose cached token has expired: says `aws sso login --profile ops`', async () => {
    ssoProfile();
    // The token cache file is named by the SHA-1 of the sso-session name (the SDK's getSSOTokenFilepath).
    const file = `${createHash('sha1').update('corp').digest('hex')}.json`;
    writeFileSync(
      join(home, '.aws', 'sso', 'cache', file),
      JSON.stringify({
        accessToken: 'expired',
        expiresAt: '2020-01-01T00:00:00Z',
        region: 'eu-west-1',
        startUrl: 'https://corp.awsapps.com/start',
      }),
    );
    const run = await cli(['release-status', '--stage', 'prod', '--profile', 'ops']);
    oneLine(run, /run `aws sso login --profile ops`/);
  });

  it('an endpoint that does not resolve: "cannot reach AWS (host)"', async () => {
    const run = await cli(['release-status', '--stage', 'prod', '--region', 'eu-west-1'], {
      ...KEYS,
      AWS_ENDPOINT_URL_ECS: 'http://ecs.nowhere.invalid',
      AWS_MAX_ATTEMPTS: '1',
    });
    oneLine(run, /cannot reach AWS \(ecs\.nowhere\.invalid\): check the network and the region/);
  });

  // The documented common errors (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/CommonErrors.html):
  // AccessDeniedException 400, ExpiredTokenException 403, UnrecognizedClientException 403.
  it('AccessDeniedException: access denied, with AWS’s own detail and the fix', async () => {
    answer = {
      status: 400,
      type: 'AccessDeniedException',
      message: 'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: ecs:ListServiceDeployments',
    };
    const run = await cli(['release-status', '--stage', 'prod', '--region', 'eu-west-1'], {
      ...KEYS,
      AWS_ENDPOINT_URL_ECS: endpoint,
    });
    oneLine(run, /access denied by AWS \(AccessDeniedException\): User: .* ecs:ListServiceDeployments — use a role/);
  });

  it('ExpiredTokenException: the credentials have expired, refresh them', async () => {
    answer = {
      status: 403,
      type: 'ExpiredTokenException',
      message: 'The security token included in the request is expired',
    };
    const run = await cli(['release-status', '--stage', 'prod', '--region', 'eu-west-1'], {
      ...KEYS,
      AWS_SESSION_TOKEN: 'old',
      AWS_ENDPOINT_URL_ECS: endpoint,
    });
    oneLine(run, /the AWS credentials have expired: refresh them/);
  });

  it('UnrecognizedClientException: AWS rejected the credentials', async () => {
    answer = {
      status: 403,
      type: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
    const run = await cli(['release-status', '--stage', 'prod', '--region', 'eu-west-1'], {
      ...KEYS,
      AWS_ENDPOINT_URL_ECS: endpoint,
    });
    oneLine(run, /AWS rejected the credentials \(UnrecognizedClientException\)/);
  });

  it('rollback says the same: no region is one line and exit 2', async () => {
    const run = await cli(['rollback', '--stage', 'prod', '--reason', 'test'], KEYS);
    oneLine(run, /no AWS region/);
  });
});

describe('usage mistakes commander reports are one line too (node bin/sfdeploy.js)', () => {
  for (const [what, args, pattern] of [
    ['an unknown command', ['deplyo'], /^sfdeploy: unknown command 'deplyo'.* \(see `sfdeploy --help`\)$/],
    [
      'a missing required option',
      ['rollback', '--stage', 'prod'],
      /^sfdeploy: required option '--reason <text>' not specified \(see `sfdeploy rollback --help`\)$/,
    ],
    ['an unknown option', ['smoke', '--bogus'], /^sfdeploy: unknown option '--bogus' \(see `sfdeploy smoke --help`\)$/],
  ] as const) {
    it(`${what}: one line naming it and the command's --help, exit 2`, async () => {
      const { spawnSync } = await import('node:child_process');
      const run = spawnSync(process.execPath, ['bin/sfdeploy.js', ...args], { encoding: 'utf8' });
      assert.equal(run.status, 2);
      const lines = run.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0] ?? '', pattern);
    });
  }
});
