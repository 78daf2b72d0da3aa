import type { NodeRecord, OsFacts } from '@forklift/contract';
import { isSudoRefusal, sudoMessage } from './remote-command.js';
import { NodeError } from './node-errors.js';
import type { Transport } from './transport.js';

/**
 * One POSIX sh round trip before the first phase: OS facts (os-release, package manager, init
 * system, arch), whether the running kernel has an NFS client (`nfs=kernel|none`: containers share
 * the host's kernel, which may have none), and, for non-root users, whether `sudo -n` works.
 * Prints KEY=VALUE lines.
 */
export const PREFLIGHT_SCRIPT = String.raw`if [ -r /etc/os-release ]; then . /etc/os-release; elif [ -r /usr/lib/os-release ]; then . /usr/lib/os-release; fi
printf 'id=%s\n' "${'$'}{ID:-}"
printf 'version_id=%s\n' "${'$'}{VERSION_ID:-}"
for pm in apt-get dnf yum apk zypper pacman; do
  if command -v "$pm" >/dev/null 2>&1; then printf 'pm=%s\n' "$pm"; break; fi
done
if [ -d /run/systemd/system ]; then echo init=systemd
elif command -v openrc >/dev/null 2>&1 || command -v rc-service >/dev/null 2>&1; then echo init=openrc
else echo init=sysvinit
fi
printf 'arch=%s\n' "$(uname -m)"
if grep -qw nfs4 /proc/filesystems 2>/dev/null || [ -d "/lib/modules/$(uname -r)/kernel/fs/nfs" ]; then echo nfs=kernel; else echo nfs=none; fi
if [ "${'$'}{FL_SUDO:-0}" = 1 ]; then
  # sudo's complaint is kept in a variable: no file with a name others can guess (and plant a link at)
  if err=$(sudo -n true 2>&1 >/dev/null); then echo sudo=ok; else echo sudo=no; printf '%s\n' "$err" >&2; fi
fi
`;

const PACKAGE_MANAGER: Record<string, string> = { 'apt-get': 'apt', dnf: 'dnf', yum: 'yum', apk: 'apk', zypper: 'zypper', pacman: 'pacman' };

/** Parse the preflight's KEY=VALUE lines. */
export function parsePreflight(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1).trim();
  }
  return out;
}

/** OS facts from the preflight values: family is os-release's ID (debian, ubuntu, fedora, alpine ...). */
export function osFactsFrom(values: Record<string, string>): OsFacts | undefined {
  if (!values.id) return undefined;
  return {
    family: values.id,
    release: values.version_id ?? '',
    ...(values.pm ? { packageManager: PACKAGE_MANAGER[values.pm] ?? values.pm } : {}),
    ...(values.init ? { init: values.init } : {}),
    ...(values.arch ? { arch: values.arch } : {}),
  };
}

/**
 * Run the preflight on the node's connection: returns the node with `os` filled in when it had none
 * (and `os.nfsClient`, `kernel` or `none`, always from the node),
 * and throws NodeError 'sudo-password' when a non-root user cannot use passwordless sudo.
 * @example node = await preflight(node, transport)
 */
export async function preflight(node: NodeRecord, transport: Transport, signal?: AbortSignal): Promise<NodeRecord> {
  const sudo = node.user !== 'root';
  let stdout = '';
  let stderr = '';
  const result = await transport.exec(`FL_SUDO=${sudo ? 1 : 0} sh -s`, {
    stdin: PREFLIGHT_SCRIPT,
    onStdout: (chunk) => (stdout += chunk.toString()),
    onStderr: (chunk) => (stderr += chunk.toString()),
    signal,
  });
  if (signal?.aborted) throw new NodeError('interrupted', `node ${node.id}: interrupted during preflight`);
  if (result.exitCode !== 0) throw new NodeError('preflight-failed', `node ${node.id}: gathering facts failed (exit ${result.exitCode ?? result.signal}): ${stderr.trim().split('\n').pop() ?? ''}`);
  const values = parsePreflight(stdout);
  if (sudo && values.sudo !== 'ok') {
    if (isSudoRefusal(stderr) || values.sudo === 'no') throw new NodeError('sudo-password', sudoMessage(node.id, node.user, stderr));
  }
  const os = node.os ?? osFactsFrom(values);
  if (!os) return node;
  // the kernel's NFS client is a fact of the running node, not of its image: always taken from the node
  const nfsClient = values.nfs === 'kernel' || values.nfs === 'none' ? values.nfs : undefined;
  if (node.os && (nfsClient === undefined || (node.os as { nfsClient?: string }).nfsClient === nfsClient)) return node;
  return { ...node, os: nfsClient === undefined ? os : { ...os, nfsClient } };
}
