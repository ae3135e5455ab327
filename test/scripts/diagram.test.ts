/** The architecture diagram is drawn from the synthesized templates: resources and edges their properties prove. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildGraph, type CfnTemplate, diagramTitle, type GraphEdge, toDot } from '../../scripts/diagram/graph';
import { synthApp } from '../helpers/synth';

describe('architecture diagram', () => {
  // Path metadata as `cdk synth` writes it: node names come from construct paths.
  const app = synthApp({ stage: 'prod', 'aws:cdk:enable-path-metadata': 'true' });
  const stacks = [app.stacks.network, app.stacks.data, app.stacks.service].map((stack, i) => ({
    stackName: stack.stackName,
    template: [app.network, app.data, app.service][i]!.toJSON() as CfnTemplate,
  }));
  const graph = buildGraph(stacks);
  const title = (id: string) => graph.nodes.find((n) => n.id === id)?.title ?? id;
  const edges = graph.edges.map((e: GraphEdge) => `${title(e.from)} -> ${title(e.to)}: ${e.label}`);
  const has = (pattern: RegExp) =>
    assert.ok(
      edges.some((e) => pattern.test(e)),
      `no edge like ${pattern}\n${edges.join('\n')}`,
    );

  it('draws the main resources of every stack', () => {
    const titles = graph.nodes.map((n) => n.title);
    for (const expected of [
      /^VPC$/,
      /^NAT gateways ×2$/,
      /^WAF web ACL$/,
      /^Application Load Balancer$/,
      /^HTTPS :443$/,
      /^HTTP :80$/,
      /^HTTPS :9443$/,
      /^Target group blue$/,
      /^Target group green$/,
      /^ECS service softfactory-prod-web$/,
      /^RDS postgres 17/,
      /^λ softfactory-prod-smoke$/,
      /^λ softfactory-prod-predeploy-snapshot$/,
      /^λ softfactory-prod-rollback$/,
      /^SNS softfactory-prod-alarms$/,
      /^Deployment alarms ×3$/,
      /^Firehose softfactory-prod-app-logs$/,
      /^S3 LogArchive$/,
    ]) {
      assert.ok(
        titles.some((t) => expected.test(t)),
        `no node like ${expected} in ${titles.join(', ')}`,
      );
    }
    assert.equal(new Set(graph.nodes.map((n) => n.stack)).size, 4, 'three stacks and the outside world');
  });

  it('follows the traffic: users → ALB ← WAF, listener rules → blue and green → the service', () => {
    has(/^Users -> Application Load Balancer/);
    has(/^WAF web ACL -> Application Load Balancer: filters$/);
    has(/^HTTP :80 -> HTTPS :443: 301$/);
    has(/^HTTPS :443 -> Target group green: production rule$/);
    has(/^HTTPS :9443 -> Target group green: test rule \(source IP\)$/);
    has(/^Target group blue -> ECS service softfactory-prod-web: :8000$/);
    has(/^NAT gateways ×2 -> Application Load Balancer: tcp 9443$/);
  });

  it('follows cross-stack references: tasks → database, Firehose → the archive bucket named by its ARN', () => {
    has(/^ECS service softfactory-prod-web -> RDS postgres .*: tcp 5432$/);
    has(/^Firehose softfactory-prod-app-logs -> S3 LogArchive/);
    has(/^λ softfactory-prod-predeploy-snapshot -> RDS postgres .*: DB_INSTANCE_ID$/);
  });

  it('draws the deploy path and the alarms as control edges', () => {
    has(
      /^ECS service softfactory-prod-web -> λ softfactory-prod-smoke: hook POST_TEST_TRAFFIC_SHIFT,\nPOST_PRODUCTION_TRAFFIC_SHIFT$/,
    );
    has(/^ECS service softfactory-prod-web -> λ softfactory-prod-predeploy-snapshot: hook PRE_SCALE_UP$/);
    has(/^Deployment alarms ×3 -> ECS service softfactory-prod-web: rollback on ALARM$/);
    has(/^Deployment alarms ×3 -> SNS softfactory-prod-alarms: ALARM \/ OK$/);
    has(/^SNS softfactory-prod-alarms -> λ softfactory-prod-rollback: subscription$/);
    const hook = graph.edges.find((e) => title(e.to) === 'λ softfactory-prod-smoke' && e.label.startsWith('hook'));
    assert.equal(hook?.style, 'control');
  });

  it('writes DOT that Graphviz renders', (t) => {
    const dot = toDot(graph, 'test');
    assert.match(dot, /^digraph architecture \{/);
    const render = spawnSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8' });
    if (render.error) {
      t.diagnostic('Graphviz is not installed here (apt-get install -y graphviz): checked the DOT text only');
      return;
    }
    assert.equal(render.status, 0, render.stderr);
    assert.match(render.stdout, /<svg/);
  });

  it('matches the committed docs/architecture.dot, so the image shows the app as it is (npm run diagram)', () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'docs', 'architecture.dot'), 'utf8');
    assert.equal(committed, toDot(graph, diagramTitle('prod')), 'docs/architecture.* is stale: run npm run diagram');
  });
});
