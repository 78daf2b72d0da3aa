// Address leases on a home's bridge: one file per leased address under `<home>/network/leases`, holding
// its owner (`<service>/<nodeId>`). Callers hold the network lock.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UnavailableError } from '@forklift/contract';
import { macFor } from './bridge.js';
import type { AddressLease, HostNetwork } from './provider.js';

/** Every lease: address -> owner. */
export async function readLeases(leasesDir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!existsSync(leasesDir)) return out;
  for (const address of await readdir(leasesDir)) out.set(address, (await readFile(join(leasesDir, address), 'utf8')).trim());
  return out;
}

/** The lease an owner holds, if any. */
export async function findLease(leasesDir: string, owner: string, network: HostNetwork): Promise<AddressLease | undefined> {
  for (const [address, holder] of await readLeases(leasesDir)) if (holder === owner) return { address, mac: macFor(network.bridge, address), network };
  return undefined;
}

/** Lease addresses for several owners, in order: an owner keeps its lease, others get the lowest free host (.2 up). */
export async function leaseAddresses(leasesDir: string, owners: readonly string[], network: HostNetwork): Promise<AddressLease[]> {
  const taken = await readLeases(leasesDir);
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
}

/** Release every lease of an owner (no error when it has none). */
export async function releaseLeases(leasesDir: string, owner: string): Promise<void> {
  for (const [address, holder] of await readLeases(leasesDir)) if (holder === owner) await rm(join(leasesDir, address), { force: true });
}
