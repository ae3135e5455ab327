/**
 * The `image` check: the image tag the stage deploys exists in its ECR repository.
 * One concern of the preflight (checks.ts runs them all).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type CheckResult, errorName, fail, type PreflightClients, type PreflightInput, pass, skipped } from './common';
import { expectedImage } from './stage';

export async function checkImage(c: PreflightClients, input: PreflightInput, account: string): Promise<CheckResult> {
  const id = 'image';
  const image = input.config.image;
  if (image.kind === 'registry') {
    return skipped(id, `${image.name} is outside ECR: ECS pulls it during the deploy; not checked here`);
  }
  if (image.kind === 'directory') {
    const dockerfile = join(input.projectDir, image.path, 'Dockerfile');
    return existsSync(dockerfile)
      ? pass(id, `${join(image.path, 'Dockerfile')} found: cdk deploy builds and pushes it (Docker required)`)
      : fail(id, `no Dockerfile in ${image.path}`, 'set -c imageDirectory=<folder with SoftFactory’s Dockerfile>');
  }
  const uri = expectedImage(input.config, account, input.region) ?? image.tag;
  // DescribeImages with imageIds answers one detail per found image and ImageNotFoundException otherwise
  // (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html).
  const { DescribeImagesCommand } = await import('@aws-sdk/client-ecr');
  try {
    const out = await c.ecr.send(
      new DescribeImagesCommand({ repositoryName: image.repository, imageIds: [{ imageTag: image.tag }] }),
    );
    const detail = out.imageDetails?.[0];
    if (!detail)
      return fail(id, `${uri} is not in ECR`, `push it (docker push ${uri}), or pass --image-tag <pushed tag>`);
    const pushed = detail.imagePushedAt ? `, pushed ${detail.imagePushedAt.toISOString().slice(0, 10)}` : '';
    return pass(id, `${uri} (${detail.imageDigest?.slice(0, 19) ?? 'no digest'}…${pushed})`);
  } catch (error) {
    if (errorName(error) === 'ImageNotFoundException') {
      return fail(
        id,
        `tag ${image.tag} is not in repository ${image.repository}`,
        `push it (docker push ${uri}), or pass --image-tag <pushed tag>`,
      );
    }
    if (errorName(error) === 'RepositoryNotFoundException') {
      return fail(
        id,
        `no ECR repository ${image.repository} in ${account}/${input.region}`,
        `aws ecr create-repository --repository-name ${image.repository}, then push ${uri}`,
      );
    }
    throw error;
  }
}
