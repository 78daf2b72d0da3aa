import { homedir } from 'node:os';
import { join } from 'node:path';
import { ensureSshKey } from './keys.js';
import { hostNetwork } from './network.js';
import type { ProviderContext, Service, SshKeyPair } from './provider.js';
import { ensureRootfs } from './rootfs.js';

/** `$FORKLIFT_HOME`, default `~/.forklift`. */
export function forkliftHome(env: Record<string, string | undefined> = process.env): string {
  return env.FORKLIFT_HOME || join(homedir(), '.forklift');
}

/** The image cache: `$FORKLIFT_IMAGE_CACHE`, default `<home>/images` (tests share one between homes). */
export function imageCache(home: string, env: Record<string, string | undefined> = process.env): string {
  return env.FORKLIFT_IMAGE_CACHE || join(home, 'images');
}

/** Build the context a provider call gets for one service. */
export function providerContext(options: {
  home: string;
  service: Service;
  env: Record<string, string | undefined>;
  log: (line: string) => void;
  signal: AbortSignal;
}): ProviderContext {
  const { home, service, env, log, signal } = options;
  const keysDir = join(home, 'keys');
  const imagesDir = imageCache(home, env);
  let key: Promise<SshKeyPair> | undefined;
  return {
    home,
    keysDir,
    imagesDir,
    stateDir: join(home, 'state', service.name),
    service,
    env,
    log,
    signal,
    sshKey: () => (key ??= ensureSshKey(keysDir)),
    network: hostNetwork(home, log),
    ensureRootfs: (rootfs) => ensureRootfs(imagesDir, rootfs, log, signal),
  };
}
