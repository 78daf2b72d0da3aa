import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { InputError } from '@forklift/contract';
import { runBinary } from '@forklift/testkit';
import { detectAccel } from '../src/providers/qemu-accel.js';
import { KERNEL_CMDLINE, qemuArgs, type QemuLaunch } from '../src/providers/qemu-argv.js';
import { parseQemuOptions, vmSize } from '../src/providers/qemu-options.js';

const launch: QemuLaunch = {
  name: 'forklift-f0123456789',
  accel: 'tcg',
  memoryMb: 512,
  cpus: 1,
  kernel: '/img/vmlinuz',
  initrd: '/img/initrd.img',
  disk: '/state/web-1/disk.qcow2',
  pidFile: '/state/web-1/qemu.pid',
  consoleLog: '/state/web-1/console.log',
  network: { mode: 'tap', ifname: 'f0123456789', mac: '02:aa:bb:cc:dd:ee' },
  credentials: { 'forklift.hostkey': '/state/web-1/creds/forklift.hostkey' },
};

function valueOf(args: string[], flag: string): string[] {
  return args.flatMap((arg, index) => (arg === flag ? [args[index + 1]!] : []));
}

t.test('qemu argv - tap networking, direct kernel boot and credentials as fw_cfg files', async (t) => {
  const args = qemuArgs(launch);
  t.same(valueOf(args, '-machine'), ['pc,accel=tcg']);
  t.same(valueOf(args, '-m'), ['512']);
  t.same(valueOf(args, '-kernel'), ['/img/vmlinuz']);
  t.same(valueOf(args, '-append'), [KERNEL_CMDLINE]);
  t.same(valueOf(args, '-netdev'), ['tap,id=net0,ifname=f0123456789,script=no,downscript=no']);
  t.same(valueOf(args, '-device'), ['virtio-rng-pci', 'virtio-net-pci,netdev=net0,mac=02:aa:bb:cc:dd:ee']);
  t.same(valueOf(args, '-fw_cfg'), ['name=opt/io.systemd.credentials/forklift.hostkey,file=/state/web-1/creds/forklift.hostkey']);
  t.same(args.slice(-3), ['-daemonize', '-pidfile', '/state/web-1/qemu.pid']);
  t.notOk(args.includes('-cpu'), 'no -cpu host under TCG');
  t.notOk(args.join(' ').includes('BEGIN OPENSSH'), 'no secret on the command line');
});

t.test('qemu argv - user networking forwards sshd to a loopback port only; kvm uses the host cpu', async (t) => {
  const args = qemuArgs({ ...launch, accel: 'kvm', network: { mode: 'user', hostPort: 40022, mac: '02:00:00:00:00:01' } });
  t.same(valueOf(args, '-netdev'), ['user,id=net0,hostfwd=tcp:127.0.0.1:40022-:22']);
  t.same(valueOf(args, '-cpu'), ['host']);
  t.same(valueOf(args, '-machine'), ['pc,accel=kvm']);
});

t.test('qemu argv - a credential name too long for fw_cfg or a comma in a path is refused', async (t) => {
  t.throws(() => qemuArgs({ ...launch, credentials: { ['x'.repeat(40)]: '/f' } }), /too long for fw_cfg/);
  t.throws(() => qemuArgs({ ...launch, credentials: { 'forklift.hostkey': '/a,b/key' } }), /cannot appear in a fw_cfg option/);
  t.throws(() => qemuArgs({ ...launch, disk: '/a,b/disk.qcow2' }), /cannot contain ","/);
});

t.test('qemu accel - KVM only with a usable /dev/kvm and vmx/svm in cpuinfo', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fl-accel-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const kvm = join(dir, 'kvm');
  await writeFile(kvm, '');
  await writeFile(join(dir, 'with'), 'processor\t: 0\nflags\t\t: fpu vme sse2 vmx lm\n');
  await writeFile(join(dir, 'without'), 'processor\t: 0\nflags\t\t: fpu vme sse2 lm\n');
  t.match(await detectAccel({ kvm, cpuinfo: join(dir, 'with') }), { accel: 'kvm' });
  t.match(await detectAccel({ kvm, cpuinfo: join(dir, 'without') }), { accel: 'tcg', reason: /neither vmx nor svm/ });
  t.match(await detectAccel({ kvm: join(dir, 'missing'), cpuinfo: join(dir, 'with') }), { accel: 'tcg', reason: /missing or not usable/ });
});

t.test('qemu options - defaults, group spec minimums, and a bad field named with its file', async (t) => {
  t.same(vmSize({}, {}), { memoryMb: 512, cpus: 1 });
  t.same(vmSize({ memoryMb: 768 }, { hardware: { minRamMiB: 1024, minCores: 2 } }), { memoryMb: 1024, cpus: 2 });
  t.same(parseQemuOptions({ name: 'vmfest', provider: 'qemu', options: {} }), {});
  const bad = (): unknown => parseQemuOptions({ name: 'vms', provider: 'qemu', options: { network: 'wifi' }, file: '/p/services/vms.json5' });
  t.throws(bad, InputError);
  t.throws(bad, /\/p\/services\/vms\.json5: service field "options\.network"/);
});

t.test('qemu service file - a bad option exits 65 with one stderr line naming the file and field, and creates nothing', async (t) => {
  const cwd = await mkdtemp(join(tmpdir(), 'fl-vmbad-'));
  t.teardown(() => rm(cwd, { recursive: true, force: true }));
  await mkdir(join(cwd, 'services'));
  await writeFile(join(cwd, 'services', 'vmbad.json5'), "{ provider: 'qemu', options: { memoryMb: 'lots' } }\n");
  const home = join(cwd, 'home');
  const result = await runBinary('provision-node', ['vmbad', '1', '--group', 'x'], { cwd, env: { FORKLIFT_HOME: home } });
  t.equal(result.exitCode, 65);
  t.equal(result.stderr.trim().split('\n').length, 1, 'one stderr line');
  t.match(result.stderr, /services\/vmbad\.json5: service field "options\.memoryMb"/);
  t.notOk(existsSync(join(home, 'state')), 'no node state was created');
});
