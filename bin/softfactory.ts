/** The CDK app: parse the stage config once, create the stacks. */
import { App } from 'aws-cdk-lib';
import { createStacks } from '../lib/app';
import { ConfigError, loadConfig } from '../lib/config/load-config';

const app = new App();
try {
  const config = loadConfig((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext?.() ?? {}));
  createStacks(app, config);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  throw error;
}
