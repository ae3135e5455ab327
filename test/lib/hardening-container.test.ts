/**
 * Issue 13: the `web` container with a read-only root filesystem, writable only where the app and ECS Exec write.
 * Fargate bind mounts: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  APP_USER,
  CONTAINER_NAME,
  VOLUME_INIT_CONTAINER_NAME,
  WRITABLE_PATHS,
} from '../../lib/constructs/web-container';
import { only, resourcesOf, synthApp } from '../helpers/synth';

interface Container {
  Name: string;
  Image: unknown;
  Essential?: boolean;
  User?: string;
  ReadonlyRootFilesystem?: boolean;
  MountPoints?: { SourceVolume: string; ContainerPath: string; ReadOnly: boolean }[];
  DependsOn?: { ContainerName: string; Condition: string }[];
  Command?: string[];
}

for (const stage of ['prod', 'dev'] as const) {
  describe(`the ${stage} web task's filesystem`, () => {
    const r = synthApp({ stage });
    const task = only(resourcesOf(r.service, 'AWS::ECS::TaskDefinition'), 'task definition');
    const containers = task.Properties['ContainerDefinitions'] as Container[];
    const byName = (name: string) => containers.find((c) => c.Name === name)!;
    const web = byName(CONTAINER_NAME);
    const init = byName(VOLUME_INIT_CONTAINER_NAME);

    it('runs the web container with a read-only root filesystem, as the unprivileged app user', () => {
      assert.equal(web.ReadonlyRootFilesystem, true);
      assert.equal(web.User, APP_USER);
    });

    it('mounts writable volumes in web only at /tmp, /app/logs and ECS Exec’s agent directories', () => {
      assert.deepEqual((web.MountPoints ?? []).map((m) => [m.ContainerPath, m.SourceVolume, m.ReadOnly]).sort(), [
        ['/app/logs', 'app-logs', false],
        ['/managed-agents', 'managed-agents', false],
        ['/tmp', 'tmp', false],
        ['/var/lib/amazon/ssm', 'ssm-state', false],
        ['/var/log/amazon/ssm', 'ssm-logs', false],
      ]);
      assert.deepEqual(Object.values(WRITABLE_PATHS).sort(), web.MountPoints!.map((m) => m.ContainerPath).sort());
    });

    it('declares each volume as a task-scoped bind mount (no host path, no EFS: gone with the task)', () => {
      const volumes = task.Properties['Volumes'] as Record<string, unknown>[];
      assert.deepEqual(volumes.map((v) => v['Name']).sort(), Object.keys(WRITABLE_PATHS).sort());
      for (const volume of volumes) assert.deepEqual(Object.keys(volume), ['Name']);
    });

    it('hands /tmp and /app/logs to the app user in a non-essential root init container that web waits for', () => {
      assert.equal(containers.length, 2);
      assert.equal(init.Essential, false);
      assert.equal(init.User, '0');
      assert.equal(init.ReadonlyRootFilesystem, true);
      assert.deepEqual(init.Image, web.Image, 'the same image: no second registry to trust');
      assert.deepEqual((init.MountPoints ?? []).map((m) => m.ContainerPath).sort(), ['/app/logs', '/tmp']);
      assert.match(init.Command!.join(' '), /chmod 1777 \/tmp/);
      assert.match(init.Command!.join(' '), new RegExp(`chown ${APP_USER} /app/logs`));
      assert.deepEqual(web.DependsOn, [{ ContainerName: VOLUME_INIT_CONTAINER_NAME, Condition: 'SUCCESS' }]);
    });
  });
}
