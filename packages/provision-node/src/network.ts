import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnavailableError } from '@forklift/contract';
import { acquireLock } from './lock.js';
import { isAlive, processCommandLine, readPidFile, stopProcess } from './process.js';
import type { AddressLease, HostNetwork, HostNetworkManager } from './provider.js';
import { run } from './run.js';
import { DEBIAN_MIRROR } from './rootfs.js';

/** Port of the apt proxy (apt-cacher-ng) on the bridge address. */
export const APT_PROXY_PORT = 3142;

interface NetworkConfig {
  bridge: string;
  /** First three octets, e.g. `10.87.12`. */
  prefix: string;
}

function hashOf(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The deterministic locally administered MAC of an address on a bridge. @example macFor('flbr1a2b3c', '10.80.1.2') */
export function macFor(bridge: string, address: string): string {
  const bytes = hashOf(`${bridge}/${address}`).subarray(0, 5);
  return ['02', ...[...bytes].map((byte) => byte.toString(16).padStart(2, '0'))].join(':');
}

async function usedPrefixes(): Promise<Set<string>> {
  const used = new Set<string>();
  const { stdout } = await run('ip', ['-4', '-o', 'addr', 'show'], { reject: false });
  for (const match of stdout.matchAll(/inet (\d+\.\d+\.\d+)\.\d+/g)) used.add(match[1]!);
  const routes = await run('ip', ['-4', 'route', 'show'], { reject: false });
  for (const match of routes.stdout.matchAll(/^(\d+\.\d+\.\d+)\.\d+\//gm)) used.add(match[1]!);
  return used;
}

async function linkExists(name: string): Promise<boolean> {
  return existsSync(`/sys/class/net/${name}`);
}

async function waitForPort(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(50);
  }
  return false;
}

/**
 * The bridge network of one FORKLIFT_HOME: a bridge `flbr<hash>` with a /24 chosen from the home's
 * path (avoiding subnets in use), an apt-cacher-ng on the bridge address so nodes reach Debian's
 * mirror without NAT, and address leases as files under `<home>/network/leases`.
 * All changes happen under one kernel lock per home.
 * @example const net = hostNetwork('/root/.forklift'); const lease = await net.lease('local/web-1')
 */
export function hostNetwork(home: string, log: (line: string) => void): HostNetworkManager {
  const dir = join(home, 'network');
  const leasesDir = join(dir, 'leases');
  const lockFile = join(dir, 'lock');
  const acngPidFile = join(dir, 'apt-cacher-ng.pid');

  async function config(): Promise<NetworkConfig> {
    const file = join(dir, 'config.json');
    if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as NetworkConfig;
    const hash = hashOf(home);
    const bridge = `flbr${hash.subarray(0, 3).toString('hex')}`;
    const used = await usedPrefixes();
    let second = 64 + (hash[3]! % 64);
    let third = hash[4]!;
    let prefix = `10.${second}.${third}`;
    for (let tries = 0; used.has(prefix) && tries < 4096; tries += 1) {
      third = (third + 1) % 256;
      if (third === 0) second = 64 + ((second - 63) % 64);
      prefix = `10.${second}.${third}`;
    }
    const made: NetworkConfig = { bridge, prefix };
    await mkdir(dir, { recursive: true });
    await writeFile(file, JSON.stringify(made) + '\n');
    return made;
  }

  function describe(made: NetworkConfig, proxy: boolean): HostNetwork {
    return {
      bridge: made.bridge,
      gateway: `${made.prefix}.1`,
      prefixLength: 24,
      subnet: `${made.prefix}.0/24`,
      aptProxy: proxy ? `http://${made.prefix}.1:${APT_PROXY_PORT}` : undefined,
    };
  }

  function proxyPid(): number | undefined {
    const pid = readPidFile(acngPidFile);
    return pid !== undefined && isAlive(pid) && processCommandLine(pid)?.includes('apt-cacher-ng') ? pid : undefined;
  }

  async function ensureLocked(): Promise<HostNetwork> {
    const made = await config();
    const gateway = `${made.prefix}.1`;
    if (!existsSync(`/sys/class/net/${made.bridge}`)) {
      log(`creating bridge ${made.bridge} ${gateway}/24`);
      await run('ip', ['-batch', '-'], { input: `link add ${made.bridge} type bridge\naddr add ${gateway}/24 dev ${made.bridge}\nlink set ${made.bridge} up\n` });
    } else {
      // a bridge left by a killed run may miss its address or be down
      const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show', 'dev', made.bridge]);
      if (!stdout.includes(` ${gateway}/24 `)) await run('ip', ['addr', 'add', `${gateway}/24`, 'dev', made.bridge]);
      const flags = Number.parseInt(await readFile(`/sys/class/net/${made.bridge}/flags`, 'utf8'), 16);
      if ((flags & 1) === 0) await run('ip', ['link', 'set', made.bridge, 'up']);
    }
    if (proxyPid() === undefined) await startProxy(gateway);
    return describe(made, true);
  }

  async function startProxy(gateway: string): Promise<void> {
    const cache = join(dir, 'apt-cache');
    const logs = join(dir, 'apt-log');
    await mkdir(cache, { recursive: true });
    await mkdir(logs, { recursive: true });
    // our own config: the package's backends point at mirrors this host cannot reach
    const confDir = join(dir, 'apt-cacher-ng.conf.d');
    await mkdir(confDir, { recursive: true });
    await writeFile(
      join(confDir, 'acng.conf'),
      [
        `CacheDir: ${cache}`,
        `LogDir: ${logs}`,
        'SupportDir: /usr/lib/apt-cacher-ng',
        `BindAddress: ${gateway}`,
        `Port: ${APT_PROXY_PORT}`,
        `SocketPath: ${join(dir, 'acng.socket')}`,
        'PidFile: ',
        'ForeGround: 1',
        `Remap-debrep: file:deb_mirror*.gz /debian ; ${DEBIAN_MIRROR}/`,
        'Remap-secdeb: security.debian.org deb.debian.org/debian-security /debian-security ; http://deb.debian.org/debian-security/',
        'ExThreshold: 4',
        '',
      ].join('\n'),
    );
    const out = openSync(join(dir, 'apt-cacher-ng.out'), 'a');
    let child;
    try {
      child = spawn('apt-cacher-ng', ['-c', confDir], { detached: true, stdio: ['ignore', out, out] });
    } finally {
      closeSync(out);
    }
    const failed = new Promise<Error>((resolve) => child.once('error', (error) => resolve(error)));
    if (child.pid === undefined) {
      const error = await failed;
      throw new UnavailableError(`apt-cacher-ng could not start (${error.message}): apt-get install apt-cacher-ng`);
    }
    child.unref();
    await writeFile(acngPidFile, `${child.pid}\n`);
    if (!(await waitForPort(gateway, APT_PROXY_PORT, 10_000))) {
      await stopProcess(child.pid);
      throw new Error(`apt-cacher-ng did not listen on ${gateway}:${APT_PROXY_PORT} (see ${join(dir, 'apt-cacher-ng.out')})`);
    }
  }

  async function withLock<T>(body: () => Promise<T>): Promise<T> {
    const lock = await acquireLock(lockFile);
    try {
      return await body();
    } finally {
      await lock.release();
    }
  }

  async function leases(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (!existsSync(leasesDir)) return out;
    for (const address of await readdir(leasesDir)) out.set(address, (await readFile(join(leasesDir, address), 'utf8')).trim());
    return out;
  }

  async function findLocked(owner: string): Promise<AddressLease | undefined> {
    for (const [address, holder] of await leases()) {
      if (holder !== owner) continue;
      const made = await config();
      return { address, mac: macFor(made.bridge, address), network: describe(made, true) };
    }
    return undefined;
  }

  /** Lease addresses for several owners under one lock (in order: lowest free first). */
  function leaseAll(owners: string[]): Promise<AddressLease[]> {
    return withLock(async () => {
      const network = await ensureLocked();
      const taken = await leases();
      const prefix = network.gateway.slice(0, network.gateway.lastIndexOf('.'));
      await mkdir(leasesDir, { recursive: true });
      const out: AddressLease[] = [];
      let host = 2;
      for (const owner of owners) {
        const existing = [...taken].find(([, holder]) => holder === owner);
        if (existing) {
          out.push({ address: existing[0], mac: macFor(network.bridge, existing[0]), network });
          continue;
        }
        while (host < 255 && taken.has(`${prefix}.${host}`)) host += 1;
        if (host >= 255) throw new UnavailableError(`no free address left on ${network.subnet}`);
        const address = `${prefix}.${host}`;
        await writeFile(join(leasesDir, address), owner + '\n', { flag: 'wx' });
        taken.set(address, owner);
        out.push({ address, mac: macFor(network.bridge, address), network });
      }
      return out;
    });
  }

  return {
    ensure: () => withLock(ensureLocked),
    find: (owner) => withLock(() => findLocked(owner)),
    lease: async (owner) => (await leaseAll([owner]))[0]!,
    leaseAll,
    release: (owner) =>
      withLock(async () => {
        for (const [address, holder] of await leases()) if (holder === owner) await rm(join(leasesDir, address), { force: true });
      }),
    teardownIfUnused: () =>
      withLock(async () => {
        if ((await leases()).size > 0 || !existsSync(join(dir, 'config.json'))) return;
        const made = await config();
        const pid = proxyPid();
        if (pid !== undefined) await stopProcess(pid);
        await rm(acngPidFile, { force: true });
        if (await linkExists(made.bridge)) {
          log(`removing bridge ${made.bridge} (no node left)`);
          await run('ip', ['link', 'del', made.bridge]);
        }
      }),
  };
}
