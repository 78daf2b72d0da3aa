import { existsSync, readFileSync, readdirSync, type Dirent } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The cgroup hierarchies a node gets its own cgroup in: systemd's named v1 one and the unified (v2) one. */
export function cgroupRoots(): string[] {
  const hybrid = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified'].filter((root) => existsSync(join(root, 'cgroup.procs')));
  if (hybrid.length) return hybrid;
  return existsSync('/sys/fs/cgroup/cgroup.procs') ? ['/sys/fs/cgroup'] : [];
}

/** The cgroup directories of one node: `<root>/forklift/<name>` in every hierarchy. */
export function nodeCgroups(name: string): string[] {
  return cgroupRoots().map((root) => join(root, 'forklift', name));
}

/** Create a node's cgroups (an nspawn with --keep-unit then runs alone in them, not in the caller's). */
export async function createCgroups(name: string): Promise<string[]> {
  const paths = nodeCgroups(name);
  for (const path of paths) await mkdir(path, { recursive: true });
  return paths;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  let entries: Dirent[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) if (entry.isDirectory()) out.push(...walk(join(dir, entry.name)));
  out.push(dir);
  return out;
}

/** PIDs in a cgroup and all its children. */
export function cgroupPids(path: string): number[] {
  const pids = new Set<number>();
  for (const dir of walk(path)) {
    try {
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (line.trim()) pids.add(Number(line));
    } catch {
      // gone meanwhile
    }
  }
  return [...pids];
}

/**
 * SIGKILL every process of a node's cgroups until they are empty, then remove them (deepest first).
 * @example await killCgroups(nodeCgroups('f1a2b3c4d5e'))
 */
export async function killCgroups(paths: string[], timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = paths.flatMap(cgroupPids);
    if (pids.length === 0) break;
    if (Date.now() > deadline) throw new Error(`processes ${pids.join(' ')} of ${paths[0]} survived SIGKILL`);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await sleep(30);
  }
  for (const path of paths) {
    for (const dir of walk(path)) {
      for (let attempt = 0; attempt < 50; attempt += 1) {
        try {
          await rmdir(dir);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || attempt === 49) throw error;
          await sleep(20);
        }
      }
    }
  }
}
