// How a crate finds the nodes it talks to: by role, group or color among the render's node records.
import type { NodeRecord } from '@forklift/contract/lite';

/** Which peers to pick: every given field must match (none given: every running node). */
export interface PeerSelector {
  /** A role the node's `roles` holds (`db`). */
  role?: string;
  /** The node's `group` (`blue-db`). */
  group?: string;
  /** The node's `color` (`blue`). */
  color?: string;
}

const byId = new Intl.Collator('en', { numeric: true }).compare;

/**
 * The running nodes that match a selector, ordered by id (numerically: `web-2` before `web-10`), so a
 * configuration rendered from them does not depend on the order nodes arrived in.
 * @example peers(ctx.nodes, { role: 'app', color: 'blue' }).map((node) => `${node.address}:3000`)
 */
export function peers(nodes: readonly NodeRecord[], selector: PeerSelector = {}): NodeRecord[] {
  return nodes
    .filter(
      (node) =>
        node.state === 'running' &&
        (selector.role === undefined || (node.roles ?? []).includes(selector.role)) &&
        (selector.group === undefined || node.group === selector.group) &&
        (selector.color === undefined || node.color === selector.color),
    )
    .sort((a, b) => byId(a.id, b.id));
}
