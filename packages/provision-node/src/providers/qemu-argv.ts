/** How a VM is attached to the network. */
export type QemuNetwork =
  /** A tap on the tool's bridge (root): the VM has its own address, reachable by the host and other nodes. */
  | { mode: 'tap'; ifname: string; mac: string }
  /** User-mode networking (slirp, any user): the guest's sshd is forwarded to a loopback port. */
  | { mode: 'user'; hostPort: number; mac: string };

/** Everything needed to start one VM. */
export interface QemuLaunch {
  /** `-name`, also how a forklift VM is recognised in the process list. */
  name: string;
  accel: 'kvm' | 'tcg';
  memoryMb: number;
  cpus: number;
  kernel: string;
  initrd: string;
  /** The node's copy-on-write qcow2 clone. */
  disk: string;
  pidFile: string;
  /** The serial console is written here (boot diagnostics). */
  consoleLog: string;
  network: QemuNetwork;
  /**
   * systemd credentials passed through fw_cfg (`opt/io.systemd.credentials/NAME`): name -> file.
   * Files, not strings, so secrets never appear on the command line.
   */
  credentials: Record<string, string>;
}

/** The kernel command line: root on the first virtio disk, console (quiet but for errors) on the serial port, panic = reboot = exit. */
export const KERNEL_CMDLINE = 'root=/dev/vda rw console=ttyS0 panic=1 quiet systemd.show_status=error';

/** fw_cfg names are limited to 55 bytes (QEMU's FW_CFG_MAX_FILE_PATH minus the NUL). */
const FW_CFG_MAX_NAME = 55;

/**
 * The qemu-system-x86_64 arguments for one daemonized VM with direct kernel boot (pure).
 * @example qemuArgs({ name: 'forklift:vmfest/web-1', accel: 'tcg', memoryMb: 512, cpus: 1, ... })
 */
export function qemuArgs(launch: QemuLaunch): string[] {
  const args = [
    '-name',
    launch.name,
    '-machine',
    `pc,accel=${launch.accel}`,
    ...(launch.accel === 'kvm' ? ['-cpu', 'host'] : []),
    '-m',
    String(launch.memoryMb),
    '-smp',
    String(launch.cpus),
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-vga',
    'none',
    '-no-reboot',
    '-kernel',
    launch.kernel,
    '-initrd',
    launch.initrd,
    '-append',
    KERNEL_CMDLINE,
    '-drive',
    `file=${launch.disk},if=virtio,format=qcow2,discard=unmap`,
    '-device',
    'virtio-rng-pci',
    '-serial',
    `file:${launch.consoleLog}`,
  ];
  const net = launch.network;
  if (net.mode === 'tap') args.push('-netdev', `tap,id=net0,ifname=${net.ifname},script=no,downscript=no`);
  else args.push('-netdev', `user,id=net0,hostfwd=tcp:127.0.0.1:${net.hostPort}-:22`);
  args.push('-device', `virtio-net-pci,netdev=net0,mac=${net.mac}`);
  for (const [name, file] of Object.entries(launch.credentials)) {
    const fwName = `opt/io.systemd.credentials/${name}`;
    if (fwName.length > FW_CFG_MAX_NAME) throw new Error(`credential name "${name}" is too long for fw_cfg (${fwName.length} > ${FW_CFG_MAX_NAME})`);
    if (/[,=]/.test(file) || /[,=]/.test(name)) throw new Error(`credential "${name}": "," and "=" cannot appear in a fw_cfg option (${file})`);
    args.push('-fw_cfg', `name=${fwName},file=${file}`);
  }
  for (const path of [launch.disk, launch.consoleLog, launch.kernel, launch.initrd]) {
    if (path.includes(',')) throw new Error(`qemu option paths cannot contain ",": ${path}`);
  }
  args.push('-daemonize', '-pidfile', launch.pidFile);
  return args;
}
