// Making one lxd node: the instance created stopped and tagged, its identity pushed through the files
// API, started, its address awaited, SSH answering with the pinned key, then marked ready.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CreateRequest, ListedNode, ProviderContext } from '../provider.js';
import { run } from '../run.js';
import { waitForSsh } from '../ssh-wait.js';
import { LxdApiError } from './lxd-api.js';
import type { Connection } from './lxd-connection.js';
import { addressOf, instanceName, KEY, listedFromInstance, ownerTag, type LxdInstance } from './lxd-instances.js';
import { profilesOf, type LxdServiceOptions } from './lxd-options.js';

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
export interface CreateContext {
  connection: Connection;
  fingerprint: string;
  publicKey: string;
  privateKeyPath: string;
  /** Run one API submission after the previous one was answered. */
  serially<T>(submit: () => Promise<T>): Promise<T>;
}

/** A function that runs the calls given to it one after another. */
export function serialQueue(): <T>(submit: () => Promise<T>) => Promise<T> {
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
export async function makeNode(ctx: ProviderContext, made: CreateContext, spec: CreateRequest, createdMs: number): Promise<ListedNode> {
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
    const reason = log
      ?.split('\n')
      .find((line) => / ERROR /.test(line))
      ?.replace(/^.* ERROR\s+\S+ - \S+ - /, '');
    if (reason) throw new Error(`node ${spec.id} (instance ${name}) did not start: ${reason}`, { cause: error });
    throw error;
  }
  const deadline = Date.now() + (options.bootTimeoutMs ?? 120_000);
  let address: string | undefined;
  for (;;) {
    const state = await api.get<NonNullable<LxdInstance['state']> & { status: string }>(`/1.0/instances/${name}/state`);
    address = addressOf({ state });
    if (address) break;
    if (state.status !== 'Running')
      throw new Error(`instance ${name} of node ${spec.id} stopped while booting (status ${state.status}); see \`lxc info --show-log ${name}\``);
    if (Date.now() > deadline)
      throw new Error(
        `node ${spec.id} (instance ${name}) got no IPv4 address within ${Math.round((options.bootTimeoutMs ?? 120_000) / 1000)} s: is its network's DHCP reachable?`,
      );
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
