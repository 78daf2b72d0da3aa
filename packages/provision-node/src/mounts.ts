import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './run.js';

function unescapeMount(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Mount points of the host (this process's mount namespace), in mount order. */
export function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => unescapeMount(line.split(' ')[4]!));
}

/** Mount points at or under `dir`, deepest (latest) first. */
export function mountsUnder(dir: string): string[] {
  return mountPoints()
    .filter((point) => point === dir || point.startsWith(dir + '/'))
    .reverse();
}

/**
 * Mount an overlay of `lower` (read-only, shared) with `<dir>/upper` and `<dir>/work` on `<dir>/root`; returns the merged root.
 * @example const root = await mountOverlay('/var/cache/forklift/images/debian-bookworm-minbase-68ec4616', nodeDir)
 */
export async function mountOverlay(lower: string, dir: string, options: { nfsExport?: boolean } = {}): Promise<string> {
  const upper = join(dir, 'upper');
  const work = join(dir, 'work');
  const root = join(dir, 'root');
  for (const path of [upper, work, root]) await mkdir(path, { recursive: true });
  if (!mountsUnder(root).includes(root)) {
    // nfs_export (with index) gives the overlay's files persistent handles, which an NFS server needs
    const extra = options.nfsExport ? ',index=on,nfs_export=on' : '';
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}${extra}`, root]);
  }
  return root;
}

/** Unmount everything at or under `dir` (deepest first; lazily when busy). */
export async function unmountUnder(dir: string): Promise<void> {
  for (const point of mountsUnder(dir)) {
    const result = await run('umount', [point], { reject: false });
    if (result.exitCode !== 0) await run('umount', ['-l', point]);
  }
}
