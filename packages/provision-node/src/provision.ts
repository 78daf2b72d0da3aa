import { UsageError, type NodeRecord } from '@forklift/contract';
import { DEFAULT_GROUP, GROUP_NAME_PATTERN, type NodeSpec } from '@forklift/spec';
import { forkliftHome, providerContext } from './context.js';
import { converge, reachableRecords, unreachableOf, type ProvisionReport, type UnreachableNode } from './converge.js';
import { labelRecords } from './group-labels.js';
import type { Provider, ProviderContext, Service } from './provider.js';
import { loadProvider } from './registry.js';
import { commandTrace } from './run.js';
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
  /**
   * The provider to use instead of the service's (as run-actions takes its transport): the service is then
   * not looked up, it is `{ name: service, provider: provider.name, options: serviceOptions }`.
   */
  provider?: Provider;
  /** The service's options when `provider` is given. */
  serviceOptions?: Record<string, unknown>;
}

export type { ProvisionReport, UnreachableNode };

/** Default group name when none is given (a group spec downstream adopts its nodes: @forklift/spec's selectNodes). */
export { DEFAULT_GROUP };

async function open(options: ProvisionOptions): Promise<{ provider: Provider; ctx: ProviderContext; group: string }> {
  const env = options.env ?? process.env;
  const home = options.home ?? forkliftHome(env);
  const cwd = options.cwd ?? process.cwd();
  const group = options.group ?? DEFAULT_GROUP;
  if (!GROUP_NAME_PATTERN.test(group)) throw new UsageError(`bad group name "${group}": lowercase letters, digits and "-", at most 40`);
  const service: Service = options.provider
    ? { name: options.service, provider: options.provider.name, options: options.serviceOptions ?? {} }
    : await resolveService(options.service, { cwd, home, projectDir: options.projectDir });
  const provider = options.provider ?? (await loadProvider(service.provider));
  const log = options.log ?? ((line: string) => process.stderr.write(`provision-node: ${line}\n`));
  const ctx = providerContext({ home, service, env, log, signal: options.signal ?? new AbortController().signal });
  return { provider, ctx, group };
}

/** Run one call's work with its host commands traced when its env says FORKLIFT_TRACE=1. */
function traced<T>(options: ProvisionOptions, ctx: ProviderContext, body: () => Promise<T>): Promise<T> {
  return (options.env ?? process.env).FORKLIFT_TRACE === '1' ? commandTrace.run((line) => ctx.log(line), body) : body();
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
  return traced(options, ctx, () =>
    converge(provider, ctx, { group, count, nodeSpec: options.nodeSpec, labels: { color: options.color, roles: options.roles } }),
  );
}

/**
 * The running nodes of a service (of one group when given), from the provider's real state.
 * @example const nodes = await listNodes({ service: 'local', group: 'monitoring' })
 */
export async function listNodes(options: ProvisionOptions): Promise<NodeRecord[]> {
  return (await listReport(options)).nodes;
}

/**
 * listNodes plus the nodes that exist but cannot be reached now (they get no record).
 * @example const { nodes, unreachable } = await listReport({ service: 'cloud', group: 'web' })
 */
export async function listReport(options: ProvisionOptions): Promise<{ nodes: NodeRecord[]; unreachable: UnreachableNode[] }> {
  const { provider, ctx } = await open(options);
  const running = (await traced(options, ctx, () => provider.list(ctx, options.group))).filter((node) => node.status === 'running');
  return { nodes: await labelRecords(ctx.stateDir, reachableRecords(running)), unreachable: unreachableOf(running) };
}
