/**
 * Every bundle of the in-AWS migration runner, tested the way Lambda runs it: synthesized with a migration source,
 * the function's asset directory copied ALONE from cdk.out into a fresh directory (no node_modules, no repository
 * beside it), its index.js required in a child process as the Node.js runtime does, and its handler invoked with
 * CloudFormation custom resource events as the CDK provider framework passes them — with every AWS endpoint
 * unreachable. Nothing may fail at load; each event gets an answer or a clean, named failure.
 *
 * Event shapes: CloudFormation custom resource requests
 * (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html), as the provider framework
 * hands them to onEvent, and to isComplete "combined with all fields returned from onEvent"
 * (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.custom_resources-readme.html#asynchronous-providers-iscomplete).
 * The provider framework's own functions (framework-onEvent/isComplete/onTimeout) are aws-cdk-lib's code and rely
 * on the runtime's AWS SDK, so they are not ours to load here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BundleSet } from '../helpers/lambda-bundle';
import { synthApp } from '../helpers/synth';

const work = mkdtempSync(join(tmpdir(), 'sf-runner-bundles-'));
const sqlite = join(work, 'platform.db');
writeFileSync(sqlite, 'SQLite format 3\0');

const set = new BundleSet();
const bundles = set.bundles;
let outdir = '';

before(() => {
  const synth = synthApp({ stage: 'prod', migrationSource: sqlite }, { bundle: true });
  outdir = synth.app.synth().directory;
  set.add(outdir, synth.stacks.data, (name) => name.startsWith('softfactory-prod-migrate'));
});

after(() => {
  set.dispose();
  rmSync(work, { recursive: true, force: true });
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const invoke = (functionName: string, event: Record<string, unknown>) => set.invoke(functionName, event);

const STACK_ID =
  'arn:aws:cloudformation:xx-fake-1:123456789012:stack/SoftFactory-Prod-Data/5b5f4a60-0000-0000-0000-000000000000';
const PROPS = { SourceUri: 's3://cdk-assets/0123abcd.db', SourceVersion: 'a'.repeat(64) };

/** A CloudFormation custom resource request as the provider framework passes it on (ResponseURL redacted). */
function request(type: 'Create' | 'Update' | 'Delete', physicalId?: string): Record<string, unknown> {
  return {
    RequestType: type,
    ServiceToken: 'arn:aws:lambda:xx-fake-1:123456789012:function:provider',
    ResponseURL: '...',
    StackId: STACK_ID,
    RequestId: `req-${type}`,
    LogicalResourceId: 'MigrationMigration',
    ResourceType: 'Custom::SoftFactoryMigration',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:xx-fake-1:123456789012:function:provider', ...PROPS },
    ...(physicalId ? { PhysicalResourceId: physicalId } : {}),
    ...(type === 'Update'
      ? { OldResourceProperties: { ...PROPS, SourceVersion: 'b'.repeat(64) }, PhysicalResourceId: physicalId }
      : {}),
  };
}

describe('migration runner bundles, loaded from cdk.out with only their own files', () => {
  it('ships exactly two functions of ours: the starter and the worker', () => {
    assert.deepEqual([...bundles.keys()].sort(), ['softfactory-prod-migrate', 'softfactory-prod-migrate-start']);
    for (const b of bundles.values()) {
      assert.ok(readdirSync(b.dir).includes('index.js'));
      assert.ok(!readdirSync(b.dir).includes('node_modules'));
    }
  });

  it('starter (onEvent): loads and names the resource on Create, Update and Delete', () => {
    const created = invoke('softfactory-prod-migrate-start', request('Create'));
    assert.equal(created.phase, 'answer', JSON.stringify(created));
    const id = (created as { value: { PhysicalResourceId: string } }).value.PhysicalResourceId;
    assert.match(id, /^sfdeploy-migrate-[0-9a-f]{16}$/);
    const updated = invoke('softfactory-prod-migrate-start', request('Update', 'sfdeploy-migrate-0000000000000000'));
    assert.equal(updated.phase, 'answer', JSON.stringify(updated));
    assert.equal((updated as { value: { PhysicalResourceId: string } }).value.PhysicalResourceId, id);
    const deleted = invoke('softfactory-prod-migrate-start', request('Delete', id));
    assert.deepEqual(deleted.phase, 'answer', JSON.stringify(deleted));
    assert.equal((deleted as { value: { PhysicalResourceId: string } }).value.PhysicalResourceId, id);
  });

  it('worker (isComplete): loads, fails Create and Update cleanly when S3 is unreachable, and completes Delete', () => {
    const started = invoke('softfactory-prod-migrate-start', request('Create'));
    assert.equal(started.phase, 'answer', JSON.stringify(started));
    const fromOnEvent = (started as { value: Record<string, unknown> }).value;
    for (const type of ['Create', 'Update'] as const) {
      const outcome = invoke('softfactory-prod-migrate', { ...request(type, 'x'), ...fromOnEvent });
      assert.equal(outcome.phase, 'invoke', JSON.stringify(outcome));
      const failure = outcome as { name: string; message: string };
      assert.doesNotMatch(failure.name, /ImportModule|Runtime|SyntaxError|TypeError|ReferenceError/);
      assert.match(failure.message, /ECONNREFUSED|connect/i, JSON.stringify(outcome));
    }
    const deleted = invoke('softfactory-prod-migrate', { ...request('Delete', 'sfdeploy-migrate-0123'), ...{} });
    assert.deepEqual(deleted, { phase: 'answer', value: { IsComplete: true } });
  });
});
