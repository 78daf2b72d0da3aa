import { RECORD_VERSION, type NodeRecord, type OsFacts } from '@forklift/contract';
import type { NodeSpec } from '@forklift/spec';

/**
 * The provider interface every backend (nspawn, netns, qemu, podman, node-list) implements.
 *
 * The core (`provisionNodes`) takes the per-service lock, asks the provider what really runs
 * (`list`), destroys half-made nodes (`status: 'broken'`) and the newest surplus nodes, creates the
 * missing ones (`create`, which only returns once each node answers over SSH), and writes records.
 */
export interface Provider {
  /** Provider name as used in service files and node records, e.g. `nspawn`. */
  readonly name: string;
  /** False for providers that only describe existing servers (node-list): no create/destroy. */
  readonly canCreate: boolean;
  /**
   * Check host prerequisites. As root on Debian, install missing packages with apt (saying so on
   * stderr through ctx.log); otherwise throw UnavailableError (exit 69) with the exact command to run.
   */
  prerequisites(ctx: ProviderContext): Promise<void>;
  /**
   * The nodes of this service (of one group when given) from the provider's real state (running
   * processes, mounts, namespaces, VMs), not only from a state file. Half-made or dead nodes are
   * listed with `status: 'broken'` so the core can destroy them.
   */
  list(ctx: ProviderContext, group?: string): Promise<ListedNode[]>;
  /** Create the nodes and wait until each answers over SSH with its pinned host key. */
  create(ctx: ProviderContext, requests: CreateRequest[]): Promise<ListedNode[]>;
  /** Destroy the nodes and everything they own (processes, mounts, links, leases, state dirs). */
  destroy(ctx: ProviderContext, nodes: ListedNode[]): Promise<void>;
  /** Called after destroy when the service has no node left: remove shared host state (bridge, NAT...). */
  cleanupIfUnused?(ctx: ProviderContext): Promise<void>;
}

/** The node-record fields a provider knows (the core adds `v`, `kind`, `state`). */
export interface ProviderNodeFields {
  id: string;
  group: string;
  service: string;
  provider: string;
  address: string;
  port: number;
  user: string;
  /** Path of the private key (never the key itself). */
  privateKey?: string;
  /** The node's pinned public host key, `ssh-ed25519 AAAA...`, read from its own filesystem. */
  hostKey?: string;
  os?: OsFacts;
  color?: string;
  roles?: string[];
  tags?: Record<string, string>;
}

/** One node as the provider sees it. */
export interface ListedNode {
  /** Everything of the node record but `v`, `kind` and `state`. */
  node: ProviderNodeFields;
  /** When the node was created (epoch ms): the core destroys the newest first. */
  createdMs: number;
  /** `running` answers (or should answer) SSH; `broken` is half-made or dead and will be destroyed. */
  status: 'running' | 'broken';
  /**
   * Set when the provider knows the node exists but cannot reach it now (e.g. its cluster member is
   * offline): it still counts towards COUNT and is never re-created, but no node record is written
   * for it; the tool reports it with an `error` record (code `unreachable`) carrying this reason.
   */
  unreachable?: string;
  /** Provider-private facts needed to destroy it (pids, paths, interface names). */
  handle?: Record<string, unknown>;
}

/** A request to create one node: its id, group and the group's node spec. */
export interface CreateRequest {
  /** Node id chosen by the core, unique in the service: `<group>-<n>`. */
  id: string;
  group: string;
  /** The ordinal n of the id. */
  index: number;
  /** The group's node spec (from a group spec: image, hardware minimums, network, provider extras). */
  nodeSpec: NodeSpec;
}

/** A named service: a provider and its options (from a JSON5 file or built in). */
export interface Service {
  name: string;
  provider: string;
  /** Provider-specific options, validated by the provider. */
  options: Record<string, unknown>;
  /** The file it came from, for messages (undefined for built-ins). */
  file?: string;
}

/** Everything a provider call gets: where state lives, logging, cancellation and shared host helpers. */
export interface ProviderContext {
  /** `$FORKLIFT_HOME` (default `~/.forklift`). */
  home: string;
  /** `$FORKLIFT_HOME/keys`: the SSH key pair nodes trust. */
  keysDir: string;
  /** Image cache: `$FORKLIFT_IMAGE_CACHE` or `$FORKLIFT_HOME/images` (may be shared between homes). */
  imagesDir: string;
  /** This service's provider state: `$FORKLIFT_HOME/state/<service>`. */
  stateDir: string;
  service: Service;
  env: Record<string, string | undefined>;
  /** One human line on stderr. */
  log(line: string): void;
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** The SSH key pair nodes trust (created on first use). */
  sshKey(): Promise<SshKeyPair>;
  /** The host bridge network of this FORKLIFT_HOME (shared by nspawn, netns and qemu taps). */
  network: HostNetworkManager;
  /** Build (once, cached, locked) or reuse a Debian rootfs; returns its directory. */
  ensureRootfs(options: RootfsOptions): Promise<string>;
}

/** The SSH key pair nodes trust. */
export interface SshKeyPair {
  /** Path of the private key (ed25519, OpenSSH format). */
  privateKeyPath: string;
  /** The public key line, `ssh-ed25519 AAAA... forklift`. */
  publicKey: string;
}

/** Options of the rootfs builder. */
export interface RootfsOptions {
  /** Debian suite, default `bookworm`. */
  suite?: string;
  /** debootstrap variant, default `minbase`. */
  variant?: string;
  /** Extra packages (added to the base set needed for SSH nodes). */
  include?: string[];
}

/** The bridge a FORKLIFT_HOME owns, with its subnet and apt proxy. */
export interface HostNetwork {
  /** Bridge interface name, e.g. `flbr-1a2b3c`. */
  bridge: string;
  /** The bridge's own address (the nodes' gateway and apt proxy host), e.g. `10.87.12.1`. */
  gateway: string;
  /** Prefix length of the subnet, e.g. 24. */
  prefixLength: number;
  /** The subnet in CIDR form, e.g. `10.87.12.0/24`. */
  subnet: string;
  /** `http://<gateway>:3142` when the apt proxy runs, for `Acquire::http::Proxy`. */
  aptProxy?: string;
}

/** An address leased to one node on the bridge, with its deterministic MAC. */
export interface AddressLease {
  address: string;
  /** Locally administered MAC derived from the address (stable across re-creates: no stale ARP). */
  mac: string;
  network: HostNetwork;
}

/** Creates the bridge on first use, leases addresses, and removes the bridge with the last lease. */
export interface HostNetworkManager {
  /** Create (or reuse) the bridge, the apt proxy and whatever nodes need to reach Debian's mirror. */
  ensure(): Promise<HostNetwork>;
  /** Lease the lowest free address for a node (owner = `<service>/<nodeId>`). */
  lease(owner: string): Promise<AddressLease>;
  /** Lease addresses for several owners under one lock, lowest free first, in order. */
  leaseAll(owners: string[]): Promise<AddressLease[]>;
  /** The current lease of an owner, if any. */
  find(owner: string): Promise<AddressLease | undefined>;
  /** Release an owner's lease (no error when it has none). */
  release(owner: string): Promise<void>;
  /** Remove the bridge and everything added for it when no lease is left. */
  teardownIfUnused(): Promise<void>;
}

/** Build the node record fields of a listed node. */
export function toNodeRecord(listed: ListedNode, state: 'running' | 'destroyed' = 'running'): NodeRecord {
  return { v: RECORD_VERSION, kind: 'node', ...listed.node, state } as NodeRecord;
}
