import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnavailableError } from '@forklift/contract';
import { run } from './run.js';

/** A host command a provider needs and the Debian package that has it. */
export interface HostCommand {
  command: string;
  package: string;
}

/** What every provider that builds a node from the cached Debian rootfs needs: debootstrap, host keys, the lock. */
export const ROOTFS_TOOLS: readonly HostCommand[] = [
  { command: 'debootstrap', package: 'debootstrap' },
  { command: 'ssh-keygen', package: 'openssh-client' },
  { command: 'flock', package: 'util-linux' },
];

const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Whether a command is on PATH (or in the usual sbin directories). */
export function hasCommand(command: string, env: Record<string, string | undefined> = process.env): boolean {
  const dirs = [...(env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_PATH];
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Whether we may install with apt: root on Debian (or a derivative). */
export function canApt(): boolean {
  return process.getuid?.() === 0 && existsSync('/etc/debian_version') && hasCommand('apt-get');
}

/**
 * Make sure host commands exist. As root on Debian, missing ones are installed with apt-get
 * (saying so through `log`); otherwise (or when apt fails) UnavailableError (exit 69) names the exact command.
 * @example await ensureHostCommands([{ command: 'systemd-nspawn', package: 'systemd-container' }], ctx.log)
 */
export async function ensureHostCommands(needed: HostCommand[], log: (line: string) => void, what = 'this provider'): Promise<void> {
  const missing = needed.filter((item) => !hasCommand(item.command));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((item) => item.package))];
  const command = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  const names = missing.map((item) => item.command).join(', ');
  if (!canApt()) throw new UnavailableError(`${names} not found (needed by ${what}): run as root: ${command}`);
  log(`installing ${packages.join(' ')} with apt-get (needed by ${what} for ${names})`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  let result = await run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, reject: false });
  if (result.exitCode !== 0) {
    await run('apt-get', ['update'], { env, reject: false });
    result = await run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, reject: false });
  }
  const still = needed.filter((item) => !hasCommand(item.command));
  if (result.exitCode !== 0 || still.length) {
    throw new UnavailableError(`could not install ${packages.join(' ')} (apt-get exit ${result.exitCode}): run as root: apt-get update && ${command}`);
  }
}

/**
 * Make sure the host allows `needed` inotify instances per user (each nspawn node uses 7); as root
 * raise fs.inotify.max_user_instances (saying so), else UnavailableError with the exact sysctl.
 */
export async function ensureInotifyInstances(needed: number, log: (line: string) => void): Promise<void> {
  const file = '/proc/sys/fs/inotify/max_user_instances';
  const current = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
  if (current >= needed) return;
  const target = Math.max(needed, 512);
  const command = `sysctl -w fs.inotify.max_user_instances=${target}`;
  if (process.getuid?.() !== 0) throw new UnavailableError(`fs.inotify.max_user_instances is ${current}, nodes need ${needed}: run as root: ${command}`);
  log(`raising fs.inotify.max_user_instances from ${current} to ${target} (7 per node)`);
  const result = await run('sysctl', ['-w', `fs.inotify.max_user_instances=${target}`], { reject: false });
  if (result.exitCode !== 0) throw new UnavailableError(`could not raise fs.inotify.max_user_instances (${result.stderr.trim()}): run as root: ${command}`);
}
