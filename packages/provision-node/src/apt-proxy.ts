// The apt proxy on a home's bridge address: apt-cacher-ng with its own configuration, cache and pid file
// under `<home>/network`, so nodes reach Debian's mirror without NAT (see its README). Callers hold the network lock.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UnavailableError } from '@forklift/contract';
import { isAlive, processCommandLine, readPidFile, stopProcess } from './process.js';
import { DEBIAN_MIRROR } from './rootfs.js';

/** Port of the apt proxy (apt-cacher-ng) on the bridge address. */
export const APT_PROXY_PORT = 3142;

/** `Acquire::http::Proxy` for nodes of a bridge whose gateway is `gateway`. @example aptProxyUrl('10.80.1.1') // 'http://10.80.1.1:3142' */
export function aptProxyUrl(gateway: string): string {
  return `http://${gateway}:${APT_PROXY_PORT}`;
}

async function waitForPort(host: string, port: number, timeoutMs: number): Promise<boolean> {
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

/** Start apt-cacher-ng on `gateway` unless it runs; resolves once it listens. */
export async function ensureAptProxy(dir: string, gateway: string): Promise<void> {
  if (aptProxyPid(dir) !== undefined) return;
  const cache = join(dir, 'apt-cache');
  const logs = join(dir, 'apt-log');
  await mkdir(cache, { recursive: true });
  await mkdir(logs, { recursive: true });
  // our own config: the package's backends point at mirrors this host cannot reach
  const confDir = join(dir, 'apt-cacher-ng.conf.d');
  await mkdir(confDir, { recursive: true });
  await writeFile(
    join(confDir, 'acng.conf'),
    [
      `CacheDir: ${cache}`,
      `LogDir: ${logs}`,
      'SupportDir: /usr/lib/apt-cacher-ng',
      `BindAddress: ${gateway}`,
      `Port: ${APT_PROXY_PORT}`,
      `SocketPath: ${join(dir, 'acng.socket')}`,
      'PidFile: ',
      'ForeGround: 1',
      `Remap-debrep: file:deb_mirror*.gz /debian ; ${DEBIAN_MIRROR}/`,
      'Remap-secdeb: security.debian.org deb.debian.org/debian-security /debian-security ; http://deb.debian.org/debian-security/',
      'ExThreshold: 4',
      '',
    ].join('\n'),
  );
  const out = openSync(join(dir, 'apt-cacher-ng.out'), 'a');
  let child;
  try {
    child = spawn('apt-cacher-ng', ['-c', confDir], { detached: true, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  const failed = new Promise<Error>((resolve) => child.once('error', (error) => resolve(error)));
  if (child.pid === undefined) {
    const error = await failed;
    throw new UnavailableError(`apt-cacher-ng could not start (${error.message}): apt-get install apt-cacher-ng`);
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
}
