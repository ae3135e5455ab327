import { aws_ecs as ecs } from 'aws-cdk-lib';
import { APP_USER, VOLUME_INIT_CONTAINER_NAME, WRITABLE_PATHS } from './web-container';

/**
 * Gives `container` (created with `readonlyRootFilesystem: true`) one writable bind mount per WRITABLE_PATHS entry,
 * and a non-essential init container that makes them writable for APP_USER before `container` starts.
 *
 * Fargate creates an empty bind mount owned by root with mode 0755 unless the image declares the path as a VOLUME
 * with other permissions (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/bind-mounts.html): the app,
 * which runs as APP_USER, could not write `/tmp`. The init container runs the same image as root, with a read-only
 * root filesystem too, changes only the mounts' ownership and mode, and exits; `container` waits for its SUCCESS
 * (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html). The SSM agent of ECS Exec
 * runs as root and needs no change.
 */
export function addWritableMounts(
  taskDefinition: ecs.TaskDefinition,
  container: ecs.ContainerDefinition,
  logging: ecs.LogDriver,
): ecs.ContainerDefinition {
  const mounts = Object.entries(WRITABLE_PATHS).map(([name, containerPath]) => {
    taskDefinition.addVolume({ name });
    return { sourceVolume: name, containerPath, readOnly: false };
  });
  container.addMountPoints(...mounts);

  const init = taskDefinition.addContainer(VOLUME_INIT_CONTAINER_NAME, {
    containerName: VOLUME_INIT_CONTAINER_NAME,
    image: ecs.ContainerImage.fromRegistry(container.imageName),
    essential: false,
    user: '0',
    readonlyRootFilesystem: true,
    entryPoint: ['/bin/sh', '-c'],
    command: [
      `chmod 1777 ${WRITABLE_PATHS.tmp} && chown ${APP_USER} ${WRITABLE_PATHS['app-logs']} && chmod 0750 ${WRITABLE_PATHS['app-logs']}`,
    ],
    logging,
  });
  init.addMountPoints(
    ...mounts.filter((m) => m.containerPath === WRITABLE_PATHS.tmp || m.containerPath === WRITABLE_PATHS['app-logs']),
  );
  container.addContainerDependencies({ container: init, condition: ecs.ContainerDependencyCondition.SUCCESS });
  return init;
}
