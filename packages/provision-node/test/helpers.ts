import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { sshOnNode } from '@forklift/testkit';
import { killCgroups, nodeCgroups } from '../src/cgroups.js';
import { mountsUnder, unmountUnder } from '../src/mounts.js';
import { proxyMountPoint } from '../src/apt-proxy.js';
import { isAlive, processCommandLine, readPidFile, stopProcess } from '../src/process.js';

const execFileAsync = promisify(execFile);

/** The rootfs cache shared by every test (the ~1 min debootstrap happens once per machine/CI run). */
export const IMAGE_CACHE = process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images';

/** A fresh FORKLIFT_HOME for one test, and the env to run provision-node with it. */
export async function testHome(name: string): Promise<{ home: string; env: Record<string, string> }> {
  const home = await mkdtemp(join(tmpdir(), `fl-${name}-`));
  return { home, env: { FORKLIFT_HOME: home, FORKLIFT_IMAGE_CACHE: IMAGE_CACHE } };
}

/** The host-unique machine name provision-node gives a node (same formula as src/node-store.ts). */
export function machineOf(home: string, service: string, id: string): string {
  return 'f' + createHash('sha256').update(`${home}\0${service}\0${id}`).digest('hex').slice(0, 10);
}

function bridgeOf(home: string): string | undefined {
  const file = join(home, 'network', 'config.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { bridge: string }).bridge : undefined;
}

/**
 * Everything a home may have left on the host: mounts under it, its bridge and node links, node
 * cgroups and namespaces, processes rooted in or started from it, address leases.
 */
export async function leftovers(home: string, machines: string[]): Promise<string[]> {
  const found: string[] = [];
  for (const point of mountsUnder(home)) found.push(`mount ${point}`);
  const { stdout } = await execFileAsync('ip', ['-o', 'link', 'show']);
  const bridge = bridgeOf(home);
  for (const line of stdout.split('\n')) {
    const name = line.split(':')[1]?.trim().split('@')[0];
    if (!name) continue;
    if (name === bridge || machines.some((machine) => name.includes(machine))) found.push(`link ${name}`);
  }
  for (const machine of machines) {
    for (const path of nodeCgroups(machine)) if (existsSync(path)) found.push(`cgroup ${path}`);
    if (existsSync(`/run/netns/${machine}`)) found.push(`netns ${machine}`);
  }
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || !isAlive(Number(entry))) continue;
    let root = '';
    try {
      root = readlinkSync(`/proc/${entry}/root`);
    } catch {
      continue;
    }
    const command = processCommandLine(Number(entry)) ?? '';
    // the apt proxy sees its directory under a mount point named from the home, not under the home
    const proxy = proxyMountPoint(join(home, 'network'));
    if (root.startsWith(home) || command.includes(proxy) || (command.includes(home) && !command.includes('tap') && !command.includes('provision-node.js')))
      found.push(`process ${entry} ${command.slice(0, 120)}`);
  }
  const leases = join(home, 'network', 'leases');
  if (existsSync(leases)) for (const lease of readdirSync(leases)) found.push(`lease ${lease}`);
  return found;
}

/** Last-resort cleanup after a failed test: kill node cgroups, unmount, drop namespaces, bridge and proxy of a home. */
export async function forceClean(home: string): Promise<void> {
  const stateRoot = join(home, 'state');
  if (existsSync(stateRoot)) {
    for (const service of readdirSync(stateRoot)) {
      const nodes = join(stateRoot, service, 'nodes');
      if (!existsSync(nodes)) continue;
      for (const id of readdirSync(nodes)) {
        const machine = machineOf(home, service, id);
        await killCgroups(nodeCgroups(machine)).catch(() => undefined);
        if (existsSync(`/run/netns/${machine}`)) await execFileAsync('ip', ['netns', 'del', machine]).catch(() => undefined);
        await execFileAsync('ip', ['link', 'del', `vh${machine}`]).catch(() => undefined);
      }
    }
  }
  await unmountUnder(home).catch(() => undefined);
  const pid = readPidFile(join(home, 'network', 'apt-cacher-ng.pid'));
  if (pid !== undefined && processCommandLine(pid)?.includes('apt-cacher-ng')) await stopProcess(pid);
  await execFileAsync('rmdir', [proxyMountPoint(join(home, 'network'))]).catch(() => undefined);
  const bridge = bridgeOf(home);
  if (bridge) await execFileAsync('ip', ['link', 'del', bridge]).catch(() => undefined);
}

/** Run a command on a node with OpenSSH, trusting only the host key pinned in its record. */
export async function sshRun(node: Record<string, unknown>, command: string, dir: string): Promise<string> {
  return sshOnNode(node, command, { knownHostsDir: dir, timeoutMs: 60_000 });
}

/** Run provision-node in-process through the contract's main() (no process start-up): exit code, records, stderr. */
export async function runTool(
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<{ exitCode: number; records: Array<Record<string, unknown>>; stderr: string }> {
  const { PassThrough } = await import('node:stream');
  const { main } = await import('@forklift/contract');
  const { provisionNodeTool } = await import('../src/tool.js');
  const stdin = Object.assign(new PassThrough(), { isTTY: true });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exitCode = await main(provisionNodeTool, args, { stdin, stdout, stderr, env: { ...process.env, ...options.env }, cwd: options.cwd });
  return {
    exitCode,
    records: out
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>),
    stderr: err,
  };
}
