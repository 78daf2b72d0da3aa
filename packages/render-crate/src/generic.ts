import { RECORD_VERSION, UsageError, type NodeRecord, type OsFacts } from '@forklift/contract/lite';

/** Releases assumed for a generic node of each `--os`. */
export const GENERIC_RELEASES: Record<string, string> = { debian: '12', fedora: '40', alpine: '3.20' };

/** The OS facts `--os` stands for; UsageError (64) naming the known families. @example genericOs('alpine') // { family: 'alpine', release: '3.20' } */
export function genericOs(os: string): OsFacts {
  const release = Object.hasOwn(GENERIC_RELEASES, os) ? GENERIC_RELEASES[os] : undefined;
  if (!release) throw new UsageError(`--os ${JSON.stringify(os)}: expected one of ${Object.keys(GENERIC_RELEASES).join(', ')}`);
  return { family: os, release };
}

/** The node render-crate renders for without stdin: `generic-<os>`, of the spec's group. @example genericNode('debian', 'web').id // 'generic-debian' */
export function genericNode(os: string, group = 'generic'): NodeRecord {
  return {
    v: RECORD_VERSION,
    kind: 'node',
    id: `generic-${os}`,
    group,
    service: 'none',
    provider: 'none',
    address: '127.0.0.1',
    port: 22,
    user: 'root',
    os: genericOs(os),
    state: 'running',
  };
}
