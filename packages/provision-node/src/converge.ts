// The converge logic of provision-node over an injected provider: clean half-made nodes, destroy the
// newest surplus, choose ids, create the missing, under one lock per service. No provider-specific IO:
// tests drive it with a recording fake provider (test/converge.test.ts).
import { join } from 'node:path';
import { UsageError, type NodeRecord } from '@forklift/contract';
import type { NodeSpec } from '@forklift/spec';
import { labelRecords, writeGroupLabels, type GroupLabels } from './group-labels.js';
import { acquireLock } from './lock.js';
import { toNodeRecord, type CreateRequest, type ListedNode, type Provider, type ProviderContext } from './provider.js';

/** A node the provider knows exists but cannot reach now (e.g. on an offline cluster member). */
export interface UnreachableNode {
  id: string;
  group: string;
  /** Why, in one line (e.g. `web-3 is unreachable: its member m2 is offline (...)`). */
  message: string;
}

/** What a converge did, beside the resulting nodes. */
export interface ProvisionReport {
  /** Records of the running nodes that can be reached. */
  nodes: NodeRecord[];
  created: number;
  destroyed: number;
  /** Nodes of the group that exist (and count towards COUNT) but cannot be reached now: no record. */
  unreachable: UnreachableNode[];
}

/** What to converge a group to. */
export interface ConvergeTarget {
  group: string;
  count: number;
  /** The group's node spec for the nodes created. */
  nodeSpec?: NodeSpec;
  /** The group's color and roles; undefined keeps what was stored. */
  labels?: GroupLabels;
}

/** Node records in id order: `web-2` before `web-10`, then by age. */
export function byIndex(a: ListedNode, b: ListedNode): number {
  const index = (node: ListedNode): number => Number(node.node.id.slice(node.node.id.lastIndexOf('-') + 1)) || 0;
  return index(a) - index(b) || a.createdMs - b.createdMs;
}

/** The nodes a provider lists as existing but unreachable (`unreachable` set). */
export function unreachableOf(nodes: ListedNode[]): UnreachableNode[] {
  return nodes.filter((node) => node.unreachable !== undefined).map((node) => ({ id: node.node.id, group: node.node.group, message: node.unreachable! }));
}

/** Records of the nodes that can be reached, in id order (an unreachable one gets an error record instead). */
export function reachableRecords(nodes: ListedNode[]): NodeRecord[] {
  return nodes
    .filter((node) => node.unreachable === undefined)
    .sort(byIndex)
    .map((node) => toNodeRecord(node));
}

/**
 * The ids for `missing` new nodes of a group: `<group>-<n>` with the lowest n no node of the service
 * holds (a destroyed node's id is used again; a half-made node's id is free once it is cleaned).
 * @example newIds('web', 2, new Set(['web-1', 'web-3'])) // ['web-2', 'web-4']
 */
export function newIds(group: string, missing: number, taken: ReadonlySet<string>): Array<{ id: string; index: number }> {
  const out: Array<{ id: string; index: number }> = [];
  for (let index = 1; out.length < missing; index += 1) {
    const id = `${group}-${index}`;
    if (!taken.has(id)) out.push({ id, index });
  }
  return out;
}

/**
 * Converge one group of a service to `target.count` running nodes with `provider`: destroy half-made
 * nodes (of the group, and orphans of no group), destroy the newest surplus, create the missing (the
 * provider waits for SSH), and return a record for every running node of the group. Count 0 tears the
 * group down. A kernel lock per service (`<stateDir>/lock`) serialises concurrent converges.
 * @example const report = await converge(provider, ctx, { group: 'web', count: 2 })
 */
export async function converge(provider: Provider, ctx: ProviderContext, target: ConvergeTarget): Promise<ProvisionReport> {
  const { group, count } = target;
  const labels: GroupLabels = target.labels ?? {};
  const given = labels.color !== undefined || labels.roles !== undefined;
  if (!provider.canCreate) {
    const nodes = await provider.list(ctx, group);
    if (count !== nodes.length) {
      throw new UsageError(
        `service "${ctx.service.name}" (${provider.name}) lists ${nodes.length} node(s) in group "${group}" and cannot create or destroy: ask for ${nodes.length} or use --list`,
      );
    }
    if (given) await writeGroupLabels(ctx.stateDir, group, labels);
    return { nodes: await labelRecords(ctx.stateDir, reachableRecords(nodes)), created: 0, destroyed: 0, unreachable: unreachableOf(nodes) };
  }
  await provider.prerequisites(ctx);
  const lock = await acquireLock(join(ctx.stateDir, 'lock'), {
    signal: ctx.signal,
    onWait: () => ctx.log(`waiting for another provision-node on service ${ctx.service.name}`),
  });
  try {
    const all = await provider.list(ctx);
    // half-made nodes of this group, and orphans that never got a group, go first
    const broken = all.filter((node) => node.status === 'broken' && (node.node.group === group || node.node.group === '?'));
    if (broken.length) {
      ctx.log(`cleaning ${broken.length} half-made node(s): ${broken.map((node) => node.node.id).join(' ')}`);
      await provider.destroy(ctx, broken);
    }
    const running = all.filter((node) => node.status === 'running' && node.node.group === group).sort((a, b) => a.createdMs - b.createdMs);
    let destroyed = broken.length;
    let created = 0;
    let kept = running;
    if (running.length > count) {
      const surplus = running.slice(count).reverse();
      ctx.log(`destroying ${surplus.length} node(s) of group ${group}: ${surplus.map((node) => node.node.id).join(' ')}`);
      await provider.destroy(ctx, surplus);
      destroyed += surplus.length;
      kept = running.slice(0, count);
    }
    let fresh: ListedNode[] = [];
    if (kept.length < count) {
      const taken = new Set(all.filter((node) => !broken.includes(node)).map((node) => node.node.id));
      const requests: CreateRequest[] = newIds(group, count - kept.length, taken).map(({ id, index }) => ({
        id,
        group,
        index,
        nodeSpec: target.nodeSpec ?? {},
      }));
      ctx.log(`creating ${requests.length} ${provider.name} node(s): ${requests.map((request) => request.id).join(' ')}`);
      const started = performance.now();
      try {
        fresh = await provider.create(ctx, requests);
      } catch (error) {
        // the provider removed its half-made nodes; shared host state goes too when nothing is left
        if (all.length - destroyed === 0) {
          await provider.cleanupIfUnused?.(ctx).catch(() => undefined);
          await ctx.network.teardownIfUnused().catch(() => undefined);
        }
        throw error;
      }
      created = fresh.length;
      ctx.log(`${requests.length} node(s) answered SSH in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
    if (count === 0) await writeGroupLabels(ctx.stateDir, group, {});
    else if (given) await writeGroupLabels(ctx.stateDir, group, labels);
    if (all.length - destroyed + created === 0) {
      await provider.cleanupIfUnused?.(ctx);
      await ctx.network.teardownIfUnused();
    }
    return { nodes: await labelRecords(ctx.stateDir, reachableRecords([...kept, ...fresh])), created, destroyed, unreachable: unreachableOf(kept) };
  } finally {
    await lock.release();
  }
}
