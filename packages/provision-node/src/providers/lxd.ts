import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError, UnavailableError } from '@forklift/contract';
import { ensureHostCommands, hasCommand, type HostCommand } from '../prerequisites.js';
import type { CreateRequest, ListedNode, Provider, ProviderContext } from '../provider.js';
import { run } from '../run.js';
import { waitForSsh } from '../ssh-wait.js';
import { certificateFingerprint, LxdApiError, LxdClient } from './lxd-api.js';
import { rootfsName } from '../rootfs.js';
import { ensureLxdImageFile, hasImage, IMAGE_RECIPE, importImage, resolveImage, type LxdImageFile } from './lxd-image.js';
import { addressOf, instanceName, KEY, listedFromInstance, ownerTag, type LxdInstance, type LxdMember } from './lxd-instances.js';
import { parseLxdOptions, profilesOf, resolveEndpoint, type LxdServiceOptions } from './lxd-options.js';

/** A trusted connection to the service's LXD API, with its parsed options. */
interface Connection {
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
function connect(ctx: ProviderContext): Promise<Connection> {
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
    await ensureHostCommands([{ command: 'lxd', package: 'lxd' }, { command: 'lxc', package: 'lxd-client' }], ctx.log, 'the lxd provider (local endpoint)');
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
async function checkNamedObjects(connection: Connection): Promise<void> {
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
    if (await missing(`/1.0/profiles/${encodeURIComponent(profile)}`, api.project)) throw field(options.profiles ? 'profiles' : 'profile', `profile "${profile}" (project ${api.project})`);
  }
  if (options.storagePool && (await missing(`/1.0/storage-pools/${encodeURIComponent(options.storagePool)}`))) throw field('storagePool', `storage pool "${options.storagePool}"`);
  if (options.network && (await missing(`/1.0/networks/${encodeURIComponent(options.network)}`, api.project))) throw field('network', `network "${options.network}"`);
  if (options.target) {
    if (!connection.clustered) throw new InputError(`${file}: service field "options.target": ${api.where} is not a cluster`);
    if (await missing(`/1.0/cluster/members/${encodeURIComponent(options.target)}`)) throw field('target', `cluster member "${options.target}"`);
  }
}

/** Our instances, from the cluster itself (their `user.forklift.*` keys, or only their names on an offline member). */
async function listed(ctx: ProviderContext, connection: Connection): Promise<ListedNode[]> {
  const { api, clustered } = connection;
  const memberMap = await members(api, clustered);
  // the cluster filters by name (a whole-name regular expression): only our instances come back, with their state
  const instances = await api.get<LxdInstance[]>('/1.0/instances', { query: { recursion: '2', filter: `name eq fl-.*-${ownerTag(ctx)}` } });
  return instances.map((instance) => listedFromInstance(ctx, instance, memberMap)).filter((node): node is ListedNode => node !== undefined);
}

/** A fresh ed25519 host key pair made on the controller (OpenSSH's ssh-keygen), for pushing into a node. */
async function makeHostKey(comment: string): Promise<{ privateKey: string; publicKey: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'forklift-lxd-hostkey-'));
  try {
    const file = join(dir, 'key');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
    const privateKey = await readFile(file, 'utf8');
    const publicKey = (await readFile(`${file}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    return { privateKey, publicKey };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function limitsOf(options: LxdServiceOptions, spec: CreateRequest): Record<string, string> {
  const config: Record<string, string> = {};
  const cores = spec.nodeSpec.hardware?.minCores;
  const cpu = options.limits?.cpu;
  if (cpu !== undefined || cores !== undefined) {
    config['limits.cpu'] = typeof cpu === 'string' ? cpu : String(Math.max(cpu ?? 0, Math.ceil(cores ?? 0)));
  }
  const ram = spec.nodeSpec.hardware?.minRamMiB;
  if (options.limits?.memory !== undefined) config['limits.memory'] = options.limits.memory;
  if (ram !== undefined && (options.limits?.memory === undefined || /MiB$/.test(options.limits.memory))) {
    const configured = options.limits?.memory ? Number.parseFloat(options.limits.memory) : 0;
    config['limits.memory'] = `${Math.max(configured, Math.ceil(ram))}MiB`;
  }
  return config;
}

/** Everything create needs once per call. */
interface CreateContext {
  connection: Connection;
  fingerprint: string;
  publicKey: string;
  privateKeyPath: string;
  /** Run one API submission after the previous one was answered. */
  serially<T>(submit: () => Promise<T>): Promise<T>;
}

/** A function that runs the calls given to it one after another. */
function serialQueue(): <T>(submit: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(submit: () => Promise<T>): Promise<T> => {
    const next = tail.then(submit, submit);
    tail = next.catch(() => undefined);
    return next;
  };
}

/**
 * Make one node: create the (stopped) instance tagged with its user.* keys, push its own host key,
 * root's authorized key, hostname and apt proxy through the files API, start it, wait for its
 * address and for SSH with the pinned key, then mark it ready.
 */
async function makeNode(ctx: ProviderContext, made: CreateContext, spec: CreateRequest, createdMs: number): Promise<ListedNode> {
  const { api, options } = made.connection;
  const name = instanceName(ctx, spec.id);
  const hostKey = await makeHostKey(`${spec.id}@forklift`);
  const devices: Record<string, Record<string, string>> = {};
  if (options.storagePool) devices.root = { type: 'disk', path: '/', pool: options.storagePool };
  if (options.network) devices.eth0 = { type: 'nic', network: options.network, name: 'eth0' };
  // one submission at a time: the cluster counts pending creations when it places the next one,
  // so nodes made together spread over the members (submitted at once, they all landed on one)
  const submitted = await made.serially(() =>
    api.request('POST', '/1.0/instances', {
      query: { target: options.target },
      body: {
        name,
        type: options.type ?? 'container',
        source: { type: 'image', fingerprint: made.fingerprint },
        profiles: profilesOf(options),
        config: {
          ...(options.config ?? {}),
          ...limitsOf(options, spec),
          [KEY.owner]: ownerTag(ctx),
          [KEY.service]: ctx.service.name,
          [KEY.group]: spec.group,
          [KEY.node]: spec.id,
          [KEY.created]: String(createdMs),
          [KEY.hostKey]: hostKey.publicKey,
        },
        devices,
      },
    }),
  );
  if (submitted.operation) await api.wait(submitted.operation, { timeoutMs: 600_000, signal: ctx.signal });
  // the node's identity is in its filesystem before its first boot: nothing is trusted on first use
  await api.pushFile(name, '/etc/ssh/ssh_host_ed25519_key', hostKey.privateKey, { mode: 0o600 });
  await api.pushFile(name, '/etc/ssh/ssh_host_ed25519_key.pub', `${hostKey.publicKey} ${spec.id}@forklift\n`, { mode: 0o644 });
  await api.pushFile(name, '/root/.ssh', null, { mode: 0o700 });
  await api.pushFile(name, '/root/.ssh/authorized_keys', `${made.publicKey}\n`, { mode: 0o600 });
  await api.pushFile(name, '/etc/hostname', `${spec.id}\n`, { mode: 0o644 });
  if (options.aptProxy) await api.pushFile(name, '/etc/apt/apt.conf.d/01forklift-proxy', `Acquire::http::Proxy "${options.aptProxy}";\n`, { mode: 0o644 });
  try {
    await api.call('PUT', `/1.0/instances/${name}/state`, { body: { action: 'start', timeout: 60 }, timeoutMs: 300_000, signal: ctx.signal });
  } catch (error) {
    // LXD says "Failed to run: lxd forkstart ...": the reason is in the instance's liblxc log
    const log = error instanceof LxdApiError ? await api.text(`/1.0/instances/${name}/logs/lxc.log`) : undefined;
    const reason = log?.split('\n').find((line) => / ERROR /.test(line))?.replace(/^.* ERROR\s+\S+ - \S+ - /, '');
    if (reason) throw new Error(`node ${spec.id} (instance ${name}) did not start: ${reason}`, { cause: error });
    throw error;
  }
  const deadline = Date.now() + (options.bootTimeoutMs ?? 120_000);
  let address: string | undefined;
  for (;;) {
    const state = await api.get<NonNullable<LxdInstance['state']> & { status: string }>(`/1.0/instances/${name}/state`);
    address = addressOf({ state });
    if (address) break;
    if (state.status !== 'Running') throw new Error(`instance ${name} of node ${spec.id} stopped while booting (status ${state.status}); see \`lxc info --show-log ${name}\``);
    if (Date.now() > deadline) throw new Error(`node ${spec.id} (instance ${name}) got no IPv4 address within ${Math.round((options.bootTimeoutMs ?? 120_000) / 1000)} s: is its network's DHCP reachable?`);
    if (ctx.signal.aborted) throw new Error(`creating ${spec.id}: aborted`);
    await sleep(200);
  }
  await waitForSsh(
    { address, port: 22, user: 'root', privateKeyPath: made.privateKeyPath, hostKey: hostKey.publicKey },
    { timeoutMs: Math.max(10_000, deadline - Date.now()), signal: ctx.signal },
  );
  await api.call('PATCH', `/1.0/instances/${name}`, { body: { config: { [KEY.ready]: '1' } } });
  const instance = await api.get<LxdInstance>(`/1.0/instances/${name}`, { query: { recursion: '1' } });
  instance.state = await api.get<LxdInstance['state']>(`/1.0/instances/${name}/state`);
  const node = listedFromInstance(ctx, instance, new Map());
  if (!node || node.status !== 'running') throw new Error(`node ${spec.id} (instance ${name}) answered SSH but does not list as running`);
  return node;
}

/** Wait for the cluster's running operations on an instance (a create a killed provision-node left running). */
async function settle(api: LxdClient, name: string): Promise<void> {
  const operations = await api.get<Record<string, { id: string; resources?: Record<string, string[]> | null }[]>>('/1.0/operations', { query: { recursion: '1' } }).catch(() => ({}));
  const mine = Object.values(operations)
    .flat()
    .filter((operation) => Object.values(operation.resources ?? {}).flat().some((url) => url.split('?')[0]!.endsWith(`/instances/${name}`)));
  for (const operation of mine) await api.wait(`/1.0/operations/${operation.id}`, { timeoutMs: 300_000 }).catch(() => undefined);
}

/** Run an instance request again while LXD says the instance is busy with another operation of its own (a failed start stops it). */
async function whenIdle<T>(request: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await request();
    } catch (error) {
      if (!(error instanceof LxdApiError && /busy/i.test(error.apiMessage)) || Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

/** Stop (forced) and delete one instance and wait until it is gone; a missing one is fine. */
async function deleteInstance(api: LxdClient, name: string): Promise<void> {
  await settle(api, name);
  let status: string;
  try {
    status = (await api.get<{ status: string }>(`/1.0/instances/${name}`)).status;
  } catch (error) {
    if (error instanceof LxdApiError && error.status === 404) return;
    throw error;
  }
  if (status !== 'Stopped') {
    await whenIdle(() => api.call('PUT', `/1.0/instances/${name}/state`, { body: { action: 'stop', force: true, timeout: -1 }, timeoutMs: 120_000 })).catch((error: unknown) => {
      if (!(error instanceof LxdApiError && /already stopped|not running/i.test(error.apiMessage))) throw error;
    });
  }
  try {
    await whenIdle(() => api.call('DELETE', `/1.0/instances/${name}`, { timeoutMs: 300_000 }));
  } catch (error) {
    if (!(error instanceof LxdApiError && error.status === 404)) throw error;
  }
}

async function destroyAll(api: LxdClient, nodes: { id: string; instance: string }[]): Promise<void> {
  const results = await Promise.allSettled(nodes.map((node) => deleteInstance(api, node.instance)));
  const failed = results.flatMap((result, index) => (result.status === 'rejected' ? [`${nodes[index]!.id}: ${(result.reason as Error).message}`] : []));
  if (failed.length) throw new Error(`could not destroy ${failed.join('; ')}`);
}

/** The image every node starts from: the service's own, or forklift's Debian image imported once. */
async function imageFingerprint(ctx: ProviderContext, connection: Connection): Promise<string> {
  const { api, options, file } = connection;
  if (options.image) return resolveImage(api, options.image, file);
  const rootfs = await ctx.ensureRootfs({ suite: options.suite, include: options.include });
  const image = await ensureLxdImageFile(ctx, rootfs);
  return importImage(ctx, api, image);
}

/** The image file of this service's rootfs when it was built (without building it). */
async function builtImage(ctx: ProviderContext, options: LxdServiceOptions): Promise<LxdImageFile | undefined> {
  const file = join(ctx.imagesDir, `${rootfsName({ suite: options.suite, include: options.include })}-${IMAGE_RECIPE}`, 'image.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(await readFile(file, 'utf8')) as LxdImageFile;
}

/**
 * lxd: nodes are system containers (or VMs) of an LXD or Incus cluster, reached through its REST
 * API (unix socket or HTTPS with mutual TLS); the cluster itself holds their state.
 */
export const provider: Provider = {
  name: 'lxd',
  canCreate: true,
  async prerequisites(ctx) {
    const options = parseLxdOptions(ctx.service);
    const needed: HostCommand[] = [
      { command: 'ssh-keygen', package: 'openssh-client' },
      { command: 'flock', package: 'util-linux' },
    ];
    // forklift's own image is built on this machine from the Debian rootfs
    if (!options.image) needed.push({ command: 'debootstrap', package: 'debootstrap' }, { command: 'tar', package: 'tar' }, { command: 'chroot', package: 'coreutils' });
    await ensureHostCommands(needed, ctx.log, 'the lxd provider');
    await checkNamedObjects(await connect(ctx));
  },
  async list(ctx, group) {
    const nodes = await listed(ctx, await connect(ctx));
    return group === undefined ? nodes : nodes.filter((node) => node.node.group === group);
  },
  async create(ctx, specs) {
    const connection = await connect(ctx);
    const fingerprint = await imageFingerprint(ctx, connection);
    const key = await ctx.sshKey();
    const made: CreateContext = { connection, fingerprint, publicKey: key.publicKey, privateKeyPath: key.privateKeyPath, serially: serialQueue() };
    // creation times in id order (a millisecond apart): "newest first" is well defined for nodes made together
    const now = Date.now();
    const results = await Promise.allSettled(specs.map((spec, index) => makeNode(ctx, made, spec, now + index)));
    const failed = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed.length) {
      // no half-made node stays behind (the ones that answered go too: the call failed as a whole)
      await destroyAll(connection.api, specs.map((spec) => ({ id: spec.id, instance: instanceName(ctx, spec.id) }))).catch((error: unknown) => ctx.log(String((error as Error).message)));
      throw failed[0]!.reason;
    }
    return results.map((result) => (result as PromiseFulfilledResult<ListedNode>).value);
  },
  async destroy(ctx, nodes) {
    const { api } = await connect(ctx);
    const reachable = nodes.filter((node) => node.unreachable === undefined);
    await destroyAll(api, reachable.map((node) => ({ id: node.node.id, instance: String(node.handle?.instance ?? instanceName(ctx, node.node.id)) })));
    const unreachable = nodes.filter((node) => node.unreachable !== undefined);
    if (unreachable.length) {
      throw new UnavailableError(
        `cannot destroy what the cluster cannot reach — ${unreachable.map((node) => node.unreachable).join('; ')}: bring the member back (or remove it from the cluster: lxc cluster remove --force MEMBER) and run again`,
      );
    }
  },
  async cleanupIfUnused(ctx) {
    const connection = await connect(ctx);
    const { api, options } = connection;
    if (options.image || options.keepImage) return;
    const image = await builtImage(ctx, options);
    if (!image || !(await hasImage(api, image.fingerprint))) return;
    // the image goes with the service's last node unless some instance (anyone's) still comes from it
    const instances = await api.get<LxdInstance[]>('/1.0/instances', { query: { recursion: '1' } });
    if (instances.some((instance) => instance.config === null || instance.config['volatile.base_image'] === image.fingerprint)) return;
    ctx.log(`removing image ${image.fingerprint.slice(0, 12)} from ${api.where} (no node left)`);
    try {
      await api.call('DELETE', `/1.0/images/${image.fingerprint}`, { timeoutMs: 120_000 });
    } catch (error) {
      if (!(error instanceof LxdApiError && error.status === 404)) throw error;
    }
  },
};
