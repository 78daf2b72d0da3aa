import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnavailableError } from '@forklift/contract';
import { ensureHostCommands, type HostCommand } from '../prerequisites.js';
import type { ListedNode, Provider, ProviderContext } from '../provider.js';
import { rootfsName } from '../rootfs.js';
import { LxdApiError } from './lxd-api.js';
import { checkNamedObjects, connect, listed, type Connection } from './lxd-connection.js';
import { makeNode, serialQueue, type CreateContext } from './lxd-create.js';
import { destroyAll } from './lxd-destroy.js';
import { ensureLxdImageFile, hasImage, IMAGE_RECIPE, importImage, resolveImage, type LxdImageFile } from './lxd-image.js';
import { instanceName, type LxdInstance } from './lxd-instances.js';
import { parseLxdOptions, type LxdServiceOptions } from './lxd-options.js';

/** The image every node starts from: the service's own, or forklift's Debian image imported once. */
async function imageFingerprint(ctx: ProviderContext, connection: Connection): Promise<string> {
  const { api, options, file } = connection;
  if (options.image) return resolveImage(api, options.image, file);
  const rootfs = await ctx.ensureRootfs({ suite: options.suite, include: options.include });
  const image = await ensureLxdImageFile(ctx, rootfs);
  return importImage(ctx, api, image);
}

/** The image file of this service's rootfs when it was built (without building it). */
async function builtImage(ctx: ProviderContext, options: LxdServiceOptions): Promise<LxdImageFile | undefined> {
  const file = join(ctx.imagesDir, `${rootfsName({ suite: options.suite, include: options.include })}-${IMAGE_RECIPE}`, 'image.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as LxdImageFile;
}

/**
 * lxd: nodes are system containers (or VMs) of an LXD or Incus cluster, reached through its REST
 * API (unix socket or HTTPS with mutual TLS); the cluster itself holds their state.
 */
export const provider: Provider = {
  name: 'lxd',
  canCreate: true,
  async prerequisites(ctx) {
    const options = parseLxdOptions(ctx.service);
    const needed: HostCommand[] = [
      { command: 'ssh-keygen', package: 'openssh-client' },
      { command: 'flock', package: 'util-linux' },
    ];
    // forklift's own image is built on this machine from the Debian rootfs
    if (!options.image)
      needed.push({ command: 'debootstrap', package: 'debootstrap' }, { command: 'tar', package: 'tar' }, { command: 'chroot', package: 'coreutils' });
    await ensureHostCommands(needed, ctx.log, 'the lxd provider');
    await checkNamedObjects(await connect(ctx));
  },
  async list(ctx, group) {
    const nodes = await listed(ctx, await connect(ctx));
    return group === undefined ? nodes : nodes.filter((node) => node.node.group === group);
  },
  async create(ctx, specs) {
    const connection = await connect(ctx);
    const fingerprint = await imageFingerprint(ctx, connection);
    const key = await ctx.sshKey();
    const made: CreateContext = { connection, fingerprint, publicKey: key.publicKey, privateKeyPath: key.privateKeyPath, serially: serialQueue() };
    // creation times in id order (a millisecond apart): "newest first" is well defined for nodes made together
    const now = Date.now();
    const results = await Promise.allSettled(specs.map((spec, index) => makeNode(ctx, made, spec, now + index)));
    const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed.length) {
      // no half-made node stays behind (the ones that answered go too: the call failed as a whole)
      await destroyAll(
        connection.api,
        specs.map((spec) => ({ id: spec.id, instance: instanceName(ctx, spec.id) })),
      ).catch((error: unknown) => ctx.log(String((error as Error).message)));
      throw failed[0]!.reason;
    }
    return results.map((result) => (result as PromiseFulfilledResult<ListedNode>).value);
  },
  async destroy(ctx, nodes) {
    const { api } = await connect(ctx);
    const reachable = nodes.filter((node) => node.unreachable === undefined);
    await destroyAll(
      api,
      reachable.map((node) => ({ id: node.node.id, instance: String(node.handle?.instance ?? instanceName(ctx, node.node.id)) })),
    );
    const unreachable = nodes.filter((node) => node.unreachable !== undefined);
    if (unreachable.length) {
      throw new UnavailableError(
        `cannot destroy what the cluster cannot reach — ${unreachable.map((node) => node.unreachable).join('; ')}: bring the member back (or remove it from the cluster: lxc cluster remove --force MEMBER) and run again`,
      );
    }
  },
  async cleanupIfUnused(ctx) {
    const connection = await connect(ctx);
    const { api, options } = connection;
    if (options.image || options.keepImage) return;
    const image = await builtImage(ctx, options);
    if (!image || !(await hasImage(api, image.fingerprint))) return;
    // the image goes with the service's last node unless some instance (anyone's) still comes from it
    const instances = await api.get<LxdInstance[]>('/1.0/instances', { query: { recursion: '1' } });
    if (instances.some((instance) => instance.config === null || instance.config['volatile.base_image'] === image.fingerprint)) return;
    ctx.log(`removing image ${image.fingerprint.slice(0, 12)} from ${api.where} (no node left)`);
    try {
      await api.call('DELETE', `/1.0/images/${image.fingerprint}`, { timeoutMs: 120_000 });
    } catch (error) {
      if (!(error instanceof LxdApiError && error.status === 404)) throw error;
    }
  },
};
