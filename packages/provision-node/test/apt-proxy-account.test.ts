// The apt proxy (apt-cacher-ng), which parses whatever nodes send it on the bridge, ran as root (issue 12 item 11).
// It now runs as its own account in its own mount namespace. A home made by the older code (cache in
// `network/apt-cache`, the proxy running as root) keeps its cache: the root proxy is restarted as the account and
// the cache moves to `network/apt-proxy/cache`. Both kinds of bridge node (netns and nspawn) still get packages.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { provisionNodes } from '../src/index.js';
import { APT_PROXY_PORT, waitForPort } from '../src/apt-proxy.js';
import { bridgeConfig, ensureBridge } from '../src/bridge.js';
import { DEBIAN_MIRROR } from '../src/rootfs.js';
import { isAlive, stopProcess } from '../src/process.js';
import { forceClean, sshRun, testHome } from './helpers.js';

t.setTimeout(25 * 60_000);

const uidOf = async (pid: number): Promise<number> => Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]);

t.test('apt proxy - runs as its own account; an older home keeps its cache; netns and nspawn nodes get packages', async (t) => {
  const account = /^apt-cacher-ng:x:(\d+):(\d+):/m.exec(await readFile('/etc/passwd', 'utf8'));
  if (!account) throw new Error('the apt-cacher-ng account is missing: apt-get install apt-cacher-ng');
  const [uid, gid] = [Number(account[1]), Number(account[2])];
  const { home, env } = await testHome('acng-user');
  const log = (line: string): void => void t.comment(line);
  const dir = join(home, 'network');
  let oldPid: number | undefined;
  t.teardown(async () => {
    await provisionNodes({ service: 'netns', count: 0, group: 'acng-n', home, env, log }).catch(() => undefined);
    await provisionNodes({ service: 'local', count: 0, group: 'acng-l', home, env, log }).catch(() => undefined);
    if (oldPid !== undefined) await stopProcess(oldPid);
    await forceClean(home);
    await rm(home, { recursive: true, force: true });
  });

  // the home as the older code left it: bridge, cache with a package in it, the proxy running as root
  const made = await bridgeConfig(home, dir);
  await ensureBridge(made, log);
  const gateway = `${made.prefix}.1`;
  const cached = join('debrep', 'pool', 'main', 'f', 'forklift-marker', `forklift-marker_${randomBytes(4).toString('hex')}_all.deb`);
  await mkdir(join(dir, 'apt-cache', cached, '..'), { recursive: true });
  await writeFile(join(dir, 'apt-cache', cached), 'a package fetched by an earlier run\n');
  await mkdir(join(dir, 'apt-log'), { recursive: true });
  await mkdir(join(dir, 'apt-cacher-ng.conf.d'), { recursive: true });
  await writeFile(
    join(dir, 'apt-cacher-ng.conf.d', 'acng.conf'),
    [
      `CacheDir: ${join(dir, 'apt-cache')}`,
      `LogDir: ${join(dir, 'apt-log')}`,
      'SupportDir: /usr/lib/apt-cacher-ng',
      `BindAddress: ${gateway}`,
      `Port: ${APT_PROXY_PORT}`,
      `SocketPath: ${join(dir, 'acng.socket')}`,
      'PidFile: ',
      'ForeGround: 1',
      `Remap-debrep: file:deb_mirror*.gz /debian ; ${DEBIAN_MIRROR}/`,
      '',
    ].join('\n'),
  );
  const out = openSync(join(dir, 'apt-cacher-ng.out'), 'a');
  const old = spawn('apt-cacher-ng', ['-c', join(dir, 'apt-cacher-ng.conf.d')], { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  old.unref();
  oldPid = old.pid;
  await writeFile(join(dir, 'apt-cacher-ng.pid'), `${oldPid}\n`);
  if (!(await waitForPort(gateway, APT_PROXY_PORT, 10_000)))
    throw new Error(`the old-style proxy did not start: ${await readFile(join(dir, 'apt-cacher-ng.out'), 'utf8')}`);
  t.equal(await uidOf(oldPid!), 0, 'before: the proxy of the older home runs as root');

  // something of the controller's environment the proxy's account must not get
  process.env.FORKLIFT_PROXY_TEST_SECRET = `SECRET${randomBytes(4).toString('hex')}`;
  t.teardown(() => void delete process.env.FORKLIFT_PROXY_TEST_SECRET);
  const [netnsNode] = await provisionNodes({ service: 'netns', count: 1, group: 'acng-n', home, env, log });
  const [nspawnNode] = await provisionNodes({ service: 'local', count: 1, group: 'acng-l', home, env, log });
  t.notOk(isAlive(oldPid!), 'the root proxy was stopped');
  const pid = Number((await readFile(join(dir, 'apt-cacher-ng.pid'), 'utf8')).trim());
  t.equal(await uidOf(pid), uid, 'the proxy runs as the apt-cacher-ng account');
  t.match(await readFile(`/proc/${pid}/cmdline`, 'utf8'), /^apt-cacher-ng\0/);
  t.not(await readlink(`/proc/${pid}/ns/mnt`), await readlink('/proc/self/ns/mnt'), 'in its own mount namespace');
  t.notMatch(await readFile(`/proc/${pid}/environ`, 'utf8'), process.env.FORKLIFT_PROXY_TEST_SECRET!, "none of the caller's environment");
  t.equal(await readlink(`/proc/${pid}/cwd`), '/', 'nor its working directory');

  // the cache moved, is the account's, and the old layout is gone
  const moved = join(dir, 'apt-proxy', 'cache', cached);
  t.equal(await readFile(moved, 'utf8'), 'a package fetched by an earlier run\n', 'the earlier cache is kept');
  t.equal((await stat(moved)).uid, uid, "a cached file is the account's");
  t.equal((await stat(join(dir, 'apt-proxy', 'cache'))).gid, gid);
  t.notOk(existsSync(join(dir, 'apt-cache')), 'no second cache in the old place');
  t.equal((await stat(join(dir, 'apt-proxy'))).uid, 0, 'the proxy directory stays root');
  t.equal((await stat(join(dir, 'apt-proxy', 'conf', 'acng.conf'))).uid, 0, 'its configuration stays root');

  // both kinds of node still reach Debian through it, and what they fetch lands in the account's cache
  for (const [name, node] of [
    ['netns', netnsNode],
    ['nspawn', nspawnNode],
  ] as const) {
    const out = await sshRun(node!, 'apt-get -q -o Acquire::Retries=2 update >/dev/null 2>&1 && echo UPDATED || echo FAILED', home);
    t.match(out, /UPDATED/, `${name === 'netns' ? 'a' : 'an'} ${name} node refreshes its package index through the proxy`);
  }
  const fetched = await sshRun(nspawnNode!, 'cd /tmp && apt-get -q download hello >/dev/null 2>&1 && ls hello_*.deb', home);
  t.match(fetched, /^hello_.*\.deb$/m, 'an nspawn node downloads a package through it');
  const { stdout } = await promisify(execFile)('find', [join(dir, 'apt-proxy', 'cache'), '-name', 'hello_*.deb', '-user', String(uid)]);
  t.match(stdout, /hello_.*\.deb/, "the package is in the cache, the account's");
});
