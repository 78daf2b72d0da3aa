import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock } from './lock.js';
import { unmountUnder } from './mounts.js';
import type { RootfsOptions } from './provider.js';
import { run } from './run.js';

/** Packages every forklift rootfs has: real systemd, sshd, networking, TLS roots. */
export const BASE_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'openssh-server', 'iproute2', 'ca-certificates', 'procps'];

/** Debian's mirror (the only one reachable from the project's machines). */
export const DEBIAN_MIRROR = 'http://deb.debian.org/debian';

/** The directory name of a rootfs in the image cache for these options. @example rootfsName({}) // 'debian-bookworm-minbase-3f2a9c1d' */
export function rootfsName(options: RootfsOptions): string {
  const suite = options.suite ?? 'bookworm';
  const variant = options.variant ?? 'minbase';
  const packages = [...new Set([...BASE_PACKAGES, ...(options.include ?? [])])].sort();
  const hash = createHash('sha256').update(packages.join(',')).digest('hex').slice(0, 8);
  return `debian-${suite}-${variant}-${hash}`;
}

/**
 * Build a Debian rootfs with debootstrap once into `imagesDir/<name>` and reuse it afterwards.
 * Concurrent builders (other processes, other homes sharing the cache) wait on a kernel lock;
 * the build happens in a temporary directory renamed into place when complete, so a killed build
 * never leaves a half rootfs behind under the final name.
 * @example const dir = await ensureRootfs('/var/cache/forklift/images', {}, console.error)
 */
export async function ensureRootfs(imagesDir: string, options: RootfsOptions, log: (line: string) => void, signal?: AbortSignal): Promise<string> {
  const name = rootfsName(options);
  const target = join(imagesDir, name);
  if (existsSync(join(target, 'etc', 'os-release'))) return target;
  await mkdir(imagesDir, { recursive: true });
  const lock = await acquireLock(join(imagesDir, `${name}.lock`), {
    signal,
    onWait: () => log(`waiting for another build of ${name}`),
  });
  try {
    if (existsSync(join(target, 'etc', 'os-release'))) return target;
    // leftovers of killed builds
    for (const entry of await readdir(imagesDir)) {
      if (!entry.startsWith(`${name}.tmp-`)) continue;
      // debootstrap mounts /proc and /sys inside its target: never recurse into those
      await unmountUnder(join(imagesDir, entry));
      await rm(join(imagesDir, entry), { recursive: true, force: true });
    }
    const temp = join(imagesDir, `${name}.tmp-${process.pid}`);
    const suite = options.suite ?? 'bookworm';
    const variant = options.variant ?? 'minbase';
    const packages = [...new Set([...BASE_PACKAGES, ...(options.include ?? [])])];
    const started = performance.now();
    log(`building Debian ${suite} rootfs ${name} with debootstrap from ${DEBIAN_MIRROR} (once, ~1 min)`);
    try {
      await run('debootstrap', [`--variant=${variant}`, `--include=${packages.join(',')}`, suite, temp, DEBIAN_MIRROR], { cancelSignal: signal });
    } finally {
      await unmountUnder(temp);
    }
    await prepareRootfs(temp);
    await rename(temp, target);
    log(`rootfs ${name} built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return target;
  } finally {
    await lock.release();
  }
}

/** Make a fresh debootstrap tree node-neutral: no host keys, networkd on, quiet timers off. */
async function prepareRootfs(dir: string): Promise<void> {
  // every node generates its own host key; none may be shared through the image
  for (const entry of await readdir(join(dir, 'etc', 'ssh'))) {
    if (entry.startsWith('ssh_host_')) await rm(join(dir, 'etc', 'ssh', entry));
  }
  await mkdir(join(dir, 'etc', 'ssh', 'sshd_config.d'), { recursive: true });
  await writeFile(
    join(dir, 'etc', 'ssh', 'sshd_config.d', '10-forklift.conf'),
    'HostKey /etc/ssh/ssh_host_ed25519_key\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUseDNS no\nPermitRootLogin prohibit-password\n',
  );
  await run('chroot', [dir, 'systemctl', 'enable', 'systemd-networkd.service']);
  for (const unit of ['apt-daily.timer', 'apt-daily-upgrade.timer', 'e2scrub_all.timer', 'fstrim.timer', 'e2scrub_reap.service']) {
    await run('chroot', [dir, 'systemctl', 'mask', unit], { reject: false });
  }
  await writeFile(join(dir, 'etc', 'machine-id'), '');
  await writeFile(join(dir, 'etc', 'hostname'), 'localhost\n');
  await run('chroot', [dir, 'apt-get', 'clean']);
}
