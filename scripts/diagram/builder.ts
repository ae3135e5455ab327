/**
 * The graph under construction: nodes with the resources folded into them, edges merged by endpoint pair, and the
 * optional nodes that are kept only when an edge reaches them. The rules in nodes.ts and edges.ts write into it;
 * `finish()` turns it into the sorted `ArchitectureGraph` that dot.ts renders.
 */
import type { ArchitectureGraph, GraphEdge, GraphNode } from './model';
import type { Json, Res, TemplateIndex } from './template';

export class GraphBuilder {
  private readonly nodes = new Map<string, GraphNode>();
  /** Resource key → node id, for resources drawn as (or folded into) a node. */
  private readonly nodeIds = new Map<string, string>();
  private readonly edges = new Map<string, GraphEdge>();
  /** Nodes that appear only when an edge reaches them (log groups, secrets). */
  private readonly optional = new Set<string>();

  constructor(readonly index: TemplateIndex) {}

  node(node: GraphNode, members: readonly Res[], optional = false): void {
    this.nodes.set(node.id, node);
    for (const m of members) this.nodeIds.set(m.key, node.id);
    if (optional) this.optional.add(node.id);
  }

  /** Folds a resource into the node of another (a task definition into its service, a cluster too). */
  fold(member: Res | undefined, into: string | undefined): void {
    if (member && into && this.nodes.has(into)) this.nodeIds.set(member.key, into);
  }

  /** The node a resource is drawn as or folded into. */
  nodeOf(key: string | undefined): string | undefined {
    return key ? this.nodeIds.get(key) : undefined;
  }

  /** Node ids a value refers to (folded resources count as their node). */
  targets(value: Json | undefined, stack: string): string[] {
    return [...new Set([...this.index.refs(value, stack)].flatMap((k) => this.nodeIds.get(k) ?? []))].sort();
  }

  /** Adds an edge; a second edge between the same two nodes adds its label to the first. */
  edge(from: string | undefined, to: string | undefined, label: string, style: GraphEdge['style']): void {
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

  /** The graph: optional nodes no edge reaches are dropped, then edges whose ends were dropped. */
  finish(): ArchitectureGraph {
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
}

/** One entry of the rule tables in nodes.ts and edges.ts: what to draw for the resources of one CloudFormation type. */
export interface Rule {
  readonly type: string;
  /** Called once with every resource of `type` in the assembly, in key order (possibly none). */
  readonly draw: (resources: readonly Res[], g: GraphBuilder) => void;
}

/** A rule that draws each resource of the type on its own. */
export function each(type: string, draw: (r: Res, g: GraphBuilder) => void): Rule {
  return {
    type,
    draw: (resources, g) => {
      for (const r of resources) draw(r, g);
    },
  };
}

/** Applies a rule table in its order: later rules see the nodes (and folds) of earlier ones. */
export function applyRules(rules: readonly Rule[], g: GraphBuilder): void {
  for (const rule of rules) rule.draw(g.index.all(rule.type), g);
}
