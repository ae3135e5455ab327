/**
 * The smoke hook as synthesized (real CloudFormation from the real app): where it connects, which token secret it
 * reads and with which permission, and the ports it may reach. The handler's behaviour on these values is in
 * handler.test.ts; this file pins what the stack hands it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SMOKE_TOKEN_PLACEHOLDER } from '../../../lambda/smoke/env';
import { resourcesOf, synthApp } from '../../helpers/synth';

const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';
const TOKEN_SECRET = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:softfactory/prod/smoke-user-AbCdEf';

type Template = ReturnType<typeof synthApp>['service'];

function smokeFunction(template: Template) {
  const found = Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).find(([, r]) =>
    String(r.Properties['FunctionName']).endsWith('-smoke'),
  );
  assert.ok(found, 'the smoke function');
  const env = (found[1].Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
  return { logicalId: found[0], properties: found[1].Properties, env };
}

function statementsOf(template: Template, functionLogicalId: string) {
  const fn = resourcesOf(template, 'AWS::Lambda::Function')[functionLogicalId]!;
  const roleId = (fn.Properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties['Roles']).includes(`"${roleId}"`))
    .flatMap(
      (p) =>
        (p.Properties['PolicyDocument'] as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement,
    );
}

const withDomain = synthApp({
  stage: 'prod',
  certificateArn: CERTIFICATE,
  domainName: 'app.example.com',
  smokeTokenSecretArn: TOKEN_SECRET,
});
const noDomain = synthApp({ stage: 'dev' });
const configured = synthApp({
  stage: 'staging',
  certificateArn: CERTIFICATE,
  domainName: 'app.example.com',
  corsAllowedOrigins: 'https://app.example.com,https://admin.example.com',
  smokeWrites: 'false',
});

/** The web container's plain environment variables. */
function containerEnv(template: Template): Record<string, unknown> {
  const [task] = Object.values(resourcesOf(template, 'AWS::ECS::TaskDefinition'));
  const [web] = task!.Properties['ContainerDefinitions'] as { Environment: { Name: string; Value: unknown }[] }[];
  return Object.fromEntries(web!.Environment.map((e) => [e.Name, e.Value]));
}

describe('smoke hook construct', () => {
  it('names the domain in its URLs and connects to this stage’s load balancer DNS name (no DNS record needed first)', () => {
    const { env } = smokeFunction(withDomain.service);
    assert.equal(env['PRODUCTION_URL'], 'https://app.example.com');
    assert.equal(env['TEST_URL'], 'https://app.example.com:9443');
    assert.match(JSON.stringify(env['CONNECT_TO']), /^\{"Fn::GetAtt":\["LoadBalancer\w+","DNSName"\]\}$/);
  });

  it('without a domain smokes the load balancer DNS name directly and needs no CONNECT_TO', () => {
    const { env } = smokeFunction(noDomain.service);
    assert.match(JSON.stringify(env['PRODUCTION_URL']), /"DNSName"/);
    assert.equal(env['CONNECT_TO'], undefined);
  });

  it('hands the task (CORS_ORIGINS) and the hook (CORS_ALLOWED_ORIGINS) the same allowed origins: https://<domainName> unless corsAllowedOrigins says otherwise', () => {
    assert.equal(containerEnv(withDomain.service)['CORS_ORIGINS'], 'https://app.example.com');
    assert.equal(smokeFunction(withDomain.service).env['CORS_ALLOWED_ORIGINS'], 'https://app.example.com');
    const both = 'https://app.example.com,https://admin.example.com';
    assert.equal(containerEnv(configured.service)['CORS_ORIGINS'], both);
    assert.equal(smokeFunction(configured.service).env['CORS_ALLOWED_ORIGINS'], both);
    // Without a domain: the load balancer's own name, in both places.
    assert.deepEqual(
      containerEnv(noDomain.service)['CORS_ORIGINS'],
      smokeFunction(noDomain.service).env['CORS_ALLOWED_ORIGINS'],
    );
    assert.match(
      JSON.stringify(containerEnv(noDomain.service)['CORS_ORIGINS']),
      /"https:\/\/",\{"Fn::GetAtt":\["LoadBalancer\w+","DNSName"\]\}/,
    );
  });

  it('makes the unattended writes at the test-traffic gate by default (SMOKE_WRITES), and not with smokeWrites false', () => {
    assert.equal(smokeFunction(withDomain.service).env['SMOKE_WRITES'], 'true');
    assert.equal(smokeFunction(noDomain.service).env['SMOKE_WRITES'], 'true');
    assert.equal(smokeFunction(configured.service).env['SMOKE_WRITES'], 'false');
  });

  it('creates the token secret with the placeholder the hook recognises, not a random value nobody holds', () => {
    const secrets = Object.values(resourcesOf(noDomain.service, 'AWS::SecretsManager::Secret')).filter(
      (s) => s.Properties['Name'] === 'softfactory/dev/smoke-token',
    );
    assert.equal(secrets.length, 1);
    assert.equal(secrets[0]!.Properties['SecretString'], SMOKE_TOKEN_PLACEHOLDER);
    assert.equal(secrets[0]!.Properties['GenerateSecretString'], undefined);
  });

  it('reads an existing secret given as smokeTokenSecretArn, and may read only that one (complete or partial ARN)', () => {
    const { logicalId, env } = smokeFunction(withDomain.service);
    assert.equal(env['TOKEN_SECRET_ARN'], TOKEN_SECRET);
    const names = Object.values(resourcesOf(withDomain.service, 'AWS::SecretsManager::Secret')).map(
      (s) => s.Properties['Name'],
    );
    assert.ok(!names.includes('softfactory/prod/smoke-token'), 'no secret of its own');
    const read = statementsOf(withDomain.service, logicalId).filter((s) =>
      [s.Action].flat().includes('secretsmanager:GetSecretValue'),
    );
    assert.deepEqual(
      read.map((s) => s.Resource),
      [[TOKEN_SECRET, `${TOKEN_SECRET}-??????`]],
    );
  });

  it('may reach the production listener, the test listener and plain HTTP (the 301 check), nothing else', () => {
    const { properties } = smokeFunction(withDomain.service);
    const groupId = JSON.stringify((properties['VpcConfig'] as { SecurityGroupIds: unknown[] }).SecurityGroupIds[0]);
    const group = Object.entries(resourcesOf(withDomain.service, 'AWS::EC2::SecurityGroup')).find(([id]) =>
      groupId.includes(`"${id}"`),
    );
    assert.ok(group);
    const egress = (group[1].Properties['SecurityGroupEgress'] as { FromPort: number; ToPort: number }[]).map(
      (rule) => [rule.FromPort, rule.ToPort],
    );
    assert.deepEqual(egress.sort(), [
      [443, 443],
      [80, 80],
      [9443, 9443],
    ]);
  });
});
