/**
 * Which edges are drawn, from which template properties: `EDGE_RULES` has one entry per CloudFormation type whose
 * properties prove a relation (a listener's target groups, a hook's function, an alarm's action, a security group's
 * ingress…). Runs after nodes.ts, so every reference resolves to the node its resource is drawn as or folded into;
 * an edge whose end is no node is dropped.
 */
import { each, type GraphBuilder, type Rule } from './builder';
import { EMAIL } from './model';
import { arr, isObject, type Json, type Res, str } from './template';

export const EDGE_RULES: readonly Rule[] = [
  each('AWS::WAFv2::WebACLAssociation', (assoc, g) => {
    for (const acl of g.targets(assoc.props['WebACLArn'], assoc.stack)) {
      for (const target of g.targets(assoc.props['ResourceArn'], assoc.stack)) g.edge(acl, target, 'filters', 'flow');
    }
  }),
  each('AWS::WAFv2::LoggingConfiguration', (logging, g) => {
    for (const acl of g.targets(logging.props['ResourceArn'], logging.stack)) {
      for (const dest of g.targets(logging.props['LogDestinationConfigs'], logging.stack))
        g.edge(acl, dest, 'logs', 'flow');
    }
  }),
  each('AWS::ElasticLoadBalancingV2::Listener', (listener, g) => {
    for (const alb of g.targets(listener.props['LoadBalancerArn'], listener.stack))
      g.edge(alb, g.nodeOf(listener.key), '', 'flow');
    for (const action of arr(listener.props['DefaultActions']).filter(isObject)) {
      const redirect = action['RedirectConfig'];
      if (isObject(redirect)) {
        const port = str(redirect['Port']);
        const to = g.index
          .all('AWS::ElasticLoadBalancingV2::Listener')
          .find((l) => String(l.props['Port']) === port && l.stack === listener.stack);
        g.edge(
          g.nodeOf(listener.key),
          g.nodeOf(to?.key),
          str(redirect['StatusCode'])?.replace('HTTP_', '') ?? 'redirect',
          'flow',
        );
      }
      for (const tg of g.targets(action['TargetGroupArn'] ?? action['ForwardConfig'] ?? null, listener.stack)) {
        g.edge(g.nodeOf(listener.key), tg, 'default', 'flow');
      }
    }
  }),
  each('AWS::ElasticLoadBalancingV2::ListenerRule', (rule, g) => {
    const conditions = arr(rule.props['Conditions'])
      .filter(isObject)
      .map((c) => str(c['Field']) ?? '');
    const label = `${g.index.name(rule).replace(/Rule$/, '').toLowerCase()} rule${conditions.includes('source-ip') ? ' (source IP)' : ''}`;
    for (const listener of g.targets(rule.props['ListenerArn'], rule.stack)) {
      for (const tg of g.targets(rule.props['Actions'], rule.stack)) g.edge(listener, tg, label, 'flow');
    }
  }),
  each('AWS::ElasticLoadBalancingV2::LoadBalancer', (alb, g) => {
    for (const attr of arr(alb.props['LoadBalancerAttributes']).filter(isObject)) {
      if (attr['Key'] === 'access_logs.s3.bucket') {
        for (const bucket of g.targets(attr['Value'], alb.stack))
          g.edge(g.nodeOf(alb.key), bucket, 'access logs', 'flow');
      }
    }
  }),
  { type: 'AWS::EC2::SecurityGroup', draw: securityGroupEdges },
  each('AWS::ECS::Service', (service, g) => {
    const sid = g.nodeOf(service.key);
    for (const lb of arr(service.props['LoadBalancers']).filter(isObject)) {
      const port = lb['ContainerPort'] !== undefined ? `:${String(lb['ContainerPort'])}` : '';
      for (const tg of g.targets(lb['TargetGroupArn'], service.stack)) g.edge(tg, sid, port, 'flow');
      const advanced = lb['AdvancedConfiguration'];
      if (isObject(advanced)) {
        for (const tg of g.targets(advanced['AlternateTargetGroupArn'], service.stack)) g.edge(tg, sid, port, 'flow');
      }
    }
    const deployment = service.props['DeploymentConfiguration'];
    if (isObject(deployment)) {
      for (const hook of arr(deployment['LifecycleHooks']).filter(isObject)) {
        const stages = arr(hook['LifecycleStages']).flatMap((s) => str(s) ?? []);
        for (const fn of g.targets(hook['HookTargetArn'], service.stack)) {
          g.edge(sid, fn, `hook ${stages.join(',\n')}`, 'control');
        }
      }
      const alarms = deployment['Alarms'];
      if (isObject(alarms) && arr(alarms['AlarmNames']).length > 0 && alarms['Rollback'] === true) {
        g.edge(`${service.stack}/deployment-alarms`, sid, 'rollback on ALARM', 'control');
      }
    }
  }),
  each('AWS::ECS::TaskDefinition', (task, g) => {
    const owner = g.nodeOf(task.key);
    for (const container of arr(task.props['ContainerDefinitions']).filter(isObject)) {
      const log = container['LogConfiguration'];
      if (isObject(log))
        for (const group of g.targets(log['Options'] ?? null, task.stack)) g.edge(owner, group, 'awslogs', 'flow');
      for (const secret of g.targets(container['Secrets'] ?? null, task.stack)) {
        g.edge(owner, secret, 'DB credentials', 'flow');
      }
    }
  }),
  each('AWS::SecretsManager::SecretTargetAttachment', (attachment, g) => {
    for (const target of g.targets(attachment.props['TargetId'], attachment.stack)) {
      g.edge(g.nodeOf(attachment.key), target, 'credentials of', 'control');
    }
  }),
  each('AWS::Lambda::Function', (fn, g) => {
    const id = g.nodeOf(fn.key);
    const env = fn.props['Environment'];
    const vars = isObject(env) && isObject(env['Variables']) ? env['Variables'] : {};
    for (const [name, value] of Object.entries(vars)) {
      for (const target of g.targets(value, fn.stack)) g.edge(id, target, name, 'control');
    }
  }),
  each('AWS::Lambda::EventInvokeConfig', (config, g) => {
    const destination = config.props['DestinationConfig'];
    const onFailure = isObject(destination) ? destination['OnFailure'] : undefined;
    for (const fn of g.targets(config.props['FunctionName'], config.stack)) {
      for (const dest of g.targets(onFailure ?? null, config.stack)) g.edge(fn, dest, 'failed events', 'control');
    }
  }),
  each('AWS::CloudWatch::Alarm', (alarm, g) => {
    const actions = [alarm.props['AlarmActions'] ?? null, alarm.props['OKActions'] ?? null];
    for (const target of g.targets(actions, alarm.stack)) g.edge(g.nodeOf(alarm.key), target, 'ALARM / OK', 'control');
  }),
  each('AWS::SNS::Subscription', (sub, g) => {
    const protocol = str(sub.props['Protocol']);
    for (const topic of g.targets(sub.props['TopicArn'], sub.stack)) {
      if (protocol === 'email') {
        g.node({ id: EMAIL, category: 'external', title: 'On-call e-mail', detail: ['alarmEmails'] }, []);
        g.edge(topic, EMAIL, 'email', 'control');
      }
      for (const endpoint of g.targets(sub.props['Endpoint'], sub.stack))
        g.edge(topic, endpoint, 'subscription', 'control');
      const redrive = sub.props['RedrivePolicy'];
      for (const endpoint of g.targets(sub.props['Endpoint'], sub.stack)) {
        for (const dlq of g.targets(redrive ?? null, sub.stack)) g.edge(endpoint, dlq, 'undeliverable', 'control');
      }
    }
  }),
  each('AWS::Events::Rule', (rule, g) => {
    const id = g.nodeOf(rule.key);
    for (const source of g.targets(rule.props['EventPattern'], rule.stack))
      g.edge(source, id, 'deployment state', 'control');
    for (const target of g.targets(rule.props['Targets'], rule.stack)) g.edge(id, target, 'message', 'control');
  }),
  each('AWS::CloudWatch::Dashboard', (dashboard, g) => {
    for (const source of g.targets(dashboard.props['DashboardBody'], dashboard.stack)) {
      if (source.endsWith('alarms')) g.edge(source, g.nodeOf(dashboard.key), 'shown on', 'control');
    }
  }),
  each('AWS::Logs::SubscriptionFilter', (filter, g) => {
    for (const group of g.targets(filter.props['LogGroupName'], filter.stack)) {
      for (const dest of g.targets(filter.props['DestinationArn'], filter.stack))
        g.edge(group, dest, 'subscription', 'flow');
    }
  }),
  each('AWS::KinesisFirehose::DeliveryStream', (stream, g) => {
    const s3 = stream.props['ExtendedS3DestinationConfiguration'] ?? stream.props['S3DestinationConfiguration'];
    if (!isObject(s3)) return;
    const prefix = str(s3['Prefix'])
      ?.replace(/!\{[^}]*\}/g, '')
      .replace(/\/+/g, '/');
    const label = prefix ? `→ ${prefix.length > 28 ? `${prefix.slice(0, 27)}…` : prefix}` : 'objects';
    for (const bucket of bucketsFor(g, s3['BucketARN'], stream.stack))
      g.edge(g.nodeOf(stream.key), bucket, label, 'flow');
  }),
  each('AWS::EC2::FlowLog', (flow, g) => {
    for (const vpc of g.targets(flow.props['ResourceId'], flow.stack)) {
      const dest = flow.props['LogGroupName'] ?? flow.props['LogDestination'] ?? null;
      for (const group of g.targets(dest, flow.stack)) g.edge(vpc, group, 'flow logs', 'flow');
    }
  }),
];

/** Buckets named by reference, or by an ARN built from the bucket's (joined) name. */
function bucketsFor(g: GraphBuilder, arn: Json | undefined, stack: string): string[] {
  const byRef = g.targets(arn ?? null, stack);
  if (byRef.length > 0) return byRef;
  const rendered = g.index.render(arn);
  return g.index
    .all('AWS::S3::Bucket')
    .filter((b) => {
      const name = g.index.render(b.props['BucketName']);
      return name !== '' && rendered.endsWith(`:::${name}`);
    })
    .flatMap((b) => g.nodeOf(b.key) ?? []);
}

/**
 * Who may reach whom, from security groups: a rule admitting group A into group B is an edge from A's owners to B's
 * owners; an address rule built from our NAT gateways' Elastic IPs is an edge from the NAT gateways. Load-balancer →
 * task rules are left out: the target groups already draw that path.
 */
function securityGroupEdges(groups: readonly Res[], g: GraphBuilder): void {
  const owners = new Map<string, Set<string>>();
  const own = (sgValue: Json | undefined, owner: Res) => {
    const node = g.nodeOf(owner.key);
    if (!node) return;
    for (const sg of g.index.refs(sgValue ?? null, owner.stack))
      owners.set(sg, new Set([...(owners.get(sg) ?? []), node]));
  };
  for (const r of g.index.resources.values()) {
    if (r.type === 'AWS::ElasticLoadBalancingV2::LoadBalancer') own(r.props['SecurityGroups'], r);
    if (r.type === 'AWS::RDS::DBInstance') own(r.props['VPCSecurityGroups'], r);
    if (r.type === 'AWS::Lambda::Function' && isObject(r.props['VpcConfig']))
      own(r.props['VpcConfig']['SecurityGroupIds'], r);
    if (r.type === 'AWS::ECS::Service' && isObject(r.props['NetworkConfiguration'])) {
      const awsvpc = r.props['NetworkConfiguration']['AwsvpcConfiguration'];
      if (isObject(awsvpc)) own(awsvpc['SecurityGroups'], r);
    }
  }
  const isLb = (node: string) => g.index.resources.get(node)?.type === 'AWS::ElasticLoadBalancingV2::LoadBalancer';
  const rule = (group: Json | undefined, stack: string, ingress: { [key: string]: Json }) => {
    const port =
      ingress['FromPort'] === ingress['ToPort']
        ? `${String(ingress['FromPort'])}`
        : `${String(ingress['FromPort'])}-${String(ingress['ToPort'])}`;
    const into = [...g.index.refs(group ?? null, stack)].flatMap((sg) => [...(owners.get(sg) ?? [])]);
    const sources = [...g.index.refs(ingress['SourceSecurityGroupId'] ?? null, stack)].flatMap((sg) => [
      ...(owners.get(sg) ?? []),
    ]);
    const fromAddresses = g.targets(ingress['CidrIp'] ?? null, stack).filter((t) => t.endsWith('/nat'));
    for (const to of into) {
      for (const from of [...sources, ...fromAddresses]) {
        if (isLb(from) && !fromAddresses.includes(from)) continue;
        g.edge(from, to, `tcp ${port}`, 'flow');
      }
    }
  };
  for (const sg of groups) {
    for (const ingress of arr(sg.props['SecurityGroupIngress']).filter(isObject))
      rule({ Ref: sg.logicalId }, sg.stack, ingress);
  }
  for (const ingress of g.index.all('AWS::EC2::SecurityGroupIngress'))
    rule(ingress.props['GroupId'], ingress.stack, ingress.props);
}
