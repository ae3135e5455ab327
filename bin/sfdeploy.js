#!/usr/bin/env node
// Thin launcher: the CLI is TypeScript, run through tsx so `npx sfdeploy` works in the repo without a build step.
require('tsx/cjs');
void require('./sfdeploy.ts').main();
