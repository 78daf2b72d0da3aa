import { UsageError, type NodeRecord } from '@forklift/contract';

/** Releases assumed for a generic node of each `--os`. */
export const GENERIC_RELEASES: Record<string, string> = { debian: '12', fedora: '40', alpine: '3.20' };

/** The node render-crate renders for without stdin: `generic-<os>`, of the spec's group. @example genericNode('debian', 'web').id // 'generic-debian' */
export function genericNode(os: string, group = 'generic'): NodeRecord {
  const release = GENERIC_RELEASES[os];
  if (!release) throw new UsageError(`--os ${JSON.stringify(os)}: expected one of ${Object.keys(GENERIC_RELEASES).join(', ')}`);
  return { v: 1, kind: 'node', id: `generic-${os}`, group, service: 'none', provider: 'none', address: '127.0.0.1', port: 22, user: 'root', os: { family: os, release }, state: 'running' };
}
