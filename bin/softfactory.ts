/**
 * The CDK app: parse the stage config once (config/<stage>.json under `-c key=value`), create the stacks. A config
 * mistake is one line on stderr and exit code 2, nothing else (cdk.json runs this file with plain `node`, no npx).
 */
import { App } from 'aws-cdk-lib';
import { createStacks } from '../lib/app';
import { ConfigError, loadConfig, REPO_ROOT } from '../lib/config/load-config';

const app = new App();
try {
  const config = loadConfig((key) => app.node.tryGetContext(key), Object.keys(app.node.getAllContext?.() ?? {}), {
    root: REPO_ROOT,
  });
  createStacks(app, config);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    // exit now: App synthesizes on 'beforeExit', which would write an empty assembly after the error.
    process.exit(2);
  }
  throw error;
}
