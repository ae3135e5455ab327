/**
 * The fake SoftFactory (test/fixtures/smoke) started with exactly the environment the synthesized task definition
 * gives the `web` container — plain variables as written, each container secret as ECS injects it (a value) — and
 * probed the way the load balancer and the container health check probe it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { APP_PORT } from '../../lib/constructs/load-balancer';
import { READY_CHECK_COMMAND } from '../../lib/constructs/web-service';
import { FakeStartupError, startFakeSoftFactory } from '../fixtures/smoke/fake-softfactory';
import { only, resourcesOf, type SynthResult, synthApp } from '../helpers/synth';

type Container = {
  Environment: { Name: string; Value: unknown }[];
  Secrets: { Name: string }[];
  HealthCheck: { Command: string[] };
};
function container(r: SynthResult): Container {
  const task = only(resourcesOf(r.service, 'AWS::ECS::TaskDefinition'), 'task definition');
  return (task.Properties['ContainerDefinitions'] as Container[])[0]!;
}
/** What the process sees: the plain variables, and a value for every secret (ECS resolves them at task start). */
function taskEnvironment(r: SynthResult, omit: readonly string[] = []): Record<string, string> {
  const c = container(r);
  return {
    // A value CloudFormation resolves at deploy time (the ALB's DNS name in CORS_ORIGINS without a domain) arrives as a
    // plain string; an example host stands in for it.
    ...Object.fromEntries(
      c.Environment.map((e) => [e.Name, typeof e.Value === 'string' ? e.Value : 'https://alb.example.com']),
    ),
    ...Object.fromEntries(c.Secrets.filter((s) => !omit.includes(s.Name)).map((s) => [s.Name, `value-of-${s.Name}`])),
  };
}
function matcher(r: SynthResult): string[] {
  const group = Object.values(resourcesOf(r.service, 'AWS::ElasticLoadBalancingV2::TargetGroup'))[0]!;
  return (group.Properties['Matcher'] as { HttpCode: string }).HttpCode.split(',');
}
/** GET as an ALB health check sends it: plain HTTP, no X-Forwarded-Proto (no custom headers can be configured). */
function healthCheck(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers: { 'user-agent': 'ELB-HealthChecker/2.0' } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}
/** Runs a program and resolves with its exit code (asynchronously: the fake answers from this very process). */
function run(program: string, args: readonly string[]): Promise<number> {
  return new Promise((resolve) => {
    execFile(program, [...args], { timeout: 20_000 }, (error) => resolve(error ? Number(error.code ?? 1) || 1 : 0));
  });
}
/** The task definition's container health check, run as Docker runs CMD (python3 here), against the fake's port. */
function containerHealthCheck(r: SynthResult, port: number, edit: (arg: string) => string = (a) => a): Promise<number> {
  const [kind, program, ...args] = container(r).HealthCheck.Command;
  assert.equal(kind, 'CMD');
  assert.deepEqual([program, ...args], READY_CHECK_COMMAND.slice(1));
  return run(
    'python3',
    args.map((a) => edit(a.replace(`:${APP_PORT}/`, `:${port}/`))),
  );
}

const prod = synthApp({ stage: 'prod' });
const dev = synthApp({ stage: 'dev' });

describe('the task definition’s environment, given to SoftFactory', () => {
  it('starts the app in production mode in prod, and it passes the target-group and container health checks', async () => {
    const app = await startFakeSoftFactory({ env: taskEnvironment(prod) });
    try {
      assert.equal(app.fake.mode, 'production');
      const status = await healthCheck(app.http.port, '/health');
      assert.equal(status, 301, 'production mode redirects the header-less health check');
      assert.ok(matcher(prod).includes(String(status)), `target group accepts ${status}`);
      assert.equal(await containerHealthCheck(prod, app.http.port), 0);
    } finally {
      await app.close();
    }
  });

  it('fails the container health check when the app cannot reach its database, so ECS replaces the task', async () => {
    const app = await startFakeSoftFactory({ env: taskEnvironment(prod), databaseReachable: false });
    try {
      assert.notEqual(await containerHealthCheck(prod, app.http.port), 0);
    } finally {
      await app.close();
    }
  });

  it('a health check without the forwarded-proto header would not pass: the redirect is not followed into success', async () => {
    const app = await startFakeSoftFactory({ env: taskEnvironment(prod) });
    try {
      const code = await containerHealthCheck(prod, app.http.port, (a) =>
        a.replace("'X-Forwarded-Proto': 'https'", "'X-Other': 'x'"),
      );
      assert.notEqual(code, 0);
    } finally {
      await app.close();
    }
  });

  it('the app would refuse to start in production mode without PLATFORM_SECRET_KEY or JWT_SECRET (so the task must carry them)', async () => {
    await assert.rejects(
      startFakeSoftFactory({ env: taskEnvironment(prod, ['PLATFORM_SECRET_KEY']) }),
      (e: unknown) => e instanceof FakeStartupError && /PLATFORM_SECRET_KEY must be set in production/.test(e.message),
    );
    await assert.rejects(
      startFakeSoftFactory({ env: taskEnvironment(prod, ['JWT_SECRET']) }),
      (e: unknown) => e instanceof FakeStartupError && /JWT_SECRET/.test(e.message),
    );
  });

  it('starts the app in its test mode in dev, where the target groups expect 200', async () => {
    const app = await startFakeSoftFactory({ env: taskEnvironment(dev) });
    try {
      assert.equal(app.fake.mode, 'test');
      const status = await healthCheck(app.http.port, '/health');
      assert.ok(matcher(dev).includes(String(status)), `target group accepts ${status}`);
      assert.equal(await containerHealthCheck(dev, app.http.port), 0);
    } finally {
      await app.close();
    }
  });
});
