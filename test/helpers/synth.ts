/** Builds the real app (cdk.json feature flags + context overrides) for infrastructure tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Aspects, CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { createStacks, type SoftFactoryStacks } from '../../lib/app';
import type { TemplatePin } from '../../lib/checklist/coverage';
import { loadConfig } from '../../lib/config/load-config';
import type { StageConfig } from '../../lib/config/stage-config';

const root = join(__dirname, '..', '..');
const cdkJson = JSON.parse(readFileSync(join(root, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
/** The committed context file (CDK's lookups, e.g. the example account's availability zones), as `cdk synth` reads it. */
const cdkContext = JSON.parse(readFileSync(join(root, 'cdk.context.json'), 'utf8')) as Record<string, unknown>;

/** The concrete environment the tests synthesize with (the one the README's deploy command shows). */
export const EXAMPLE_ENV = { account: '123456789012', region: 'eu-west-1' } as const;

/**
 * The certificate a synth in a concrete account is given when the test names none: the config refuses the
 * placeholder once account and region are set (a deploy would fail at the HTTPS listener).
 */
export const EXAMPLE_CERTIFICATE = {
  certificateArn: `arn:aws:acm:${EXAMPLE_ENV.region}:${EXAMPLE_ENV.account}:certificate/12345678-1234-1234-1234-123456789012`,
  domainName: 'app.example.com',
} as const;

/** The context as given, plus EXAMPLE_CERTIFICATE and EXAMPLE_ALARM_EMAIL for an account-specific synth that sets neither. */
function withCertificate(context: Record<string, string>): Record<string, string> {
  if (context['account'] === undefined) return context;
  const chosen = ['certificateArn', 'hostedZoneId', 'zoneName'].some((key) => key in context);
  const withCert = chosen ? context : { ...EXAMPLE_CERTIFICATE, ...context };
  // Staging and prod refuse an account-specific config with no alarm recipient: give the example one unless set.
  return 'alarmEmails' in withCert ? withCert : { alarmEmails: EXAMPLE_ALARM_EMAIL, ...withCert };
}

/** The alarm recipient an account-specific synth is given when the test names none. */
export const EXAMPLE_ALARM_EMAIL = 'oncall@example.com';

export interface SynthResult {
  readonly app: App;
  readonly config: StageConfig;
  readonly stacks: SoftFactoryStacks;
  readonly network: Template;
  readonly data: Template;
  readonly service: Template;
}

/**
 * The app and its stacks from the stage defaults and `context` (as `-c`), not config/<stage>.json: template tests do
 * not move when an operator edits a stage file (test/lib/config-files.test.ts loads the committed files). Not yet
 * synthesized (so a test may still add constructs). Lambda bundling is skipped
 * (`aws:cdk:bundling-stacks`: none) unless `bundle` is set: one test bundles for real, the rest assert templates.
 */
export function buildApp(
  context: Record<string, string> = {},
  options: { bundle?: boolean } = {},
): Pick<SynthResult, 'app' | 'config' | 'stacks'> {
  const bundling = options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] };
  const given = withCertificate(context);
  const app = new App({ context: { ...cdkContext, ...cdkJson.context, ...bundling, ...given } });
  const config = loadConfig((key) => app.node.tryGetContext(key), Object.keys(given));
  const stacks = createStacks(app, config);
  const removed = process.env[REMOVE_PROPERTY_ENV];
  if (removed) removeProperty(stacks, JSON.parse(removed) as TemplatePin);
  return { app, config, stacks };
}

/**
 * Set by test/lib/checklist-pins.test.ts when it runs a referenced test with one template property removed: every app
 * the tests build then lacks that property (`addPropertyDeletionOverride` on every resource of the pinned type).
 */
export const REMOVE_PROPERTY_ENV = 'SFDEPLOY_TEST_REMOVE_PROPERTY';

function removeProperty(stacks: SoftFactoryStacks, pin: TemplatePin): void {
  Aspects.of(stacks[pin.stack]).add({
    visit(node) {
      if (node instanceof CfnResource && node.cfnResourceType === pin.type)
        node.addPropertyDeletionOverride(pin.property);
    },
  });
}

export function synthApp(context: Record<string, string> = {}, options: { bundle?: boolean } = {}): SynthResult {
  const { app, config, stacks } = buildApp(context, options);
  return {
    app,
    config,
    stacks,
    network: Template.fromStack(stacks.network),
    data: Template.fromStack(stacks.data),
    service: Template.fromStack(stacks.service),
  };
}

/** The resources of one type in a template, keyed by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, { Properties: Record<string, unknown> }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, unknown> }>;
}

export function only<T>(record: Record<string, T>, what: string): T {
  const values = Object.values(record);
  if (values.length !== 1) throw new Error(`expected exactly one ${what}, found ${values.length}`);
  return values[0]!;
}
