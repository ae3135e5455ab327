/**
 * The architecture graph of a synthesized app, from its CloudFormation templates: the main resources of each stack
 * and the edges their properties prove (a listener's target groups, a hook's function, an alarm's action…).
 *
 * Pure: templates in, graph out, DOT text out. Nothing is drawn that no template property says; cross-stack references
 * (`Fn::GetStackOutput`, `Fn::ImportValue`) are followed to the resource in the other stack.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: { [key: string]: Json };
  readonly Metadata?: { [key: string]: Json };
}

export interface CfnTemplate {
  readonly Resources?: { [logicalId: string]: CfnResource };
  readonly Outputs?: { [name: string]: { Value: Json; Export?: { Name?: Json } } };
}

export interface StackTemplate {
  readonly stackName: string;
  readonly template: CfnTemplate;
}

export type Category = 'network' | 'traffic' | 'compute' | 'data' | 'deploy' | 'monitoring' | 'logs' | 'external';

export interface GraphNode {
  readonly id: string;
  /** The stack the node belongs to; undefined for nodes outside AWS (users, e-mail). */
  readonly stack?: string;
  readonly category: Category;
  readonly title: string;
  readonly detail: readonly string[];
}

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
  /** Control-plane edges (hooks, alarms, notifications) are dashed; traffic and data flow are solid. */
  readonly style: 'flow' | 'control';
}

export interface ArchitectureGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

interface Res {
  readonly key: string;
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly props: { [key: string]: Json };
  readonly path: string;
}

const USERS = 'external:users';
const EMAIL = 'external:email';

/** Construct ids that say what a resource is, not which one: left out of names. */
const GENERIC_IDS = new Set([
  'Resource',
  'Default',
  'Bucket',
  'Function',
  'Table',
  'Queue',
  'Topic',
  'Secret',
  'Instance',
]);

/** CDK's own helper functions (log retention, custom-resource providers) are plumbing, not architecture. */
const FRAMEWORK_FUNCTION =
  /^(LogRetention|AWS679f53fac|CustomResourceProvider|BucketNotificationsHandler)|framework-on/;

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: Json | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function arr(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

/** Builds the graph of all stacks of one cloud assembly. */
export function buildGraph(stacks: readonly StackTemplate[]): ArchitectureGraph {
  const resources = new Map<string, Res>();
  for (const { stackName, template } of stacks) {
    for (const [logicalId, r] of Object.entries(template.Resources ?? {})) {
      const key = `${stackName}/${logicalId}`;
      // Without path metadata (cdk synth writes it; Template.fromStack does not), the logical id minus its hash.
      const path = str(r.Metadata?.['aws:cdk:path']) ?? `${stackName}/${logicalId.replace(/[0-9A-F]{8}$/, '')}`;
      resources.set(key, { key, stack: stackName, logicalId, type: r.Type, props: r.Properties ?? {}, path });
    }
  }
  const ctx = new Context(stacks, resources);
  return ctx.build();
}

class Context {
  private readonly nodes = new Map<string, GraphNode>();
  /** Resource key → node id, for resources drawn as (or folded into) a node. */
  private readonly nodeOf = new Map<string, string>();
  private readonly edges = new Map<string, GraphEdge>();
  /** Nodes that appear only when an edge reaches them (log groups, secrets). */
  private readonly optional = new Set<string>();

  constructor(
    private readonly stacks: readonly StackTemplate[],
    private readonly resources: ReadonlyMap<string, Res>,
  ) {}

  build(): ArchitectureGraph {
    this.addNodes();
    this.addEdges();
    const used = new Set(this.edgeList().flatMap((e) => [e.from, e.to]));
    const nodes = [...this.nodes.values()]
      .filter((n) => !this.optional.has(n.id) || used.has(n.id))
      .sort((a, b) => a.id.localeCompare(b.id));
    const ids = new Set(nodes.map((n) => n.id));
    const edges = this.edgeList().filter((e) => ids.has(e.from) && ids.has(e.to));
    return { nodes, edges };
  }

  private edgeList(): GraphEdge[] {
    return [...this.edges.values()].sort((a, b) => `${a.from}>${a.to}`.localeCompare(`${b.from}>${b.to}`));
  }

  // ---------------------------------------------------------------- references

  /** Resource keys a value refers to: Ref, Fn::GetAtt, Fn::Sub, and cross-stack outputs followed to their resource. */
  refs(value: Json | undefined, stack: string, depth = 0): Set<string> {
    const found = new Set<string>();
    const visit = (v: Json | undefined, s: string): void => {
      if (Array.isArray(v)) {
        for (const item of v) visit(item, s);
        return;
      }
      if (!isObject(v)) return;
      const ref = str(v['Ref']);
      if (ref !== undefined && this.resources.has(`${s}/${ref}`)) found.add(`${s}/${ref}`);
      const getAtt = v['Fn::GetAtt'];
      const target = Array.isArray(getAtt) ? str(getAtt[0]) : str(getAtt)?.split('.')[0];
      if (target !== undefined && this.resources.has(`${s}/${target}`)) found.add(`${s}/${target}`);
      const sub = v['Fn::Sub'];
      const subText = Array.isArray(sub) ? str(sub[0]) : str(sub);
      for (const m of (subText ?? '').matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z.]+)?\}/g)) {
        if (this.resources.has(`${s}/${m[1]}`)) found.add(`${s}/${m[1]}`);
      }
      const output = v['Fn::GetStackOutput'];
      if (isObject(output) && depth < 3) {
        const other = str(output['StackName']);
        const name = str(output['OutputName']);
        const value = this.stacks.find((t) => t.stackName === other)?.template.Outputs?.[name ?? ''];
        if (other !== undefined && value) for (const k of this.refs(value.Value, other, depth + 1)) found.add(k);
      }
      const imported = str(v['Fn::ImportValue']);
      if (imported !== undefined && depth < 3) {
        for (const t of this.stacks) {
          for (const out of Object.values(t.template.Outputs ?? {})) {
            if (str(out.Export?.Name) === imported)
              for (const k of this.refs(out.Value, t.stackName, depth + 1)) found.add(k);
          }
        }
      }
      for (const [k, child] of Object.entries(v)) if (!k.startsWith('Fn::GetStackOutput')) visit(child, s);
    };
    visit(value, stack);
    return found;
  }

  /** Node ids a value refers to (folded resources count as their node). */
  private targets(value: Json | undefined, stack: string): string[] {
    return [...new Set([...this.refs(value, stack)].flatMap((k) => this.nodeOf.get(k) ?? []))].sort();
  }

  /** A value with pseudo parameters rendered as {AWS::AccountId} etc., for matching names built by Fn::Join. */
  private render(value: Json | undefined): string {
    if (typeof value === 'string') return value;
    if (Array.isArray(value)) return value.map((v) => this.render(v)).join('');
    if (!isObject(value)) return '';
    const ref = str(value['Ref']);
    if (ref !== undefined) return `{${ref}}`;
    const join = value['Fn::Join'];
    if (Array.isArray(join))
      return arr(join[1])
        .map((v) => this.render(v))
        .join(str(join[0]) ?? '');
    return '{?}';
  }

  // ---------------------------------------------------------------- nodes

  private all(type: string): Res[] {
    return [...this.resources.values()].filter((r) => r.type === type).sort((a, b) => a.key.localeCompare(b.key));
  }

  private node(node: GraphNode, members: readonly Res[], optional = false): void {
    this.nodes.set(node.id, node);
    for (const m of members) this.nodeOf.set(m.key, node.id);
    if (optional) this.optional.add(node.id);
  }

  /** Folds a resource into the node of another (a task definition into its service, a cluster too). */
  private fold(member: Res | undefined, into: string | undefined): void {
    if (member && into && this.nodes.has(into)) this.nodeOf.set(member.key, into);
  }

  /** The construct's name from its path: "Stack/LoadBalancer/Blue/Resource" → "Blue". */
  private name(r: Res): string {
    const parts = r.path.split('/').filter((p) => p !== 'Resource' && p !== 'Default' && p !== r.stack);
    return parts[parts.length - 1] ?? r.logicalId;
  }

  private firstName(r: Res): string {
    const parts = r.path.split('/').filter((p) => p !== r.stack);
    return parts[0] ?? r.logicalId;
  }

  /** The construct path without the stack and CDK's generic child names: "Rollback/DeadLetters/Resource" → "Rollback DeadLetters". */
  private pathName(r: Res): string {
    const parts = r.path.split('/').filter((p) => p !== r.stack && !GENERIC_IDS.has(p));
    return parts.length > 0 ? parts.join(' ') : r.logicalId;
  }

  private addNodes(): void {
    this.nodes.set(USERS, { id: USERS, category: 'external', title: 'Users', detail: ['internet'] });
    this.optional.add(USERS);

    for (const vpc of this.all('AWS::EC2::VPC')) {
      const subnets = this.all('AWS::EC2::Subnet').filter((s) => this.refs(s.props['VpcId'], s.stack).has(vpc.key));
      const tiers = new Map<string, number>();
      for (const s of subnets) {
        const tag = arr(s.props['Tags']).find((t) => isObject(t) && t['Key'] === 'aws-cdk:subnet-name');
        const tier = isObject(tag) ? (str(tag['Value']) ?? 'subnet') : 'subnet';
        tiers.set(tier, (tiers.get(tier) ?? 0) + 1);
      }
      const detail = [
        str(vpc.props['CidrBlock']) ?? '',
        [...tiers].map(([t, n]) => `${n} ${t}`).join(', ') + ' subnets',
      ];
      this.node({ id: vpc.key, stack: vpc.stack, category: 'network', title: 'VPC', detail }, [vpc, ...subnets]);
    }
    const nats = this.all('AWS::EC2::NatGateway');
    if (nats.length > 0) {
      const eips = this.all('AWS::EC2::EIP').filter((e) =>
        nats.some((n) => this.refs(n.props['AllocationId'], n.stack).has(e.key)),
      );
      this.node(
        {
          id: `${nats[0]!.stack}/nat`,
          stack: nats[0]!.stack,
          category: 'network',
          title: nats.length === 1 ? 'NAT gateway' : `NAT gateways ×${nats.length}`,
          detail: ['Elastic IPs: the only clients', 'of the test listener'],
        },
        [...nats, ...eips],
      );
    }

    for (const acl of this.all('AWS::WAFv2::WebACL')) {
      const rules = arr(acl.props['Rules']).filter(isObject);
      const managed = rules.filter((r) => isObject(r['Statement']) && 'ManagedRuleGroupStatement' in r['Statement']);
      const rate = rules.some((r) => isObject(r['Statement']) && 'RateBasedStatement' in r['Statement']);
      const detail = [`${managed.length} AWS managed rule groups`];
      if (rate) detail.unshift('per-IP rate limit');
      this.node({ id: acl.key, stack: acl.stack, category: 'traffic', title: 'WAF web ACL', detail }, [acl]);
    }
    for (const alb of this.all('AWS::ElasticLoadBalancingV2::LoadBalancer')) {
      const scheme = str(alb.props['Scheme']) ?? 'internal';
      this.node(
        { id: alb.key, stack: alb.stack, category: 'traffic', title: 'Application Load Balancer', detail: [scheme] },
        [alb],
      );
      if (scheme === 'internet-facing') this.edge(USERS, alb.key, 'HTTPS 443, HTTP 80', 'flow');
    }
    for (const listener of this.all('AWS::ElasticLoadBalancingV2::Listener')) {
      const port = String(listener.props['Port'] ?? '');
      const protocol = str(listener.props['Protocol']) ?? '';
      const redirect = arr(listener.props['DefaultActions']).some((a) => isObject(a) && a['Type'] === 'redirect');
      const detail = redirect ? ['redirect'] : [str(listener.props['SslPolicy']) ?? ''].filter((d) => d !== '');
      this.node(
        { id: listener.key, stack: listener.stack, category: 'traffic', title: `${protocol} :${port}`, detail },
        [listener],
      );
    }
    for (const tg of this.all('AWS::ElasticLoadBalancingV2::TargetGroup')) {
      const check = `${str(tg.props['HealthCheckPath']) ?? '/'} → ${this.matcher(tg)}`;
      this.node(
        {
          id: tg.key,
          stack: tg.stack,
          category: 'traffic',
          title: `Target group ${this.name(tg).toLowerCase()}`,
          detail: [`:${String(tg.props['Port'] ?? '')}, health ${check}`],
        },
        [tg],
      );
    }

    for (const service of this.all('AWS::ECS::Service')) {
      const cluster = [...this.refs(service.props['Cluster'], service.stack)]
        .map((k) => this.resources.get(k))
        .find((r) => r?.type === 'AWS::ECS::Cluster');
      const task = [...this.refs(service.props['TaskDefinition'], service.stack)]
        .map((k) => this.resources.get(k))
        .find((r) => r?.type === 'AWS::ECS::TaskDefinition');
      const scaling = this.all('AWS::ApplicationAutoScaling::ScalableTarget').find((s) =>
        this.refs(s.props['ResourceId'], s.stack).has(service.key),
      );
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
        cluster ? `cluster ${str(cluster.props['ClusterName']) ?? this.name(cluster)}` : '',
      ].filter((d) => d !== '');
      const title = `ECS service ${str(service.props['ServiceName']) ?? this.name(service)}`;
      this.node({ id: service.key, stack: service.stack, category: 'compute', title, detail }, [service]);
      this.fold(cluster, service.key);
      this.fold(task, service.key);
      this.fold(scaling, service.key);
    }

    for (const db of this.all('AWS::RDS::DBInstance')) {
      const engine = `${str(db.props['Engine']) ?? 'database'} ${str(db.props['EngineVersion']) ?? ''}`.trim();
      const detail = [
        `${str(db.props['DBInstanceClass']) ?? ''}${db.props['MultiAZ'] === true ? ', Multi-AZ' : ''}`,
        db.props['StorageEncrypted'] === true ? 'encrypted (KMS)' : '',
      ].filter((d) => d !== '');
      this.node({ id: db.key, stack: db.stack, category: 'data', title: `RDS ${engine}`, detail }, [db]);
    }
    for (const secret of this.all('AWS::SecretsManager::Secret')) {
      const attached = this.all('AWS::SecretsManager::SecretTargetAttachment').some((a) =>
        this.refs(a.props['SecretId'], a.stack).has(secret.key),
      );
      this.node(
        {
          id: secret.key,
          stack: secret.stack,
          category: 'data',
          title: `Secret ${this.pathName(secret)}`,
          detail: attached ? ['master credential'] : [],
        },
        [secret],
        true,
      );
    }
    for (const attachment of this.all('AWS::SecretsManager::SecretTargetAttachment')) {
      const secret = [...this.refs(attachment.props['SecretId'], attachment.stack)][0];
      this.fold(attachment, secret ? this.nodeOf.get(secret) : undefined);
    }
    for (const bucket of this.all('AWS::S3::Bucket')) {
      const name = this.render(bucket.props['BucketName']);
      const detail = [
        name !== '' ? name.replace(/\{AWS::AccountId\}/g, '<account>').replace(/\{AWS::Region\}/g, '<region>') : '',
      ];
      this.node(
        {
          id: bucket.key,
          stack: bucket.stack,
          category: 'logs',
          title: `S3 ${this.pathName(bucket)}`,
          detail: detail.filter((d) => d !== ''),
        },
        [bucket],
      );
    }
    for (const table of this.all('AWS::DynamoDB::Table')) {
      this.node(
        {
          id: table.key,
          stack: table.stack,
          category: 'deploy',
          title: `DynamoDB ${this.pathName(table)}`,
          detail: [],
        },
        [table],
      );
    }
    for (const queue of this.all('AWS::SQS::Queue')) {
      this.node(
        { id: queue.key, stack: queue.stack, category: 'deploy', title: `SQS ${this.pathName(queue)}`, detail: [] },
        [queue],
      );
    }
    for (const fn of this.all('AWS::Lambda::Function')) {
      if (FRAMEWORK_FUNCTION.test(fn.logicalId) || FRAMEWORK_FUNCTION.test(fn.path)) continue;
      const name = str(fn.props['FunctionName']) ?? this.firstName(fn);
      const vpc = isObject(fn.props['VpcConfig']) ? 'in the VPC' : '';
      const detail = [str(fn.props['Runtime']) ?? '', vpc].filter((d) => d !== '');
      this.node({ id: fn.key, stack: fn.stack, category: 'deploy', title: `λ ${name}`, detail }, [fn]);
    }
    for (const topic of this.all('AWS::SNS::Topic')) {
      const name = str(topic.props['TopicName']) ?? this.firstName(topic);
      const encrypted = topic.props['KmsMasterKeyId'] !== undefined ? ['KMS-encrypted'] : [];
      this.node(
        { id: topic.key, stack: topic.stack, category: 'monitoring', title: `SNS ${name}`, detail: encrypted },
        [topic],
      );
    }
    this.addAlarmNodes();
    const rules = this.all('AWS::Events::Rule');
    if (rules.length > 0) {
      this.node(
        {
          id: `${rules[0]!.stack}/event-rules`,
          stack: rules[0]!.stack,
          category: 'monitoring',
          title: `EventBridge rules ×${rules.length}`,
          detail: rules.map((r) => this.name(r).toLowerCase()),
        },
        rules,
      );
    }
    for (const dashboard of this.all('AWS::CloudWatch::Dashboard')) {
      this.node(
        {
          id: dashboard.key,
          stack: dashboard.stack,
          category: 'monitoring',
          title: 'CloudWatch dashboard',
          detail: [str(dashboard.props['DashboardName']) ?? ''],
        },
        [dashboard],
      );
    }
    for (const stream of this.all('AWS::KinesisFirehose::DeliveryStream')) {
      const s3 = stream.props['ExtendedS3DestinationConfiguration'];
      const compression = isObject(s3) ? str(s3['CompressionFormat']) : undefined;
      this.node(
        {
          id: stream.key,
          stack: stream.stack,
          category: 'logs',
          title: `Firehose ${str(stream.props['DeliveryStreamName']) ?? this.firstName(stream)}`,
          detail: compression ? [compression] : [],
        },
        [stream],
      );
    }
    for (const group of this.all('AWS::Logs::LogGroup')) {
      const name = str(group.props['LogGroupName']);
      const title = `Logs ${name ?? this.pathName(group)}`;
      const days = group.props['RetentionInDays'];
      this.node(
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
    }
  }

  private matcher(tg: Res): string {
    const matcher = tg.props['Matcher'];
    return (isObject(matcher) ? str(matcher['HttpCode']) : undefined) ?? '200';
  }

  /** Alarms in two nodes: those the ECS service rolls back on, and the rest. */
  private addAlarmNodes(): void {
    const alarms = this.all('AWS::CloudWatch::Alarm');
    if (alarms.length === 0) return;
    const deploymentNames = new Set(
      this.all('AWS::ECS::Service').flatMap((s) => {
        const config = s.props['DeploymentConfiguration'];
        const alarmConfig = isObject(config) ? config['Alarms'] : undefined;
        return isObject(alarmConfig) ? arr(alarmConfig['AlarmNames']).flatMap((n) => str(n) ?? []) : [];
      }),
    );
    const names = alarms.map((a) => str(a.props['AlarmName']) ?? this.name(a));
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
      const signals = members.map((a) => (str(a.props['AlarmName']) ?? this.name(a)).slice(prefix.length));
      this.node(
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

  // ---------------------------------------------------------------- edges

  private edge(from: string | undefined, to: string | undefined, label: string, style: GraphEdge['style']): void {
    if (!from || !to || from === to) return;
    const key = `${from}>${to}`;
    const existing = this.edges.get(key);
    if (existing) {
      const labels = new Set([...existing.label.split(', '), ...label.split(', ')].filter((l) => l !== ''));
      this.edges.set(key, { ...existing, label: [...labels].join(', ') });
      return;
    }
    this.edges.set(key, { from, to, label, style });
  }

  private addEdges(): void {
    const n = (key: string | undefined) => (key ? this.nodeOf.get(key) : undefined);

    for (const assoc of this.all('AWS::WAFv2::WebACLAssociation')) {
      for (const acl of this.targets(assoc.props['WebACLArn'], assoc.stack)) {
        for (const target of this.targets(assoc.props['ResourceArn'], assoc.stack))
          this.edge(acl, target, 'filters', 'flow');
      }
    }
    for (const logging of this.all('AWS::WAFv2::LoggingConfiguration')) {
      for (const acl of this.targets(logging.props['ResourceArn'], logging.stack)) {
        for (const dest of this.targets(logging.props['LogDestinationConfigs'], logging.stack))
          this.edge(acl, dest, 'logs', 'flow');
      }
    }
    for (const listener of this.all('AWS::ElasticLoadBalancingV2::Listener')) {
      for (const alb of this.targets(listener.props['LoadBalancerArn'], listener.stack))
        this.edge(alb, n(listener.key), '', 'flow');
      for (const action of arr(listener.props['DefaultActions']).filter(isObject)) {
        const redirect = action['RedirectConfig'];
        if (isObject(redirect)) {
          const port = str(redirect['Port']);
          const to = this.all('AWS::ElasticLoadBalancingV2::Listener').find(
            (l) => String(l.props['Port']) === port && l.stack === listener.stack,
          );
          this.edge(
            n(listener.key),
            n(to?.key),
            str(redirect['StatusCode'])?.replace('HTTP_', '') ?? 'redirect',
            'flow',
          );
        }
        for (const tg of this.targets(action['TargetGroupArn'] ?? action['ForwardConfig'] ?? null, listener.stack)) {
          this.edge(n(listener.key), tg, 'default', 'flow');
        }
      }
    }
    for (const rule of this.all('AWS::ElasticLoadBalancingV2::ListenerRule')) {
      const conditions = arr(rule.props['Conditions'])
        .filter(isObject)
        .map((c) => str(c['Field']) ?? '');
      const label = `${this.name(rule).replace(/Rule$/, '').toLowerCase()} rule${conditions.includes('source-ip') ? ' (source IP)' : ''}`;
      for (const listener of this.targets(rule.props['ListenerArn'], rule.stack)) {
        for (const tg of this.targets(rule.props['Actions'], rule.stack)) this.edge(listener, tg, label, 'flow');
      }
    }
    for (const alb of this.all('AWS::ElasticLoadBalancingV2::LoadBalancer')) {
      for (const attr of arr(alb.props['LoadBalancerAttributes']).filter(isObject)) {
        if (attr['Key'] === 'access_logs.s3.bucket') {
          for (const bucket of this.targets(attr['Value'], alb.stack))
            this.edge(n(alb.key), bucket, 'access logs', 'flow');
        }
      }
    }
    this.addSecurityGroupEdges();

    for (const service of this.all('AWS::ECS::Service')) {
      const sid = n(service.key);
      for (const lb of arr(service.props['LoadBalancers']).filter(isObject)) {
        const port = lb['ContainerPort'] !== undefined ? `:${String(lb['ContainerPort'])}` : '';
        for (const tg of this.targets(lb['TargetGroupArn'], service.stack)) this.edge(tg, sid, port, 'flow');
        const advanced = lb['AdvancedConfiguration'];
        if (isObject(advanced)) {
          for (const tg of this.targets(advanced['AlternateTargetGroupArn'], service.stack))
            this.edge(tg, sid, port, 'flow');
        }
      }
      const deployment = service.props['DeploymentConfiguration'];
      if (isObject(deployment)) {
        for (const hook of arr(deployment['LifecycleHooks']).filter(isObject)) {
          const stages = arr(hook['LifecycleStages']).flatMap((s) => str(s) ?? []);
          for (const fn of this.targets(hook['HookTargetArn'], service.stack)) {
            this.edge(sid, fn, `hook ${stages.join(',\n')}`, 'control');
          }
        }
        const alarms = deployment['Alarms'];
        if (isObject(alarms) && arr(alarms['AlarmNames']).length > 0 && alarms['Rollback'] === true) {
          this.edge(`${service.stack}/deployment-alarms`, sid, 'rollback on ALARM', 'control');
        }
      }
    }
    for (const task of this.all('AWS::ECS::TaskDefinition')) {
      const owner = n(task.key);
      for (const container of arr(task.props['ContainerDefinitions']).filter(isObject)) {
        const log = container['LogConfiguration'];
        if (isObject(log))
          for (const group of this.targets(log['Options'] ?? null, task.stack))
            this.edge(owner, group, 'awslogs', 'flow');
        for (const secret of this.targets(container['Secrets'] ?? null, task.stack)) {
          this.edge(owner, secret, 'DB credentials', 'flow');
        }
      }
    }
    for (const attachment of this.all('AWS::SecretsManager::SecretTargetAttachment')) {
      for (const target of this.targets(attachment.props['TargetId'], attachment.stack)) {
        this.edge(n(attachment.key), target, 'credentials of', 'control');
      }
    }
    for (const fn of this.all('AWS::Lambda::Function')) {
      const id = n(fn.key);
      const env = fn.props['Environment'];
      const vars = isObject(env) && isObject(env['Variables']) ? env['Variables'] : {};
      for (const [name, value] of Object.entries(vars)) {
        for (const target of this.targets(value, fn.stack)) this.edge(id, target, name, 'control');
      }
    }
    for (const config of this.all('AWS::Lambda::EventInvokeConfig')) {
      const destination = config.props['DestinationConfig'];
      const onFailure = isObject(destination) ? destination['OnFailure'] : undefined;
      for (const fn of this.targets(config.props['FunctionName'], config.stack)) {
        for (const dest of this.targets(onFailure ?? null, config.stack))
          this.edge(fn, dest, 'failed events', 'control');
      }
    }
    for (const alarm of this.all('AWS::CloudWatch::Alarm')) {
      const actions = [alarm.props['AlarmActions'] ?? null, alarm.props['OKActions'] ?? null];
      for (const target of this.targets(actions, alarm.stack)) this.edge(n(alarm.key), target, 'ALARM / OK', 'control');
    }
    for (const sub of this.all('AWS::SNS::Subscription')) {
      const protocol = str(sub.props['Protocol']);
      for (const topic of this.targets(sub.props['TopicArn'], sub.stack)) {
        if (protocol === 'email') {
          this.nodes.set(EMAIL, { id: EMAIL, category: 'external', title: 'On-call e-mail', detail: ['alarmEmails'] });
          this.edge(topic, EMAIL, 'email', 'control');
        }
        for (const endpoint of this.targets(sub.props['Endpoint'], sub.stack))
          this.edge(topic, endpoint, 'subscription', 'control');
        const redrive = sub.props['RedrivePolicy'];
        for (const endpoint of this.targets(sub.props['Endpoint'], sub.stack)) {
          for (const dlq of this.targets(redrive ?? null, sub.stack))
            this.edge(endpoint, dlq, 'undeliverable', 'control');
        }
      }
    }
    for (const rule of this.all('AWS::Events::Rule')) {
      const id = n(rule.key);
      for (const source of this.targets(rule.props['EventPattern'], rule.stack))
        this.edge(source, id, 'deployment state', 'control');
      for (const target of this.targets(rule.props['Targets'], rule.stack)) this.edge(id, target, 'message', 'control');
    }
    for (const dashboard of this.all('AWS::CloudWatch::Dashboard')) {
      for (const source of this.targets(dashboard.props['DashboardBody'], dashboard.stack)) {
        if (source.endsWith('alarms')) this.edge(source, n(dashboard.key), 'shown on', 'control');
      }
    }
    for (const filter of this.all('AWS::Logs::SubscriptionFilter')) {
      for (const group of this.targets(filter.props['LogGroupName'], filter.stack)) {
        for (const dest of this.targets(filter.props['DestinationArn'], filter.stack))
          this.edge(group, dest, 'subscription', 'flow');
      }
    }
    for (const stream of this.all('AWS::KinesisFirehose::DeliveryStream')) {
      const s3 = stream.props['ExtendedS3DestinationConfiguration'] ?? stream.props['S3DestinationConfiguration'];
      if (!isObject(s3)) continue;
      const prefix = str(s3['Prefix'])
        ?.replace(/!\{[^}]*\}/g, '')
        .replace(/\/+/g, '/');
      const label = prefix ? `→ ${prefix.length > 28 ? `${prefix.slice(0, 27)}…` : prefix}` : 'objects';
      for (const bucket of this.bucketsFor(s3['BucketARN'], stream.stack))
        this.edge(n(stream.key), bucket, label, 'flow');
    }
    for (const flow of this.all('AWS::EC2::FlowLog')) {
      for (const vpc of this.targets(flow.props['ResourceId'], flow.stack)) {
        const dest = flow.props['LogGroupName'] ?? flow.props['LogDestination'] ?? null;
        for (const group of this.targets(dest, flow.stack)) this.edge(vpc, group, 'flow logs', 'flow');
      }
    }
  }

  /** Buckets named by reference, or by an ARN built from the bucket's (joined) name. */
  private bucketsFor(arn: Json | undefined, stack: string): string[] {
    const byRef = this.targets(arn ?? null, stack);
    if (byRef.length > 0) return byRef;
    const rendered = this.render(arn);
    return this.all('AWS::S3::Bucket')
      .filter((b) => {
        const name = this.render(b.props['BucketName']);
        return name !== '' && rendered.endsWith(`:::${name}`);
      })
      .flatMap((b) => this.nodeOf.get(b.key) ?? []);
  }

  /**
   * Who may reach whom, from security groups: a rule admitting group A into group B is an edge from A's owners to B's
   * owners; an address rule built from our NAT gateways' Elastic IPs is an edge from the NAT gateways. Load-balancer →
   * task rules are left out: the target groups already draw that path.
   */
  private addSecurityGroupEdges(): void {
    const owners = new Map<string, Set<string>>();
    const own = (sgValue: Json | undefined, owner: Res) => {
      const node = this.nodeOf.get(owner.key);
      if (!node) return;
      for (const sg of this.refs(sgValue ?? null, owner.stack))
        owners.set(sg, new Set([...(owners.get(sg) ?? []), node]));
    };
    for (const r of this.resources.values()) {
      if (r.type === 'AWS::ElasticLoadBalancingV2::LoadBalancer') own(r.props['SecurityGroups'], r);
      if (r.type === 'AWS::RDS::DBInstance') own(r.props['VPCSecurityGroups'], r);
      if (r.type === 'AWS::Lambda::Function' && isObject(r.props['VpcConfig']))
        own(r.props['VpcConfig']['SecurityGroupIds'], r);
      if (r.type === 'AWS::ECS::Service' && isObject(r.props['NetworkConfiguration'])) {
        const awsvpc = r.props['NetworkConfiguration']['AwsvpcConfiguration'];
        if (isObject(awsvpc)) own(awsvpc['SecurityGroups'], r);
      }
    }
    const isLb = (node: string) => this.resources.get(node)?.type === 'AWS::ElasticLoadBalancingV2::LoadBalancer';
    const rule = (group: Json | undefined, stack: string, ingress: { [key: string]: Json }) => {
      const port =
        ingress['FromPort'] === ingress['ToPort']
          ? `${String(ingress['FromPort'])}`
          : `${String(ingress['FromPort'])}-${String(ingress['ToPort'])}`;
      const into = [...this.refs(group ?? null, stack)].flatMap((sg) => [...(owners.get(sg) ?? [])]);
      const sources = [...this.refs(ingress['SourceSecurityGroupId'] ?? null, stack)].flatMap((sg) => [
        ...(owners.get(sg) ?? []),
      ]);
      const fromAddresses = this.targets(ingress['CidrIp'] ?? null, stack).filter((t) => t.endsWith('/nat'));
      for (const to of into) {
        for (const from of [...sources, ...fromAddresses]) {
          if (isLb(from) && !fromAddresses.includes(from)) continue;
          this.edge(from, to, `tcp ${port}`, 'flow');
        }
      }
    };
    for (const sg of this.all('AWS::EC2::SecurityGroup')) {
      for (const ingress of arr(sg.props['SecurityGroupIngress']).filter(isObject))
        rule({ Ref: sg.logicalId }, sg.stack, ingress);
    }
    for (const ingress of this.all('AWS::EC2::SecurityGroupIngress'))
      rule(ingress.props['GroupId'], ingress.stack, ingress.props);
  }
}

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

// ---------------------------------------------------------------- DOT

const STYLE: Readonly<Record<Category, { fill: string; border: string }>> = {
  external: { fill: '#ffffff', border: '#555555' },
  network: { fill: '#e8f0fe', border: '#3b6fd6' },
  traffic: { fill: '#ede7f6', border: '#6a3fb5' },
  compute: { fill: '#fff3e0', border: '#d9822b' },
  data: { fill: '#e3f4ea', border: '#2f8f5b' },
  deploy: { fill: '#fff8d6', border: '#b08900' },
  monitoring: { fill: '#fdecea', border: '#c8412f' },
  logs: { fill: '#eef3f6', border: '#5b7486' },
};

const GROUP_TITLE: Readonly<Record<Category, string>> = {
  external: '',
  network: 'Network',
  traffic: 'Traffic: WAF → ALB → blue/green target groups',
  compute: 'Compute',
  data: 'Data',
  deploy: 'Deploy path: lifecycle hooks and rollback',
  monitoring: 'Monitoring and notifications',
  logs: 'Logs',
};

const LEGEND =
  'solid: traffic and data · dashed: control (lifecycle hooks, alarms, notifications, function configuration)';

function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function htmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function nodeLabel(node: GraphNode): string {
  const detail = node.detail
    .filter((d) => d !== '')
    .map((d) => `<BR/><FONT POINT-SIZE="9" COLOR="#444444">${htmlEscape(d)}</FONT>`)
    .join('');
  return `<<B>${htmlEscape(node.title)}</B>${detail}>`;
}

function clusterId(text: string): string {
  return `cluster_${text.replace(/[^A-Za-z0-9]/g, '_')}`;
}

/** The diagram's heading. */
export function diagramTitle(stage: string): string {
  return `SoftFactory on AWS (${stage}): generated from the synthesized templates by npm run diagram`;
}

/** Graphviz DOT: one cluster per stack, sub-clusters per concern in a stack that has several. */
export function toDot(graph: ArchitectureGraph, title: string): string {
  const out: string[] = [
    'digraph architecture {',
    `  graph [label=${dotString(`${title}\n${LEGEND}`)}, labelloc=t, fontsize=16, fontname="Helvetica", rankdir=TB,`,
    '         newrank=true, nodesep=0.3, ranksep=0.55, pad=0.3, bgcolor="white"];',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, margin="0.12,0.06"];',
    '  edge [fontname="Helvetica", fontsize=8, color="#555555", fontcolor="#333333", arrowsize=0.6];',
  ];
  const nodeLine = (node: GraphNode, indent: string) => {
    const s = STYLE[node.category];
    return `${indent}${dotString(node.id)} [label=${nodeLabel(node)}, fillcolor="${s.fill}", color="${s.border}"];`;
  };
  const outside = graph.nodes.filter((n) => n.stack === undefined);
  for (const node of outside) out.push(nodeLine(node, '  '));
  // People and the internet sit above everything: traffic enters at the top.
  if (outside.some((n) => n.id === USERS)) out.push(`  { rank=min; ${dotString(USERS)}; }`);
  const stacks = [...new Set(graph.nodes.flatMap((n) => n.stack ?? []))];
  for (const stack of stacks) {
    out.push(`  subgraph ${clusterId(stack)} {`);
    out.push(
      `    label=${dotString(stack)}; fontsize=14; style="rounded"; color="#999999"; fontname="Helvetica-Bold";`,
    );
    const members = graph.nodes.filter((n) => n.stack === stack);
    const categories = [...new Set(members.map((n) => n.category))];
    for (const category of categories) {
      const inCategory = members.filter((n) => n.category === category);
      if (categories.length > 2 && inCategory.length > 1) {
        out.push(`    subgraph ${clusterId(`${stack}_${category}`)} {`);
        out.push(
          `      label=${dotString(GROUP_TITLE[category])}; fontsize=10; style="dashed,rounded"; color="${STYLE[category].border}"; fontname="Helvetica";`,
        );
        for (const node of inCategory) out.push(nodeLine(node, '      '));
        out.push('    }');
      } else {
        for (const node of inCategory) out.push(nodeLine(node, '    '));
      }
    }
    out.push('  }');
  }
  for (const edge of graph.edges) {
    const attrs = [`label=${dotString(edge.label)}`];
    if (edge.style === 'control') attrs.push('style=dashed', 'color="#9a4d3f"');
    out.push(`  ${dotString(edge.from)} -> ${dotString(edge.to)} [${attrs.join(', ')}];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
