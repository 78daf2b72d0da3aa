import type { NodeRecord } from '@forklift/contract';
import { peers, type PeerSelector, type SpecContext } from '@forklift/spec';
import { crateError } from './crate.js';

/** Say a selector in words for messages: `role db, color blue`. */
export function describeSelector(selector: PeerSelector): string {
  return (
    Object.entries(selector)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key} ${String(value)}`)
      .join(', ') || 'any'
  );
}

/**
 * The peers a crate needs among the render's node records (ctx.nodes), at least `min` of them (default 1);
 * otherwise an InputError naming the crate's field (the spec loader puts the file and the crate in front).
 * @example const [zk] = requirePeers(ctx, { role: 'zk' }, { field: 'zookeeper' })
 */
export function requirePeers(ctx: SpecContext, selector: PeerSelector, options: { field: string; min?: number }): NodeRecord[] {
  const found = peers(ctx.nodes, selector);
  const min = options.min ?? 1;
  if (found.length < min) {
    throw crateError(
      options.field,
      `needs ${min === 1 ? 'a node' : `${min} nodes`} with ${describeSelector(selector)} among the node records (found ${found.length})`,
    );
  }
  return found;
}
