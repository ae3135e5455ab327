/**
 * Graphviz DOT for an architecture graph: one cluster per stack, sub-clusters per concern in a stack that has several,
 * a fill and border colour per category, and the legend in the heading. Pure: graph in, text out.
 */
import { type ArchitectureGraph, type Category, type GraphNode, USERS } from './model';

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
