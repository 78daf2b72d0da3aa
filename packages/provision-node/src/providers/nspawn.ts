import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredNode } from '../node-store.js';
import { ensureInotifyInstances } from '../prerequisites.js';
import { isAlive, processCommandLine, readPidFile } from '../process.js';
import { run } from '../run.js';
import { parseNspawnExtras } from './nspawn-options.js';
import { rootfsProvider } from './rootfs-node.js';

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
    [
      '-t',
      init,
      '-m',
      '-u',
      '-i',
      '-n',
      '-p',
      'sh',
      '-c',
      'systemctl is-system-running; systemctl --failed --no-legend --plain; /usr/sbin/sshd -t 2>&1 | head -n 3; systemctl status ssh.service --no-pager -n 3 2>&1 | tail -n 4',
    ],
    { reject: false, timeout: 15_000 },
  );
  return `${result.stdout} ${result.stderr}`.trim().replace(/\s*\n\s*/g, ' / ');
}

const NETWORK_FILE = (address: string, prefixLength: number, gateway: string, mac: string): string =>
  `[Match]\nName=host0\n\n[Link]\nMACAddress=${mac}\n\n[Network]\nAddress=${address}/${prefixLength}\nGateway=${gateway}\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n`;

/**
 * The host end of a node's veth is `vb-MACHINE` (nspawn's name; MACHINE is unique to this home, service and node
 * id). When a node is destroyed, the kernel can keep its network namespace — and so that veth — for a while after
 * every process of it is gone; a node created again with the same id then fails with `Failed to add new veth
 * interfaces ... File exists`. Such a link has no machine behind it (this node is being created): delete it.
 */
async function removeStaleVeth(machine: string, log?: (line: string) => void): Promise<void> {
  const name = `vb-${machine}`.slice(0, 15);
  if (!existsSync(`/sys/class/net/${name}`)) return;
  const result = await run('ip', ['link', 'del', name], { reject: false });
  log?.(
    `removed ${name}, the veth of an earlier node ${machine} the kernel had not let go of yet${result.exitCode === 0 ? '' : ` (ip link del failed: ${result.stderr.trim()})`}`,
  );
}

/** nspawn: real systemd nodes on this host, one overlay of the cached Debian rootfs each, on the home's bridge. */
export const provider = rootfsProvider({
  name: 'nspawn',
  main: 'systemd-nspawn',
  logFile: 'console.log',
  defaultBootTimeoutMs: 90_000,
  hostCommands: [{ command: 'systemd-nspawn', package: 'systemd-container' }],
  needsRoot: 'mounts, bridges, cgroups',
  withoutRoot: 'a podman service',
  async beforeCreate(ctx, requests) {
    // a bad node spec extra stops the call before any node is begun
    for (const request of requests) parseNspawnExtras(request.nodeSpec.provider?.nspawn, request.group);
    await ensureInotifyInstances(128 + INOTIFY_PER_NODE * (hostNspawnCount() + requests.length), ctx.log);
  },
  // once the node's processes are gone its veth goes with its network namespace — unless the kernel keeps that
  // namespace a while longer: then the link is ours to remove now, not left on the host after the node
  async destroyExtra(_ctx, machine) {
    await removeStaleVeth(machine);
  },
  rootOptions: (request) => ({ nfsExport: parseNspawnExtras(request.nodeSpec.provider?.nspawn, request.group).nfsExport }),
  async launch(ctx, node, root, publicKey) {
    const { request, meta, lease } = node;
    const { network } = lease;
    await removeStaleVeth(meta.machine, ctx.log);
    const extras = parseNspawnExtras(request.nodeSpec.provider?.nspawn, request.group);
    await mkdir(join(root, 'etc', 'systemd', 'network'), { recursive: true });
    await writeFile(
      join(root, 'etc', 'systemd', 'network', '10-forklift-host0.network'),
      NETWORK_FILE(lease.address, network.prefixLength, network.gateway, lease.mac),
    );
    // seen once in ~50 boots on a machine at load 25: `sshd -t` failed early in boot five times in a row and
    // systemd gave up on ssh.service; keep retrying instead (the SSH wait bounds it)
    await mkdir(join(root, 'etc', 'systemd', 'system', 'ssh.service.d'), { recursive: true });
    await writeFile(
      join(root, 'etc', 'systemd', 'system', 'ssh.service.d', '10-forklift-retry.conf'),
      '[Unit]\nStartLimitIntervalSec=0\n\n[Service]\nRestartSec=1\n',
    );
    // systemd 252 provisions root's authorized_keys from the credential only when its tmpfiles rule exists
    const provision = await readFile(join(root, 'usr', 'lib', 'tmpfiles.d', 'provision.conf'), 'utf8').catch(() => '');
    if (!provision.includes('ssh.authorized_keys.root')) {
      await mkdir(join(root, 'root', '.ssh'), { recursive: true, mode: 0o700 });
      await writeFile(join(root, 'root', '.ssh', 'authorized_keys'), `${publicKey}\n`, { mode: 0o600 });
    }
    const argv = [
      'systemd-nspawn',
      '--quiet',
      '--boot',
      '--register=no',
      '--keep-unit',
      `--machine=${meta.machine}`,
      `--hostname=${request.id}`,
      `--directory=${root}`,
      `--network-bridge=${network.bridge}`,
      '--resolv-conf=off',
      '--timezone=off',
      '--link-journal=no',
      '--console=read-only',
      `--set-credential=ssh.authorized_keys.root:${publicKey}`,
      ...(extras.fuse ? ['--bind=/dev/fuse'] : []),
      // nfs-ganesha serves files by handle (name_to_handle_at is allowed already)
      ...(extras.nfsExport ? ['--system-call-filter=open_by_handle_at'] : []),
    ];
    return { argv };
  },
  mainPid: nspawnPid,
  diagnose,
});
