import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { acquireLock } from '../lock.js';
import type { ProviderContext } from '../provider.js';
import { run } from '../run.js';
import { installGuestFiles, SEED_SCRIPT, SEED_UNIT } from './qemu-guest.js';

/** Packages a VM rootfs needs beyond the common forklift rootfs: a kernel + initrd, and udev (networkd waits for it). */
export const QEMU_ROOTFS_INCLUDE = ['linux-image-amd64', 'udev'];

/** Virtual size of the base disk (sparse: only the used blocks take space). */
export const BASE_DISK_SIZE = '4G';

/** A built VM base: the read-only qcow2 every node clones, and the kernel and initrd to boot it directly. */
export interface QemuBase {
  name: string;
  dir: string;
  qcow2: string;
  kernel: string;
  initrd: string;
}

function baseFiles(dir: string, name: string): QemuBase {
  return { name, dir, qcow2: join(dir, 'base.qcow2'), kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img') };
}

function isComplete(base: QemuBase): boolean {
  return existsSync(base.qcow2) && existsSync(base.kernel) && existsSync(base.initrd);
}

/** The image-cache name of the base built from a rootfs: changes when the rootfs or the guest files change. */
export function qemuBaseName(rootfs: string): string {
  const guest = createHash('sha256').update(SEED_SCRIPT).update(SEED_UNIT).update(BASE_DISK_SIZE).digest('hex').slice(0, 8);
  return `${basename(rootfs)}-qemu-${guest}`;
}

/** The newest file of /boot starting with `prefix` (vmlinuz-6.1.0-...). */
async function bootFile(root: string, prefix: string): Promise<string> {
  const found = (await readdir(join(root, 'boot'))).filter((entry) => entry.startsWith(prefix)).sort();
  const last = found.at(-1);
  if (!last) throw new Error(`no /boot/${prefix}* in ${root}: the rootfs has no kernel (linux-image-amd64)`);
  return join(root, 'boot', last);
}

/**
 * Build (once, cached under the image cache, locked) the base qcow2 of VM nodes: a copy of the
 * cached Debian rootfs (with a kernel) plus the seed unit, written into an ext4 filesystem with
 * `mkfs.ext4 -d` and converted to qcow2; the kernel and initrd are copied beside it for direct boot.
 * A killed build leaves only a `.tmp-PID` directory, removed by the next build.
 * @example const base = await ensureQemuBase(ctx) // base.qcow2, base.kernel, base.initrd
 */
export async function ensureQemuBase(ctx: ProviderContext): Promise<QemuBase> {
  const rootfs = await ctx.ensureRootfs({ include: QEMU_ROOTFS_INCLUDE });
  const name = qemuBaseName(rootfs);
  const base = baseFiles(join(ctx.imagesDir, name), name);
  if (isComplete(base)) return base;
  const lock = await acquireLock(join(ctx.imagesDir, `${name}.lock`), { signal: ctx.signal, onWait: () => ctx.log(`waiting for another build of ${name}`) });
  try {
    if (isComplete(base)) return base;
    for (const entry of await readdir(ctx.imagesDir)) {
      if (entry.startsWith(`${name}.tmp-`)) await rm(join(ctx.imagesDir, entry), { recursive: true, force: true });
    }
    const started = performance.now();
    ctx.log(`building VM base image ${name} from ${rootfs} (once)`);
    const temp = join(ctx.imagesDir, `${name}.tmp-${process.pid}`);
    const stage = join(temp, 'root');
    await mkdir(temp, { recursive: true });
    await run('cp', ['-a', '--reflink=auto', rootfs, stage], { cancelSignal: ctx.signal });
    await installGuestFiles(stage);
    const built = baseFiles(temp, name);
    await copyFile(await bootFile(stage, 'vmlinuz-'), built.kernel);
    await copyFile(await bootFile(stage, 'initrd.img-'), built.initrd);
    await chmod(built.kernel, 0o644);
    await chmod(built.initrd, 0o644);
    const raw = join(temp, 'base.raw');
    await run('truncate', ['-s', BASE_DISK_SIZE, raw]);
    await run('mkfs.ext4', ['-q', '-F', '-L', 'forklift-root', '-d', stage, raw], { cancelSignal: ctx.signal });
    await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, built.qcow2], { cancelSignal: ctx.signal });
    await chmod(built.qcow2, 0o444);
    await rm(raw, { force: true });
    await rm(stage, { recursive: true, force: true });
    await rename(temp, base.dir);
    ctx.log(`VM base image ${name} built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return base;
  } finally {
    await lock.release();
  }
}
