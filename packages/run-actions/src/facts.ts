import type { NodeRecord, OsFacts } from '@forklift/contract/lite';
import { FACTS_SCRIPT, isSudoRefusal, sudoMessage } from './remote-command.js';
import { NodeError } from './node-errors.js';
import type { Transport } from './transport.js';

/**
 * The facts on their own round trip (when they cannot ride on the first phase's channel: `--batch`, or more nodes
 * than `--concurrency`): FACTS_SCRIPT and, for non-root users, whether `sudo -n` works (sudo's own complaint goes
 * to stderr). Prints KEY=VALUE lines.
 */
export const PREFLIGHT_SCRIPT = `${FACTS_SCRIPT}if [ "\${FL_SUDO:-0}" = 1 ]; then
  # sudo's complaint goes straight to stderr: no file with a name others can guess (and plant a link at)
  if sudo -n true; then echo sudo=ok; else echo sudo=no; fi
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
  if (result.exitCode !== 0)
    throw new NodeError(
      'preflight-failed',
      `node ${node.id}: gathering facts failed (exit ${result.exitCode ?? result.signal}): ${stderr.trim().split('\n').pop() ?? ''}`,
    );
  const values = parsePreflight(stdout);
  if (sudo && values.sudo !== 'ok') {
    if (isSudoRefusal(stderr) || values.sudo === 'no') throw new NodeError('sudo-password', sudoMessage(node.id, node.user, stderr));
  }
  return withFacts(node, values);
}

/**
 * The node record with what its facts taught: `os` filled in when it had none, and `os.nfsClient` (`kernel` or
 * `none`) always from the running node; the same object when nothing changed.
 * @example node = withFacts(node, parsePreflight(stdout))
 */
export function withFacts(node: NodeRecord, values: Record<string, string>): NodeRecord {
  const os = node.os ?? osFactsFrom(values);
  if (!os) return node;
  // the kernel's NFS client is a fact of the running node, not of its image: always taken from the node
  const nfsClient = values.nfs === 'kernel' || values.nfs === 'none' ? values.nfs : undefined;
  if (node.os && (nfsClient === undefined || (node.os as { nfsClient?: string }).nfsClient === nfsClient)) return node;
  return { ...node, os: nfsClient === undefined ? os : { ...os, nfsClient } };
}
