import { chownSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UnavailableError } from '@forklift/contract';

/** The uid browser-drive drops to when started as root (nobody). */
export const DEFAULT_BROWSER_UID = 65534;

/** Who the browser and the driver run as: the command prefix that drops root, and the environment they get. */
export interface RunAs {
  /** `setpriv --reuid --regid --clear-groups --` when dropping root, else empty. */
  prefix: string[];
  /** The whole environment of the browser and the driver. */
  env: Record<string, string | undefined>;
}

/**
 * The command prefix that runs the browser and the driver unprivileged when this process is root
 * (`setpriv --reuid --regid --clear-groups`), or none.
 */
function unprivilegedPrefix(runAsUid: number | undefined, env: Record<string, string | undefined>): { prefix: string[]; uid?: number } {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const fromEnv = env.FORKLIFT_BROWSER_UID !== undefined && /^[1-9][0-9]*$/.test(env.FORKLIFT_BROWSER_UID) ? Number(env.FORKLIFT_BROWSER_UID) : undefined;
  const uid = runAsUid ?? fromEnv ?? DEFAULT_BROWSER_UID;
  if (uid === 0) return { prefix: [] };
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));
  if (!setpriv)
    throw new UnavailableError(`browser-drive runs the browser as uid ${uid} when started as root, which needs setpriv: apt-get install util-linux`, {
      code: 'no-setpriv',
    });
  return { prefix: [setpriv, `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'], uid };
}

/** chown a fresh profile directory (and what is in it) to the browser's uid. */
function chownTree(dir: string, uid: number): void {
  chownSync(dir, uid, uid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) chownTree(path, uid);
    else chownSync(path, uid, uid);
  }
}

/**
 * As root: the browser and the driver run unprivileged (their ports take no password), with the profile
 * as their home, chowned to them. Otherwise they run as this process, with `given` as it is.
 * @example const { prefix, env } = runAsFor(undefined, process.env, profileDir)
 */
export function runAsFor(runAsUid: number | undefined, given: Record<string, string | undefined>, userDataDir: string): RunAs {
  const { prefix, uid } = unprivilegedPrefix(runAsUid, given);
  if (uid === undefined) return { prefix, env: given };
  chownTree(userDataDir, uid);
  return { prefix, env: { ...given, HOME: userDataDir, XDG_CONFIG_HOME: join(userDataDir, '.config'), XDG_CACHE_HOME: join(userDataDir, '.cache') } };
}
