// A home's host network as providers use it: the bridge (bridge.ts), its apt proxy (apt-proxy.ts) and
// address leases (leases.ts), every change under one kernel lock per home.
import { join } from 'node:path';
import { aptProxyUrl, ensureAptProxy, stopAptProxy } from './apt-proxy.js';
import { bridgeConfig, describeBridge, ensureBridge, hasBridgeConfig, removeBridge } from './bridge.js';
import { findLease, leaseAddresses, readLeases, releaseLeases } from './leases.js';
import { acquireLock } from './lock.js';
import type { AddressLease, HostNetwork, HostNetworkManager } from './provider.js';

export { macFor } from './bridge.js';
export { APT_PROXY_PORT } from './apt-proxy.js';

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

  async function withLock<T>(body: () => Promise<T>): Promise<T> {
    const lock = await acquireLock(join(dir, 'lock'));
    try {
      return await body();
    } finally {
      await lock.release();
    }
  }

  async function ensureLocked(): Promise<HostNetwork> {
    const made = await bridgeConfig(home, dir);
    await ensureBridge(made, log);
    const gateway = `${made.prefix}.1`;
    await ensureAptProxy(dir, gateway);
    return describeBridge(made, aptProxyUrl(gateway));
  }

  const leaseAll = (owners: string[]): Promise<AddressLease[]> => withLock(async () => leaseAddresses(leasesDir, owners, await ensureLocked()));

  return {
    ensure: () => withLock(ensureLocked),
    find: (owner) =>
      withLock(async () => {
        const made = await bridgeConfig(home, dir);
        return findLease(leasesDir, owner, describeBridge(made, aptProxyUrl(`${made.prefix}.1`)));
      }),
    lease: async (owner) => (await leaseAll([owner]))[0]!,
    leaseAll,
    release: (owner) => withLock(() => releaseLeases(leasesDir, owner)),
    teardownIfUnused: () =>
      withLock(async () => {
        if ((await readLeases(leasesDir)).size > 0 || !hasBridgeConfig(dir)) return;
        await stopAptProxy(dir);
        await removeBridge(await bridgeConfig(home, dir), log);
      }),
  };
}
