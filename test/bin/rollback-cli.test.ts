/** `sfdeploy rollback`: in-process against a mocked Lambda client, and as a process for usage and help. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { after, beforeEach, describe, it } from 'node:test';
import {
  InvokeCommand,
  type InvokeCommandOutput,
  LambdaClient,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { buildRequest, runRollback } from '../../bin/commands/rollback';
import type { RollbackResult } from '../../lambda/rollback/contract';

const REVISION =
  'arn:aws:ecs:eu-west-1:123456789012:service-revision/softfactory-prod/softfactory-prod-web/4980306466373577095';
const DEPLOYMENT =
  'arn:aws:ecs:eu-west-1:123456789012:service-deployment/softfactory-prod/softfactory-prod-web/Qw8eRt5yUi3oPa1sDf7gHj';

const acted: RollbackResult = {
  outcome: 'acted',
  dryRun: false,
  decision: {
    action: 'update-service',
    code: 'ROLL_BACK_COMPLETED',
    reason: 'requested by alice@laptop: checkout 500s; returning to softfactory-prod-web:40',
    fromRevision: REVISION.replace('77095', '85014'),
    fromTaskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/softfactory-prod-web:41',
    toRevision: REVISION,
    taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/softfactory-prod-web:40',
  },
  serviceDeploymentArn: DEPLOYMENT,
  database: {
    snapshotId: 'sf-prod-predeploy-0e1f2a3b4c5d-20251126101500',
    note: 'newest pre-deploy snapshot: sf-prod-predeploy-0e1f2a3b4c5d-20251126101500',
  },
};

/** Lambda's answer to a RequestResponse invoke. The SDK's Payload is a Uint8Array subclass; bytes suffice here. */
function answer(body: unknown, functionError?: string): InvokeCommandOutput {
  const payload = new TextEncoder().encode(JSON.stringify(body)) as unknown as InvokeCommandOutput['Payload'];
  return {
    $metadata: { httpStatusCode: 200 },
    StatusCode: 200,
    ExecutedVersion: '$LATEST',
    Payload: payload,
    ...(functionError ? { FunctionError: functionError } : {}),
  };
}

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

describe('sfdeploy rollback (in process)', () => {
  const lambda = mockClient(LambdaClient);
  beforeEach(() => lambda.reset());
  after(() => lambda.restore());

  const sentPayload = () =>
    JSON.parse(new TextDecoder().decode(lambda.commandCalls(InvokeCommand)[0]?.args[0].input.Payload as Uint8Array));

  it('invokes softfactory-<stage>-rollback synchronously with the documented payload and exits 0 when it rolled back', async () => {
    lambda.on(InvokeCommand).resolves(answer(acted));
    const out = capture();

    const code = await runRollback(
      { stage: 'prod', reason: 'checkout 500s', requestedBy: 'alice@laptop' },
      { lambda: new LambdaClient({ region: 'eu-west-1' }), stdout: out.stream },
    );

    assert.equal(code, 0);
    const call = lambda.commandCalls(InvokeCommand)[0]?.args[0].input;
    assert.equal(call?.FunctionName, 'softfactory-prod-rollback');
    assert.equal(call?.InvocationType, 'RequestResponse');
    assert.deepEqual(sentPayload(), {
      action: 'rollback',
      reason: 'checkout 500s',
      requestedBy: 'alice@laptop',
      dryRun: false,
    });
    assert.match(out.text(), /outcome\s+acted/);
    assert.match(out.text(), /decision\s+update-service \[ROLL_BACK_COMPLETED\]/);
    assert.match(out.text(), /ecs deployment\s+arn:aws:ecs:.*Qw8eRt5yUi3oPa1sDf7gHj/);
    assert.match(out.text(), /database\s+newest pre-deploy snapshot: sf-prod-predeploy-0e1f2a3b4c5d-20251126101500/);
  });

  it('sends dryRun and the revision on --dry-run --to-revision, and prints the decision without acting', async () => {
    lambda
      .on(InvokeCommand)
      .resolves(answer({ ...acted, outcome: 'would-act', dryRun: true, serviceDeploymentArn: undefined }));
    const out = capture();

    const code = await runRollback(
      { stage: 'staging', reason: 'bad config', toRevision: REVISION, dryRun: true, requestedBy: 'ci:#1842' },
      { lambda: new LambdaClient({ region: 'eu-west-1' }), stdout: out.stream },
    );

    assert.equal(code, 0);
    assert.deepEqual(sentPayload(), {
      action: 'rollback',
      reason: 'bad config',
      requestedBy: 'ci:#1842',
      toRevision: REVISION,
      dryRun: true,
    });
    assert.equal(lambda.commandCalls(InvokeCommand)[0]?.args[0].input.FunctionName, 'softfactory-staging-rollback');
    assert.match(out.text(), /would-act \(dry run: nothing changed\)/);
  });

  it('exits 1 when the function refuses, and prints its reason', async () => {
    lambda.on(InvokeCommand).resolves(
      answer({
        outcome: 'refused',
        dryRun: false,
        decision: {
          action: 'none',
          code: 'COOLDOWN',
          reason: 'the service was rolled back 4 min ago; no further rollback within the 30-minute cooldown',
        },
        database: { note: 'not relevant to this decision' },
      }),
    );
    const out = capture();
    const code = await runRollback(
      { stage: 'prod', reason: 'again' },
      { lambda: new LambdaClient({ region: 'eu-west-1' }), stdout: out.stream },
    );
    assert.equal(code, 1);
    assert.match(out.text(), /cooldown/);
  });

  it('exits 0 when the service is already being rolled back, and prints JSON with --json', async () => {
    const satisfied = {
      outcome: 'satisfied',
      dryRun: false,
      decision: {
        action: 'none',
        code: 'ECS_ALREADY_ROLLING_BACK',
        reason: 'ECS is already stopping/rolling back deployment …/r9i43YFjvgF_xlg7m2eJ1r (ROLLBACK_IN_PROGRESS)',
      },
    };
    lambda.on(InvokeCommand).resolves(answer(satisfied));
    const out = capture();
    const code = await runRollback(
      { stage: 'prod', reason: 'errors', json: true },
      { lambda: new LambdaClient({ region: 'eu-west-1' }), stdout: out.stream },
    );
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(out.text()), satisfied);
  });

  it('fails with the function’s error message when the function errors', async () => {
    lambda
      .on(InvokeCommand)
      .resolves(
        answer(
          { errorType: 'Error', errorMessage: 'rollback function misconfigured: TOPIC_ARN: Invalid' },
          'Unhandled',
        ),
      );
    await assert.rejects(
      runRollback(
        { stage: 'prod', reason: 'errors' },
        { lambda: new LambdaClient({ region: 'eu-west-1' }), stdout: capture().stream },
      ),
      /softfactory-prod-rollback failed \(Unhandled\): Error: rollback function misconfigured/,
    );
  });

  it('explains a missing function in terms of stage and account', async () => {
    lambda.on(InvokeCommand).rejects(
      new ResourceNotFoundException({
        message: 'Function not found: arn:aws:lambda:eu-west-1:123456789012:function:softfactory-dev-rollback',
        $metadata: {},
      }),
    );
    await assert.rejects(
      runRollback(
        { stage: 'dev', reason: 'errors' },
        { lambda: new LambdaClient({ region: 'eu-west-1' }), stdout: capture().stream },
      ),
      /function softfactory-dev-rollback not found: is the dev stage deployed/,
    );
  });

  it('rejects an answer it does not understand', async () => {
    lambda.on(InvokeCommand).resolves(answer({ ok: true }));
    await assert.rejects(
      runRollback(
        { stage: 'prod', reason: 'errors' },
        { lambda: new LambdaClient({ region: 'eu-west-1' }), stdout: capture().stream },
      ),
      /answered something unexpected/,
    );
  });

  it('turns option mistakes into usage errors before calling AWS', () => {
    assert.throws(() => buildRequest({ stage: 'qa', reason: 'x y z' }), {
      name: 'UsageError',
      message: /unknown stage "qa"/,
    });
    assert.throws(() => buildRequest({ stage: 'prod', reason: '   ' }), { name: 'UsageError', message: /--reason/ });
    assert.throws(() => buildRequest({ stage: 'prod', reason: 'errors', toRevision: 'softfactory-prod-web:40' }), {
      name: 'UsageError',
      message: /--to-revision: toRevision must be an ECS service-revision ARN/,
    });
    assert.throws(() => buildRequest({ stage: 'prod', reason: 'ok' }), {
      name: 'UsageError',
      message: /--reason: reason must say why/,
    });
    assert.equal(buildRequest({ stage: 'prod', reason: 'errors', functionName: 'my-fn' }).functionName, 'my-fn');
    assert.match(buildRequest({ stage: 'prod', reason: 'errors' }).request.requestedBy, /.+@.+/);
  });
});

describe('sfdeploy rollback (process)', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['bin/sfdeploy.js', 'rollback', ...args], {
      encoding: 'utf8',
      env: { ...process.env, AWS_REGION: 'eu-west-1' },
    });

  it('documents the payload, examples and exit codes in --help', () => {
    const help = run('--help');
    assert.equal(help.status, 0);
    for (const text of [
      '"action": "rollback"',
      '"toRevision"',
      '"dryRun": false',
      'requestedBy',
      '--dry-run',
      'Exit codes',
      '2  usage error',
    ]) {
      assert.ok(help.stdout.includes(text), `help mentions ${text}`);
    }
  });

  it('answers an unknown stage with one line and exit 2', () => {
    const r = run('--stage', 'qa', '--reason', 'errors');
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'sfdeploy: unknown stage "qa" (expected one of: dev, staging, prod)\n');
  });

  it('answers an empty reason or a missing option with exit 2', () => {
    assert.equal(run('--stage', 'prod', '--reason', ' ').status, 2);
    const missing = run('--stage', 'prod');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /required option '--reason <text>'/);
  });
});

/** Through the real entry point against a fake Lambda Invoke endpoint on 127.0.0.1 (AWS_ENDPOINT_URL_LAMBDA). */
describe('sfdeploy rollback --expect-image (node bin/sfdeploy.js)', () => {
  it('sends expectImage, and exits 1 with the one-line reason when the function refuses: not this run’s release', async () => {
    const { createServer } = await import('node:http');
    const { spawn } = await import('node:child_process');
    const received: { path: string; body: Record<string, unknown> }[] = [];
    const server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => {
        raw += c.toString();
      });
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: JSON.parse(raw) as Record<string, unknown> });
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
        res.end(
          JSON.stringify({
            outcome: 'refused',
            dryRun: false,
            decision: {
              action: 'none',
              code: 'NOT_THIS_RELEASE',
              reason: 'the deployment to undo deploys softfactory:v2.0, not softfactory:v2.1',
            },
            database: { note: 'not relevant to this decision' },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const run = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            'bin/sfdeploy.js',
            'rollback',
            '--stage',
            'prod',
            '--reason',
            'release of v2.1 failed',
            '--requested-by',
            'github-actions:ci',
            '--expect-image',
            '123456789012.dkr.ecr.eu-west-1.amazonaws.com/softfactory:v2.1',
          ],
          {
            env: {
              PATH: process.env['PATH'] ?? '',
              AWS_REGION: 'eu-west-1',
              AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
              AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
              AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${port}`,
            },
          },
        );
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
        });
        child.on('close', (status) =>
          resolve({
            status,
            stderr: stderr
              .split('\n')
              .filter((l) => l.startsWith('sfdeploy:'))
              .join('\n'),
          }),
        );
      });
      assert.equal(run.status, 1);
      assert.equal(
        run.stderr,
        'sfdeploy: rollback refused [NOT_THIS_RELEASE]: the deployment to undo deploys softfactory:v2.0, not softfactory:v2.1',
      );
      assert.match(received[0]?.path ?? '', /\/functions\/softfactory-prod-rollback\/invocations/);
      assert.equal(received[0]?.body['expectImage'], '123456789012.dkr.ecr.eu-west-1.amazonaws.com/softfactory:v2.1');
    } finally {
      server.close();
    }
  });
});
