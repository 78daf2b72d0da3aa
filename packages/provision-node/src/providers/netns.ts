import { existsSync, readlinkSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mountsUnder } from '../mounts.js';
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
  if (pid === undefined || !isAlive(pid) || !processCommandLine(pid)?.includes('sshd')) return undefined;
  try {
    return readlinkSync(`/proc/${pid}/root`) === join(stored.dir, 'root') ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** netns: SSH-only nodes (a network namespace, a veth on the bridge, its own sshd chrooted in an overlay of the rootfs). */
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
    return {
      argv: ['ip', 'netns', 'exec', machine, 'unshare', '--uts', 'chroot', root, '/bin/sh', '-c', 'hostname "$1" && exec /usr/sbin/sshd -D -e -o PidFile=none', 'sh', request.id],
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    };
  },
  mainPid: sshdPid,
  async destroyExtra(_ctx, machine) {
    if (existsSync(`/run/netns/${machine}`)) await run('ip', ['netns', 'del', machine]);
    await run('ip', ['link', 'del', vethNames(machine).host], { reject: false });
  },
});
