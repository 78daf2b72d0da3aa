import type { NodeRecord } from '@forklift/contract';
import type { SpecContext } from '@forklift/render-crate';
import { crateError } from './crate.js';

/** Which nodes to pick: by role (in the node's `roles`), group and color; unset means any. */
export interface PeerQuery {
  role?: string;
  group?: string;
  color?: string;
}

/**
 * The running nodes matching a query, sorted by id (so rendering is byte-stable whatever the input order).
 * The same shape as `peers` of the spec module (CONTRACTS §1).
 * @example peers(ctx.nodes, { role: 'app', color: 'blue' }).map((node) => node.address)
 */
export function peers(nodes: readonly NodeRecord[], query: PeerQuery = {}): NodeRecord[] {
  return nodes
    .filter((node) => node.state === 'running')
    .filter((node) => query.role === undefined || (node.roles ?? []).includes(query.role))
    .filter((node) => query.group === undefined || node.group === query.group)
    .filter((node) => query.color === undefined || node.color === query.color)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Every node the render was given (ctx.nodes), or only the node itself where the context has none. */
export function nodesOf(ctx: SpecContext): readonly NodeRecord[] {
  return (ctx as SpecContext & { nodes?: readonly NodeRecord[] }).nodes ?? [ctx.node];
}

/** Say a query in words for messages: `role db, color blue`. */
export function describeQuery(query: PeerQuery): string {
  return Object.entries(query)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key} ${String(value)}`)
    .join(', ') || 'any';
}

/**
 * The peers a crate needs, at least `min` of them; otherwise an InputError naming the crate's field.
 * @example const [zk] = requirePeers(ctx, { role: 'zk' }, { field: 'zookeeper', min: 1 })
 */
export function requirePeers(ctx: SpecContext, query: PeerQuery, options: { field: string; min?: number }): NodeRecord[] {
  const found = peers(nodesOf(ctx), query);
  const min = options.min ?? 1;
  if (found.length < min) {
    throw crateError(options.field, `needs ${min === 1 ? 'a node' : `${min} nodes`} with ${describeQuery(query)} among the node records (found ${found.length})`);
  }
  return found;
}
