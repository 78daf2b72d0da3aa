import { join } from 'node:path';
import { UsageError, type NodeRecord } from '@forklift/contract';
import { forkliftHome, providerContext } from './context.js';
import { acquireLock } from './lock.js';
import { DEFAULT_GROUP, GROUP_NAME_PATTERN, type NodeSpec } from '@forklift/spec';
import { labelRecords, writeGroupLabels, type GroupLabels } from './group-labels.js';
import { toNodeRecord, type CreateRequest, type ListedNode, type Provider, type ProviderContext } from './provider.js';
import { loadProvider } from './registry.js';
import { resolveService } from './services.js';

/** Options of provisionNodes and listNodes. */
export interface ProvisionOptions {
  /** Service name: a `services/<name>.json5` or a built-in (`local`, `vmfest`, `netns`, `localhost`). */
  service: string;
  /** Group name (default `default`). */
  group?: string;
  /** `$FORKLIFT_HOME` (default from env, else `~/.forklift`). */
  home?: string;
  /** Project directory holding `services/` (default process.cwd()). */
  cwd?: string;
  /** Another project directory whose `services/` is searched first (the group spec's project). */
  projectDir?: string;
  env?: Record<string, string | undefined>;
  /** Human progress lines (default: stderr). */
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** The group's node spec (image, hardware, network) for the nodes created. */
  nodeSpec?: NodeSpec;
  /** The group's color, written into its node records (kept for --list); undefined keeps what was stored. */
  color?: string;
  /** The group's roles, written into its node records (kept for --list); undefined keeps what was stored. */
  roles?: string[];
}

/** What a converge did, beside the resulting nodes. */
export interface ProvisionReport {
  nodes: NodeRecord[];
  created: number;
  destroyed: number;
}

/** Default group name when none is given (a group spec downstream adopts its nodes: @forklift/spec's selectNodes). */
export { DEFAULT_GROUP };

async function open(options: ProvisionOptions): Promise<{ provider: Provider; ctx: ProviderContext; group: string }> {
  const env = options.env ?? process.env;
  const home = options.home ?? forkliftHome(env);
  const cwd = options.cwd ?? process.cwd();
  const group = options.group ?? DEFAULT_GROUP;
  if (!GROUP_NAME_PATTERN.test(group)) throw new UsageError(`bad group name "${group}": lowercase letters, digits and "-", at most 40`);
  const service = await resolveService(options.service, { cwd, home, projectDir: options.projectDir });
  const provider = await loadProvider(service.provider);
  const log = options.log ?? ((line: string) => process.stderr.write(`provision-node: ${line}\n`));
  const ctx = providerContext({ home, service, env, log, signal: options.signal ?? new AbortController().signal });
  return { provider, ctx, group };
}

function byIndex(a: ListedNode, b: ListedNode): number {
  const index = (node: ListedNode): number => Number(node.node.id.slice(node.node.id.lastIndexOf('-') + 1)) || 0;
  return index(a) - index(b) || a.createdMs - b.createdMs;
}

/**
 * Converge a group of a service to `count` running nodes: destroy half-made ones, destroy the newest
 * surplus, create the missing (waiting for SSH), and return a node record for every running node of
 * the group. Count 0 tears the group down. One lock per service makes concurrent calls safe.
 * @example const nodes = await provisionNodes({ service: 'netns', count: 2, group: 'web' })
 */
export async function provisionNodes(options: ProvisionOptions & { count: number }): Promise<NodeRecord[]> {
  return (await convergeNodes(options)).nodes;
}

/** provisionNodes with counts of what was created and destroyed. */
export async function convergeNodes(options: ProvisionOptions & { count: number }): Promise<ProvisionReport> {
  const { count } = options;
  if (!Number.isInteger(count) || count < 0 || count > 250) throw new UsageError(`bad COUNT ${count}: a whole number from 0 to 250`);
  const { provider, ctx, group } = await open(options);
  const labels: GroupLabels = { color: options.color, roles: options.roles };
  const given = labels.color !== undefined || labels.roles !== undefined;
  if (!provider.canCreate) {
    const nodes = await provider.list(ctx, group);
    if (count !== nodes.length) {
      throw new UsageError(`service "${ctx.service.name}" (${provider.name}) lists ${nodes.length} node(s) in group "${group}" and cannot create or destroy: ask for ${nodes.length} or use --list`);
    }
    if (given) await writeGroupLabels(ctx.stateDir, group, labels);
    return { nodes: await labelRecords(ctx.stateDir, nodes.sort(byIndex).map((node) => toNodeRecord(node))), created: 0, destroyed: 0 };
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
      const requests: CreateRequest[] = [];
      for (let index = 1; requests.length < count - kept.length; index += 1) {
        const id = `${group}-${index}`;
        if (!taken.has(id)) requests.push({ id, group, index, nodeSpec: options.nodeSpec ?? {} });
      }
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
    const nodes = [...kept, ...fresh].sort(byIndex).map((node) => toNodeRecord(node));
    return { nodes: await labelRecords(ctx.stateDir, nodes), created, destroyed };
  } finally {
    await lock.release();
  }
}

/**
 * The running nodes of a service (of one group when given), from the provider's real state.
 * @example const nodes = await listNodes({ service: 'local', group: 'monitoring' })
 */
export async function listNodes(options: ProvisionOptions): Promise<NodeRecord[]> {
  const { provider, ctx } = await open(options);
  const nodes = await provider.list(ctx, options.group);
  const records = nodes
    .filter((node) => node.status === 'running')
    .sort(byIndex)
    .map((node) => toNodeRecord(node));
  return labelRecords(ctx.stateDir, records);
}
