import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Match } from 'aws-cdk-lib/assertions';
import { URL_UNSAFE_PASSWORD_CHARACTERS } from '../../lib/constructs/database';
import { TEST_LISTENER_PORT } from '../../lib/constructs/load-balancer';
import { DATABASE_URL_ENTRYPOINT, gunicornCommand } from '../../lib/constructs/web-service';
import { only, resourcesOf, synthApp } from '../helpers/synth';

const dev = synthApp({ stage: 'dev' });
const prod = synthApp({ stage: 'prod' });

describe('stacks', () => {
  it('names the stacks SoftFactory-<Stage>-Network, -Data and -Service', () => {
    assert.deepEqual(
      [dev.stacks.network.stackName, dev.stacks.data.stackName, dev.stacks.service.stackName],
      ['SoftFactory-Dev-Network', 'SoftFactory-Dev-Data', 'SoftFactory-Dev-Service'],
    );
    assert.equal(prod.stacks.service.stackName, 'SoftFactory-Prod-Service');
  });

  it('termination-protects the Data stack in prod only', () => {
    assert.equal(prod.stacks.data.terminationProtection, true);
    assert.equal(dev.stacks.data.terminationProtection, false);
    assert.equal(prod.stacks.service.terminationProtection, false);
  });
});

describe('network', () => {
  it('has public, private-with-egress and isolated subnets and one NAT gateway in dev', () => {
    dev.network.resourceCountIs('AWS::EC2::NatGateway', 1);
    dev.network.resourceCountIs('AWS::EC2::EIP', 1);
    const subnets = Object.values(resourcesOf(dev.network, 'AWS::EC2::Subnet'));
    const kinds = subnets.map(
      (s) =>
        (s.Properties['Tags'] as { Key: string; Value: string }[]).find((t) => t.Key === 'aws-cdk:subnet-name')?.Value,
    );
    assert.deepEqual([...new Set(kinds)].sort(), ['isolated', 'private', 'public']);
  });

  it('runs one NAT gateway per configured count in prod, each on an Elastic IP allocated by us', () => {
    prod.network.resourceCountIs('AWS::EC2::NatGateway', prod.config.natGateways);
    prod.network.resourceCountIs('AWS::EC2::EIP', prod.config.natGateways);
    prod.network.hasResourceProperties('AWS::EC2::NatGateway', {
      AllocationId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkNatEip'), 'AllocationId'] },
    });
  });

  it('logs VPC flows to CloudWatch Logs with 30-day retention', () => {
    // LogGroupName names the destination when LogDestinationType is cloud-watch-logs
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-ec2-flowlog.html).
    const flowLog = only(resourcesOf(dev.network, 'AWS::EC2::FlowLog'), 'flow log');
    const [vpcId] = Object.keys(resourcesOf(dev.network, 'AWS::EC2::VPC'));
    assert.equal(flowLog.Properties['LogDestinationType'], 'cloud-watch-logs');
    assert.deepEqual(flowLog.Properties['ResourceId'], { Ref: vpcId });
    assert.equal(flowLog.Properties['ResourceType'], 'VPC');
    assert.equal(flowLog.Properties['TrafficType'], 'ALL');
    const destination = (flowLog.Properties['LogGroupName'] as { Ref?: string }).Ref ?? '(not a Ref)';
    const group = resourcesOf(dev.network, 'AWS::Logs::LogGroup')[destination];
    assert.ok(group, `the flow log's destination ${destination} is a log group of the network stack`);
    assert.equal(group.Properties['RetentionInDays'], 30);
  });
});

describe('data', () => {
  it('runs PostgreSQL 17 in the isolated subnets, encrypted with its own KMS key', () => {
    dev.data.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: Match.stringLikeRegexp('^17\\.'),
      StorageEncrypted: true,
      KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DatabaseKey'), 'Arn'] },
      PubliclyAccessible: false,
    });
    const subnetGroup = only(resourcesOf(dev.data, 'AWS::RDS::DBSubnetGroup'), 'subnet group');
    const refs = JSON.stringify(subnetGroup.Properties['SubnetIds']);
    assert.match(refs, /isolatedSubnet1/);
    assert.doesNotMatch(refs, /privateSubnet|publicSubnet/);
    dev.data.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('forces TLS and logs statements slower than 500 ms', () => {
    dev.data.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Family: 'postgres17',
      Parameters: { 'rds.force_ssl': '1', log_min_duration_statement: '500' },
    });
    assert.equal(synthApp({ slowQueryMs: '250' }).config.slowQueryMs, 250);
  });

  it('exports PostgreSQL logs to log groups with 30-day retention created before the instance', () => {
    dev.data.hasResourceProperties('AWS::RDS::DBInstance', {
      EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
      EnablePerformanceInsights: true,
    });
    dev.data.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/rds/instance/softfactory-dev/postgresql',
      RetentionInDays: 30,
    });
    const instance = Object.values(dev.data.findResources('AWS::RDS::DBInstance'))[0] as { DependsOn?: string[] };
    assert.ok(instance.DependsOn?.some((d) => d.startsWith('DatabaseLogspostgresql')));
  });

  it('keeps backups 7 days in dev and 30 in prod; prod is Multi-AZ with deletion protection', () => {
    dev.data.hasResourceProperties('AWS::RDS::DBInstance', {
      BackupRetentionPeriod: 7,
      MultiAZ: false,
      DeletionProtection: false,
    });
    prod.data.hasResourceProperties('AWS::RDS::DBInstance', {
      BackupRetentionPeriod: 30,
      MultiAZ: true,
      DeletionProtection: true,
    });
    const prodInstance = Object.values(prod.data.findResources('AWS::RDS::DBInstance'))[0] as {
      DeletionPolicy?: string;
    };
    assert.equal(prodInstance.DeletionPolicy, 'Snapshot');
  });

  it('generates the master password from URL-safe characters only', () => {
    dev.data.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        ExcludeCharacters: URL_UNSAFE_PASSWORD_CHARACTERS,
        GenerateStringKey: 'password',
      }),
    });
    for (const c of ':/@?#%&+= ')
      assert.ok(URL_UNSAFE_PASSWORD_CHARACTERS.includes(c), `excludes ${JSON.stringify(c)}`);
  });

  it('admits only the service tasks on 5432, with no other ingress on the database', () => {
    const dbGroup = only(
      Object.fromEntries(
        Object.entries(resourcesOf(dev.data, 'AWS::EC2::SecurityGroup')).filter(([id]) =>
          id.startsWith('DatabaseSecurityGroup'),
        ),
      ),
      'database security group',
    );
    assert.equal(dbGroup.Properties['SecurityGroupIngress'], undefined);
    const intoDatabase = Object.values(resourcesOf(dev.service, 'AWS::EC2::SecurityGroupIngress')).filter((r) =>
      JSON.stringify(r.Properties['GroupId']).includes('DatabaseSecurityGroup'),
    );
    assert.equal(intoDatabase.length, 1, 'exactly one ingress into the database group');
    const ingress = intoDatabase[0]!;
    assert.equal(ingress.Properties['FromPort'], 5432);
    assert.equal(ingress.Properties['ToPort'], 5432);
    assert.deepEqual(ingress.Properties['SourceSecurityGroupId'], {
      'Fn::GetAtt': ['WebSecurityGroupF444D504', 'GroupId'],
    });
    assert.equal(
      JSON.stringify(dev.network.toJSON()).includes('"FromPort":5432'),
      false,
      'no 5432 rule in the network',
    );
    // The data stack's one rule into the database, and the egress matching it, are the rotation function's.
    const dataRules = [
      ...Object.values(resourcesOf(dev.data, 'AWS::EC2::SecurityGroupIngress')),
      ...Object.values(resourcesOf(dev.data, 'AWS::EC2::SecurityGroupEgress')),
    ].filter((r) => r.Properties['FromPort'] === 5432);
    assert.equal(dataRules.length, 2);
    for (const rule of dataRules) assert.match(JSON.stringify(rule.Properties), /DatabaseRotationSecurityGroup/);
  });
});

describe('service', () => {
  it('runs an ECS cluster with enhanced Container Insights', () => {
    dev.service.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enhanced' }],
    });
  });

  it('runs container web on 8000 with the stage’s app mode and DATABASE_URL assembled at start from Secrets Manager', () => {
    const task = only(resourcesOf(dev.service, 'AWS::ECS::TaskDefinition'), 'task definition');
    const [container] = task.Properties['ContainerDefinitions'] as Record<string, unknown>[];
    assert.equal(container!['Name'], 'web');
    assert.deepEqual(container!['PortMappings'], [{ ContainerPort: 8000, Name: 'http', Protocol: 'tcp' }]);
    const environment = container!['Environment'] as { Name: string; Value: unknown }[];
    assert.deepEqual(
      environment.filter((e) => e.Name !== 'CORS_ORIGINS'),
      [
        { Name: 'ENVIRONMENT', Value: 'development' },
        { Name: 'TESTING', Value: 'true' },
        { Name: 'APP_PORT', Value: '8000' },
        { Name: 'DB_NAME', Value: 'softfactory' },
      ],
    );
    // Without a domain the allowed CORS origin is the load balancer's own https:// name (smoke-hook-construct.test).
    assert.match(
      JSON.stringify(environment.find((e) => e.Name === 'CORS_ORIGINS')?.Value),
      /"https:\/\/",\{"Fn::GetAtt":\["LoadBalancer\w+","DNSName"\]\}/,
    );
    const secrets = (container!['Secrets'] as { Name: string; ValueFrom: unknown }[]).map((s) => s.Name);
    for (const name of ['DB_HOST', 'DB_PASSWORD', 'DB_PORT', 'DB_USERNAME', 'PLATFORM_SECRET_KEY', 'JWT_SECRET']) {
      assert.ok(secrets.includes(name), `${name} is a container secret`);
    }
    assert.deepEqual(container!['EntryPoint'], DATABASE_URL_ENTRYPOINT);
    assert.match(
      DATABASE_URL_ENTRYPOINT[2]!,
      /export DATABASE_URL="postgresql:\/\/\$DB_USERNAME:\$DB_PASSWORD@\$DB_HOST:\$DB_PORT\/\$DB_NAME\?sslmode=require"; unset DB_PASSWORD; exec "\$@"/,
    );
    assert.deepEqual(container!['Command'], gunicornCommand(512));
    assert.equal(container!['User'], '1000:1000');
    assert.equal(task.Properties['Cpu'], '512');
    assert.equal(task.Properties['Memory'], '1024');
  });

  it('puts no password in any template', () => {
    for (const result of [dev, prod]) {
      for (const template of [result.network, result.data, result.service]) {
        const text = JSON.stringify(template.toJSON());
        assert.doesNotMatch(text, /"(Master)?UserPassword"\s*:\s*"[^{]/);
        assert.doesNotMatch(text, /demo_token/);
      }
    }
  });

  it('ships app logs to a log group with 30-day retention', () => {
    dev.service.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/softfactory/softfactory-dev/app',
      RetentionInDays: 30,
    });
    // The awslogs driver writes to the group named by awslogs-group
    // (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html): it must be this one, the
    // group that is masked, archived and queried, not merely some group.
    const [appGroupId] = Object.entries(resourcesOf(dev.service, 'AWS::Logs::LogGroup')).find(
      ([, group]) => group.Properties['LogGroupName'] === '/softfactory/softfactory-dev/app',
    ) ?? ['(no app log group)'];
    const task = only(resourcesOf(dev.service, 'AWS::ECS::TaskDefinition'), 'task definition');
    const containers = task.Properties['ContainerDefinitions'] as { Name: string; LogConfiguration?: unknown }[];
    const web = containers.find((c) => c.Name === 'web');
    assert.deepEqual(
      [web?.Name, web?.LogConfiguration],
      [
        'web',
        {
          LogDriver: 'awslogs',
          Options: {
            'awslogs-group': { Ref: appGroupId },
            'awslogs-stream-prefix': 'web',
            'awslogs-region': { Ref: 'AWS::Region' },
            mode: 'non-blocking',
          },
        },
      ],
    );
  });

  it('gives the task role only ECS Exec’s permissions and scopes the execution role to its image, log group and secret', () => {
    const policies = resourcesOf(dev.service, 'AWS::IAM::Policy');
    const execution = Object.entries(policies).find(([id]) => id.startsWith('WebTaskExecutionRole'));
    assert.ok(execution);
    const statements = (
      execution[1].Properties['PolicyDocument'] as { Statement: { Action: string | string[]; Resource: unknown }[] }
    ).Statement;
    for (const statement of statements) {
      if (statement.Resource === '*') assert.equal(statement.Action, 'ecr:GetAuthorizationToken');
    }
    // The task role holds what the ECS Exec agent needs and nothing else (test/lib/ecs-exec.test.ts has the detail).
    const taskRoleActions = Object.entries(policies)
      .filter(([id]) => id.startsWith('WebTaskTaskRole'))
      .flatMap(([, p]) => (p.Properties['PolicyDocument'] as { Statement: { Action: string | string[] }[] }).Statement)
      .flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
    assert.deepEqual([...new Set(taskRoleActions)].sort(), [
      'logs:CreateLogStream',
      'logs:DescribeLogGroups',
      'logs:DescribeLogStreams',
      'logs:PutLogEvents',
      'ssmmessages:CreateControlChannel',
      'ssmmessages:CreateDataChannel',
      'ssmmessages:OpenControlChannel',
      'ssmmessages:OpenDataChannel',
    ]);
  });

  it('serves HTTPS on 443 with the certificate and a TLS 1.3 policy', () => {
    dev.service.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09',
      Certificates: [{ CertificateArn: dev.config.certificate.kind === 'import' ? dev.config.certificate.arn : '' }],
    });
  });

  it('redirects HTTP to HTTPS with a 301', () => {
    dev.service.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: { Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' } },
      ],
    });
  });

  it('drops invalid headers, mitigates desync defensively and writes access logs to S3', () => {
    const lb = only(resourcesOf(dev.service, 'AWS::ElasticLoadBalancingV2::LoadBalancer'), 'load balancer');
    const attributes = Object.fromEntries(
      (lb.Properties['LoadBalancerAttributes'] as { Key: string; Value: unknown }[]).map((a) => [a.Key, a.Value]),
    );
    assert.equal(attributes['routing.http.drop_invalid_header_fields.enabled'], 'true');
    assert.ok(['defensive', 'strictest'].includes(attributes['routing.http.desync_mitigation_mode'] as string));
    assert.equal(attributes['access_logs.s3.enabled'], 'true');
    assert.deepEqual(attributes['access_logs.s3.bucket'], { Ref: 'LoadBalancerAccessLogsB27DFC85' });
    assert.equal(lb.Properties['Scheme'], 'internet-facing');
  });

  it('keeps the access-log bucket SSE-S3, private, TLS-only and expiring', () => {
    dev.service.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 90, Status: 'Enabled' })]),
      },
    });
    dev.service.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Principal: { Service: 'logdelivery.elasticloadbalancing.amazonaws.com' },
            Action: 's3:PutObject',
          }),
        ]),
      },
    });
  });

  it('health-checks two target groups (blue, green) with GET /health expecting 200 (dev runs the app in test mode)', () => {
    const groups = Object.values(resourcesOf(dev.service, 'AWS::ElasticLoadBalancingV2::TargetGroup'));
    assert.equal(groups.length, 2);
    for (const group of groups) {
      assert.equal(group.Properties['HealthCheckPath'], '/health');
      assert.deepEqual(group.Properties['Matcher'], { HttpCode: '200' });
      assert.equal(group.Properties['Port'], 8000);
      assert.equal(group.Properties['TargetType'], 'ip');
    }
  });

  it('deploys blue/green with the production and test listener rules and a 5-minute bake', () => {
    dev.service.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({ Strategy: 'BLUE_GREEN', BakeTimeInMinutes: 5 }),
      LoadBalancers: [
        {
          ContainerName: 'web',
          ContainerPort: 8000,
          TargetGroupArn: { Ref: Match.stringLikeRegexp('^LoadBalancerBlue') },
          AdvancedConfiguration: {
            AlternateTargetGroupArn: { Ref: Match.stringLikeRegexp('^LoadBalancerGreen') },
            ProductionListenerRule: { Ref: Match.stringLikeRegexp('^LoadBalancerProductionRule') },
            TestListenerRule: { Ref: Match.stringLikeRegexp('^LoadBalancerTestRule') },
            RoleArn: Match.anyValue(),
          },
        },
      ],
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
  });

  it('lets only the NAT gateways’ addresses reach the test listener, by security group and by rule', () => {
    const rules = resourcesOf(prod.service, 'AWS::ElasticLoadBalancingV2::ListenerRule');
    const test = Object.entries(rules).find(([id]) => id.startsWith('LoadBalancerTestRule'))![1];
    const conditions = test.Properties['Conditions'] as { Field: string; SourceIpConfig: { Values: unknown[] } }[];
    assert.equal(conditions.length, 1);
    assert.equal(conditions[0]!.Field, 'source-ip');
    assert.equal(conditions[0]!.SourceIpConfig.Values.length, prod.config.natGateways);
    for (const value of conditions[0]!.SourceIpConfig.Values)
      assert.match(JSON.stringify(value), /NetworkNatEip\w+PublicIp.*\/32/);

    const albGroup = Object.entries(resourcesOf(prod.service, 'AWS::EC2::SecurityGroup')).find(([id]) =>
      id.startsWith('LoadBalancerSecurityGroup'),
    )![1];
    const ingress = albGroup.Properties['SecurityGroupIngress'] as { FromPort: number; CidrIp: unknown }[];
    const testIngress = ingress.filter((r) => r.FromPort === TEST_LISTENER_PORT);
    assert.equal(testIngress.length, prod.config.natGateways);
    for (const rule of testIngress) assert.notEqual(rule.CidrIp, '0.0.0.0/0');
    assert.deepEqual(
      ingress
        .filter((r) => r.CidrIp === '0.0.0.0/0')
        .map((r) => r.FromPort)
        .sort(),
      [443, 80],
    );
  });

  it('protects the ALB with a WAF web ACL: per-IP rate limit, three AWS managed rule groups, and logging', () => {
    dev.service.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({
          Statement: { RateBasedStatement: { Limit: 2000, AggregateKeyType: 'IP' } },
          Action: { Block: {} },
        }),
        // OverrideAction None keeps each group's own Block actions; Count would only count what it matches
        // (https://docs.aws.amazon.com/waf/latest/APIReference/API_OverrideAction.html).
        ...['AWSManagedRulesCommonRuleSet', 'AWSManagedRulesKnownBadInputsRuleSet', 'AWSManagedRulesSQLiRuleSet'].map(
          (name) =>
            Match.objectLike({
              Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: name } },
              OverrideAction: { None: {} },
            }),
        ),
      ]),
    });
    const rules = only(resourcesOf(dev.service, 'AWS::WAFv2::WebACL'), 'web ACL').Properties['Rules'] as Record<
      string,
      unknown
    >[];
    assert.equal(JSON.stringify(rules).includes('"Count"'), false, 'no rule or rule group only counts');
    dev.service.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    // The logs go to this stack's aws-waf-logs- group, by its ARN without `:*`
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-wafv2-loggingconfiguration.html).
    const [wafGroupId] = Object.entries(resourcesOf(dev.service, 'AWS::Logs::LogGroup')).find(
      ([, group]) => group.Properties['LogGroupName'] === 'aws-waf-logs-softfactory-dev',
    ) ?? ['(no aws-waf-logs-softfactory-dev group)'];
    const [aclId] = Object.keys(resourcesOf(dev.service, 'AWS::WAFv2::WebACL'));
    const logging = only(resourcesOf(dev.service, 'AWS::WAFv2::LoggingConfiguration'), 'logging');
    assert.deepEqual(logging.Properties['ResourceArn'], { 'Fn::GetAtt': [aclId, 'Arn'] });
    assert.deepEqual(logging.Properties['LogDestinationConfigs'], [
      {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':logs:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':log-group:',
            { Ref: wafGroupId },
          ],
        ],
      },
    ]);
    dev.service.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: 'aws-waf-logs-softfactory-dev',
      RetentionInDays: 30,
    });
    synthApp({ wafRateLimit: '500' }).service.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({ Statement: { RateBasedStatement: { Limit: 500, AggregateKeyType: 'IP' } } }),
      ]),
    });
  });

  it('autoscales between min and max tasks: one CPU policy and one request policy over both target groups', () => {
    prod.service.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 2,
      MaxCapacity: 10,
    });
    const policies = Object.values(resourcesOf(prod.service, 'AWS::ApplicationAutoScaling::ScalingPolicy')).map(
      (p) => p.Properties['TargetTrackingScalingPolicyConfiguration'] as Record<string, unknown>,
    );
    assert.equal(policies.length, 2);
    assert.ok(
      policies.some(
        (p) =>
          (p['PredefinedMetricSpecification'] as { PredefinedMetricType?: string } | undefined)
            ?.PredefinedMetricType === 'ECSServiceAverageCPUUtilization',
      ),
    );
  });

  it('sizes prod larger than dev', () => {
    prod.service.hasResourceProperties('AWS::ECS::TaskDefinition', { Cpu: '1024', Memory: '2048' });
    prod.service.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2 });
  });
});
