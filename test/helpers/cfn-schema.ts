/**
 * Checks synthesized resources against AWS's CloudFormation resource specification as aws-cdk-lib itself is generated
 * from it (`@aws-cdk/aws-service-spec`, built from the CloudFormation registry schemas): the type exists, every
 * property is one the type has, required properties are present, and literal values have the declared shape
 * (string / integer with its allowed values / boolean / object type / array / map). Intrinsic functions stand for a
 * value of any type. Nothing here knows our stacks: it is an oracle independent of the code under test.
 */
import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { SpecDatabase } from '@aws-cdk/service-spec-types';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type PropertyType = {
  type: string;
  allowedValues?: readonly (string | number)[];
  element?: PropertyType;
  types?: PropertyType[];
  reference?: { $ref: string };
};
interface PropertySpec {
  required?: boolean;
  type: PropertyType;
  previousTypes?: PropertyType[];
}

let database: SpecDatabase | undefined;
function db(): SpecDatabase {
  database ??= loadAwsServiceSpecSync();
  return database;
}

const INTRINSIC = /^(Ref|Fn::[A-Za-z]+|Condition)$/;
function isIntrinsic(value: Json): boolean {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && INTRINSIC.test(keys[0] as string);
}

export interface SchemaProblem {
  readonly logicalId: string;
  readonly type: string;
  readonly path: string;
  readonly message: string;
}

/** Every problem in one template's resources (an empty list when all conform). */
export function checkTemplateAgainstSpec(template: { Resources?: Record<string, Json> }): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  for (const [logicalId, raw] of Object.entries(template.Resources ?? {})) {
    const resource = raw as { Type: string; Properties?: Record<string, Json> };
    const report = (path: string, message: string) => problems.push({ logicalId, type: resource.Type, path, message });
    if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource') continue;
    const found = db().lookup('resource', 'cloudFormationType', 'equals', resource.Type);
    if (found.length !== 1) {
      report('', `unknown resource type ${resource.Type}`);
      continue;
    }
    const spec = found[0] as unknown as { properties: Record<string, PropertySpec> };
    checkObject(spec.properties, resource.Properties ?? {}, 'Properties', report);
  }
  return problems;
}

function checkObject(
  properties: Record<string, PropertySpec>,
  value: Record<string, Json>,
  path: string,
  report: (path: string, message: string) => void,
): void {
  for (const [name, prop] of Object.entries(properties)) {
    if (prop.required && !(name in value)) report(`${path}.${name}`, 'required property missing');
  }
  for (const [name, v] of Object.entries(value)) {
    const prop = properties[name];
    if (!prop) {
      report(`${path}.${name}`, `not a property of this type (known: ${Object.keys(properties).join(', ')})`);
      continue;
    }
    // A value that fits the current type or one the spec lists as previous is accepted by CloudFormation.
    const candidates = [prop.type, ...(prop.previousTypes ?? [])];
    const errors = candidates.map((t) => collect((r) => checkValue(t, v, `${path}.${name}`, r)));
    if (errors.every((e) => e.length > 0)) for (const [p, m] of errors[0] ?? []) report(p, m);
  }
}

function collect(run: (report: (path: string, message: string) => void) => void): [string, string][] {
  const out: [string, string][] = [];
  run((p, m) => out.push([p, m]));
  return out;
}

function checkValue(type: PropertyType, value: Json, path: string, report: (p: string, m: string) => void): void {
  if (isIntrinsic(value)) return;
  switch (type.type) {
    case 'string':
      if (typeof value !== 'string') report(path, `expected a string, got ${JSON.stringify(value)}`);
      else if (type.allowedValues && !type.allowedValues.includes(value))
        report(path, `"${value}" is not one of ${type.allowedValues.join(', ')}`);
      return;
    case 'integer':
    case 'number':
      // CloudFormation accepts numbers given as strings.
      if (typeof value === 'number' || (typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value))) {
        if (type.allowedValues && !type.allowedValues.includes(Number(value)))
          report(path, `${value} is not one of ${type.allowedValues.join(', ')}`);
      } else report(path, `expected a number, got ${JSON.stringify(value)}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean' && value !== 'true' && value !== 'false')
        report(path, `expected a boolean, got ${JSON.stringify(value)}`);
      return;
    case 'json':
    case 'date-time':
      return;
    case 'null':
      if (value !== null) report(path, 'expected null');
      return;
    case 'tag':
      if (!isObject(value) || !('Key' in value) || !('Value' in value)) report(path, 'expected a {Key, Value} tag');
      return;
    case 'array':
      if (!Array.isArray(value)) report(path, `expected a list, got ${JSON.stringify(value).slice(0, 80)}`);
      else
        for (const [i, item] of value.entries()) checkValue(type.element as PropertyType, item, `${path}.${i}`, report);
      return;
    case 'map':
      if (!isObject(value)) report(path, 'expected a map');
      else
        for (const [k, v] of Object.entries(value)) checkValue(type.element as PropertyType, v, `${path}.${k}`, report);
      return;
    case 'union': {
      const attempts = (type.types ?? []).map((t) => collect((r) => checkValue(t, value, path, r)));
      if (attempts.every((a) => a.length > 0)) report(path, `matches none of the union's types`);
      return;
    }
    case 'ref': {
      const definition = db().get('typeDefinition', type.reference?.$ref as string) as unknown as {
        properties: Record<string, PropertySpec>;
      };
      if (!isObject(value)) report(path, `expected an object, got ${JSON.stringify(value).slice(0, 80)}`);
      else checkObject(definition.properties, value, path, report);
      return;
    }
    default:
      report(path, `unhandled spec type ${type.type}`);
  }
}

function isObject(value: Json): value is { [key: string]: Json } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The resource type's primary identifier (the properties that name it), from the same specification. */
export function primaryIdentifier(type: string): readonly string[] {
  const found = db().lookup('resource', 'cloudFormationType', 'equals', type);
  return found.length === 1 ? ((found[0] as unknown as { primaryIdentifier?: string[] }).primaryIdentifier ?? []) : [];
}
