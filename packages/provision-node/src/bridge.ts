// The bridge one FORKLIFT_HOME owns: its name and /24 (chosen once from the home's path, avoiding subnets
// in use), creating or repairing it, removing it. Callers hold the network lock (network.ts).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostNetwork } from './provider.js';
import { run } from './run.js';

/** The bridge of a home as stored in `<home>/network/config.json`. */
export interface BridgeConfig {
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

/** Whether the home has chosen its bridge yet. */
export function hasBridgeConfig(dir: string): boolean {
  return existsSync(join(dir, 'config.json'));
}

/** The home's bridge name and prefix: read, or chosen and written the first time. */
export async function bridgeConfig(home: string, dir: string): Promise<BridgeConfig> {
  const file = join(dir, 'config.json');
  if (existsSync(file)) return JSON.parse(await readFile(file, 'utf8')) as BridgeConfig;
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
  const made: BridgeConfig = { bridge, prefix };
  await mkdir(dir, { recursive: true });
  await writeFile(file, JSON.stringify(made) + '\n');
  return made;
}

/** The network a bridge config stands for (the apt proxy URL only when it runs). */
export function describeBridge(made: BridgeConfig, aptProxy: string | undefined): HostNetwork {
  return { bridge: made.bridge, gateway: `${made.prefix}.1`, prefixLength: 24, subnet: `${made.prefix}.0/24`, aptProxy };
}

/** Create the bridge with its gateway address, or repair one a killed run left (address missing, link down). */
export async function ensureBridge(made: BridgeConfig, log: (line: string) => void): Promise<void> {
  const gateway = `${made.prefix}.1`;
  if (!existsSync(`/sys/class/net/${made.bridge}`)) {
    log(`creating bridge ${made.bridge} ${gateway}/24`);
    await run('ip', ['-batch', '-'], { input: `link add ${made.bridge} type bridge\naddr add ${gateway}/24 dev ${made.bridge}\nlink set ${made.bridge} up\n` });
    return;
  }
  const { stdout } = await run('ip', ['-o', '-4', 'addr', 'show', 'dev', made.bridge]);
  if (!stdout.includes(` ${gateway}/24 `)) await run('ip', ['addr', 'add', `${gateway}/24`, 'dev', made.bridge]);
  const flags = Number.parseInt(await readFile(`/sys/class/net/${made.bridge}/flags`, 'utf8'), 16);
  if ((flags & 1) === 0) await run('ip', ['link', 'set', made.bridge, 'up']);
}

/** Remove the bridge when it exists. */
export async function removeBridge(made: BridgeConfig, log: (line: string) => void): Promise<void> {
  if (!existsSync(`/sys/class/net/${made.bridge}`)) return;
  log(`removing bridge ${made.bridge} (no node left)`);
  await run('ip', ['link', 'del', made.bridge]);
}
