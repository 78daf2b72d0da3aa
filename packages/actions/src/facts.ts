import { InputError, type OsFacts } from '@forklift/contract/lite';
import type { Facts, OsFamily, OsTable } from './types.js';

const FAMILY_OF: Record<string, OsFamily> = {
  debian: 'debian',
  ubuntu: 'debian',
  raspbian: 'debian',
  fedora: 'fedora',
  rhel: 'fedora',
  centos: 'fedora',
  rocky: 'fedora',
  almalinux: 'fedora',
  amzn: 'fedora',
  alpine: 'alpine',
};

/** The OS families forklift knows, in a stable order. */
export const OS_FAMILIES: readonly OsFamily[] = ['debian', 'fedora', 'alpine'];

/**
 * Map a distribution name (`ubuntu`, `rhel` ...) to its family; InputError when unknown.
 * @example familyOf('ubuntu') // 'debian'
 */
export function familyOf(distribution: string): OsFamily {
  // own properties only: `constructor` or `__proto__` are no OS family (they were a crash, exit 70)
  const key = distribution.toLowerCase();
  const family = Object.hasOwn(FAMILY_OF, key) ? FAMILY_OF[key] : undefined;
  if (!family) throw new InputError(`unsupported OS family "${distribution}" (known: ${Object.keys(FAMILY_OF).join(', ')})`, { code: 'unsupported-os' });
  return family;
}

/**
 * Facts for rendering from a node record's `os`: its family (InputError for an unknown one) and release.
 * @example factsFromOs({ family: 'ubuntu', release: '24.04' }) // { family: 'debian', release: '24.04' }
 */
export function factsFromOs(os: OsFacts | { family: string; release?: string }): Facts {
  return { family: familyOf(os.family), release: os.release ?? '' };
}

/**
 * Pick the entry of a per-family table for these facts.
 * @example forOs({ debian: 'apt-get', fedora: 'dnf', alpine: 'apk' }, ctx.facts)
 */
export function forOs<T>(table: OsTable<T>, facts: Pick<Facts, 'family'>): T {
  return table[facts.family];
}
