// Pallet's specs: a node spec says what a node looks like, a server spec what runs on it (phases of
// actions, settings, the specs it extends), a group spec names a group of nodes and joins the two.
import type { Facts, NodeRecord } from '@forklift/contract/lite';

/** One action in a phase: `{ action: 'package', name: 'nginx' }`, optionally with an `id` (default `<action>-<n>`). */
export interface ActionEntry {
  action: string;
  id?: string;
  [option: string]: unknown;
}

/** Settings: plain data that later phases and other crates read (`ctx.settings.nginx.port`). */
export type Settings = Record<string, unknown>;

/** What settings and phase functions receive. */
export interface SpecContext {
  /** The node being rendered for. */
  node: NodeRecord;
  /** Its OS facts. */
  facts: Facts;
  /** Settings merged so far (in a phase function: all of them). */
  settings: Settings;
  /**
   * Every running node record the render was given, of every group, in the order given: crates find
   * their peers here (`peers(ctx.nodes, { role: 'db', color: 'blue' })`), never by a fixed address.
   */
  nodes: readonly NodeRecord[];
}

/** A phase: a list of actions, or a function of the context returning one. */
export type PhaseBody = ActionEntry[] | ((ctx: SpecContext) => ActionEntry[]);

/** Settings: an object, or a function of the context (and the settings merged so far) returning one. */
export type SettingsBody = Settings | ((ctx: SpecContext) => Settings);

/** A crate used by name from a declarative spec: `extends: [{ crate: 'nginx', options: { port: 80 } }]` (resolved by loadSpec's `resolveCrate`). */
export interface CrateReference {
  crate: string;
  options?: unknown;
}

/** A server spec (Pallet's server-spec): phases of actions, settings, and the specs it extends. */
export interface ServerSpec {
  /** A label for messages (crates set it). It never names a group: that is a group spec's `group`. */
  name?: string;
  /** Specs whose phases run first, in this order: spec objects (crates), references like `servers/base`, or crates by name. */
  extends?: Array<ServerSpec | string | CrateReference>;
  /** Settings merged in extends order; also accepted as `phases.settings`. */
  settings?: SettingsBody;
  /** Phases by name: `bootstrap` (once per node), `configure` (the default), `install`, any other name. */
  phases?: Record<string, PhaseBody | SettingsBody>;
  /** Where the spec came from (set by loadSpec; used in error messages). */
  source?: string;
  /** The project folder the spec file belongs to (set by loadSpec): local files resolve against it. */
  cwd?: string;
}

/**
 * The hardware a node needs, as minimums (Pallet's `:min-cores`, `:min-ram`), units in the names.
 * Providers that size their nodes (qemu) raise their defaults to these; containers ignore them.
 */
export interface Hardware {
  minCores?: number;
  minRamMiB?: number;
  minDiskGiB?: number;
}

/** Pallet-style image selectors, for providers that choose among images. */
export interface ImageSelector {
  osFamily?: string;
  osVersion?: string;
}

/** A node spec (Pallet's node-spec): what a node of a group looks like, for provision-node. */
export interface NodeSpec {
  /** An image name (`debian-12`) or selectors. */
  image?: string | ImageSelector;
  hardware?: Hardware;
  network?: { inboundPorts?: number[] };
  /** Provider-specific extras, by provider name: `{ qemu: { ... } }`. */
  provider?: Record<string, Record<string, unknown>>;
}

/** A group spec (Pallet's group-spec): a named group, its count and node spec, plus a server spec. */
export interface GroupSpec extends ServerSpec {
  /** The group's name: what provision-node provisions and the node records' `group`. */
  group: string;
  /** How many nodes provision-node converges the group to when no COUNT is given. */
  count?: number;
  node?: NodeSpec;
  /** The group's color (`blue`, `green`): provision-node writes it into the node records. */
  color?: string;
  /** The roles of the group's nodes (`['web']`): provision-node writes them into the node records. */
  roles?: string[];
}

/** Any spec: a server spec or a group spec. */
export type Spec = ServerSpec | GroupSpec;

/** A crate: a function returning a server spec. @example const nginx: Crate<{ port: number }> = ({ port }) => serverSpec({ ... }) */
export type Crate<Options = void> = (options: Options) => ServerSpec;

/** Declare a server spec (identity, for types). @example export default serverSpec({ phases: { configure: [{ action: 'package', name: 'curl' }] } }) */
export function serverSpec(spec: ServerSpec): ServerSpec {
  return spec;
}

/** Declare a group spec (identity, for types). @example export default groupSpec({ group: 'web', count: 2, roles: ['web'], extends: [nginx({ port: 80 })] }) */
export function groupSpec(spec: GroupSpec): GroupSpec {
  return spec;
}

/** Declare a node spec (identity, for types). @example nodeSpec({ image: 'debian-12', hardware: { minCores: 1, minRamMiB: 512 } }) */
export function nodeSpec(spec: NodeSpec): NodeSpec {
  return spec;
}

/** The group a spec names, or undefined for a server spec. @example specGroup({ group: 'web' }) // 'web' */
export function specGroup(spec: Spec): string | undefined {
  return (spec as Partial<GroupSpec>).group;
}

/** Whether a spec is a group spec (it names a group). */
export function isGroupSpec(spec: Spec): spec is GroupSpec {
  return typeof (spec as Partial<GroupSpec>).group === 'string';
}
