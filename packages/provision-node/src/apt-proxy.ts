// The apt proxy on a home's bridge address: apt-cacher-ng with its own configuration, cache and pid file
// under `<home>/network/apt-proxy`, so nodes reach Debian's mirror without NAT (see its README). Callers hold the network lock.
// It runs as its own account (apt-cacher-ng), never as root: it parses what nodes send it on the bridge.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { lchown, lstat, mkdir, readdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readPasswd, UnavailableError, type PasswdEntry } from '@forklift/contract';
import { isAlive, processCommandLine, readPidFile, stopProcess } from './process.js';
import { DEBIAN_MIRROR } from './rootfs.js';

/** Port of the apt proxy (apt-cacher-ng) on the bridge address. */
export const APT_PROXY_PORT = 3142;

/** `Acquire::http::Proxy` for nodes of a bridge whose gateway is `gateway`. @example aptProxyUrl('10.80.1.1') // 'http://10.80.1.1:3142' */
export function aptProxyUrl(gateway: string): string {
  return `http://${gateway}:${APT_PROXY_PORT}`;
}

/** Whether `host:port` accepts a TCP connection within `timeoutMs` (tried every 50 ms). */
export async function waitForPort(host: string, port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(50);
  }
  return false;
}

/** The running apt proxy of a network directory, checked by pid and command line. */
export function aptProxyPid(dir: string): number | undefined {
  const pid = readPidFile(join(dir, 'apt-cacher-ng.pid'));
  return pid !== undefined && isAlive(pid) && processCommandLine(pid)?.includes('apt-cacher-ng') ? pid : undefined;
}

/** The account apt-cacher-ng runs as (Debian's apt-cacher-ng package creates it). */
export const APT_PROXY_USER = 'apt-cacher-ng';

function accountIds(name: string): { uid: number; gid: number } | undefined {
  let entry: PasswdEntry | undefined;
  try {
    entry = readPasswd().find((candidate) => candidate.name === name);
  } catch {
    return undefined; // no passwd
  }
  return entry === undefined ? undefined : { uid: Number(entry.uid), gid: Number(entry.gid) };
}

/** The real uid of a running process, or undefined when it is gone. */
function processUid(pid: number): number | undefined {
  try {
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return uid === undefined ? undefined : Number(uid);
  } catch {
    return undefined;
  }
}

/** Where the proxy's directory is bind-mounted in its own mount namespace (reachable without the home's parents). */
export function proxyMountPoint(dir: string): string {
  return join('/run/forklift-apt-proxy', createHash('sha256').update(dir).digest('hex').slice(0, 12));
}

// Runs in the proxy's own mount namespace: its directory under the home (which the proxy's account could not
// reach through the home's 0700 parents) is bound at a neutral path, then apt-cacher-ng starts as that account
// (setpriv; same pid all along). argv: DIR MOUNTPOINT UID GID.
const START_PROXY = `set -e
mount --make-rprivate /
mount --bind "$1" "$2"
exec setpriv --reuid="$3" --regid="$4" --clear-groups -- apt-cacher-ng -c "$2/conf"`;

/**
 * A home made by an earlier forklift kept the proxy's cache and logs in `<dir>/apt-cache` and `<dir>/apt-log`
 * (and ran the proxy as root): move them into `<dir>/apt-proxy` so no cached package is fetched again.
 */
async function migrateOldLayout(dir: string, proxyDir: string): Promise<void> {
  for (const [old, now] of [
    ['apt-cache', 'cache'],
    ['apt-log', 'log'],
  ] as const) {
    if (existsSync(join(dir, old)) && !existsSync(join(proxyDir, now))) await rename(join(dir, old), join(proxyDir, now));
  }
  await rm(join(dir, 'apt-cacher-ng.conf.d'), { recursive: true, force: true });
  await rm(join(dir, 'acng.socket'), { force: true });
}

/**
 * Give a directory tree to the proxy's account, contents first (lchown: a link is never followed), unless it is
 * already its. Runs while no proxy runs, so the account cannot change the tree while it is walked.
 */
async function giveTree(path: string, uid: number, gid: number): Promise<void> {
  const stat = await lstat(path);
  if (stat.uid === uid && stat.gid === gid) return;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await giveTree(child, uid, gid);
    else await lchown(child, uid, gid);
  }
  await lchown(path, uid, gid);
}

/**
 * Start apt-cacher-ng on `gateway` unless it runs; resolves once it listens. It runs as its own account, never
 * root; a proxy an earlier forklift started as root is restarted so.
 */
export async function ensureAptProxy(dir: string, gateway: string): Promise<void> {
  const running = aptProxyPid(dir);
  if (running !== undefined) {
    if (processUid(running) !== 0) return;
    await stopProcess(running);
  }
  const ids = accountIds(APT_PROXY_USER);
  if (!ids) throw new UnavailableError(`the apt proxy runs as the ${APT_PROXY_USER} account, which is missing: apt-get install --reinstall apt-cacher-ng`);
  const proxyDir = join(dir, 'apt-proxy');
  const mountPoint = proxyMountPoint(dir);
  await mkdir(proxyDir, { recursive: true, mode: 0o755 });
  await migrateOldLayout(dir, proxyDir);
  for (const sub of ['cache', 'log', 'run', 'conf']) await mkdir(join(proxyDir, sub), { recursive: true, mode: 0o755 });
  await mkdir(mountPoint, { recursive: true, mode: 0o755 });
  // our own config: the package's backends point at mirrors this host cannot reach; paths as the proxy sees them
  await writeFile(
    join(proxyDir, 'conf', 'acng.conf'),
    [
      `CacheDir: ${mountPoint}/cache`,
      `LogDir: ${mountPoint}/log`,
      'SupportDir: /usr/lib/apt-cacher-ng',
      `BindAddress: ${gateway}`,
      `Port: ${APT_PROXY_PORT}`,
      `SocketPath: ${mountPoint}/run/acng.socket`,
      'PidFile: ',
      'ForeGround: 1',
      `Remap-debrep: file:deb_mirror*.gz /debian ; ${DEBIAN_MIRROR}/`,
      'Remap-secdeb: security.debian.org deb.debian.org/debian-security /debian-security ; http://deb.debian.org/debian-security/',
      'ExThreshold: 4',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  // the proxy's account owns its cache, logs and socket directory; root keeps its directory and configuration
  for (const sub of ['cache', 'log', 'run']) await giveTree(join(proxyDir, sub), ids.uid, ids.gid);
  const out = openSync(join(dir, 'apt-cacher-ng.out'), 'a');
  let child;
  try {
    child = spawn('unshare', ['--mount', 'sh', '-c', START_PROXY, 'sh', proxyDir, mountPoint, String(ids.uid), String(ids.gid)], {
      detached: true,
      stdio: ['ignore', out, out],
      // nothing of the caller's environment or working directory reaches the proxy's account
      cwd: '/',
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    });
  } finally {
    closeSync(out);
  }
  const failed = new Promise<Error>((resolve) => child.once('error', (error) => resolve(error)));
  if (child.pid === undefined) {
    const error = await failed;
    throw new UnavailableError(`apt-cacher-ng could not start (${error.message}): apt-get install apt-cacher-ng util-linux`);
  }
  child.unref();
  await writeFile(join(dir, 'apt-cacher-ng.pid'), `${child.pid}\n`);
  if (!(await waitForPort(gateway, APT_PROXY_PORT, 10_000))) {
    await stopProcess(child.pid);
    throw new Error(`apt-cacher-ng did not listen on ${gateway}:${APT_PROXY_PORT} (see ${join(dir, 'apt-cacher-ng.out')})`);
  }
}

/** Stop the apt proxy (if it runs) and forget its pid. */
export async function stopAptProxy(dir: string): Promise<void> {
  const pid = aptProxyPid(dir);
  if (pid !== undefined) await stopProcess(pid);
  await rm(join(dir, 'apt-cacher-ng.pid'), { force: true });
  // the mount lived in the proxy's own namespace: only an empty mount point is left on the host (rmdir, never rm -r)
  await rmdir(proxyMountPoint(dir)).catch(() => undefined);
}
