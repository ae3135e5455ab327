/**
 * The `bootstrap` check: the CDK bootstrap stack of the stage's account and region exists, with the qualifier the app
 * synthesizes for, at the version its templates require (read from the cloud assembly when there is one).
 * One concern of the preflight (checks.ts runs them all).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Stage } from '../../shared/stages';
import {
  type CheckResult,
  describeStack,
  errorName,
  fail,
  type PreflightClients,
  type PreflightInput,
  pass,
} from './common';
import { stackNames } from './stage';

/**
 * aws-cdk-lib's DefaultStackSynthesizer requires bootstrap version 6 to deploy (MIN_BOOTSTRAP_STACK_VERSION): every
 * template it synthesizes carries the CheckBootstrapVersion rule "CDK bootstrap stack version 6 required", and the
 * stack artifacts in cdk.out say `requiresBootstrapStackVersion: 6`. Used when no cloud assembly of this stage exists
 * yet (preflight before the first synth); an assembly, when present, is the authority.
 */
export const DEFAULT_REQUIRED_BOOTSTRAP_VERSION = 6;

export interface BootstrapRequirement {
  readonly version: number;
  readonly ssmParameter: string;
  readonly source: string;
}

interface ManifestArtifact {
  readonly type?: string;
  readonly properties?: { requiresBootstrapStackVersion?: number; bootstrapStackVersionSsmParameter?: string };
}

/**
 * The bootstrap version this stage's synthesized stacks and asset manifests require (cdk.out/manifest.json, the
 * cloud assembly schema's `requiresBootstrapStackVersion`), or the synthesizer's documented minimum when the assembly
 * does not hold this stage.
 */
export function requiredBootstrapVersion(
  stage: Stage,
  qualifier: string,
  assemblyDir: string | undefined,
): BootstrapRequirement {
  const fallback = {
    version: DEFAULT_REQUIRED_BOOTSTRAP_VERSION,
    ssmParameter: `/cdk-bootstrap/${qualifier}/version`,
    source: 'the CDK synthesizer’s minimum',
  };
  if (!assemblyDir) return fallback;
  let artifacts: Record<string, ManifestArtifact>;
  try {
    const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as {
      artifacts?: Record<string, ManifestArtifact>;
    };
    artifacts = manifest.artifacts ?? {};
  } catch {
    return fallback;
  }
  const names = Object.values(stackNames(stage)).flatMap((name) => [name, `${name}.assets`]);
  const found = names.map((name) => artifacts[name]?.properties).filter((p) => p !== undefined);
  const versions = found.map((p) => p.requiresBootstrapStackVersion ?? 0).filter((v) => v > 0);
  if (versions.length === 0) return fallback;
  return {
    version: Math.max(...versions),
    ssmParameter:
      found.find((p) => p.bootstrapStackVersionSsmParameter)?.bootstrapStackVersionSsmParameter ??
      fallback.ssmParameter,
    source: 'the synthesized cdk.out',
  };
}

export async function checkBootstrap(
  c: PreflightClients,
  input: PreflightInput,
  account: string,
): Promise<CheckResult> {
  const id = 'bootstrap';
  const bootstrap = `npx cdk bootstrap aws://${account}/${input.region}`;
  const required = requiredBootstrapVersion(input.stage, input.bootstrapQualifier, input.assemblyDir);
  const stack = await describeStack(c.cloudformation, 'CDKToolkit');
  if (!stack) return fail(id, `no CDKToolkit stack in ${account}/${input.region}`, `run \`${bootstrap}\``);
  const status = stack.StackStatus ?? 'UNKNOWN';
  if (status.endsWith('_IN_PROGRESS')) {
    return fail(id, `CDKToolkit is ${status}`, 'wait for the bootstrap stack update to finish, then retry');
  }
  if (!['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE'].includes(status)) {
    return fail(
      id,
      `CDKToolkit is ${status}`,
      `read its events in the CloudFormation console, then run \`${bootstrap}\``,
    );
  }
  // The deploy reads the version from this SSM parameter (the template's BootstrapVersion parameter and the CLI's
  // check both do); the stack output is the same number for the default toolkit stack.
  const { GetParameterCommand } = await import('@aws-sdk/client-ssm');
  let version: number;
  try {
    const out = await c.ssm.send(new GetParameterCommand({ Name: required.ssmParameter }));
    version = Number(out.Parameter?.Value);
  } catch (error) {
    if (errorName(error) !== 'ParameterNotFound') throw error;
    return fail(
      id,
      `CDKToolkit exists but ${required.ssmParameter} does not (bootstrapped with another qualifier?)`,
      `run \`${bootstrap}\`${input.bootstrapQualifier === 'hnb659fds' ? '' : ` --qualifier ${input.bootstrapQualifier}`}`,
    );
  }
  const output = stack.Outputs?.find((o) => o.OutputKey === 'BootstrapVersion')?.OutputValue;
  if (!Number.isFinite(version)) version = Number(output);
  if (!Number.isFinite(version)) {
    return fail(id, `no readable bootstrap version in ${required.ssmParameter}`, `run \`${bootstrap}\``);
  }
  if (version < required.version) {
    return fail(
      id,
      `bootstrap version ${version}; this app needs at least ${required.version} (${required.source})`,
      `run \`${bootstrap}\` to upgrade it`,
    );
  }
  return pass(id, `CDKToolkit ${status}, version ${version} (needs ≥ ${required.version}, ${required.source})`);
}
