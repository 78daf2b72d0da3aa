import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnavailableError } from '@forklift/contract';
import { macFor } from '../bridge.js';
import { listedFromStored, machineName, markReady, osFactsOf, removeNodeDir, startNode, storedNodes, writeMeta, type NodeMeta } from '../node-store.js';
import { ensureHostCommands, ROOTFS_TOOLS } from '../prerequisites.js';
import { isAlive, stopProcess } from '../process.js';
import type { ListedNode, CreateRequest, Provider, ProviderContext } from '../provider.js';
import { run } from '../run.js';
import { waitForSsh } from '../ssh-wait.js';
import { detectAccel, type QemuAccel } from './qemu-accel.js';
import { qemuArgs, type QemuNetwork } from './qemu-argv.js';
import { CREDENTIAL } from './qemu-guest.js';
import { ensureQemuBase, QEMU_ROOTFS_INCLUDE, type QemuBase } from './qemu-image.js';
import { parseQemuOptions, vmSize, type QemuServiceOptions } from './qemu-options.js';
import { findQemuPid, freeLoopbackPort } from './qemu-process.js';

/** The qemu binary (x86_64 guests). */
export const QEMU_BINARY = 'qemu-system-x86_64';

/** What the qemu provider keeps about a node beyond the common meta. */
interface QemuMeta extends NodeMeta {
  network?: 'bridge' | 'user';
  port?: number;
  /** The tap interface (bridge mode), named after the machine. */
  tap?: string;
  accel?: 'kvm' | 'tcg';
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function networkMode(options: QemuServiceOptions): 'bridge' | 'user' {
  const wanted = options.network ?? 'auto';
  if (wanted === 'auto') return isRoot() ? 'bridge' : 'user';
  if (wanted === 'bridge' && !isRoot())
    throw new UnavailableError('qemu network "bridge" needs root (a tap on the bridge): run as root or use "network": "user"');
  return wanted;
}

async function chooseAccel(options: QemuServiceOptions): Promise<QemuAccel> {
  if (options.accel === 'tcg') return { accel: 'tcg', reason: 'the service asks for tcg' };
  const detected = await detectAccel();
  if (options.accel === 'kvm' && detected.accel !== 'kvm')
    throw new UnavailableError(`the service asks for kvm but ${detected.reason}: use "accel": "auto" or "tcg"`);
  return detected;
}

/** The tags a VM's node record carries beside machine and createdAt. */
const qemuTags = (meta: QemuMeta): Record<string, string> => ({ network: meta.network ?? '?', accel: meta.accel ?? '?' });

function networkFile(meta: QemuMeta, gateway?: string, prefixLength?: number): string {
  const match = `[Match]\nMACAddress=${meta.mac}\n\n`;
  if (meta.network === 'user') return `${match}[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`;
  return `${match}[Network]\nAddress=${meta.address}/${prefixLength}\nGateway=${gateway}\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`;
}

async function linkExists(name: string): Promise<boolean> {
  return (await run('ip', ['link', 'show', 'dev', name], { reject: false })).exitCode === 0;
}

/** Fail as soon as qemu is gone (a kernel panic exits it: -no-reboot), with the console's last lines. */
async function watchQemu(pid: number, dir: string, signal: AbortSignal): Promise<never> {
  while (!signal.aborted && isAlive(pid)) await sleep(500);
  if (signal.aborted) return new Promise<never>(() => undefined);
  const console = await readFile(join(dir, 'console.log'), 'utf8').catch(() => '');
  const tail = console.trim().split('\n').slice(-3).join(' / ');
  throw new Error(`qemu of ${dir} exited before SSH answered (console: ${tail || 'empty'})`);
}

interface Prepared {
  base: QemuBase;
  accel: QemuAccel;
  mode: 'bridge' | 'user';
  options: QemuServiceOptions;
  publicKey: string;
  rootfs: string;
}

async function makeVm(ctx: ProviderContext, request: CreateRequest, prepared: Prepared): Promise<ListedNode> {
  const { base, accel, mode, options } = prepared;
  const machine = machineName(ctx, request.id);
  const meta: QemuMeta = { id: request.id, group: request.group, machine, createdMs: Date.now(), network: mode, accel: accel.accel };
  const dir = await startNode(ctx, meta);
  let net: QemuNetwork;
  let gateway: string | undefined;
  let prefixLength: number | undefined;
  let aptProxy: string | undefined;
  if (mode === 'bridge') {
    const lease = await ctx.network.lease(`${ctx.service.name}/${request.id}`);
    meta.address = lease.address;
    meta.mac = lease.mac;
    meta.port = 22;
    meta.tap = machine;
    await writeMeta(dir, meta);
    await run('ip', ['tuntap', 'add', 'dev', machine, 'mode', 'tap']);
    await run('ip', ['link', 'set', 'dev', machine, 'master', lease.network.bridge, 'up']);
    net = { mode: 'tap', ifname: machine, mac: lease.mac };
    gateway = lease.network.gateway;
    prefixLength = lease.network.prefixLength;
    aptProxy = lease.network.aptProxy;
  } else {
    meta.address = '127.0.0.1';
    meta.port = await freeLoopbackPort();
    meta.mac = macFor('qemu-user', machine);
    net = { mode: 'user', hostPort: meta.port, mac: meta.mac };
  }
  await writeMeta(dir, meta);
  const disk = join(dir, 'disk.qcow2');
  await run('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base.qcow2, disk]);
  // the node's identity, handed to the guest as systemd credentials through fw_cfg files (never argv)
  const creds = join(dir, 'creds');
  await mkdir(creds, { recursive: true, mode: 0o700 });
  const hostKeyFile = join(creds, CREDENTIAL.hostKey);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${request.id}@forklift`, '-f', hostKeyFile]);
  meta.hostKey = (await readFile(`${hostKeyFile}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  meta.os = await osFactsOf(prepared.rootfs);
  await writeMeta(dir, meta);
  const files: Record<string, string> = {
    [CREDENTIAL.authorizedKeys]: `${prepared.publicKey}\n`,
    [CREDENTIAL.network]: networkFile(meta, gateway, prefixLength),
    [CREDENTIAL.hostname]: `${request.id}\n`,
    ...(aptProxy ? { [CREDENTIAL.aptProxy]: `Acquire::http::Proxy "${aptProxy}";\n` } : {}),
  };
  const credentials: Record<string, string> = { [CREDENTIAL.hostKey]: hostKeyFile, [CREDENTIAL.hostKeyPub]: `${hostKeyFile}.pub` };
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(creds, name), content, { mode: 0o600 });
    credentials[name] = join(creds, name);
  }
  const size = vmSize(options, request.nodeSpec);
  const args = qemuArgs({
    name: `forklift-${machine}`,
    accel: accel.accel,
    ...size,
    kernel: base.kernel,
    initrd: base.initrd,
    disk,
    pidFile: join(dir, 'qemu.pid'),
    consoleLog: join(dir, 'console.log'),
    network: net,
    credentials,
  });
  await writeFile(join(dir, 'qemu.args'), JSON.stringify([QEMU_BINARY, ...args]) + '\n');
  // -daemonize: qemu returns once the VM runs (errors such as a busy port come back here)
  await run(QEMU_BINARY, args, { cancelSignal: ctx.signal });
  const pid = findQemuPid(dir);
  if (pid === undefined) throw new Error(`qemu for ${request.id} did not stay up (see ${join(dir, 'console.log')})`);
  const timeoutMs = options.bootTimeoutMs ?? (accel.accel === 'kvm' ? 120_000 : 600_000);
  const stopWatching = new AbortController();
  try {
    await Promise.race([
      waitForSsh(
        { address: meta.address, port: meta.port, user: 'root', privateKeyPath: join(ctx.keysDir, 'id_ed25519'), hostKey: meta.hostKey },
        { timeoutMs, signal: ctx.signal },
      ),
      watchQemu(pid, dir, stopWatching.signal),
    ]);
  } finally {
    stopWatching.abort();
  }
  await markReady(dir);
  return listedFromStored(ctx, { id: request.id, dir, meta, ready: true, createdMs: meta.createdMs }, 'qemu', true, qemuTags);
}

async function destroyVm(ctx: ProviderContext, dir: string, id: string): Promise<void> {
  const pid = findQemuPid(dir);
  if (pid !== undefined) await stopProcess(pid, 3000);
  const tap = machineName(ctx, id);
  if (isRoot() && (await linkExists(tap))) await run('ip', ['link', 'del', 'dev', tap]);
  if (isRoot()) await ctx.network.release(`${ctx.service.name}/${id}`);
  await removeNodeDir(dir);
}

/** qemu (the `vmfest` service): real VMs, a copy-on-write clone of one base qcow2 each, direct kernel boot, KVM when it works else TCG. */
export const provider: Provider = {
  name: 'qemu',
  canCreate: true,
  async prerequisites(ctx) {
    const options = parseQemuOptions(ctx.service);
    networkMode(options);
    await ensureHostCommands(
      [
        { command: QEMU_BINARY, package: 'qemu-system-x86' },
        { command: 'qemu-img', package: 'qemu-utils' },
        { command: 'mkfs.ext4', package: 'e2fsprogs' },
        { command: 'ip', package: 'iproute2' },
        ...ROOTFS_TOOLS,
      ],
      ctx.log,
      'the qemu provider',
    );
  },
  async list(ctx, group) {
    return (await storedNodes(ctx, group)).map((stored) => listedFromStored(ctx, stored, 'qemu', findQemuPid(stored.dir) !== undefined, qemuTags));
  },
  async create(ctx, requests) {
    const options = parseQemuOptions(ctx.service);
    const mode = networkMode(options);
    const accel = await chooseAccel(options);
    ctx.log(`qemu: ${accel.accel.toUpperCase()} (${accel.reason}), ${mode} networking`);
    const rootfs = await ctx.ensureRootfs({ include: QEMU_ROOTFS_INCLUDE });
    const base = await ensureQemuBase(ctx);
    const { publicKey } = await ctx.sshKey();
    if (mode === 'bridge') await ctx.network.ensure();
    const prepared: Prepared = { base, accel, mode, options, publicKey, rootfs };
    const parallel = options.parallel ?? 1;
    const made: ListedNode[] = [];
    let failure: unknown;
    const queue = [...requests];
    const worker = async (): Promise<void> => {
      for (let request = queue.shift(); request && failure === undefined; request = queue.shift()) {
        try {
          made.push(await makeVm(ctx, request, prepared));
        } catch (error) {
          failure ??= error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, requests.length) }, worker));
    if (failure !== undefined) {
      // half-made VMs go now rather than at the next call
      await Promise.all(requests.map((request) => destroyVm(ctx, join(ctx.stateDir, 'nodes', request.id), request.id).catch(() => undefined)));
      throw failure;
    }
    return requests.map((request) => made.find((node) => node.node.id === request.id)!);
  },
  async destroy(ctx, nodes) {
    for (const node of nodes) await destroyVm(ctx, String(node.handle?.dir ?? join(ctx.stateDir, 'nodes', node.node.id)), node.node.id);
  },
};
