/**
 * The architecture graph's own types: what nodes.ts and edges.ts produce and dot.ts draws. Kept apart from graph.ts
 * (which composes the rules) so that the rule files and the renderer import the model without importing each other.
 */

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

/** The node drawn for the internet's users, outside every stack. */
export const USERS = 'external:users';
/** The node drawn for the on-call e-mail addresses an SNS topic delivers to. */
export const EMAIL = 'external:email';
