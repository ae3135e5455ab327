import { NIST80053R5Checks } from 'cdk-nag';
import { buildApp } from './test/helpers/synth';
const stage = process.argv[2] ?? 'prod';
const { stacks } = buildApp({ stage });
for (const s of [stacks.network, stacks.data, stacks.service]) {
  for (const v of new NIST80053R5Checks().validateScope(s).violations) for (const r of v.violatingResources) console.log(v.ruleName.replace('NIST.800.53.R5-',''), r.constructPath);
}
