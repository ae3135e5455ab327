/**
 * The architecture graph of a synthesized app, from its CloudFormation templates: the main resources of each stack
 * and the edges their properties prove (a listener's target groups, a hook's function, an alarm's action…).
 *
 * Pure: templates in, graph out, DOT text out. Nothing is drawn that no template property says; cross-stack references
 * (`Fn::GetStackOutput`, `Fn::ImportValue`) are followed to the resource in the other stack.
 *
 * This file composes the parts and is the module scripts/diagram.ts and its tests import:
 *   template.ts  the CloudFormation types and the index that resolves references and names resources
 *   nodes.ts     NODE_RULES, one per resource type drawn
 *   edges.ts     EDGE_RULES, one per resource type whose properties prove an edge
 *   builder.ts   the graph under construction (folding, edge merging, optional nodes)
 *   dot.ts       the Graphviz rendering
 */
import { applyRules, GraphBuilder } from './builder';
import { EDGE_RULES } from './edges';
import type { ArchitectureGraph } from './model';
import { NODE_RULES, USERS_NODE } from './nodes';
import { type StackTemplate, TemplateIndex } from './template';

export { diagramTitle, toDot } from './dot';
export type { ArchitectureGraph, Category, GraphEdge, GraphNode } from './model';
export type { CfnResource, CfnTemplate, Json, StackTemplate } from './template';

/** Builds the graph of all stacks of one cloud assembly: every node rule, then every edge rule, in table order. */
export function buildGraph(stacks: readonly StackTemplate[]): ArchitectureGraph {
  const g = new GraphBuilder(new TemplateIndex(stacks));
  g.node(USERS_NODE, [], true);
  applyRules(NODE_RULES, g);
  applyRules(EDGE_RULES, g);
  return g.finish();
}
