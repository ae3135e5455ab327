/**
 * The CloudFormation side of the diagram: the template types, the JSON helpers, and a `TemplateIndex` over every
 * resource of one cloud assembly that resolves references (Ref, Fn::GetAtt, Fn::Sub, cross-stack outputs) and names
 * resources from their construct paths. The node and edge rules (nodes.ts, edges.ts) read templates only through it.
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

/** One resource of the assembly, keyed `<stack>/<logicalId>`. */
export interface Res {
  readonly key: string;
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly props: { [key: string]: Json };
  readonly path: string;
}

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

export function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: Json | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function arr(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : [];
}

/** Every resource of the assembly's stacks, with the lookups the rules need. */
export class TemplateIndex {
  readonly resources: ReadonlyMap<string, Res>;

  constructor(private readonly stacks: readonly StackTemplate[]) {
    const resources = new Map<string, Res>();
    for (const { stackName, template } of stacks) {
      for (const [logicalId, r] of Object.entries(template.Resources ?? {})) {
        const key = `${stackName}/${logicalId}`;
        // Without path metadata (cdk synth writes it; Template.fromStack does not), the logical id minus its hash.
        const path = str(r.Metadata?.['aws:cdk:path']) ?? `${stackName}/${logicalId.replace(/[0-9A-F]{8}$/, '')}`;
        resources.set(key, { key, stack: stackName, logicalId, type: r.Type, props: r.Properties ?? {}, path });
      }
    }
    this.resources = resources;
  }

  /** The resources of one type, in key order. */
  all(type: string): Res[] {
    return [...this.resources.values()].filter((r) => r.type === type).sort((a, b) => a.key.localeCompare(b.key));
  }

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

  /** A value with pseudo parameters rendered as {AWS::AccountId} etc., for matching names built by Fn::Join. */
  render(value: Json | undefined): string {
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

  /** The construct's name from its path: "Stack/LoadBalancer/Blue/Resource" → "Blue". */
  name(r: Res): string {
    const parts = r.path.split('/').filter((p) => p !== 'Resource' && p !== 'Default' && p !== r.stack);
    return parts[parts.length - 1] ?? r.logicalId;
  }

  firstName(r: Res): string {
    const parts = r.path.split('/').filter((p) => p !== r.stack);
    return parts[0] ?? r.logicalId;
  }

  /** The construct path without the stack and CDK's generic child names: "Rollback/DeadLetters/Resource" → "Rollback DeadLetters". */
  pathName(r: Res): string {
    const parts = r.path.split('/').filter((p) => p !== r.stack && !GENERIC_IDS.has(p));
    return parts.length > 0 ? parts.join(' ') : r.logicalId;
  }
}
