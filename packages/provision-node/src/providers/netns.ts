import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readlinkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnavailableError } from '@forklift/contract';
import { createCgroups, killCgroups, nodeCgroups } from '../cgroups.js';
import { generateHostKey } from '../keys.js';
import { mountOverlay, mountsUnder, unmountUnder } from '../mounts.js';
import { listedFromStored, machineName, markReady, osFactsOf, removeNodeDir, startNode, storedNodes, writeMeta, type NodeMeta, type StoredNode } from '../node-store.js';
import { ensureHostCommands } from '../prerequisites.js';
import { isAlive, processCommandLine, readPidFile } from '../process.js';
import type { ListedNode, NodeSpec, Provider, ProviderContext } from '../provider.js';
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

async function makeNode(ctx: ProviderContext, spec: NodeSpec, rootfs: string, publicKey: string, timeoutMs: number): Promise<ListedNode> {
  const machine = machineName(ctx, spec.id);
  const meta: NodeMeta = { id: spec.id, group: spec.group, machine, createdMs: Date.now() };
  const dir = await startNode(ctx, meta);
  const lease = await ctx.network.lease(`${ctx.service.name}/${spec.id}`);
  meta.address = lease.address;
  meta.mac = lease.mac;
  await writeMeta(dir, meta);
  const root = await mountOverlay(rootfs, dir);
  meta.hostKey = await generateHostKey(root, `${spec.id}@forklift`);
  meta.os = await osFactsOf(root);
  await writeMeta(dir, meta);
  await mkdir(join(root, 'root', '.ssh'), { recursive: true, mode: 0o700 });
  await writeFile(join(root, 'root', '.ssh', 'authorized_keys'), `${publicKey}\n`, { mode: 0o600 });
  await mkdir(join(root, 'run', 'sshd'), { recursive: true, mode: 0o755 });
  await writeFile(join(root, 'etc', 'hostname'), `${spec.id}\n`);
  if (lease.network.aptProxy) await writeFile(join(root, 'etc', 'apt', 'apt.conf.d', '01forklift-proxy'), `Acquire::http::Proxy "${lease.network.aptProxy}";\n`);
  if (!mountsUnder(join(root, 'proc')).includes(join(root, 'proc'))) await run('mount', ['-t', 'proc', 'proc', join(root, 'proc')]);

  const { host, inner } = vethNames(machine);
  const { network } = lease;
  await run('ip', ['netns', 'add', machine]);
  await run('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', inner, 'netns', machine]);
  await run('ip', ['link', 'set', host, 'master', network.bridge, 'up']);
  await run('ip', ['-n', machine, 'link', 'set', 'lo', 'up']);
  await run('ip', ['-n', machine, 'link', 'set', inner, 'address', lease.mac]);
  await run('ip', ['-n', machine, 'addr', 'add', `${lease.address}/${network.prefixLength}`, 'dev', inner]);
  await run('ip', ['-n', machine, 'link', 'set', inner, 'up']);
  await run('ip', ['-n', machine, 'route', 'add', 'default', 'via', network.gateway]);

  const cgroups = await createCgroups(machine);
  const script = 'while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs"; shift; done; shift; exec "$@"';
  const log = openSync(join(dir, 'sshd.log'), 'a');
  let child;
  try {
    child = spawn(
      'sh',
      ['-c', script, 'sh', ...cgroups, '--', 'ip', 'netns', 'exec', machine, 'unshare', '--uts', 'chroot', root, '/bin/sh', '-c', 'hostname "$1" && exec /usr/sbin/sshd -D -e -o PidFile=none', 'sh', spec.id],
      { detached: true, stdio: ['ignore', log, log], env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' } },
    );
  } finally {
    closeSync(log);
  }
  if (child.pid === undefined) throw new Error(`could not start sshd for ${spec.id}`);
  child.unref();
  await writeFile(join(dir, 'pid'), `${child.pid}\n`);
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`sshd of ${spec.id} exited ${code} (see ${join(dir, 'sshd.log')})`))));
  exited.catch(() => undefined);
  await Promise.race([
    waitForSsh({ address: lease.address, port: 22, user: 'root', privateKeyPath: join(ctx.keysDir, 'id_ed25519'), hostKey: meta.hostKey }, { timeoutMs, signal: ctx.signal }),
    exited,
  ]);
  child.removeAllListeners('exit');
  await markReady(dir);
  return listedFromStored(ctx, { id: spec.id, dir, meta, ready: true, createdMs: meta.createdMs }, 'netns', true);
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
  async create(ctx, specs) {
    const options = parseRootfsOptions(ctx.service);
    const rootfs = await ctx.ensureRootfs({ suite: options.suite, include: options.include });
    const { publicKey } = await ctx.sshKey();
    await ctx.network.ensure();
    const results = await Promise.allSettled(specs.map((spec) => makeNode(ctx, spec, rootfs, publicKey, options.bootTimeoutMs ?? 60_000)));
    const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed.length) {
      await Promise.all(specs.map((spec) => destroyStored(ctx, join(ctx.stateDir, 'nodes', spec.id), spec.id).catch(() => undefined)));
      throw failed[0]!.reason;
    }
    return results.map((result) => (result as PromiseFulfilledResult<ListedNode>).value);
  },
  async destroy(ctx, nodes) {
    await Promise.all(nodes.map((node) => destroyStored(ctx, String(node.handle?.dir ?? join(ctx.stateDir, 'nodes', node.node.id)), node.node.id)));
  },
};
