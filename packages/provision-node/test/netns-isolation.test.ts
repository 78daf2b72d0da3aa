// netns nodes are isolated from the host (issue 12 item 8): sshd used to run as host root under a plain chroot,
// with the host's /proc mounted inside (`/proc/1/root` was the host's root). Now each node has its own mount and
// PID namespaces, the host's root is unmounted after pivot_root, /proc is the node's own and the capability
// bounding set has no SYS_ADMIN, MKNOD or DAC_READ_SEARCH. From inside a node, as its root: the host's root
// filesystem is not reachable by /proc, by a chroot escape, by mounting, or by a device node.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { rm, unlink, writeFile } from 'node:fs/promises';
import { provisionNodes } from '../src/index.js';
import { forceClean, sshRun, testHome } from './helpers.js';

t.setTimeout(25 * 60_000);

t.test('netns node - the host root is not reachable from inside', async (t) => {
  const { home, env } = await testHome('netns-iso');
  const log = (line: string): void => void t.comment(line);
  // a file only the host's root filesystem has
  const marker = `/forklift-host-marker-${randomBytes(6).toString('hex')}`;
  await writeFile(marker, 'host\n');
  t.teardown(async () => {
    await unlink(marker).catch(() => undefined);
    await provisionNodes({ service: 'netns', count: 0, group: 'iso', home, env, log }).catch(() => undefined);
    await forceClean(home);
    await rm(home, { recursive: true, force: true });
  });
  const [node] = await provisionNodes({ service: 'netns', count: 1, group: 'iso', home, env, log });
  const inside = (command: string) => sshRun(node!, command, home);

  const look = await inside(
    [
      `for p in /proc/[0-9]*; do if [ -e "$p/root${marker}" ]; then echo "via $p/root"; fi; done`,
      `if [ -e ${marker} ]; then echo 'in the node root'; fi`,
      'echo "pid1=$(tr "\\000" " " </proc/1/cmdline)"',
      'echo "procs=$(ls -d /proc/[0-9]* | wc -l)"',
      'echo "host-init=$(grep -l -s -e systemd -e init /proc/[0-9]*/comm | wc -l)"',
      'echo "capbnd=$(sed -n \'s/^CapBnd:\\t//p\' /proc/self/status)"',
    ].join('\n'),
  );
  t.notMatch(look, /via \/proc\/\d+\/root/, 'no process visible in the node has the host root as its root');
  t.notMatch(look, /in the node root/, 'the marker is not in the node root');
  t.match(look, /^pid1=.*\/usr\/sbin\/sshd -D/m, "PID 1 is the node's sshd, not the host's init");
  const procs = Number(/^procs=(\d+)/m.exec(look)?.[1]);
  t.ok(procs > 0 && procs < 20, `only the node's own processes are listed (${procs})`);
  const capbnd = BigInt(`0x${/^capbnd=([0-9a-f]+)/m.exec(look)?.[1] ?? '0'}`);
  for (const [name, bit] of [
    ['SYS_ADMIN', 21n],
    ['MKNOD', 27n],
    ['DAC_READ_SEARCH', 2n],
    ['SYS_MODULE', 16n],
    ['SYS_RAWIO', 17n],
    ['SYS_PTRACE', 19n],
    ['SYS_BOOT', 22n],
  ] as const) {
    t.equal((capbnd >> bit) & 1n, 0n, `CAP_${name} is not in the bounding set`);
  }

  // the classic chroot escape (chroot into a subdirectory, walk up past it, chroot to .) ends in the node's root
  const escape = await inside(
    `perl -e 'mkdir "/tmp/esc"; chroot "/tmp/esc" or die "chroot: $!"; chdir ".." for 1..64; chroot "." or die; exec "/bin/sh", "-c", "test -e ${marker} && echo ESCAPED || echo contained"' 2>&1 || true`,
  );
  t.match(escape, /contained/, 'a chroot escape stays inside the node');
  t.notMatch(escape, /ESCAPED/);

  const mount = await inside('mkdir -p /tmp/m; mount -t proc proc /tmp/m 2>&1 && echo MOUNTED; mknod /tmp/disk b 8 0 2>&1 && echo MKNOD; true');
  t.notMatch(mount, /MOUNTED|MKNOD/, 'no mount and no device node (the way to the host disk)');

  t.match(await inside('hostname'), /^iso-1\n$/, 'it is still a working node');
});
