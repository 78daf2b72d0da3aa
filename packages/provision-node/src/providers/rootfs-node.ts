// What the nspawn and netns providers share: nodes made of an overlay of the cached rootfs, an address
// lease on the home's bridge and one main process (systemd-nspawn, or a chrooted sshd) in the node's own
// cgroups. A provider says only how its node starts, how its main process is recognised and what else
// it owns on the host; creating, waiting for SSH, listing and destroying are done here, once.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCgroups, killCgroups, nodeCgroups } from '../cgroups.js';
import { UnavailableError } from '@forklift/contract';
import { unmountUnder } from '../mounts.js';
import { beginNodes, prepareRoot, type BegunNode } from '../node-prep.js';
import { listedFromStored, machineName, markReady, removeNodeDir, storedNodes, type StoredNode } from '../node-store.js';
import { ensureHostCommands, ROOTFS_TOOLS, type HostCommand } from '../prerequisites.js';
import type { CreateRequest, ListedNode, Provider, ProviderContext } from '../provider.js';
import { waitForSsh } from '../ssh-wait.js';
import { parseRootfsOptions } from './nspawn-options.js';

/** How one kind of rootfs node starts and what it owns beside the common parts. */
export interface RootfsNodeKind {
  /** Provider name (`nspawn`, `netns`). */
  name: string;
  /** What the main process is called in messages (`systemd-nspawn`, `sshd`). */
  main: string;
  /** The node's log file in its directory (`console.log`, `sshd.log`). */
  logFile: string;
  /** How long to wait for SSH unless the service says (`bootTimeoutMs`). */
  defaultBootTimeoutMs: number;
  /** Host commands this kind needs beyond those of every rootfs node (debootstrap, apt-cacher-ng, ssh-keygen, ip, flock). */
  hostCommands: HostCommand[];
  /** Why it needs root, for the message a non-root user gets (exit 69). */
  needsRoot: string;
  /** What a non-root user can use instead, if anything (`a podman service`). */
  withoutRoot?: string;
  /** Before any node of a create call is begun (e.g. the inotify budget). */
  beforeCreate?(ctx: ProviderContext, requests: readonly CreateRequest[]): Promise<void>;
  /** How the node's root overlay is mounted (nspawn: exportable by a user-space NFS server when its node spec asks). */
  rootOptions?(request: CreateRequest): { nfsExport?: boolean };
  /** Prepare the mounted root and the host side of one node; the command to run as its main process. */
  launch(ctx: ProviderContext, node: BegunNode, root: string, publicKey: string): Promise<{ argv: string[]; env?: NodeJS.ProcessEnv }>;
  /** The main process of a stored node when it runs (checked by pid and command line). */
  mainPid(stored: StoredNode): number | undefined;
  /** Why a node that did not answer SSH failed, from inside it (optional; else the log's last lines). */
  diagnose?(mainPid: number): Promise<string>;
  /** Host resources of the node beyond cgroups, mounts, lease and directory (namespaces, links). */
  destroyExtra?(ctx: ProviderContext, machine: string): Promise<void>;
}

/** What every rootfs node needs on the host: the rootfs, the apt proxy, host keys, links and the lock. */
const ROOTFS_HOST_COMMANDS: HostCommand[] = [{ command: 'apt-cacher-ng', package: 'apt-cacher-ng' }, { command: 'ip', package: 'iproute2' }, ...ROOTFS_TOOLS];

// the shell moves itself into the node's own cgroups, then becomes the main process (same pid)
const INTO_CGROUPS = 'while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs"; shift; done; shift; exec "$@"';

/** Start a node's main process in its own cgroups, detached, output to its log; its pid goes to `<dir>/pid`. */
async function startMain(node: BegunNode, kind: RootfsNodeKind, argv: string[], env: NodeJS.ProcessEnv | undefined): Promise<ChildProcess> {
  const cgroups = await createCgroups(node.meta.machine);
  const log = openSync(join(node.dir, kind.logFile), 'a');
  let child: ChildProcess;
  try {
    child = spawn('sh', ['-c', INTO_CGROUPS, 'sh', ...cgroups, '--', ...argv], { detached: true, stdio: ['ignore', log, log], ...(env ? { env } : {}) });
  } finally {
    closeSync(log);
  }
  if (child.pid === undefined) throw new Error(`could not start ${kind.main} for ${node.request.id}`);
  child.unref();
  await writeFile(join(node.dir, 'pid'), `${child.pid}\n`);
  return child;
}

async function makeNode(
  ctx: ProviderContext,
  kind: RootfsNodeKind,
  node: BegunNode,
  rootfs: string,
  publicKey: string,
  timeoutMs: number,
): Promise<ListedNode> {
  const { request, meta, dir, lease } = node;
  const root = await prepareRoot(node, rootfs, kind.rootOptions?.(request));
  const { argv, env } = await kind.launch(ctx, node, root, publicKey);
  const child = await startMain(node, kind, argv, env);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`${kind.main} of ${request.id} exited ${code} (see ${join(dir, kind.logFile)})`))),
  );
  exited.catch(() => undefined);
  try {
    await Promise.race([
      waitForSsh(
        { address: lease.address, port: 22, user: 'root', privateKeyPath: join(ctx.keysDir, 'id_ed25519'), hostKey: meta.hostKey! },
        { timeoutMs, signal: ctx.signal },
      ),
      exited,
    ]);
  } catch (error) {
    // the node's own view says why; it goes with the half-made node
    const inside = kind.diagnose && child.pid !== undefined ? await kind.diagnose(child.pid) : '';
    const tail = (await readFile(join(dir, kind.logFile), 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' / ');
    throw new Error(`${(error as Error).message}${inside ? ` — ${inside}` : tail ? ` — ${tail}` : ''}`, { cause: error });
  }
  child.removeAllListeners('exit');
  await markReady(dir);
  return listedFromStored(ctx, { id: request.id, dir, meta, ready: true, createdMs: meta.createdMs }, kind.name, true);
}

/** Remove a node and everything it owns: its processes (by cgroup), mounts, extra host resources, lease, directory. */
async function destroyNode(ctx: ProviderContext, kind: RootfsNodeKind, dir: string, id: string): Promise<void> {
  const machine = machineName(ctx, id);
  await killCgroups(nodeCgroups(machine));
  await unmountUnder(dir);
  await kind.destroyExtra?.(ctx, machine);
  await ctx.network.release(`${ctx.service.name}/${id}`);
  await removeNodeDir(dir);
}

/**
 * A provider of rootfs nodes of one kind: list from the stored nodes and their running main process,
 * create in parallel (every node half-made by a failed call is removed before the error is thrown),
 * destroy everything a node owns.
 * @example export const provider = rootfsProvider({ name: 'netns', logFile: 'sshd.log', ... })
 */
export function rootfsProvider(kind: RootfsNodeKind): Provider {
  return {
    name: kind.name,
    canCreate: true,
    async prerequisites(ctx) {
      parseRootfsOptions(ctx.service);
      if (process.getuid?.() !== 0)
        throw new UnavailableError(
          `the ${kind.name} provider needs root (${kind.needsRoot}): run provision-node as root${kind.withoutRoot ? `, or use ${kind.withoutRoot}` : ''}`,
        );
      await ensureHostCommands([...kind.hostCommands, ...ROOTFS_HOST_COMMANDS], ctx.log, `the ${kind.name} provider`);
    },
    async list(ctx, group) {
      return (await storedNodes(ctx, group)).map((stored) => listedFromStored(ctx, stored, kind.name, kind.mainPid(stored) !== undefined));
    },
    async create(ctx, requests) {
      const options = parseRootfsOptions(ctx.service);
      await kind.beforeCreate?.(ctx, requests);
      const rootfs = await ctx.ensureRootfs({ suite: options.suite, include: options.include });
      const { publicKey } = await ctx.sshKey();
      const begun = await beginNodes(ctx, requests);
      const results = await Promise.allSettled(
        begun.map((node) => makeNode(ctx, kind, node, rootfs, publicKey, options.bootTimeoutMs ?? kind.defaultBootTimeoutMs)),
      );
      const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed.length) {
        // half-made nodes go now rather than at the next call
        await Promise.all(requests.map((request) => destroyNode(ctx, kind, join(ctx.stateDir, 'nodes', request.id), request.id).catch(() => undefined)));
        throw failed[0]!.reason;
      }
      return results.map((result) => (result as PromiseFulfilledResult<ListedNode>).value);
    },
    async destroy(ctx, nodes) {
      await Promise.all(nodes.map((node) => destroyNode(ctx, kind, String(node.handle?.dir ?? join(ctx.stateDir, 'nodes', node.node.id)), node.node.id)));
    },
  };
}
