import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readlinkSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnavailableError } from '@forklift/contract';
import { createCgroups, killCgroups, nodeCgroups } from '../cgroups.js';
import { mountsUnder, unmountUnder } from '../mounts.js';
import { listedFromStored, machineName, markReady, removeNodeDir, storedNodes, type StoredNode } from '../node-store.js';
import { ensureHostCommands } from '../prerequisites.js';
import { isAlive, processCommandLine, readPidFile } from '../process.js';
import type { ListedNode, Provider, ProviderContext } from '../provider.js';
import { beginNodes, prepareRoot, type BegunNode } from '../node-prep.js';
import { run } from '../run.js';
import { waitForSsh } from '../ssh-wait.js';
import { parseRootfsOptions } from './nspawn-options.js';

/** Host-side and namespace-side veth names of a node (15 characters at most). */
function vethNames(machine: string): { host: string; inner: string } {
  return { host: `vh${machine}`, inner: `vn${machine}` };
}

function sshdPid(stored: StoredNode): number | undefined {
  const pid = readPidFile(join(stored.dir, 'pid'));
  if (pid === undefined || !isAlive(pid) || !processCommandLine(pid)?.includes('sshd')) return undefined;
  try {
    return readlinkSync(`/proc/${pid}/root`) === join(stored.dir, 'root') ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function makeNode(ctx: ProviderContext, begun: BegunNode, rootfs: string, publicKey: string, timeoutMs: number): Promise<ListedNode> {
  const { request, meta, dir, lease } = begun;
  const { machine } = meta;
  const root = await prepareRoot(begun, rootfs);
  await mkdir(join(root, 'root', '.ssh'), { recursive: true, mode: 0o700 });
  await writeFile(join(root, 'root', '.ssh', 'authorized_keys'), `${publicKey}\n`, { mode: 0o600 });
  await mkdir(join(root, 'run', 'sshd'), { recursive: true, mode: 0o755 });
  if (!mountsUnder(join(root, 'proc')).includes(join(root, 'proc'))) await run('mount', ['-t', 'proc', 'proc', join(root, 'proc')]);

  const { host, inner } = vethNames(machine);
  const { network } = lease;
  // two `ip -batch` runs instead of eight ip processes: process start-up dominates on a busy host
  await run('ip', ['-batch', '-'], {
    input: [`netns add ${machine}`, `link add ${host} type veth peer name ${inner} netns ${machine}`, `link set ${host} master ${network.bridge} up`, ''].join('\n'),
  });
  await run('ip', ['-n', machine, '-batch', '-'], {
    input: [
      'link set lo up',
      `link set ${inner} address ${lease.mac}`,
      `addr add ${lease.address}/${network.prefixLength} dev ${inner}`,
      `link set ${inner} up`,
      `route add default via ${network.gateway}`,
      '',
    ].join('\n'),
  });

  const cgroups = await createCgroups(machine);
  const script = 'while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs"; shift; done; shift; exec "$@"';
  const log = openSync(join(dir, 'sshd.log'), 'a');
  let child;
  try {
    child = spawn(
      'sh',
      ['-c', script, 'sh', ...cgroups, '--', 'ip', 'netns', 'exec', machine, 'unshare', '--uts', 'chroot', root, '/bin/sh', '-c', 'hostname "$1" && exec /usr/sbin/sshd -D -e -o PidFile=none', 'sh', request.id],
      { detached: true, stdio: ['ignore', log, log], env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' } },
    );
  } finally {
    closeSync(log);
  }
  if (child.pid === undefined) throw new Error(`could not start sshd for ${request.id}`);
  child.unref();
  await writeFile(join(dir, 'pid'), `${child.pid}\n`);
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`sshd of ${request.id} exited ${code} (see ${join(dir, 'sshd.log')})`))));
  exited.catch(() => undefined);
  try {
    await Promise.race([
    waitForSsh({ address: lease.address, port: 22, user: 'root', privateKeyPath: join(ctx.keysDir, 'id_ed25519'), hostKey: meta.hostKey! }, { timeoutMs, signal: ctx.signal }),
    exited,
  ]);
  } catch (error) {
    // the node's own log says why; it goes with the half-made node
    const tail = (await readFile(join(dir, 'sshd.log'), 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' / ');
    throw new Error(`${(error as Error).message}${tail ? ` — ${tail}` : ''}`, { cause: error });
  }
  child.removeAllListeners('exit');
  await markReady(dir);
  return listedFromStored(ctx, { id: request.id, dir, meta, ready: true, createdMs: meta.createdMs }, 'netns', true);
}

async function destroyStored(ctx: ProviderContext, dir: string, id: string): Promise<void> {
  const machine = machineName(ctx, id);
  await killCgroups(nodeCgroups(machine));
  await unmountUnder(dir);
  if (existsSync(`/run/netns/${machine}`)) await run('ip', ['netns', 'del', machine]);
  const { host } = vethNames(machine);
  await run('ip', ['link', 'del', host], { reject: false });
  await ctx.network.release(`${ctx.service.name}/${id}`);
  await removeNodeDir(dir);
}

/** netns: SSH-only nodes (a network namespace, a veth on the bridge, its own sshd chrooted in an overlay of the rootfs). */
export const provider: Provider = {
  name: 'netns',
  canCreate: true,
  async prerequisites(ctx) {
    parseRootfsOptions(ctx.service);
    if (process.getuid?.() !== 0) throw new UnavailableError('the netns provider needs root (namespaces, mounts, bridges): run provision-node as root');
    await ensureHostCommands(
      [
        { command: 'debootstrap', package: 'debootstrap' },
        { command: 'apt-cacher-ng', package: 'apt-cacher-ng' },
        { command: 'ssh-keygen', package: 'openssh-client' },
        { command: 'ip', package: 'iproute2' },
        { command: 'flock', package: 'util-linux' },
      ],
      ctx.log,
      'the netns provider',
    );
  },
  async list(ctx, group) {
    return (await storedNodes(ctx, group)).map((stored) => listedFromStored(ctx, stored, 'netns', sshdPid(stored) !== undefined));
  },
  async create(ctx, requests) {
    const options = parseRootfsOptions(ctx.service);
    const rootfs = await ctx.ensureRootfs({ suite: options.suite, include: options.include });
    const { publicKey } = await ctx.sshKey();
    const begun = await beginNodes(ctx, requests);
    const results = await Promise.allSettled(begun.map((node) => makeNode(ctx, node, rootfs, publicKey, options.bootTimeoutMs ?? 60_000)));
    const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed.length) {
      await Promise.all(requests.map((request) => destroyStored(ctx, join(ctx.stateDir, 'nodes', request.id), request.id).catch(() => undefined)));
      throw failed[0]!.reason;
    }
    return results.map((result) => (result as PromiseFulfilledResult<ListedNode>).value);
  },
  async destroy(ctx, nodes) {
    await Promise.all(nodes.map((node) => destroyStored(ctx, String(node.handle?.dir ?? join(ctx.stateDir, 'nodes', node.node.id)), node.node.id)));
  },
};
