import { existsSync, readlinkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoredNode } from '../node-store.js';
import { isAlive, processCommandLine, readPidFile } from '../process.js';
import { run } from '../run.js';
import { rootfsProvider } from './rootfs-node.js';

/** Host-side and namespace-side veth names of a node (15 characters at most). */
function vethNames(machine: string): { host: string; inner: string } {
  return { host: `vh${machine}`, inner: `vn${machine}` };
}

function sshdPid(stored: StoredNode): number | undefined {
  const pid = readPidFile(join(stored.dir, 'pid'));
  if (pid === undefined || !isAlive(pid)) return undefined;
  const command = processCommandLine(pid);
  if (!command?.includes('sshd')) return undefined;
  const root = join(stored.dir, 'root');
  // the recorded process is `unshare` (the node's namespaces' parent, whose command line names the root it
  // pivots into); nodes started before the namespaces were a chrooted sshd, whose root is the node's root
  if (command.includes(root)) return pid;
  try {
    return readlinkSync(`/proc/${pid}/root`) === root ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The capabilities a netns node's processes keep (Docker's default set without MKNOD): no SYS_ADMIN (no mounts, no
 * way back to the host's filesystems), no MKNOD (no device node for the host's disk), no DAC_READ_SEARCH
 * (no open_by_handle_at into the host's files), no SYS_MODULE, SYS_RAWIO, SYS_PTRACE, SYS_BOOT, SYS_TIME.
 */
export const NETNS_CAPABILITIES = [
  'chown',
  'dac_override',
  'fowner',
  'fsetid',
  'kill',
  'setgid',
  'setuid',
  'setpcap',
  'setfcap',
  'net_bind_service',
  'net_raw',
  'sys_chroot',
  'audit_write',
] as const;

// Runs as PID 1 of the node's own PID namespace, in its own mount namespace (private propagation): the node's
// root becomes / by pivot_root, /proc is the node's own (mounted first: umount reads the mount table there), the
// host's root is unmounted, and sshd starts with a reduced capability bounding set. argv: ROOT HOSTNAME.
const ENTER_NODE = `set -e
cd "$1"
mkdir -p .forklift-old-root
pivot_root . .forklift-old-root
exec /bin/sh -c 'mount -t proc -o nosuid,nodev,noexec proc /proc && umount -l /.forklift-old-root && rmdir /.forklift-old-root && hostname "$1" && exec setpriv --bounding-set=-all,${NETNS_CAPABILITIES.map((cap) => `+${cap}`).join(',')} -- /usr/sbin/sshd -D -e -o PidFile=none' sh "$2"`;

/**
 * netns: SSH-only nodes: a network namespace with a veth on the bridge, and its own mount, PID and UTS namespaces
 * in which an overlay of the rootfs is the whole filesystem (pivot_root, the host's root unmounted), /proc is the
 * node's own and sshd runs with a reduced capability bounding set. Not a VM: the kernel is the host's.
 */
export const provider = rootfsProvider({
  name: 'netns',
  main: 'sshd',
  logFile: 'sshd.log',
  defaultBootTimeoutMs: 60_000,
  hostCommands: [],
  needsRoot: 'namespaces, mounts, bridges',
  async launch(_ctx, node, root, publicKey) {
    const { request, meta, lease } = node;
    const { machine } = meta;
    await mkdir(join(root, 'root', '.ssh'), { recursive: true, mode: 0o700 });
    await writeFile(join(root, 'root', '.ssh', 'authorized_keys'), `${publicKey}\n`, { mode: 0o600 });
    await mkdir(join(root, 'run', 'sshd'), { recursive: true, mode: 0o755 });
    // (no host /proc in the node: the node mounts its own, inside its PID namespace)
    const { host, inner } = vethNames(machine);
    const { network } = lease;
    // two `ip -batch` runs instead of eight ip processes: process start-up dominates on a busy host
    await run('ip', ['-batch', '-'], {
      input: [
        `netns add ${machine}`,
        `link add ${host} type veth peer name ${inner} netns ${machine}`,
        `link set ${host} master ${network.bridge} up`,
        '',
      ].join('\n'),
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
    return {
      argv: [
        'ip',
        'netns',
        'exec',
        machine,
        'unshare',
        '--mount',
        '--uts',
        '--pid',
        '--fork',
        '--propagation',
        'private',
        'sh',
        '-c',
        ENTER_NODE,
        'sh',
        root,
        request.id,
      ],
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    };
  },
  mainPid: sshdPid,
  async destroyExtra(_ctx, machine) {
    if (existsSync(`/run/netns/${machine}`)) await run('ip', ['netns', 'del', machine]);
    await run('ip', ['link', 'del', vethNames(machine).host], { reject: false });
  },
});
