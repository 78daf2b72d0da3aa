import { createHash } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { listedFromStored, machineName, markReady, osFactsOf, removeNodeDir, startNode, storedNodes, writeMeta, type NodeMeta } from '../node-store.js';
import { ensureHostCommands, ROOTFS_TOOLS } from '../prerequisites.js';
import type { ListedNode, CreateRequest, Provider, ProviderContext } from '../provider.js';
import { run } from '../run.js';
import { waitForSsh } from '../ssh-wait.js';
import { cgroupV1Host, hardLimits, ulimitArgs } from './podman-host.js';
import { ensurePodmanImage } from './podman-image.js';
import { parsePodmanOptions, type PodmanServiceOptions } from './podman-options.js';
import { freeLoopbackPort } from './qemu-process.js';

/** Label keys forklift puts on its containers (how the provider finds them without any state file). */
export const LABEL = { home: 'io.forklift.home', service: 'io.forklift.service', node: 'io.forklift.node', group: 'io.forklift.group' } as const;

interface PodmanMeta extends NodeMeta {
  network?: 'podman' | 'publish';
  port?: number;
  container?: string;
}

interface ContainerInfo {
  name: string;
  node: string;
  group: string;
  running: boolean;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The container name of a node: `forklift-<machine>`. */
function containerName(ctx: ProviderContext, id: string): string {
  return `forklift-${machineName(ctx, id)}`;
}

function homeLabel(ctx: ProviderContext): string {
  return createHash('sha256').update(ctx.home).digest('hex').slice(0, 12);
}

function runtimeArgs(options: PodmanServiceOptions): string[] {
  if (options.runtime) return ['--runtime', options.runtime];
  return cgroupV1Host() ? ['--runtime', 'runc'] : [];
}

function networkMode(options: PodmanServiceOptions): 'podman' | 'publish' {
  const wanted = options.network ?? 'auto';
  if (wanted === 'auto') return isRoot() ? 'podman' : 'publish';
  return wanted;
}

/** This service's containers as podman reports them (the real state). */
async function containers(ctx: ProviderContext): Promise<ContainerInfo[]> {
  const { stdout } = await run('podman', [
    'ps',
    '--all',
    '--filter',
    `label=${LABEL.home}=${homeLabel(ctx)}`,
    '--filter',
    `label=${LABEL.service}=${ctx.service.name}`,
    '--format',
    'json',
  ]);
  const list = JSON.parse(stdout || '[]') as { Names?: string[]; Labels?: Record<string, string>; State?: string }[];
  return list.map((item) => ({
    name: item.Names?.[0] ?? '',
    node: item.Labels?.[LABEL.node] ?? '',
    group: item.Labels?.[LABEL.group] ?? '?',
    running: item.State === 'running',
  }));
}

/** The tags a container's node record carries beside machine and createdAt. */
const podmanTags =
  (ctx: ProviderContext, id: string) =>
  (meta: PodmanMeta): Record<string, string> => ({ container: meta.container ?? containerName(ctx, id), network: meta.network ?? '?' });

async function makeContainer(
  ctx: ProviderContext,
  request: CreateRequest,
  image: string,
  rootfs: string,
  publicKey: string,
  options: PodmanServiceOptions,
): Promise<ListedNode> {
  const machine = machineName(ctx, request.id);
  const name = containerName(ctx, request.id);
  const mode = networkMode(options);
  const meta: PodmanMeta = { id: request.id, group: request.group, machine, createdMs: Date.now(), network: mode, container: name };
  const dir = await startNode(ctx, meta);
  // the node's identity is written into its filesystem before it starts: the pinned host key never comes over the network
  const seed = join(dir, 'seed');
  await mkdir(join(seed, 'etc', 'ssh'), { recursive: true });
  await mkdir(join(seed, 'root', '.ssh'), { recursive: true, mode: 0o700 });
  await chmod(join(seed, 'root', '.ssh'), 0o700);
  const hostKeyFile = join(seed, 'etc', 'ssh', 'ssh_host_ed25519_key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${request.id}@forklift`, '-f', hostKeyFile]);
  await writeFile(join(seed, 'root', '.ssh', 'authorized_keys'), `${publicKey}\n`, { mode: 0o600 });
  meta.hostKey = (await readFile(`${hostKeyFile}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  meta.os = await osFactsOf(rootfs);
  if (mode === 'publish') {
    meta.address = '127.0.0.1';
    meta.port = await freeLoopbackPort();
  }
  await writeMeta(dir, meta);
  const labels = [
    `${LABEL.home}=${homeLabel(ctx)}`,
    `${LABEL.service}=${ctx.service.name}`,
    `${LABEL.node}=${request.id}`,
    `${LABEL.group}=${request.group}`,
  ].flatMap((label) => ['--label', label]);
  await run('podman', [
    'create',
    '--name',
    name,
    '--hostname',
    request.id,
    ...labels,
    ...runtimeArgs(options),
    ...ulimitArgs(hardLimits()),
    '--systemd=always',
    ...(mode === 'publish' ? ['--publish', `127.0.0.1:${meta.port}:22`] : []),
    image,
    '/sbin/init',
  ]);
  await execa('tar', [
    '-C',
    seed,
    '-c',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--no-recursion',
    'etc/ssh/ssh_host_ed25519_key',
    'etc/ssh/ssh_host_ed25519_key.pub',
    'root/.ssh',
    'root/.ssh/authorized_keys',
  ]).pipe('podman', ['cp', '-', `${name}:/`]);
  await run('podman', ['start', name]);
  if (mode === 'podman') {
    const { stdout } = await run('podman', ['inspect', '--format', '{{.NetworkSettings.IPAddress}}', name]);
    meta.address = stdout.trim();
    meta.port = 22;
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(meta.address)) throw new Error(`podman gave ${name} no address on its default network (got "${meta.address}")`);
    await writeMeta(dir, meta);
  }
  await waitForSsh(
    { address: meta.address!, port: meta.port!, user: 'root', privateKeyPath: join(ctx.keysDir, 'id_ed25519'), hostKey: meta.hostKey },
    { timeoutMs: options.bootTimeoutMs ?? 90_000, signal: ctx.signal },
  );
  await markReady(dir);
  return listedFromStored(ctx, { id: request.id, dir, meta, ready: true, createdMs: meta.createdMs }, 'podman', true, podmanTags(ctx, request.id));
}

async function destroyContainer(ctx: ProviderContext, id: string, dir?: string): Promise<void> {
  const name = containerName(ctx, id);
  await run('podman', ['rm', '--force', '--time', '0', '--ignore', name]);
  if (dir) await removeNodeDir(dir);
}

/** podman: containers with systemd as init, imported from the same Debian rootfs as nspawn nodes; rootful or rootless. */
export const provider: Provider = {
  name: 'podman',
  canCreate: true,
  async prerequisites(ctx) {
    const options = parsePodmanOptions(ctx.service);
    const runtime = runtimeArgs(options)[1];
    await ensureHostCommands(
      [
        { command: 'podman', package: 'podman' },
        ...(runtime === 'runc' ? [{ command: 'runc', package: 'runc' }] : []),
        { command: 'tar', package: 'tar' },
        ...ROOTFS_TOOLS,
      ],
      ctx.log,
      'the podman provider',
    );
  },
  async list(ctx, group) {
    const live = await containers(ctx);
    const stored = await storedNodes(ctx, group);
    const listed = stored.map((node) =>
      listedFromStored(
        ctx,
        node,
        'podman',
        live.some((item) => item.node === node.id && item.running),
        podmanTags(ctx, node.id),
      ),
    );
    // containers whose state directory is gone are half-made: list them so the core removes them
    for (const item of live) {
      if (stored.some((node) => node.id === item.node) || (group !== undefined && item.group !== group)) continue;
      listed.push({
        node: { id: item.node || item.name, group: item.group, service: ctx.service.name, provider: 'podman', address: '0.0.0.0', port: 22, user: 'root' },
        createdMs: 0,
        status: 'broken',
        handle: { container: item.name },
      });
    }
    return listed;
  },
  async create(ctx, requests) {
    const options = parsePodmanOptions(ctx.service);
    const rootfs = await ctx.ensureRootfs({ suite: options.suite, include: options.include });
    const image = await ensurePodmanImage(ctx, rootfs);
    const { publicKey } = await ctx.sshKey();
    const results = await Promise.allSettled(requests.map((request) => makeContainer(ctx, request, image, rootfs, publicKey, options)));
    const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed.length) {
      await Promise.all(requests.map((request) => destroyContainer(ctx, request.id, join(ctx.stateDir, 'nodes', request.id)).catch(() => undefined)));
      throw failed[0]!.reason;
    }
    return results.map((result) => (result as PromiseFulfilledResult<ListedNode>).value);
  },
  async destroy(ctx, nodes) {
    for (const node of nodes) {
      const container = node.handle?.container;
      if (typeof container === 'string') await run('podman', ['rm', '--force', '--time', '0', '--ignore', container]);
      else await destroyContainer(ctx, node.node.id, String(node.handle?.dir ?? join(ctx.stateDir, 'nodes', node.node.id)));
    }
  },
};
