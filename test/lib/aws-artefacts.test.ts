/**
 * The app held against AWS's own artefacts rather than our model of AWS: every stage, synthesized both without an
 * environment and with a concrete account/region (what the README's deploy command passes), must pass cdk-nag,
 * conform to the CloudFormation resource specification (@aws-cdk/aws-service-spec), pass AWS's template validator
 * (@aws/cloudformation-validate, the engine inside aws-cdk-lib) with no error, and retain nothing by a fixed name
 * that a rolled-back first create would leave behind.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { STAGES } from '../../lib/config/stage-config';
import { checkTemplateAgainstSpec, primaryIdentifier } from '../helpers/cfn-schema';
import { buildApp, EXAMPLE_ENV } from '../helpers/synth';

type Template = {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;
};

const CASES = STAGES.flatMap((stage) => [
  { name: `${stage}, environment-agnostic`, context: { stage } },
  { name: `${stage}, account ${EXAMPLE_ENV.account} in ${EXAMPLE_ENV.region}`, context: { stage, ...EXAMPLE_ENV } },
]);

/** One synthesis per case (cdk-nag runs as a validation plugin: a finding fails app.synth()). */
function synthesize(context: Record<string, string>): Record<string, Template> {
  const { app, stacks } = buildApp(context);
  const assembly = app.synth();
  return Object.fromEntries(
    [stacks.network, stacks.data, stacks.service].map((s) => [
      s.stackName,
      assembly.getStackByName(s.stackName).template as Template,
    ]),
  );
}

const synthesized = new Map<string, Record<string, Template> | Error>();
function templatesOf(c: (typeof CASES)[number]): Record<string, Template> {
  if (!synthesized.has(c.name)) {
    try {
      synthesized.set(c.name, synthesize(c.context));
    } catch (error) {
      synthesized.set(c.name, error as Error);
    }
  }
  const t = synthesized.get(c.name);
  if (t instanceof Error) throw t;
  return t as Record<string, Template>;
}

const cfv = createRequire(require.resolve('aws-cdk-lib'))('@aws/cloudformation-validate') as {
  CompositeEngine: new (
    config: object,
  ) => {
    validateTemplate(t: unknown, c: object): { diagnostics: { severity: string; ruleId: string; message: string }[] };
  };
  TemplateContent: new (content: string, name: string) => unknown;
};
const engine = new cfv.CompositeEngine({});

/**
 * Warnings of AWS's validator we accept, each for a reason in aws-cdk-lib's output we do not control:
 * W3005 — CDK adds DependsOn entries that a Ref already implies (redundant, harmless);
 * W7001 — aws-cdk-lib's DeliveryStream always adds its Firehose CIDR mapping (used only by VPC destinations);
 * W3010 — with account/region, the VPC's zones are the account's own, from CDK's context lookup (cdk.context.json)
 *         or `availabilityZones`: named on purpose, so a synth is reproducible;
 * W9013 — with a concrete account, aws-cdk-lib writes the stack's own account into ARNs it formats (the ECS
 *         autoscaling service-linked role): the deploy account itself, not a foreign one.
 */
const ACCEPTED_WARNINGS = new Set(['W3005', 'W7001', 'W3010', 'W9013']);

describe('AWS artefacts: cdk-nag, the CloudFormation resource specification, AWS’s template validator', () => {
  for (const c of CASES) {
    it(`synthesizes ${c.name} with no unacknowledged cdk-nag finding`, () => {
      assert.doesNotThrow(() => templatesOf(c));
    });

    it(`conforms to the CloudFormation resource specification: ${c.name}`, () => {
      for (const [stack, template] of Object.entries(templatesOf(c))) {
        const problems = checkTemplateAgainstSpec(template as never);
        assert.deepEqual(
          problems.map((p) => `${stack} ${p.logicalId} (${p.type}) ${p.path}: ${p.message}`),
          [],
        );
      }
    });

    it(`passes AWS's template validator with no error and only known warnings: ${c.name}`, () => {
      for (const [stack, template] of Object.entries(templatesOf(c))) {
        const report = engine.validateTemplate(new cfv.TemplateContent(JSON.stringify(template), stack), {
          detailLevel: 'STANDARD',
          severityLevel: 'WARN',
        });
        const unexpected = report.diagnostics.filter(
          (d) => d.severity === 'ERROR' || d.severity === 'FATAL' || !ACCEPTED_WARNINGS.has(d.ruleId),
        );
        assert.deepEqual(
          unexpected.map((d) => `${stack}: ${d.severity} ${d.ruleId} ${d.message}`),
          [],
        );
      }
    });

    // AWS: "RetainExceptOnCreate … retains a resource on stack deletion or update, but deletes it if the resource
    // was created during a stack operation that rolls back" — with plain Retain, a rolled-back first create keeps the
    // resource and the retry fails on its fixed name with "already exists".
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
    it(`retains no resource with a fixed name under plain Retain (a retry after a failed create would collide): ${c.name}`, () => {
      const offenders: string[] = [];
      for (const [stack, template] of Object.entries(templatesOf(c))) {
        for (const [id, r] of Object.entries(template.Resources)) {
          if (r.DeletionPolicy !== 'Retain') continue;
          const named = primaryIdentifier(r.Type).filter((p) => r.Properties?.[p] !== undefined);
          if (named.length > 0) offenders.push(`${stack} ${id} (${r.Type}: ${named.join(', ')})`);
        }
      }
      assert.deepEqual(offenders, []);
    });
  }

  it('the specification check reports an unknown property, a wrong type, a bad enum value and a missing required one', () => {
    const problems = checkTemplateAgainstSpec({
      Resources: {
        A: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDay: 30 } },
        B: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 31 } },
        C: { Type: 'AWS::SNS::Subscription', Properties: { Protocol: 'lambda' } },
        D: { Type: 'AWS::ECS::Service', Properties: { DesiredCount: 'two' } },
        E: { Type: 'AWS::Nope::Thing', Properties: {} },
      },
    });
    const ids = problems.map((p) => p.logicalId);
    for (const id of ['A', 'B', 'C', 'D', 'E']) assert.ok(ids.includes(id), `no problem reported for ${id}`);
  });

  it("AWS's validator reports an error for a template CloudFormation would refuse", () => {
    const bad = { Resources: { Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: { Ref: 'Missing' } } } } };
    const report = engine.validateTemplate(new cfv.TemplateContent(JSON.stringify(bad), 'bad'), {
      detailLevel: 'STANDARD',
      severityLevel: 'WARN',
    });
    assert.ok(report.diagnostics.some((d) => d.severity === 'ERROR' || d.severity === 'FATAL'));
  });
});
