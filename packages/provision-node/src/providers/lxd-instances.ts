import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { OsFacts } from '@forklift/contract';
import type { ListedNode, ProviderContext } from '../provider.js';

/**
 * The `user.*` config keys forklift puts on its instances: the cluster itself holds every node's
 * state, so any controller with the same FORKLIFT_HOME and service sees the same nodes.
 */
export const KEY = {
  /** 8 hex of sha256(FORKLIFT_HOME, service): whose node it is (its key is the one the node trusts). */
  owner: 'user.forklift.owner',
  service: 'user.forklift.service',
  group: 'user.forklift.group',
  node: 'user.forklift.node',
  /** Epoch ms of creation: the newest surplus goes first. */
  created: 'user.forklift.created',
  /** The pinned public host key (the private one was pushed through the files API before first boot). */
  hostKey: 'user.forklift.host-key',
  /** `1` once the node answered SSH with that key; instances without it are half-made. */
  ready: 'user.forklift.ready',
} as const;

/** An instance as `GET /1.0/instances?recursion=2` returns it (the fields forklift reads). */
export interface LxdInstance {
  name: string;
  status: string;
  location: string;
  type: string;
  project?: string;
  architecture?: string;
  created_at?: string;
  /** null for instances on a member that is offline. */
  config: Record<string, string> | null;
  state?: {
    network?: Record<string, { addresses?: { family: string; address: string; scope: string }[] }> | null;
    memory?: { usage?: number };
  } | null;
}

/** What `GET /1.0/cluster/members?recursion=1` says of a member. */
export interface LxdMember {
  server_name: string;
  status: string;
  message: string;
}

/** The owner tag of a home + service: 8 hex of sha256. */
export function ownerTag(ctx: ProviderContext): string {
  return createHash('sha256').update(`${ctx.home}\0${ctx.service.name}`).digest('hex').slice(0, 8);
}

/**
 * The instance name of a node: `fl-<id>-<owner tag>` (a valid host name of at most 56 characters).
 * The name alone says whose node it is: instances on an offline member come back without config.
 * @example instanceName(ctx, 'web-1') // 'fl-web-1-3fa9c20b'
 */
export function instanceName(ctx: ProviderContext, id: string): string {
  return `fl-${id}-${ownerTag(ctx)}`;
}

/** The node id of one of our instance names, or undefined when the name is not ours. */
export function nodeIdOf(ctx: ProviderContext, name: string): string | undefined {
  const tag = ownerTag(ctx);
  const match = name.match(/^fl-(.+)-([0-9a-f]{8})$/);
  return match && match[2] === tag ? match[1] : undefined;
}

/** The node's IPv4 address on its first interface that has a global one. */
export function addressOf(instance: Pick<LxdInstance, 'state'>): string | undefined {
  for (const [name, nic] of Object.entries(instance.state?.network ?? {})) {
    if (name === 'lo') continue;
    const inet = nic.addresses?.find((address) => address.family === 'inet' && address.scope === 'global');
    if (inet) return inet.address;
  }
  return undefined;
}

function osOf(instance: LxdInstance): OsFacts | undefined {
  const config = instance.config ?? {};
  const family = config['image.os']?.toLowerCase();
  if (!family) return undefined;
  const apt = ['debian', 'ubuntu'].includes(family);
  return {
    family,
    release: config['image.version'] ?? config['image.release'] ?? '',
    ...(apt ? { packageManager: 'apt' } : {}),
    ...(instance.architecture ? { arch: instance.architecture } : {}),
  } as OsFacts;
}

/**
 * One of our instances as the provider lists it: `running` when it runs, answered SSH once and has
 * an address; `broken` otherwise (half-made, stopped, dead); `unreachable` set when its member is
 * offline (the cluster then knows nothing but its name and member).
 */
export function listedFromInstance(ctx: ProviderContext, instance: LxdInstance, members: Map<string, LxdMember>): ListedNode | undefined {
  const id = nodeIdOf(ctx, instance.name);
  if (!id) return undefined;
  const member = members.get(instance.location);
  const config = instance.config;
  const offline = member !== undefined && member.status.toLowerCase() !== 'online';
  const tags: Record<string, string> = { member: instance.location || 'none', instance: instance.name, project: instance.project ?? 'default' };
  if (!config || instance.status === 'Error' || offline) {
    return {
      node: {
        id,
        group: config?.[KEY.group] ?? id.replace(/-\d+$/, ''),
        service: ctx.service.name,
        provider: 'lxd',
        address: '0.0.0.0',
        port: 22,
        user: 'root',
        tags,
      },
      // when the group shrinks a node the cluster cannot reach goes first (its age is unknown here);
      // destroying it fails with what to do until its member is back, and the group keeps its reachable nodes
      createdMs: Number.MAX_SAFE_INTEGER,
      status: 'running',
      unreachable: `${id} is unreachable: ${offline ? `its member ${instance.location} is ${member!.status.toLowerCase()} (${member!.message})` : `the cluster could not reach its member ${instance.location || '?'}`}`,
      handle: { instance: instance.name, member: instance.location },
    };
  }
  if (config[KEY.owner] !== ownerTag(ctx)) return undefined;
  const createdMs = Number(config[KEY.created]) || 0;
  const address = addressOf(instance);
  const ready = config[KEY.ready] === '1' && instance.status === 'Running' && address !== undefined;
  return {
    node: {
      id: config[KEY.node] ?? id,
      group: config[KEY.group] ?? '?',
      service: ctx.service.name,
      provider: 'lxd',
      address: address ?? '0.0.0.0',
      port: 22,
      user: 'root',
      privateKey: join(ctx.keysDir, 'id_ed25519'),
      hostKey: config[KEY.hostKey],
      os: osOf(instance),
      tags: { ...tags, createdAt: new Date(createdMs).toISOString() },
    },
    createdMs,
    status: ready ? 'running' : 'broken',
    handle: { instance: instance.name, member: instance.location },
  };
}
