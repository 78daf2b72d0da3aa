// Which of the piped nodes a spec is for — and how nodes provisioned without a group join a group spec.
import { InputError, type NodeRecord } from '@forklift/contract/lite';
import { isGroupSpec, type Spec } from './types.js';

/** The group of nodes provisioned without one (`provision-node local 2`): a group spec downstream adopts them. */
export const DEFAULT_GROUP = 'default';

/** Which nodes a spec renders for, and the input nodes as the spec sees them. */
export interface NodeSelection {
  /** Every input node, in order, adopted ones in the spec's group: what `ctx.nodes` and the re-emitted records hold. */
  nodes: NodeRecord[];
  /** The running nodes the spec renders for. */
  targets: NodeRecord[];
  /** Ids of the nodes of group `default` the group spec adopted. */
  adopted: string[];
}

/**
 * The nodes a spec applies to. A server spec applies to every running node. A group spec applies to the
 * running nodes of its group; when none came, it adopts the running nodes of group `default` (nodes
 * provisioned without `--group`): they are re-labelled with the spec's group, color and roles, so the
 * records flow on in that group. When neither came but nodes of other groups did, that is an
 * InputError (65) naming the groups seen — a pipe that does nothing is never a silent success.
 * @example const { targets, adopted } = selectNodes(await loadSpec('groups/monitoring'), nodes)
 */
export function selectNodes(spec: Spec, nodes: readonly NodeRecord[]): NodeSelection {
  const running = nodes.filter((node) => node.state === 'running');
  if (!isGroupSpec(spec)) return { nodes: [...nodes], targets: running, adopted: [] };
  const own = running.filter((node) => node.group === spec.group);
  if (own.length > 0 || running.length === 0) return { nodes: [...nodes], targets: own, adopted: [] };
  const ungrouped = running.filter((node) => node.group === DEFAULT_GROUP);
  if (ungrouped.length === 0) {
    const seen = [...new Set(running.map((node) => node.group))].sort();
    throw new InputError(
      `${spec.source ?? 'spec'}: group ${spec.group}: none of the ${running.length} running node(s) on stdin is in this group (groups seen: ${seen.join(', ')}); ` +
        `provision them with --group ${spec.group} (or --spec), or give the spec of their group`,
      { code: 'no-node-of-group' },
    );
  }
  const adopt = new Set(ungrouped.map((node) => node.id));
  const relabel = (node: NodeRecord): NodeRecord => ({
    ...node,
    group: spec.group,
    ...(spec.color === undefined ? {} : { color: spec.color }),
    ...(spec.roles === undefined ? {} : { roles: [...spec.roles] }),
  });
  const all = nodes.map((node) => (adopt.has(node.id) && node.state === 'running' ? relabel(node) : node));
  return { nodes: all, targets: all.filter((node) => adopt.has(node.id) && node.state === 'running'), adopted: [...adopt] };
}
