import { spawn } from 'node:child_process';
import { openSync, closeSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCgroups, killCgroups, nodeCgroups } from '../cgroups.js';
import { unmountUnder } from '../mounts.js';
import { listedFromStored, machineName, markReady, removeNodeDir, storedNodes, type StoredNode } from '../node-store.js';
import { ensureHostCommands, ensureInotifyInstances } from '../prerequisites.js';
import { isAlive, processCommandLine, readPidFile } from '../process.js';
import type { ListedNode, Provider, ProviderContext } from '../provider.js';
import { beginNodes, prepareRoot, type BegunNode } from '../node-prep.js';
import { run } from '../run.js';
import { waitForSsh } from '../ssh-wait.js';
import { parseRootfsOptions } from './nspawn-options.js';

/** inotify instances one booted nspawn node uses (measured). */
export const INOTIFY_PER_NODE = 7;

function nspawnPid(stored: StoredNode): number | undefined {
  if (!stored.meta) return undefined;
  const pid = readPidFile(join(stored.dir, 'pid'));
  if (pid === undefined || !isAlive(pid)) return undefined;
  const command = processCommandLine(pid) ?? '';
  return command.includes('systemd-nspawn') && command.includes(`--machine=${stored.meta.machine}`) ? pid : undefined;
}

/** How many nspawn processes run on this host (all homes): for the inotify budget. */
function hostNspawnCount(): number {
  let count = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const command = processCommandLine(Number(entry));
    if (command?.startsWith('systemd-nspawn ') || command?.includes('/systemd-nspawn ')) count += 1;
  }
  return count;
}

function toListed(ctx: ProviderContext, stored: StoredNode, running: boolean): ListedNode {
  return listedFromStored(ctx, stored, 'nspawn', running);
}

/** What the node's own systemd says (failed units, ssh.service), entered through its init's namespaces. */
async function diagnose(nspawnPid: number): Promise<string> {
  let init: string | undefined;
  try {
    init = readFileSync(`/proc/${nspawnPid}/task/${nspawnPid}/children`, 'utf8').trim().split(/\s+/)[0];
  } catch {
    return '';
  }
  if (!init) return '';
  const result = await run(
    'nsenter',
    ['-t', init, '-m', '-u', '-i', '-n', '-p', 'sh', '-c', 'systemctl is-system-running; systemctl --failed --no-legend --plain; /usr/sbin/sshd -t 2>&1 | head -n 3; systemctl status ssh.service --no-pager -n 3 2>&1 | tail -n 4'],
    { reject: false, timeout: 15_000 },
  );
  return `${result.stdout} ${result.stderr}`.trim().replace(/\s*\n\s*/g, ' / ');
}

const NETWORK_FILE = (address: string, prefixLength: number, gateway: string, mac: string): string =>
  `[Match]\nName=host0\n\n[Link]\nMACAddress=${mac}\n\n[Network]\nAddress=${address}/${prefixLength}\nGateway=${gateway}\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`;

async function makeNode(ctx: ProviderContext, begun: BegunNode, rootfs: string, publicKey: string, bootTimeoutMs: number): Promise<ListedNode> {
  const { request, meta, dir, lease } = begun;
  const { machine } = meta;
  const root = await prepareRoot(begun, rootfs);
  const { network } = lease;
  await mkdir(join(root, 'etc', 'systemd', 'network'), { recursive: true });
  await writeFile(join(root, 'etc', 'systemd', 'network', '10-forklift-host0.network'), NETWORK_FILE(lease.address, network.prefixLength, network.gateway, lease.mac));
  // seen once in ~50 boots on a machine at load 25: `sshd -t` failed early in boot five times in a row and
  // systemd gave up on ssh.service; keep retrying instead (the SSH wait bounds it)
  await mkdir(join(root, 'etc', 'systemd', 'system', 'ssh.service.d'), { recursive: true });
  await writeFile(join(root, 'etc', 'systemd', 'system', 'ssh.service.d', '10-forklift-retry.conf'), '[Unit]\nStartLimitIntervalSec=0\n\n[Service]\nRestartSec=1\n');
  // systemd 252 provisions root's authorized_keys from the credential only when its tmpfiles rule exists
  const provision = await readFile(join(root, 'usr', 'lib', 'tmpfiles.d', 'provision.conf'), 'utf8').catch(() => '');
  if (!provision.includes('ssh.authorized_keys.root')) {
    await mkdir(join(root, 'root', '.ssh'), { recursive: true, mode: 0o700 });
    await writeFile(join(root, 'root', '.ssh', 'authorized_keys'), `${publicKey}\n`, { mode: 0o600 });
  }
  const cgroups = await createCgroups(machine);
  const args = [
    '--quiet',
    '--boot',
    '--register=no',
    '--keep-unit',
    `--machine=${machine}`,
    `--hostname=${request.id}`,
    `--directory=${root}`,
    `--network-bridge=${network.bridge}`,
    '--resolv-conf=off',
    '--timezone=off',
    '--link-journal=no',
    '--console=read-only',
    `--set-credential=ssh.authorized_keys.root:${publicKey}`,
  ];
  // the shell moves itself into the node's own cgroups, then becomes systemd-nspawn (same pid)
  const script = 'while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs"; shift; done; shift; exec "$@"';
  const log = openSync(join(dir, 'console.log'), 'a');
  let child;
  try {
    child = spawn('sh', ['-c', script, 'sh', ...cgroups, '--', 'systemd-nspawn', ...args], { detached: true, stdio: ['ignore', log, log] });
  } finally {
    closeSync(log);
  }
  if (child.pid === undefined) throw new Error(`could not start systemd-nspawn for ${request.id}`);
  child.unref();
  await writeFile(join(dir, 'pid'), `${child.pid}\n`);
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`systemd-nspawn of ${request.id} exited ${code} (see ${join(dir, 'console.log')})`))),
  );
  exited.catch(() => undefined);
  try {
    await Promise.race([
    waitForSsh({ address: lease.address, port: 22, user: 'root', privateKeyPath: join(ctx.keysDir, 'id_ed25519'), hostKey: meta.hostKey! }, { timeoutMs: bootTimeoutMs, signal: ctx.signal }),
    exited,
  ]);
  } catch (error) {
    // the node's own view says why (its systemd's failed units, the ssh unit); it goes with the half-made node
    const inside = await diagnose(child.pid);
    const tail = (await readFile(join(dir, 'console.log'), 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' / ');
    throw new Error(`${(error as Error).message}${inside ? ` — ${inside}` : tail ? ` — ${tail}` : ''}`, { cause: error });
  }
  child.removeAllListeners('exit');
  await markReady(dir);
  return toListed(ctx, { id: request.id, dir, meta, ready: true, createdMs: meta.createdMs }, true);
}

async function destroyStored(ctx: ProviderContext, dir: string, id: string): Promise<void> {
  const machine = machineName(ctx, id);
  await killCgroups(nodeCgroups(machine));
  await unmountUnder(dir);
  await ctx.network.release(`${ctx.service.name}/${id}`);
  await removeNodeDir(dir);
}

/** nspawn: real systemd nodes on this host, one overlay of the cached Debian rootfs each, on the home's bridge. */
export const provider: Provider = {
  name: 'nspawn',
  canCreate: true,
  async prerequisites(ctx) {
    parseRootfsOptions(ctx.service);
    if (process.getuid?.() !== 0) {
      const { UnavailableError } = await import('@forklift/contract');
      throw new UnavailableError('the nspawn provider needs root (mounts, bridges, cgroups): run provision-node as root, or use a podman service');
    }
    await ensureHostCommands(
      [
        { command: 'systemd-nspawn', package: 'systemd-container' },
        { command: 'debootstrap', package: 'debootstrap' },
        { command: 'apt-cacher-ng', package: 'apt-cacher-ng' },
        { command: 'ssh-keygen', package: 'openssh-client' },
        { command: 'ip', package: 'iproute2' },
        { command: 'flock', package: 'util-linux' },
      ],
      ctx.log,
      'the nspawn provider',
    );
  },
  async list(ctx, group) {
    return (await storedNodes(ctx, group)).map((stored) => toListed(ctx, stored, nspawnPid(stored) !== undefined));
  },
  async create(ctx, requests) {
    const options = parseRootfsOptions(ctx.service);
    await ensureInotifyInstances(128 + INOTIFY_PER_NODE * (hostNspawnCount() + requests.length), ctx.log);
    const rootfs = await ctx.ensureRootfs({ suite: options.suite, include: options.include });
    const { publicKey } = await ctx.sshKey();
    const begun = await beginNodes(ctx, requests);
    const results = await Promise.allSettled(begun.map((node) => makeNode(ctx, node, rootfs, publicKey, options.bootTimeoutMs ?? 90_000)));
    const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed.length) {
      // half-made nodes go now rather than at the next call
      await Promise.all(requests.map((request) => destroyStored(ctx, join(ctx.stateDir, 'nodes', request.id), request.id).catch(() => undefined)));
      throw failed[0]!.reason;
    }
    return results.map((result) => (result as PromiseFulfilledResult<ListedNode>).value);
  },
  async destroy(ctx, nodes) {
    await Promise.all(nodes.map((node) => destroyStored(ctx, String(node.handle?.dir ?? join(ctx.stateDir, 'nodes', node.node.id)), node.node.id)));
  },
};
