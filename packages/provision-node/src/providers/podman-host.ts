import { existsSync, readFileSync } from 'node:fs';

/**
 * Whether the host runs cgroup v1 (alone or beside a cgroup2 `unified` hierarchy) rather than pure
 * cgroup v2. crun refuses to run when that cgroup2 hierarchy holds controllers ("cgroups in hybrid
 * mode not supported"), and such a hierarchy can appear while nodes run (nspawn mounts it), so
 * forklift uses runc on any non-pure-v2 host.
 * @example cgroupV1Host() // true here: /sys/fs/cgroup is a tmpfs of v1 hierarchies
 */
export function cgroupV1Host(root = '/sys/fs/cgroup'): boolean {
  return !existsSync(`${root}/cgroup.controllers`);
}

/** The hard limits of this process for open files and processes (undefined when unlimited). */
export function hardLimits(limitsFile = '/proc/self/limits'): { nofile?: number; nproc?: number } {
  const text = readFileSync(limitsFile, 'utf8');
  const hard = (label: string): number | undefined => {
    const match = text.match(new RegExp(`^${label}\\s+\\S+\\s+(\\S+)`, 'm'));
    return match && /^\d+$/.test(match[1]!) ? Number(match[1]) : undefined;
  };
  return { nofile: hard('Max open files'), nproc: hard('Max processes') };
}

/**
 * `--ulimit` flags that fit under this process's hard limits. Rootful podman asks for
 * nofile=1048576 by default, which the OCI runtime cannot set where the hard limit is lower
 * ("setrlimit RLIMIT_NOFILE: Operation not permitted"); nproc is capped the same way.
 * @example ulimitArgs({ nofile: 20000, nproc: 96364 }) // ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=16384:16384']
 */
export function ulimitArgs(limits: { nofile?: number; nproc?: number }): string[] {
  const nofile = Math.min(limits.nofile ?? 1_048_576, 1_048_576);
  // measured: nproc equal to a high hard limit (96364) is still refused inside the runtime; 16384 is plenty for a node
  const nproc = Math.min(limits.nproc ?? 16_384, 16_384);
  return ['--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`];
}
