/**
 * The template behaviours a first deploy, a retry and a long-running production service depend on, each as AWS
 * documents it (the reference is in the test name or beside the assertion).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../lib/config/load-config';
import { REDACTED_HEADERS } from '../../lib/constructs/web-acl';
import { EXAMPLE_ENV, only, resourcesOf, synthApp } from '../helpers/synth';

const prod = synthApp({ stage: 'prod' });
const prodInAccount = synthApp({ stage: 'prod', ...EXAMPLE_ENV });
const dev = synthApp({ stage: 'dev' });

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
const json = (t: { toJSON(): unknown }) => JSON.stringify(t.toJSON());

describe('first deploy and retries', () => {
  it('makes the ECS service wait for every lifecycle hook role and its DefaultPolicy (lambda:InvokeFunction), since the first deployment already runs the hooks', () => {
    const service = only(resourcesOf(prod.service, 'AWS::ECS::Service'), 'service') as unknown as Resource;
    const hooks = (service.Properties['DeploymentConfiguration'] as { LifecycleHooks: { RoleArn: unknown }[] })
      .LifecycleHooks;
    assert.ok(hooks.length >= 2);
    const policies = resourcesOf(prod.service, 'AWS::IAM::Policy');
    for (const hook of hooks) {
      const role = (hook.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      const policy = Object.entries(policies).find(([, p]) =>
        JSON.stringify(p.Properties['Roles']).includes(`"${role}"`),
      );
      assert.ok(policy, `a policy grants ${role}`);
      assert.match(JSON.stringify(policy[1].Properties['PolicyDocument']), /lambda:InvokeFunction/);
      assert.ok(service.DependsOn?.includes(policy[0]), `service depends on ${policy[0]}`);
    }
  });

  it('sets no DesiredCount, so a stack update never resets the autoscaled count (aws/aws-cdk#3919; CloudFormation: "For existing services, if a desired count is not specified, it is omitted from the operation")', () => {
    for (const r of [prod, dev]) {
      const service = only(resourcesOf(r.service, 'AWS::ECS::Service'), 'service');
      assert.equal('DesiredCount' in service.Properties, false);
    }
  });

  it('uses strong cross-stack references (Fn::ImportValue, which CloudFormation refuses to break while in use) and no Fn::GetStackOutput', () => {
    for (const r of [prod, prodInAccount, dev]) {
      for (const t of [r.network, r.data, r.service]) assert.equal(json(t).includes('GetStackOutput'), false);
      assert.ok(json(r.service).includes('Fn::ImportValue'));
      assert.ok(json(r.data).includes('Fn::ImportValue'));
    }
  });

  it('needs no AWS::LanguageExtensions transform when synthesized for a concrete region (the data stack has only AWS::Serverless, for the rotation function)', () => {
    for (const t of [prodInAccount.network, prodInAccount.service]) {
      assert.equal((t.toJSON() as { Transform?: unknown }).Transform, undefined);
    }
    // The Secrets Manager rotation function is AWS's Serverless Application Repository app (AWS::Serverless::Application).
    assert.equal((prodInAccount.data.toJSON() as { Transform?: unknown }).Transform, 'AWS::Serverless-2016-10-31');
  });

  it('keeps prod in three availability zones without account/region (Fn::GetAZs picks 0, 1 and 2) and with them (context lookup)', () => {
    for (const r of [prod, prodInAccount]) {
      const subnets = Object.values(resourcesOf(r.network, 'AWS::EC2::Subnet'));
      const zones = new Set(subnets.map((s) => JSON.stringify(s.Properties['AvailabilityZone'])));
      assert.equal(zones.size, 3, `zones: ${[...zones].join(' ')}`);
    }
    const pinned = synthApp({ stage: 'prod', availabilityZones: 'eu-west-1b,eu-west-1c,eu-west-1a', ...EXAMPLE_ENV });
    const zones = new Set(
      Object.values(resourcesOf(pinned.network, 'AWS::EC2::Subnet')).map((s) => s.Properties['AvailabilityZone']),
    );
    assert.deepEqual([...zones].sort(), ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
  });

  it('refuses pinned zones that do not match maxAzs or the region', () => {
    assert.throws(
      () => synthApp({ stage: 'prod', availabilityZones: 'eu-west-1a,eu-west-1b' }),
      (e: unknown) => e instanceof ConfigError && /availabilityZones .*must list exactly maxAzs \(3\)/.test(e.message),
    );
    assert.throws(
      () => synthApp({ stage: 'dev', availabilityZones: 'us-east-1a,us-east-1b', ...EXAMPLE_ENV }),
      (e: unknown) => e instanceof ConfigError && /must be zones of region eu-west-1/.test(e.message),
    );
  });

  it('points the domain at this stage’s ALB with an alias record when a hosted zone is configured', () => {
    const zoned = synthApp({
      stage: 'prod',
      domainName: 'app.example.com',
      hostedZoneId: 'Z0123456789ABC',
      zoneName: 'example.com',
    });
    const record = only(resourcesOf(zoned.service, 'AWS::Route53::RecordSet'), 'record');
    assert.equal(record.Properties['Type'], 'A');
    assert.equal(record.Properties['Name'], 'app.example.com.');
    assert.equal(record.Properties['HostedZoneId'], 'Z0123456789ABC');
    assert.match(JSON.stringify(record.Properties['AliasTarget']), /LoadBalancerAlb.*DNSName/);
    prod.service.resourceCountIs('AWS::Route53::RecordSet', 0);
  });
});

describe('production behaviour', () => {
  it('scales on requests with one metric-math policy summing both target groups (an idle group has no data and would veto scale-in)', () => {
    const policies = Object.values(resourcesOf(prod.service, 'AWS::ApplicationAutoScaling::ScalingPolicy'));
    const requestPolicies = policies.filter((p) => JSON.stringify(p.Properties).includes('RequestCount'));
    assert.equal(requestPolicies.length, 1);
    const spec = requestPolicies[0]!.Properties['TargetTrackingScalingPolicyConfiguration'] as {
      CustomizedMetricSpecification: {
        Metrics: { Id: string; Expression?: string; ReturnData: boolean; MetricStat?: unknown }[];
      };
      TargetValue: number;
    };
    const metrics = spec.CustomizedMetricSpecification.Metrics;
    const groups = metrics
      .filter((m) => JSON.stringify(m.MetricStat ?? '').includes('RequestCount'))
      .map((m) => JSON.stringify(m.MetricStat).match(/LoadBalancer(Blue|Green)/)?.[1]);
    assert.deepEqual(groups.sort(), ['Blue', 'Green']);
    const returned = metrics.filter((m) => m.ReturnData);
    assert.equal(
      returned.length,
      1,
      'exactly one time series returned (AWS: "must eventually return a single time series")',
    );
    assert.match(returned[0]!.Expression ?? '', /FILL\(blue, 0\) \+ FILL\(green, 0\)\) \/ tasks/);
    assert.equal(spec.TargetValue, prod.config.requestsPerTarget);
    // No per-target-group policies are left.
    assert.equal(JSON.stringify(policies).includes('ALBRequestCountPerTarget'), false);
  });

  it('redacts the authorization and cookie headers in the WAF logs', () => {
    const logging = only(resourcesOf(prod.service, 'AWS::WAFv2::LoggingConfiguration'), 'logging');
    assert.deepEqual(
      logging.Properties['RedactedFields'],
      REDACTED_HEADERS.map((name) => ({ SingleHeader: { Name: name } })),
    );
    assert.deepEqual([...REDACTED_HEADERS].sort(), ['authorization', 'cookie']);
  });
});
