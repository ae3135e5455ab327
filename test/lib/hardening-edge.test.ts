/**
 * Issue 13 (NIST 800-53 R5): the edge and the network — ALB deletion protection (prod only), versioned log buckets,
 * the VPC's default security group closed, no public IPs on launch, the ALB's open ports.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { only, resourcesOf, synthApp } from '../helpers/synth';

const prod = synthApp({ stage: 'prod' });
const dev = synthApp({ stage: 'dev' });

/** The ALB's `deletion_protection.enabled` attribute. */
function deletionProtection(service: Template): string | undefined {
  const alb = only(resourcesOf(service, 'AWS::ElasticLoadBalancingV2::LoadBalancer'), 'load balancer');
  const attributes = alb.Properties['LoadBalancerAttributes'] as { Key: string; Value: string }[];
  return attributes.find((a) => a.Key === 'deletion_protection.enabled')?.Value;
}

describe('load balancer deletion protection (NIST.800.53.R5-ELBDeletionProtectionEnabled)', () => {
  it('turns ELB deletion protection on in prod', () => {
    assert.equal(deletionProtection(prod.service), 'true');
  });

  it('leaves it off in dev, whose teardown must work without a manual step', () => {
    assert.equal(deletionProtection(dev.service), 'false');
  });

  it('follows the deletionProtection config key', () => {
    const staging = synthApp({ stage: 'staging', deletionProtection: 'true' });
    assert.equal(deletionProtection(staging.service), 'true');
  });
});

describe('versioned log buckets with a noncurrent-version expiry (NIST.800.53.R5-S3BucketVersioningEnabled)', () => {
  const buckets = [
    ['ALB access-log bucket', (r: typeof prod) => r.service, /^LoadBalancerAccessLogs/],
    ['log-archive bucket', (r: typeof prod) => r.data, /^LogArchiveBucket/],
  ] as const;
  for (const [what, template, id] of buckets) {
    for (const [stage, r] of [
      ['prod', prod],
      ['dev', dev],
    ] as const) {
      it(`versions the ${stage} ${what}, expires noncurrent versions after 30 days and removes expired delete markers`, () => {
        const [, bucket] = Object.entries(resourcesOf(template(r), 'AWS::S3::Bucket')).find(([k]) => id.test(k))!;
        assert.deepEqual(bucket.Properties['VersioningConfiguration'], { Status: 'Enabled' });
        const rules = (bucket.Properties['LifecycleConfiguration'] as { Rules: Record<string, unknown>[] }).Rules;
        const expiring = rules.find((rule) => rule['ExpirationInDays'] !== undefined)!;
        assert.deepEqual(expiring['NoncurrentVersionExpiration'], { NoncurrentDays: 30 });
        assert.ok(rules.some((rule) => rule['ExpiredObjectDeleteMarker'] === true && rule['Status'] === 'Enabled'));
      });
    }
  }

  it('keeps the current-version expiry per stage (access logs: 90 days in dev, 365 in prod)', () => {
    for (const [r, days] of [
      [dev, 90],
      [prod, 365],
    ] as const) {
      r.service.hasResourceProperties('AWS::S3::Bucket', {
        LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: days })]) },
        VersioningConfiguration: { Status: 'Enabled' },
      });
    }
  });
});

describe('the network (NIST.800.53.R5-VPCDefaultSecurityGroupClosed, -VPCSubnetAutoAssignPublicIpDisabled)', () => {
  for (const [stage, r] of [
    ['prod', prod],
    ['dev', dev],
  ] as const) {
    it(`restricts the ${stage} VPC's default security group (aws-cdk-lib's custom resource revokes its rules)`, () => {
      const vpcId = Object.keys(resourcesOf(r.network, 'AWS::EC2::VPC'))[0]!;
      r.network.hasResourceProperties('Custom::VpcRestrictDefaultSG', {
        DefaultSecurityGroupId: { 'Fn::GetAtt': [vpcId, 'DefaultSecurityGroup'] },
      });
    });

    it(`gives nothing launched in the ${stage} subnets a public IP address (the ALB and NAT bring their own)`, () => {
      const subnets = Object.values(resourcesOf(r.network, 'AWS::EC2::Subnet'));
      assert.equal(subnets.length, r.config.maxAzs * 3);
      for (const subnet of subnets) assert.notEqual(subnet.Properties['MapPublicIpOnLaunch'], true);
    });
  }
});

describe('the ALB security group (acknowledged: NIST.800.53.R5-EC2RestrictedCommonPorts, -EC2RestrictedSSH)', () => {
  it('opens 80 and 443 to the internet and nothing else', () => {
    for (const r of [prod, dev]) {
      const group = Object.entries(resourcesOf(r.service, 'AWS::EC2::SecurityGroup')).find(([id]) =>
        id.startsWith('LoadBalancerSecurityGroup'),
      )![1];
      const ingress = group.Properties['SecurityGroupIngress'] as Record<string, unknown>[];
      const fromAnywhere = ingress.filter((rule) => rule['CidrIp'] === '0.0.0.0/0' || rule['CidrIpv6'] === '::/0');
      assert.deepEqual(fromAnywhere.map((rule) => [rule['FromPort'], rule['ToPort']]).sort(), [
        [443, 443],
        [80, 80],
      ]);
      // The rest: the test listener, from the NAT gateways' addresses only (one /32 each), and never port 22.
      const rest = ingress.filter((rule) => !fromAnywhere.includes(rule));
      assert.equal(rest.length, r.config.natGateways);
      for (const rule of rest) assert.deepEqual([rule['FromPort'], rule['ToPort']], [9443, 9443]);
      assert.ok(ingress.every((rule) => rule['FromPort'] !== 22));
      // No standalone ingress resources that could open more.
      assert.equal(
        Object.values(resourcesOf(r.service, 'AWS::EC2::SecurityGroupIngress')).filter((i) =>
          JSON.stringify(i.Properties['GroupId']).includes('LoadBalancerSecurityGroup'),
        ).length,
        0,
      );
    }
  });
});
