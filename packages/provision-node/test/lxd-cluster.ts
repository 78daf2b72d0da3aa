// A real two-member LXD cluster on this one machine, for the lxd provider's tests and bench:
// two daemons (each its own LXD_DIR) in two network namespaces whose veths sit on one host bridge,
// joined with a token; instances join a cluster-wide macvlan network on that bridge and get their
// addresses from a dnsmasq on it, so they are reachable from the host (a managed LXD bridge would NAT
// each member separately). The bridge comes from provision-node's own host network (with its apt
// proxy, which the nodes use to reach Debian's mirror). Everything started here is stopped by PID.
import { spawn, execFile } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { shellQuote } from '@forklift/contract';
import { hostNetwork } from '../src/network.js';
import { ensureHostCommands } from '../src/prerequisites.js';
import { isAlive, stopProcess } from '../src/process.js';
import { LxdClient } from '../src/providers/lxd-api.js';
import type { AddressLease, HostNetworkManager } from '../src/provider.js';

const execFileAsync = promisify(execFile);

/** One member: its daemon, namespace, link and API socket. */
export interface LxdMemberHandle {
  name: string;
  address: string;
  /** `$LXD_DIR/unix.socket` of this member. */
  socket: string;
  lxdDir: string;
  netns: string;
  /** Host end of the member's veth (on the bridge): down = the member is cut off, as in a network outage. */
  hostLink: string;
  pid: number;
}

/** A running test cluster. */
export interface LxdTestCluster {
  dir: string;
  members: LxdMemberHandle[];
  /** Name of the cluster-wide macvlan network instances join. */
  network: string;
  /** The cluster certificate every member serves on HTTPS (the one to pin). */
  clusterCert: string;
  /** `https://<m1>:8443`. */
  httpsUrl: string;
  /** The apt proxy on the bridge (`http://GW:3142`). */
  aptProxy: string;
  /** An API client on m1's socket. */
  api: LxdClient;
  /** Cut a member's link (true) or restore it (false). */
  cut(member: string, down: boolean): Promise<void>;
  /** Wait until the cluster reports the member with this status (`Online`/`Offline`). */
  waitForMember(member: string, status: string, timeoutMs?: number): Promise<number>;
  /** Delete every instance and image, stop the daemons and dnsmasq, remove namespaces, links, bridge and files. */
  stop(): Promise<void>;
}

/** LXD and the fixture's tools, installed with apt when root (the provider's own installer). */
export async function ensureClusterPrerequisites(log: (line: string) => void): Promise<void> {
  await ensureHostCommands(
    [
      { command: 'lxd', package: 'lxd' },
      { command: 'lxc', package: 'lxd-client' },
      { command: 'dnsmasq', package: 'dnsmasq-base' },
      { command: 'apt-cacher-ng', package: 'apt-cacher-ng' },
      { command: 'ip', package: 'iproute2' },
    ],
    log,
    'the LXD test cluster',
  );
}

/**
 * `ip netns exec` gives the daemon a fresh /sys without the cgroup mounts: the shell that starts it
 * mounts the host's cgroup hierarchies again first, as the host has them (tmpfs + v1 controllers +
 * name=systemd + unified here; a single cgroup2 elsewhere).
 */
export function cgroupMountScript(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string {
  const commands: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = left.split(' ')[4]!;
    if (mountPoint !== '/sys/fs/cgroup' && !mountPoint.startsWith('/sys/fs/cgroup/')) continue;
    const [type, , superOptions = ''] = right.split(' ');
    const options = superOptions.split(',').filter((option) => option !== 'rw' && option !== 'ro');
    const target = shellQuote(mountPoint);
    if (type === 'tmpfs') commands.push(`mount -t tmpfs -o mode=755 cgroup ${target}`);
    else if (type === 'cgroup') {
      const controller = options.some((option) => !/^(name=|xattr$|noprefix$|clone_children$|cpuset_v2_mode$|release_agent=)/.test(option));
      commands.push(`mkdir -p ${target} && mount -t cgroup -o ${shellQuote([...(controller ? [] : ['none']), ...options].join(','))} cgroup ${target}`);
    } else if (type === 'cgroup2')
      commands.push(`mkdir -p ${target} && mount -t cgroup2 ${options.length ? `-o ${shellQuote(options.join(','))} ` : ''}cgroup2 ${target}`);
  }
  return commands.join('\n');
}

async function waitReady(socket: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const api = new LxdClient({ kind: 'unix', socketPath: socket }, { timeoutMs: 5000 });
  try {
    for (;;) {
      try {
        await api.get('/1.0', { project: null });
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`LXD at ${socket} not ready within ${timeoutMs / 1000} s: ${(error as Error).message}`);
        await sleep(200);
      }
    }
  } finally {
    api.close();
  }
}

async function lxdInit(lxdDir: string, preseed: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn('lxd', ['init', '--preseed'], { env: { ...process.env, LXD_DIR: lxdDir }, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`lxd init --preseed (${lxdDir}) exit ${code}: ${stderr.trim()}`))));
    child.stdin.end(preseed);
  });
}

/** Processes of the cluster left after the daemons stopped: monitors and payloads of its instances. */
function strayProcesses(names: string[], lxdDirs: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let cgroup = '';
    let command = '';
    try {
      cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
      command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue;
    }
    const ours =
      names.some((name) => cgroup.includes(`lxc.payload.${name}`) || cgroup.includes(`lxc.monitor.${name}`)) || lxdDirs.some((dir) => command.includes(dir));
    if (ours && isAlive(pid)) pids.push(pid);
  }
  return pids;
}

/**
 * Start a two-member cluster (m1 bootstraps, m2 joins with a token) and a macvlan network on the
 * members' shared bridge. `cluster.offline_threshold` is LXD's minimum (11 s) so an outage shows soon.
 * @example const cluster = await startLxdCluster(t.comment); t.teardown(() => cluster.stop())
 */
export async function startLxdCluster(log: (line: string) => void = () => undefined): Promise<LxdTestCluster> {
  await ensureClusterPrerequisites(log);
  const started = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'fl-lxdc-'));
  // the containers' root users (mapped uids) must be able to traverse the path to their rootfs
  await chmod(dir, 0o711);
  const tag = dir
    .slice(-6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x');
  const net: HostNetworkManager = hostNetwork(join(dir, 'net'), log);
  const members: LxdMemberHandle[] = [];
  const pids: number[] = [];
  let dnsmasqPid: number | undefined;
  let api: LxdClient | undefined;
  const names = ['m1', 'm2'];
  const owners = names.map((name) => `lxd-cluster/${name}`);
  const instanceNames = new Set<string>();

  const stop = async (): Promise<void> => {
    // instances first, through the API, while the daemons run
    if (api) {
      for (const member of members) await execFileAsync('ip', ['link', 'set', member.hostLink, 'up']).catch(() => undefined);
      try {
        for (const url of await api.get<string[]>('/1.0/instances')) instanceNames.add(url.split('/').pop()!.split('?')[0]!);
        for (const name of instanceNames) {
          await api.call('PUT', `/1.0/instances/${name}/state`, { body: { action: 'stop', force: true }, timeoutMs: 60_000 }).catch(() => undefined);
          await api
            .call('DELETE', `/1.0/instances/${name}`, { timeoutMs: 120_000 })
            .catch((error: unknown) => log(`cluster stop: ${name}: ${(error as Error).message}`));
        }
        for (const url of await api.get<string[]>('/1.0/images')) await api.call('DELETE', url.split('?')[0]!, { timeoutMs: 60_000 }).catch(() => undefined);
      } catch (error) {
        log(`cluster stop: ${(error as Error).message}`);
      }
      api.close();
    }
    for (const pid of pids) await stopProcess(pid, 15_000);
    for (const pid of strayProcesses(
      [...instanceNames],
      members.map((member) => member.lxdDir),
    ))
      await stopProcess(pid, 2000);
    if (dnsmasqPid !== undefined) await stopProcess(dnsmasqPid);
    for (const member of members) {
      await execFileAsync('ip', ['netns', 'del', member.netns]).catch(() => undefined);
      await execFileAsync('ip', ['link', 'del', member.hostLink]).catch(() => undefined);
    }
    for (const owner of owners) await net.release(owner).catch(() => undefined);
    await net.teardownIfUnused().catch((error: unknown) => log(`cluster stop: ${(error as Error).message}`));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const leases: AddressLease[] = await net.leaseAll(owners);
    const network = leases[0]!.network;
    const prefix = network.gateway.slice(0, network.gateway.lastIndexOf('.'));
    // DHCP for the instances on the bridge (the members' own addresses are static, below .100)
    const dnsmasqLog = openSync(join(dir, 'dnsmasq.log'), 'a');
    const dnsmasq = spawn(
      'dnsmasq',
      [
        '--keep-in-foreground',
        '--conf-file=/dev/null',
        '--port=0',
        `--interface=${network.bridge}`,
        '--bind-interfaces',
        '--except-interface=lo',
        `--dhcp-range=${prefix}.100,${prefix}.249,1h`,
        `--dhcp-leasefile=${join(dir, 'dnsmasq.leases')}`,
        '--dhcp-authoritative',
      ],
      { stdio: ['ignore', dnsmasqLog, dnsmasqLog], detached: true },
    );
    closeSync(dnsmasqLog);
    dnsmasqPid = dnsmasq.pid;
    dnsmasq.unref();
    const mounts = cgroupMountScript();
    for (const [index, name] of names.entries()) {
      const lease = leases[index]!;
      const member: LxdMemberHandle = {
        name,
        address: lease.address,
        lxdDir: join(dir, name),
        socket: join(dir, name, 'unix.socket'),
        netns: `fl${tag}${name}`,
        hostLink: `fl${tag}${name}`,
        pid: 0,
      };
      await execFileAsync('ip', ['netns', 'add', member.netns]);
      members.push(member);
      const batch = [
        `link add ${member.hostLink} type veth peer name eth0 netns ${member.netns}`,
        `link set ${member.hostLink} master ${network.bridge} up`,
        `-n ${member.netns} link set eth0 address ${lease.mac}`,
        `-n ${member.netns} addr add ${lease.address}/${network.prefixLength} dev eth0`,
        `-n ${member.netns} link set eth0 up`,
        `-n ${member.netns} link set lo up`,
        `-n ${member.netns} route add default via ${network.gateway}`,
      ];
      for (const line of batch) await execFileAsync('ip', line.split(' '));
      await execFileAsync('mkdir', ['-p', member.lxdDir]);
      const out = openSync(join(dir, `${name}.out`), 'a');
      const script = `set -e\n${mounts}\nexport LXD_DIR="$1"\nexec lxd --group lxd --logfile="$1/lxd.log"\n`;
      const daemon = spawn('ip', ['netns', 'exec', member.netns, 'sh', '-c', script, 'sh', member.lxdDir], { stdio: ['ignore', out, out], detached: true });
      closeSync(out);
      daemon.unref();
      member.pid = daemon.pid!;
      pids.push(member.pid);
      await writeFile(join(dir, `${name}.pid`), `${member.pid}\n`);
    }
    for (const member of members) await waitReady(member.socket, 60_000);
    const [m1, m2] = members as [LxdMemberHandle, LxdMemberHandle];
    await lxdInit(
      m1.lxdDir,
      [
        'config:',
        `  core.https_address: ${m1.address}:8443`,
        `  cluster.https_address: ${m1.address}:8443`,
        '  images.auto_update_interval: "0"',
        'storage_pools:',
        '- name: local',
        '  driver: dir',
        'networks:',
        '- name: flnet',
        '  type: macvlan',
        '  config:',
        '    parent: eth0',
        'profiles:',
        '- name: default',
        '  devices:',
        '    root: {path: /, pool: local, type: disk}',
        '    eth0: {name: eth0, network: flnet, type: nic}',
        'cluster:',
        '  server_name: m1',
        '  enabled: true',
        '',
      ].join('\n'),
    );
    api = new LxdClient({ kind: 'unix', socketPath: m1.socket }, { timeoutMs: 60_000 });
    await api.call('PATCH', '/1.0', { body: { config: { 'cluster.offline_threshold': '11' } }, project: null });
    const token = (await execFileAsync('lxc', ['cluster', 'add', 'm2', '--quiet'], { env: { ...process.env, LXD_DIR: m1.lxdDir } })).stdout.trim();
    await lxdInit(
      m2.lxdDir,
      [
        'cluster:',
        '  enabled: true',
        '  server_name: m2',
        `  server_address: ${m2.address}:8443`,
        `  cluster_token: ${token}`,
        '  member_config:',
        '  - {entity: storage-pool, name: local, key: source, value: ""}',
        '  - {entity: network, name: flnet, key: parent, value: eth0}',
        '',
      ].join('\n'),
    );
    const cluster: LxdTestCluster = {
      dir,
      members,
      network: 'flnet',
      clusterCert: join(m1.lxdDir, 'cluster.crt'),
      httpsUrl: `https://${m1.address}:8443`,
      aptProxy: network.aptProxy!,
      api,
      async cut(name, down) {
        const member = members.find((item) => item.name === name)!;
        await execFileAsync('ip', ['link', 'set', member.hostLink, down ? 'down' : 'up']);
      },
      async waitForMember(name, status, timeoutMs = 90_000) {
        const begun = Date.now();
        for (;;) {
          const list = await api!.get<{ server_name: string; status: string }[]>('/1.0/cluster/members', { query: { recursion: '1' }, project: null });
          if (list.find((member) => member.server_name === name)?.status === status) return Date.now() - begun;
          if (Date.now() - begun > timeoutMs) throw new Error(`member ${name} not ${status} within ${timeoutMs / 1000} s`);
          await sleep(500);
        }
      },
      stop,
    };
    log(`LXD cluster m1 ${m1.address}, m2 ${m2.address} up in ${((performance.now() - started) / 1000).toFixed(1)} s (${dir})`);
    return cluster;
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}

/** Whether a test cluster's files are still there (for leftover checks). */
export function clusterLeftovers(cluster: LxdTestCluster): string[] {
  const found: string[] = [];
  if (existsSync(cluster.dir)) found.push(`dir ${cluster.dir}`);
  for (const member of cluster.members) {
    if (isAlive(member.pid)) found.push(`lxd ${member.pid}`);
    if (existsSync(`/run/netns/${member.netns}`)) found.push(`netns ${member.netns}`);
    if (existsSync(`/sys/class/net/${member.hostLink}`)) found.push(`link ${member.hostLink}`);
  }
  return found;
}
