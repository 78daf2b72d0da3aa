import { basename, join } from 'node:path';
import { execa } from 'execa';
import { acquireLock } from '../lock.js';
import type { ProviderContext } from '../provider.js';
import { run } from '../run.js';

/** The local image reference of a rootfs: `localhost/forklift/<rootfs name>:latest`. @example podmanImageRef('/cache/debian-bookworm-minbase-68ec4616') */
export function podmanImageRef(rootfs: string): string {
  return `localhost/forklift/${basename(rootfs)}:latest`;
}

/**
 * Import the cached Debian rootfs (the one nspawn nodes use) as a podman image, once: no registry
 * is needed. `podman import` of a tar stream of the rootfs, with systemd as the command.
 * @example const image = await ensurePodmanImage(ctx, rootfs) // 'localhost/forklift/debian-bookworm-minbase-68ec4616:latest'
 */
export async function ensurePodmanImage(ctx: ProviderContext, rootfs: string): Promise<string> {
  const ref = podmanImageRef(rootfs);
  const exists = async (): Promise<boolean> => (await run('podman', ['image', 'exists', ref], { reject: false })).exitCode === 0;
  if (await exists()) return ref;
  const lock = await acquireLock(join(ctx.imagesDir, `${basename(rootfs)}.podman.lock`), {
    signal: ctx.signal,
    onWait: () => ctx.log(`waiting for another import of ${ref}`),
  });
  try {
    if (await exists()) return ref;
    const started = performance.now();
    ctx.log(`importing ${rootfs} as podman image ${ref} (once)`);
    // buffer: false: the stream is hundreds of MB; buffering it would hit maxBuffer and cut the tar short
    await execa('tar', ['-C', rootfs, '--numeric-owner', '-c', '.'], { cancelSignal: ctx.signal, buffer: false }).pipe('podman', [
      'import',
      '--change',
      'CMD=["/sbin/init"]',
      '--change',
      'STOPSIGNAL=SIGRTMIN+3',
      '--message',
      `forklift: ${basename(rootfs)}`,
      '-',
      ref,
    ]);
    ctx.log(`podman image ${ref} imported in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return ref;
  } finally {
    await lock.release();
  }
}
