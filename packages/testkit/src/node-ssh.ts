import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A node record's field as text (records come typed as NodeRecord or as parsed JSON). */
function field(node: object, name: string): string {
  return String((node as Record<string, unknown>)[name]);
}

/**
 * OpenSSH arguments that run `command` on a node (a node record) trusting only the host key pinned in the
 * record: a known_hosts file of the node's own, written into `knownHostsDir`, batch mode, no global known hosts.
 * @example spawn('ssh', pinnedSshArgs(node, 'cat > /tmp/x', home))
 */
export function pinnedSshArgs(node: object, command: string, knownHostsDir: string): string[] {
  mkdirSync(knownHostsDir, { recursive: true });
  const group = (node as { group?: unknown }).group;
  const knownHosts = join(knownHostsDir, `known_hosts-${group === undefined ? '' : `${String(group)}-`}${field(node, 'id')}`);
  // known_hosts names a host on another port than 22 as [address]:port
  const port = field(node, 'port');
  const host = port === '22' ? field(node, 'address') : `[${field(node, 'address')}]:${port}`;
  writeFileSync(knownHosts, `${host} ${field(node, 'hostKey')}\n`);
  return [
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    `UserKnownHostsFile=${knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'LogLevel=ERROR',
    '-i',
    field(node, 'privateKey'),
    '-p',
    field(node, 'port'),
    `${field(node, 'user')}@${field(node, 'address')}`,
    command,
  ];
}

/**
 * Run a shell command on a node with OpenSSH (host key pinned, see pinnedSshArgs): its stdout. Rejects when ssh
 * or the command fails, or after `timeoutMs` (default 120 s).
 * @example const out = await sshOnNode(node, 'systemctl is-active nginx', { knownHostsDir: home })
 */
export async function sshOnNode(node: object, command: string, options: { knownHostsDir: string; timeoutMs?: number }): Promise<string> {
  const { stdout } = await execFileAsync('ssh', pinnedSshArgs(node, command, options.knownHostsDir), {
    timeout: options.timeoutMs ?? 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}
