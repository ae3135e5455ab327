/**
 * What `sfdeploy preflight` and `sfdeploy deploy` know about one stage before asking AWS anything: its validated
 * config (the same rules as `cdk synth`), the `-c key=value` context handed on to the CDK CLI, and the physical names
 * the stacks give their resources. The names are fixed in lib/ (test/bin/preflight-names.test.ts proves they match
 * the synthesized templates).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StageConfig } from '../../lib/config/stage-config';
import { repositoryRoot } from '../../lib/repository-root';
import {
  alarmTopicName,
  clusterName,
  functionName,
  smokeTokenSecretName,
  stackNames,
  webServiceName,
} from '../../shared/names';
import type { Stage } from '../../shared/stages';
import { UsageError } from '../cli/support';

/** The repository root: where cdk.json lives, where the CDK CLI runs, and what `imageDirectory` is relative to. */
export const PROJECT_DIR = repositoryRoot();

/** The CDK stack names of a stage (shared/names.ts, as lib/app.ts creates them). */
export { stackNames };

/** Physical names of the resources preflight looks at (shared/names.ts). */
export function resourceNames(stage: Stage) {
  return {
    cluster: clusterName(stage),
    service: webServiceName(stage),
    alarmTopic: alarmTopicName(stage),
    smokeTokenSecret: smokeTokenSecretName(stage),
    rollbackFunction: functionName(stage, 'rollback'),
  };
}

/** The default bootstrap qualifier (aws-cdk-lib DefaultStackSynthesizer.DEFAULT_QUALIFIER). */
export const DEFAULT_BOOTSTRAP_QUALIFIER = 'hnb659fds';

/** `key=value` pairs from repeated `-c/--context` options; a pair without `=` is a usage error. */
export function parseContextPairs(pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`-c expects key=value (e.g. -c domainName=app.example.com), got "${pair}"`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

interface CdkJson {
  readonly context?: Record<string, unknown>;
}

function readCdkJson(projectDir: string): CdkJson {
  try {
    return JSON.parse(readFileSync(join(projectDir, 'cdk.json'), 'utf8')) as CdkJson;
  } catch {
    return {};
  }
}

export interface StageSetup {
  readonly stage: Stage;
  readonly config: StageConfig;
  /** `-c` values for the CDK CLI, stage excluded (it is always passed as `-c stage=<s>`). */
  readonly context: Readonly<Record<string, string>>;
  readonly bootstrapQualifier: string;
}

/**
 * Validates the stage config as `cdk synth` would: cdk.json's context for our keys, then `-c` pairs, then
 * `--image-tag`. A config mistake is a UsageError (exit 2) with the config's own one-line message.
 */
export async function loadStageSetup(
  stage: Stage,
  contextPairs: readonly string[],
  imageTag: string | undefined,
  projectDir: string = PROJECT_DIR,
): Promise<StageSetup> {
  const { ConfigError, loadStageConfig } = await import('../../lib/config/load-config');
  const context = parseContextPairs(contextPairs);
  if ('stage' in context) throw new UsageError('pass the stage as --stage, not -c stage=…');
  if (imageTag !== undefined) {
    if (context['imageTag'] !== undefined && context['imageTag'] !== imageTag) {
      throw new UsageError(`--image-tag ${imageTag} and -c imageTag=${context['imageTag']} disagree: give one`);
    }
    context['imageTag'] = imageTag;
  }
  // cdk.json's context holds no config key (the config refuses one there); it is read for the bootstrap qualifier.
  const cdkJson = readCdkJson(projectDir).context ?? {};
  try {
    // The config refuses imageTag with an `image` or `imageDirectory` source, wherever each was set.
    const config = loadStageConfig(stage, context, projectDir);
    const qualifier = cdkJson['@aws-cdk/core:bootstrapQualifier'];
    return {
      stage,
      config,
      context,
      bootstrapQualifier: typeof qualifier === 'string' ? qualifier : DEFAULT_BOOTSTRAP_QUALIFIER,
    };
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
}

/** ECR's registry host for a region (`.amazonaws.com.cn` in the China partition). */
function ecrHost(account: string, region: string): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/**
 * The image the web container must run after the deploy, as ECS reports it (`containerImages[].image`): the ECR URI
 * CDK's `ContainerImage.fromEcrRepository` renders, or the configured registry name. An image built from a directory
 * gets an asset-hash tag only the synthesized template knows: undefined (any image is accepted).
 */
export function expectedImage(config: StageConfig, account: string, region: string): string | undefined {
  switch (config.image.kind) {
    case 'ecr':
      return `${ecrHost(account, region)}/${config.image.repository}:${config.image.tag}`;
    case 'registry':
      return config.image.name;
    case 'directory':
      return undefined;
  }
}
