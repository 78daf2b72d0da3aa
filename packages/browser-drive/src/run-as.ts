import { chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readPasswd, UnavailableError, UsageError } from '@forklift/contract';

/** The uid browser-drive drops to when started as root (nobody). */
export const DEFAULT_BROWSER_UID = 65534;

/** Where the browser's account is looked up: its primary group is the gid of its entry there. */
const PASSWD = '/etc/passwd';

/** The unprivileged account the browser and the driver run as, and the command that drops root to it. */
export interface BrowserAccount {
  uid: number;
  /** The primary group of the account's passwd entry. */
  gid: number;
  /** `setpriv --reuid=UID --regid=GID --clear-groups --`. */
  prefix: string[];
}

/** Who the browser and the driver run as: the command prefix that drops root, and the environment they get. */
export interface RunAs {
  /** `setpriv --reuid --regid --clear-groups --` when dropping root, else empty. */
  prefix: string[];
  /** The whole environment of the browser and the driver. */
  env: Record<string, string | undefined>;
}

/** The primary gid of `uid`'s first entry in /etc/passwd, or undefined when it has none. */
function primaryGid(uid: number): number | undefined {
  const gid = readPasswd(PASSWD).find((entry) => entry.uid === String(uid))?.gid;
  return gid !== undefined && /^[0-9]+$/.test(gid) ? Number(gid) : undefined;
}

/**
 * $FORKLIFT_BROWSER_UID as a uid (unset or empty: undefined). Anything but a uid other than 0 is a usage error
 * (exit 64), never silently replaced by the default: a typo must not decide which account runs the browser, and
 * root is only kept by the library's explicit `runAsUid: 0`.
 * @example browserUidFromEnv({ FORKLIFT_BROWSER_UID: '5' }) // 5
 */
export function browserUidFromEnv(env: Record<string, string | undefined>): number | undefined {
  const value = env.FORKLIFT_BROWSER_UID;
  if (value === undefined || value === '') return undefined;
  if (/^[1-9][0-9]{0,9}$/.test(value) && Number(value) <= 0xfffffffe) return Number(value);
  throw new UsageError(
    `FORKLIFT_BROWSER_UID ${JSON.stringify(value.slice(0, 40))}: not the uid of an account other than root (a number from 1; unset it for nobody)`,
    { code: 'bad-browser-uid' },
  );
}

/**
 * The account the browser and the driver run as when this process is root (default nobody; `runAsUid`,
 * else $FORKLIFT_BROWSER_UID, chooses another; 0 keeps root), or undefined when they run as this process.
 * Found before anything is started or created: no setpriv, or a uid without a passwd entry, is exit 69.
 * @example browserAccount(undefined, process.env) // { uid: 65534, gid: 65534, prefix: ['/usr/bin/setpriv', ...] } as root
 */
export function browserAccount(runAsUid: number | undefined, env: Record<string, string | undefined>): BrowserAccount | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = runAsUid ?? browserUidFromEnv(env) ?? DEFAULT_BROWSER_UID;
  if (uid === 0) return undefined;
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path));
  if (!setpriv)
    throw new UnavailableError(`started as root, the browser runs as uid ${uid}, which needs setpriv: apt-get install util-linux`, {
      code: 'no-setpriv',
    });
  const gid = primaryGid(uid);
  if (gid === undefined)
    throw new UnavailableError(
      `started as root, the browser runs as uid ${uid}, which has no entry in ${PASSWD} to take its primary group from: create that account or choose another with FORKLIFT_BROWSER_UID or runAsUid`,
      { code: 'no-browser-account' },
    );
  return { uid, gid, prefix: [setpriv, `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'] };
}

/** chown a fresh profile directory (and what is in it) to the browser's account. */
function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) chownTree(path, uid, gid);
    else chownSync(path, uid, gid);
  }
}

/** What the browser and the driver may take from the caller's environment when they run as another account. */
const INHERITED = /^(PATH|LANG|LANGUAGE|LC_[A-Z_]+|TZ|FONTCONFIG_FILE|FONTCONFIG_PATH|FONTCONFIG_SYSROOT)$/;
/** Taken too with a window: which display to talk to (the display itself must let that account in). */
const INHERITED_HEADED = /^(DISPLAY|WAYLAND_DISPLAY|XAUTHORITY)$/;

/**
 * The environment of a browser running as another account: any process of that account can read it in
 * /proc/PID/environ, so it gets the allow-listed variables only (never the caller's tokens, secret paths or
 * agent sockets), with its own profile as HOME and a private directory in it as TMPDIR.
 */
function allowListedEnv(given: Record<string, string | undefined>, userDataDir: string, headed: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    if (value !== undefined && (INHERITED.test(name) || (headed && INHERITED_HEADED.test(name)))) env[name] = value;
  }
  return {
    ...env,
    HOME: userDataDir,
    TMPDIR: join(userDataDir, 'tmp'),
    XDG_CONFIG_HOME: join(userDataDir, '.config'),
    XDG_CACHE_HOME: join(userDataDir, '.cache'),
  };
}

/**
 * As root (`account` from browserAccount): the browser and the driver run unprivileged (their ports take no
 * password), with the profile as their home, chowned to them, and an allow-listed environment. Otherwise they
 * run as this process, with `given` as it is.
 * @example const { prefix, env } = runAsFor(browserAccount(undefined, process.env), process.env, profileDir, false)
 */
export function runAsFor(account: BrowserAccount | undefined, given: Record<string, string | undefined>, userDataDir: string, headed: boolean): RunAs {
  if (account === undefined) return { prefix: [], env: given };
  mkdirSync(join(userDataDir, 'tmp'), { mode: 0o700 });
  chownTree(userDataDir, account.uid, account.gid);
  return { prefix: account.prefix, env: allowListedEnv(given, userDataDir, headed) };
}
