/**
 * Which resources are drawn, and how: `NODE_RULES` has one entry per CloudFormation type (in cdk-nag's manner, a
 * rule per concern and a table that lists them). Order matters only for folding: a rule that folds a resource into
 * another's node (a task definition into its service, an attachment into its secret) runs after the rule drawing that
 * node. Nothing is drawn that no template property says.
 */
import { each, type GraphBuilder, type Rule } from './builder';
import { type GraphNode, USERS } from './model';
import { arr, isObject, type Res, str } from './template';

/** CDK's own helper functions (log retention, custom-resource providers) are plumbing, not architecture. */
const FRAMEWORK_FUNCTION =
  /^(LogRetention|AWS679f53fac|CustomResourceProvider|BucketNotificationsHandler)|framework-on/;

/** The internet's users: drawn only when an internet-facing load balancer gives them an edge. */
export const USERS_NODE: GraphNode = { id: USERS, category: 'external', title: 'Users', detail: ['internet'] };

export const NODE_RULES: readonly Rule[] = [
  each('AWS::EC2::VPC', (vpc, g) => {
    const subnets = g.index.all('AWS::EC2::Subnet').filter((s) => g.index.refs(s.props['VpcId'], s.stack).has(vpc.key));
    const tiers = new Map<string, number>();
    for (const s of subnets) {
      const tag = arr(s.props['Tags']).find((t) => isObject(t) && t['Key'] === 'aws-cdk:subnet-name');
      const tier = isObject(tag) ? (str(tag['Value']) ?? 'subnet') : 'subnet';
      tiers.set(tier, (tiers.get(tier) ?? 0) + 1);
    }
    const detail = [str(vpc.props['CidrBlock']) ?? '', [...tiers].map(([t, n]) => `${n} ${t}`).join(', ') + ' subnets'];
    g.node({ id: vpc.key, stack: vpc.stack, category: 'network', title: 'VPC', detail }, [vpc, ...subnets]);
  }),
  {
    // One node for every NAT gateway of the network and their Elastic IPs.
    type: 'AWS::EC2::NatGateway',
    draw: (nats, g) => {
      if (nats.length === 0) return;
      const eips = g.index
        .all('AWS::EC2::EIP')
        .filter((e) => nats.some((n) => g.index.refs(n.props['AllocationId'], n.stack).has(e.key)));
      g.node(
        {
          id: `${nats[0]!.stack}/nat`,
          stack: nats[0]!.stack,
          category: 'network',
          title: nats.length === 1 ? 'NAT gateway' : `NAT gateways ×${nats.length}`,
          detail: ['Elastic IPs: the only clients', 'of the test listener'],
        },
        [...nats, ...eips],
      );
    },
  },
  each('AWS::WAFv2::WebACL', (acl, g) => {
    const rules = arr(acl.props['Rules']).filter(isObject);
    const managed = rules.filter((r) => isObject(r['Statement']) && 'ManagedRuleGroupStatement' in r['Statement']);
    const rate = rules.some((r) => isObject(r['Statement']) && 'RateBasedStatement' in r['Statement']);
    const detail = [`${managed.length} AWS managed rule groups`];
    if (rate) detail.unshift('per-IP rate limit');
    g.node({ id: acl.key, stack: acl.stack, category: 'traffic', title: 'WAF web ACL', detail }, [acl]);
  }),
  each('AWS::ElasticLoadBalancingV2::LoadBalancer', (alb, g) => {
    const scheme = str(alb.props['Scheme']) ?? 'internal';
    g.node(
      { id: alb.key, stack: alb.stack, category: 'traffic', title: 'Application Load Balancer', detail: [scheme] },
      [alb],
    );
    if (scheme === 'internet-facing') g.edge(USERS, alb.key, 'HTTPS 443, HTTP 80', 'flow');
  }),
  each('AWS::ElasticLoadBalancingV2::Listener', (listener, g) => {
    const port = String(listener.props['Port'] ?? '');
    const protocol = str(listener.props['Protocol']) ?? '';
    const redirect = arr(listener.props['DefaultActions']).some((a) => isObject(a) && a['Type'] === 'redirect');
    const detail = redirect ? ['redirect'] : [str(listener.props['SslPolicy']) ?? ''].filter((d) => d !== '');
    g.node({ id: listener.key, stack: listener.stack, category: 'traffic', title: `${protocol} :${port}`, detail }, [
      listener,
    ]);
  }),
  each('AWS::ElasticLoadBalancingV2::TargetGroup', (tg, g) => {
    const check = `${str(tg.props['HealthCheckPath']) ?? '/'} → ${matcher(tg)}`;
    g.node(
      {
        id: tg.key,
        stack: tg.stack,
        category: 'traffic',
        title: `Target group ${g.index.name(tg).toLowerCase()}`,
        detail: [`:${String(tg.props['Port'] ?? '')}, health ${check}`],
      },
      [tg],
    );
  }),
  each('AWS::ECS::Service', (service, g) => {
    const cluster = [...g.index.refs(service.props['Cluster'], service.stack)]
      .map((k) => g.index.resources.get(k))
      .find((r) => r?.type === 'AWS::ECS::Cluster');
    const task = [...g.index.refs(service.props['TaskDefinition'], service.stack)]
      .map((k) => g.index.resources.get(k))
      .find((r) => r?.type === 'AWS::ECS::TaskDefinition');
    const scaling = g.index
      .all('AWS::ApplicationAutoScaling::ScalableTarget')
      .find((s) => g.index.refs(s.props['ResourceId'], s.stack).has(service.key));
    const deployment = isObject(service.props['DeploymentConfiguration'])
      ? service.props['DeploymentConfiguration']
      : {};
    const strategy = str(deployment['Strategy']);
    const detail = [
      `${str(service.props['LaunchType']) ?? 'ECS'}${task ? `, ${String(task.props['Cpu'])} CPU / ${String(task.props['Memory'])} MiB` : ''}`,
      scaling
        ? `${String(scaling.props['MinCapacity'])}–${String(scaling.props['MaxCapacity'])} tasks (autoscaling)`
        : `${String(service.props['DesiredCount'] ?? '?')} tasks`,
      strategy ? `${strategy.toLowerCase().replace('_', '/')} deployments` : '',
      cluster ? `cluster ${str(cluster.props['ClusterName']) ?? g.index.name(cluster)}` : '',
    ].filter((d) => d !== '');
    const title = `ECS service ${str(service.props['ServiceName']) ?? g.index.name(service)}`;
    g.node({ id: service.key, stack: service.stack, category: 'compute', title, detail }, [service]);
    g.fold(cluster, service.key);
    g.fold(task, service.key);
    g.fold(scaling, service.key);
  }),
  each('AWS::RDS::DBInstance', (db, g) => {
    const engine = `${str(db.props['Engine']) ?? 'database'} ${str(db.props['EngineVersion']) ?? ''}`.trim();
    const detail = [
      `${str(db.props['DBInstanceClass']) ?? ''}${db.props['MultiAZ'] === true ? ', Multi-AZ' : ''}`,
      db.props['StorageEncrypted'] === true ? 'encrypted (KMS)' : '',
    ].filter((d) => d !== '');
    g.node({ id: db.key, stack: db.stack, category: 'data', title: `RDS ${engine}`, detail }, [db]);
  }),
  each('AWS::SecretsManager::Secret', (secret, g) => {
    const attached = g.index
      .all('AWS::SecretsManager::SecretTargetAttachment')
      .some((a) => g.index.refs(a.props['SecretId'], a.stack).has(secret.key));
    g.node(
      {
        id: secret.key,
        stack: secret.stack,
        category: 'data',
        title: `Secret ${g.index.pathName(secret)}`,
        detail: attached ? ['master credential'] : [],
      },
      [secret],
      true,
    );
  }),
  each('AWS::SecretsManager::SecretTargetAttachment', (attachment, g) => {
    const secret = [...g.index.refs(attachment.props['SecretId'], attachment.stack)][0];
    g.fold(attachment, secret ? g.nodeOf(secret) : undefined);
  }),
  each('AWS::S3::Bucket', (bucket, g) => {
    const name = g.index.render(bucket.props['BucketName']);
    const detail = [
      name !== '' ? name.replace(/\{AWS::AccountId\}/g, '<account>').replace(/\{AWS::Region\}/g, '<region>') : '',
    ];
    g.node(
      {
        id: bucket.key,
        stack: bucket.stack,
        category: 'logs',
        title: `S3 ${g.index.pathName(bucket)}`,
        detail: detail.filter((d) => d !== ''),
      },
      [bucket],
    );
  }),
  each('AWS::DynamoDB::Table', (table, g) => {
    g.node(
      {
        id: table.key,
        stack: table.stack,
        category: 'deploy',
        title: `DynamoDB ${g.index.pathName(table)}`,
        detail: [],
      },
      [table],
    );
  }),
  each('AWS::SQS::Queue', (queue, g) => {
    g.node(
      { id: queue.key, stack: queue.stack, category: 'deploy', title: `SQS ${g.index.pathName(queue)}`, detail: [] },
      [queue],
    );
  }),
  each('AWS::Lambda::Function', (fn, g) => {
    if (FRAMEWORK_FUNCTION.test(fn.logicalId) || FRAMEWORK_FUNCTION.test(fn.path)) return;
    const name = str(fn.props['FunctionName']) ?? g.index.firstName(fn);
    const vpc = isObject(fn.props['VpcConfig']) ? 'in the VPC' : '';
    const detail = [str(fn.props['Runtime']) ?? '', vpc].filter((d) => d !== '');
    g.node({ id: fn.key, stack: fn.stack, category: 'deploy', title: `λ ${name}`, detail }, [fn]);
  }),
  each('AWS::SNS::Topic', (topic, g) => {
    const name = str(topic.props['TopicName']) ?? g.index.firstName(topic);
    const encrypted = topic.props['KmsMasterKeyId'] !== undefined ? ['KMS-encrypted'] : [];
    g.node({ id: topic.key, stack: topic.stack, category: 'monitoring', title: `SNS ${name}`, detail: encrypted }, [
      topic,
    ]);
  }),
  { type: 'AWS::CloudWatch::Alarm', draw: alarmNodes },
  {
    // One node for all EventBridge rules, named in its detail.
    type: 'AWS::Events::Rule',
    draw: (rules, g) => {
      if (rules.length === 0) return;
      g.node(
        {
          id: `${rules[0]!.stack}/event-rules`,
          stack: rules[0]!.stack,
          category: 'monitoring',
          title: `EventBridge rules ×${rules.length}`,
          detail: rules.map((r) => g.index.name(r).toLowerCase()),
        },
        rules,
      );
    },
  },
  each('AWS::CloudWatch::Dashboard', (dashboard, g) => {
    g.node(
      {
        id: dashboard.key,
        stack: dashboard.stack,
        category: 'monitoring',
        title: 'CloudWatch dashboard',
        detail: [str(dashboard.props['DashboardName']) ?? ''],
      },
      [dashboard],
    );
  }),
  each('AWS::KinesisFirehose::DeliveryStream', (stream, g) => {
    const s3 = stream.props['ExtendedS3DestinationConfiguration'];
    const compression = isObject(s3) ? str(s3['CompressionFormat']) : undefined;
    g.node(
      {
        id: stream.key,
        stack: stream.stack,
        category: 'logs',
        title: `Firehose ${str(stream.props['DeliveryStreamName']) ?? g.index.firstName(stream)}`,
        detail: compression ? [compression] : [],
      },
      [stream],
    );
  }),
  each('AWS::Logs::LogGroup', (group, g) => {
    const name = str(group.props['LogGroupName']);
    const title = `Logs ${name ?? g.index.pathName(group)}`;
    const days = group.props['RetentionInDays'];
    g.node(
      {
        id: group.key,
        stack: group.stack,
        category: 'logs',
        title,
        detail: days !== undefined ? [`${String(days)} days`] : [],
      },
      [group],
      true,
    );
  }),
];

function matcher(tg: Res): string {
  const matcher = tg.props['Matcher'];
  return (isObject(matcher) ? str(matcher['HttpCode']) : undefined) ?? '200';
}

/** Alarms in two nodes: those the ECS service rolls back on, and the rest. */
function alarmNodes(alarms: readonly Res[], g: GraphBuilder): void {
  if (alarms.length === 0) return;
  const deploymentNames = new Set(
    g.index.all('AWS::ECS::Service').flatMap((s) => {
      const config = s.props['DeploymentConfiguration'];
      const alarmConfig = isObject(config) ? config['Alarms'] : undefined;
      return isObject(alarmConfig) ? arr(alarmConfig['AlarmNames']).flatMap((n) => str(n) ?? []) : [];
    }),
  );
  const names = alarms.map((a) => str(a.props['AlarmName']) ?? g.index.name(a));
  const prefix = commonPrefix(names);
  const groups: [string, string, Res[]][] = [
    [
      'deployment-alarms',
      'Deployment alarms',
      alarms.filter((a) => deploymentNames.has(str(a.props['AlarmName']) ?? '')),
    ],
    [
      'alarms',
      deploymentNames.size > 0 ? 'Other alarms' : 'Alarms',
      alarms.filter((a) => !deploymentNames.has(str(a.props['AlarmName']) ?? '')),
    ],
  ];
  for (const [suffix, title, members] of groups) {
    if (members.length === 0) continue;
    const signals = members.map((a) => (str(a.props['AlarmName']) ?? g.index.name(a)).slice(prefix.length));
    g.node(
      {
        id: `${members[0]!.stack}/${suffix}`,
        stack: members[0]!.stack,
        category: 'monitoring',
        title: `${title} ×${members.length}`,
        detail: [`${prefix}…`, ...wrap(signals, 3)],
      },
      members,
    );
  }
}

/** The `<prefix>-` all alarm names share, shown once in the node. */
function commonPrefix(names: readonly string[]): string {
  if (names.length < 2) return '';
  let prefix = names[0]!;
  for (const name of names) while (!name.startsWith(prefix)) prefix = prefix.slice(0, -1);
  return prefix.slice(0, prefix.lastIndexOf('-') + 1);
}

function wrap(words: readonly string[], perLine: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < words.length; i += perLine) lines.push(words.slice(i, i + perLine).join(', '));
  return lines;
}
