import { type App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { stackNames } from '../shared/names';
import type { StageConfig } from './config/stage-config';
import { LogEncryption } from './constructs/log-encryption';
import { DataStack } from './stacks/data-stack';
import { NetworkStack } from './stacks/network-stack';
import { ServiceStack } from './stacks/service-stack';

export interface SoftFactoryStacks {
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly service: ServiceStack;
}

/**
 * Creates one stage's stacks (SoftFactory-<Stage>-Network, -Data, -Service) and runs cdk-nag over them: the
 * AwsSolutions and NIST 800-53 rev 5 packs, both failing synthesis on any unacknowledged finding (README "Compliance").
 */
export function createStacks(app: App, config: StageConfig): SoftFactoryStacks {
  const env = config.account && config.region ? { account: config.account, region: config.region } : undefined;
  const names = stackNames(config.stage);

  const network = new NetworkStack(app, names.network, { env, config });
  const data = new DataStack(app, names.data, { env, config, network: network.network });
  const service = new ServiceStack(app, names.service, {
    env,
    config,
    network: network.network,
    database: data.database,
    logArchive: data.logArchive,
    appSecrets: data.appSecrets,
    backup: data.backup,
  });
  for (const stack of [network, data, service]) {
    Tags.of(stack).add('project', 'softfactory');
    Tags.of(stack).add('stage', config.stage);
    // Every log group of the stack, including those aws-cdk-lib or another construct adds, with the stack's own key.
    new LogEncryption(stack, 'LogEncryption');
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
  return { network, data, service };
}
