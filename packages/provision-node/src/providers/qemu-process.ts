import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { isAlive, processCommandLine, readPidFile } from '../process.js';

/**
 * The pid of a node's qemu: from its pid file when that process is alive and really is this node's
 * qemu (its command line names the node directory), else by scanning /proc for it (a VM whose pid
 * file was never written, e.g. after kill -9 of provision-node while qemu was starting).
 * @example const pid = findQemuPid('/root/.forklift/state/vmfest/nodes/web-1')
 */
export function findQemuPid(nodeDir: string): number | undefined {
  const marker = `${nodeDir}/qemu.pid`;
  const owns = (pid: number): boolean => isAlive(pid) && (processCommandLine(pid) ?? '').includes(marker);
  const fromFile = readPidFile(marker);
  if (fromFile !== undefined && owns(fromFile)) return fromFile;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const command = processCommandLine(pid);
    if (command?.includes('qemu-system') && command.includes(marker) && isAlive(pid)) return pid;
  }
  return undefined;
}

/** A free TCP port on 127.0.0.1 (for user-mode networking's forwarded sshd). */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
