import type { Facts } from '@forklift/actions';
import type { NodeRecord } from '@forklift/contract';

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
}

/** A phase: a list of actions, or a function of the context returning one. */
export type PhaseBody = ActionEntry[] | ((ctx: SpecContext) => ActionEntry[]);

/** Settings: an object, or a function of the context (and the settings merged so far) returning one. */
export type SettingsBody = Settings | ((ctx: SpecContext) => Settings);

/** A server spec (Pallet's server-spec): phases of actions, settings, and the specs it extends. */
export interface ServerSpec {
  /** A name for messages (crates set it). */
  name?: string;
  /** Specs whose phases run first, in this order: spec objects (crates) or references like `servers/base`. */
  extends?: Array<ServerSpec | string>;
  /** Settings merged in extends order; also accepted as `phases.settings`. */
  settings?: SettingsBody;
  /** Phases by name: `bootstrap` (once per node), `configure` (the default), `install`, any other name. */
  phases?: Record<string, PhaseBody | SettingsBody>;
  /** Where the spec came from (set by loadSpec; used in error messages). */
  source?: string;
  /** The project folder the spec file belongs to (set by loadSpec): local files resolve against it. */
  cwd?: string;
}

/** A node spec (Pallet's node-spec): what a node of a group looks like, for provision-node. */
export interface NodeSpec {
  image?: string;
  hardware?: { cpus?: number; memoryMiB?: number; diskGiB?: number };
  network?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A group spec (Pallet's group-spec): a named group, its count and node spec, plus a server spec. */
export interface GroupSpec extends ServerSpec {
  group: string;
  count?: number;
  node?: NodeSpec;
}

/** Any spec render-crate takes. */
export type Spec = ServerSpec | GroupSpec;

/** A crate: a function returning a server spec. @example const nginx: Crate<{ port: number }> = ({ port }) => serverSpec({ ... }) */
export type Crate<Options = void> = (options: Options) => ServerSpec;

/** Declare a server spec (identity, for types). @example export default serverSpec({ phases: { configure: [{ action: 'package', name: 'curl' }] } }) */
export function serverSpec(spec: ServerSpec): ServerSpec {
  return spec;
}

/** Declare a group spec (identity, for types). @example export default groupSpec({ group: 'web', count: 2, extends: [nginx({ port: 80 })] }) */
export function groupSpec(spec: GroupSpec): GroupSpec {
  return spec;
}

/** Declare a node spec (identity, for types). @example nodeSpec({ image: 'debian-12', hardware: { cpus: 1 } }) */
export function nodeSpec(spec: NodeSpec): NodeSpec {
  return spec;
}
