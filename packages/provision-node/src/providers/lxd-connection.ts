// The lxd provider's connection to a cluster: options parsed, the API reached and trusting us, the
// objects the options name checked, and our instances listed from the cluster itself.
import { existsSync } from 'node:fs';
import { InputError, UnavailableError } from '@forklift/contract';
import { ensureHostCommands, hasCommand } from '../prerequisites.js';
import type { ListedNode, ProviderContext } from '../provider.js';
import { certificateFingerprint, LxdApiError, LxdClient } from './lxd-api.js';
import { listedFromInstance, ownerTag, type LxdInstance, type LxdMember } from './lxd-instances.js';
import { parseLxdOptions, profilesOf, resolveEndpoint, type LxdServiceOptions } from './lxd-options.js';

/** A trusted connection to the service's LXD API, with its parsed options. */
export interface Connection {
  api: LxdClient;
  options: LxdServiceOptions;
  /** The service file, for messages. */
  file: string;
  clustered: boolean;
}

const connections = new WeakMap<ProviderContext, Promise<Connection>>();

/**
 * Connect once per provider call context: parse the options (65), reach the API (69 when no daemon
 * answers), and make sure it trusts us (69 with the command that adds the certificate).
 */
export function connect(ctx: ProviderContext): Promise<Connection> {
  let connection = connections.get(ctx);
  if (!connection) {
    connection = (async () => {
      const options = parseLxdOptions(ctx.service);
      const file = ctx.service.file ?? `built-in service ${ctx.service.name}`;
      const endpoint = await resolveEndpoint(ctx.service, options);
      if (endpoint.kind === 'unix' && !existsSync(endpoint.socketPath)) await ensureLocalDaemon(ctx, endpoint.socketPath);
      const trace = ctx.env.FORKLIFT_TRACE === '1' ? ctx.log : undefined;
      const api = new LxdClient(endpoint, { project: options.project, timeoutMs: options.requestTimeoutMs, trace });
      const server = await api.get<{ auth: string; environment?: { server_clustered?: boolean } }>('/1.0', { project: null });
      if (server.auth !== 'trusted') {
        const fingerprint = endpoint.kind === 'https' ? certificateFingerprint(endpoint.cert) : '?';
        throw new UnavailableError(
          `${api.where} does not trust the client certificate ${endpoint.kind === 'https' ? endpoint.certPath : ''} (sha256 ${fingerprint}): on a cluster member run \`lxc config trust add ${endpoint.kind === 'https' ? endpoint.certPath : 'CERT'}\` (copy the file there first), then try again`,
        );
      }
      return { api, options, file, clustered: server.environment?.server_clustered === true };
    })();
    connections.set(ctx, connection);
  }
  return connection;
}

/** The local unix endpoint: install LXD with apt when root, else exit 69; a daemon that does not run is 69 with what to do. */
async function ensureLocalDaemon(ctx: ProviderContext, socketPath: string): Promise<void> {
  if (!hasCommand('lxd')) {
    await ensureHostCommands(
      [
        { command: 'lxd', package: 'lxd' },
        { command: 'lxc', package: 'lxd-client' },
      ],
      ctx.log,
      'the lxd provider (local endpoint)',
    );
  }
  if (!existsSync(socketPath)) {
    throw new UnavailableError(
      `no LXD daemon listens on ${socketPath}: start it (systemctl start lxd, or \`lxd --group lxd &\` where systemd is not PID 1) and initialise it once (lxd init), or point the service's "endpoint" at a running cluster`,
    );
  }
}

async function members(api: LxdClient, clustered: boolean): Promise<Map<string, LxdMember>> {
  if (!clustered) return new Map();
  const list = await api.get<LxdMember[]>('/1.0/cluster/members', { query: { recursion: '1' }, project: null });
  return new Map(list.map((member) => [member.server_name, member]));
}

/** Check that what the options name exists in the cluster: a missing one is bad service data naming the field. */
export async function checkNamedObjects(connection: Connection): Promise<void> {
  const { api, options, file } = connection;
  const missing = async (path: string, project: string | null = null): Promise<boolean> => {
    try {
      await api.get(path, { project });
      return false;
    } catch (error) {
      if (error instanceof LxdApiError && error.status === 404) return true;
      throw error;
    }
  };
  const field = (key: string, what: string): InputError => new InputError(`${file}: service field "options.${key}": ${what} not found at ${api.where}`);
  if (options.project && (await missing(`/1.0/projects/${encodeURIComponent(options.project)}`))) throw field('project', `project "${options.project}"`);
  for (const profile of profilesOf(options)) {
    if (await missing(`/1.0/profiles/${encodeURIComponent(profile)}`, api.project))
      throw field(options.profiles ? 'profiles' : 'profile', `profile "${profile}" (project ${api.project})`);
  }
  if (options.storagePool && (await missing(`/1.0/storage-pools/${encodeURIComponent(options.storagePool)}`)))
    throw field('storagePool', `storage pool "${options.storagePool}"`);
  if (options.network && (await missing(`/1.0/networks/${encodeURIComponent(options.network)}`, api.project)))
    throw field('network', `network "${options.network}"`);
  if (options.target) {
    if (!connection.clustered) throw new InputError(`${file}: service field "options.target": ${api.where} is not a cluster`);
    if (await missing(`/1.0/cluster/members/${encodeURIComponent(options.target)}`)) throw field('target', `cluster member "${options.target}"`);
  }
}

/** Our instances, from the cluster itself (their `user.forklift.*` keys, or only their names on an offline member). */
export async function listed(ctx: ProviderContext, connection: Connection): Promise<ListedNode[]> {
  const { api, clustered } = connection;
  const memberMap = await members(api, clustered);
  // the cluster filters by name (a whole-name regular expression): only our instances come back, with their state
  const instances = await api.get<LxdInstance[]>('/1.0/instances', { query: { recursion: '2', filter: `name eq fl-.*-${ownerTag(ctx)}` } });
  return instances.map((instance) => listedFromInstance(ctx, instance, memberMap)).filter((node): node is ListedNode => node !== undefined);
}
