import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECORD_VERSION, type NodeRecord } from '@forklift/contract';
import { freePort } from './free-port.js';
import { generateKey } from './keys.js';
import { createTestUser, type SudoMode, type TestUser } from './user.js';

const ROOT_BASHRC = '/root/.bashrc';

/** The Debian OpenSSH server binary the test servers run. */
export const SSHD_PATH = '/usr/sbin/sshd';

/** Options of startSshd. */
export interface SshdOptions {
  /** Login user: 'root' (default) or a throwaway non-root user created for this server. */
  user?: 'root' | 'nonroot';
  /** For a non-root user: passwordless sudo (default), sudo only with a password, or no sudo rule. */
  sudo?: SudoMode;
  /** Node record id (default `sshd-<port>`). */
  id?: string;
  /** Node record group (default `testkit`). */
  group?: string;
  /** Extra sshd_config lines. */
  config?: string[];
  /**
   * Run sshd in its own mount namespace with /root/.bashrc masked (default true when it exists):
   * Debian's bash sources ~/.bashrc for every ssh command, and a slow one (pyenv init: seconds)
   * would be paid on every exec. Nothing outside the sshd's process tree sees the mask.
   */
  maskRootBashrc?: boolean;
}

/** A running loopback sshd of one test. */
export interface TestSshd {
  /** A node record that reaches this server: address, port, user, privateKey path, pinned hostKey. */
  node: NodeRecord;
  /** The server's temp dir (config, keys, log). */
  dir: string;
  /** The sshd process id. */
  pid: number;
  /** The throwaway user, when one was asked for. */
  testUser?: TestUser;
  /** Kill exactly this sshd by PID, remove its files and its throwaway user. Safe to call twice. */
  stop(): Promise<void>;
}

async function ensurePrivsepDir(): Promise<void> {
  // sshd refuses to start without its privilege separation directory
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
}

function waitForBanner(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    let exited = false;
    child.once('exit', () => {
      exited = true;
    });
    const attempt = (): void => {
      if (exited) return reject(new Error('sshd exited before accepting connections'));
      const socket = connect({ host: '127.0.0.1', port });
      socket.setTimeout(1000);
      socket.once('data', (data) => {
        socket.destroy();
        if (data.toString('latin1').startsWith('SSH-')) resolve();
        else retry();
      });
      socket.once('error', () => retry());
      socket.once('timeout', () => retry());
      function retry(): void {
        socket.destroy();
        if (Date.now() - started > deadlineMs) return reject(new Error(`sshd did not answer on port ${port} within ${deadlineMs} ms`));
        setTimeout(attempt, 25);
      }
    };
    attempt();
  });
}

function sshdConfig(dir: string, port: number, extra: string[]): string {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${join(dir, 'ssh_host_ed25519_key')}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    // the temp dir lives under world-writable /tmp, which StrictModes rejects
    'StrictModes no',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UsePAM no',
    'UseDNS no',
    'MaxStartups 200',
    'MaxSessions 100',
    'PrintMotd no',
    'Subsystem sftp internal-sftp',
    'LogLevel INFO',
    ...extra,
    '',
  ].join('\n');
}

async function killAndWait(child: ChildProcess, pid: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 3000);
  await exited;
  clearTimeout(timer);
}

/**
 * Start a real OpenSSH server (Debian's /usr/sbin/sshd) on 127.0.0.1 on a free port, with its own
 * config, host key and client key in a temp dir. Throws with the reason when sshd is missing.
 * @example const sshd = await startSshd({ user: 'nonroot', sudo: 'nopasswd' }); t.teardown(sshd.stop)
 */
export async function startSshd(options: SshdOptions = {}): Promise<TestSshd> {
  try {
    await access(SSHD_PATH);
  } catch {
    throw new Error(`${SSHD_PATH} not found: apt-get install openssh-server openssh-client`);
  }
  await ensurePrivsepDir();
  const dir = await mkdtemp(join(tmpdir(), 'forklift-sshd-'));
  // a non-root login must traverse the dir to read authorized_keys
  await chmod(dir, 0o755);
  let testUser: TestUser | undefined;
  let child: ChildProcess | undefined;
  const cleanup = async (): Promise<void> => {
    if (child?.pid) await killAndWait(child, child.pid);
    if (testUser) await testUser.remove();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const hostKey = await generateKey(join(dir, 'ssh_host_ed25519_key'), 'forklift-testkit-host');
    const clientKey = await generateKey(join(dir, 'id_ed25519'));
    await writeFile(join(dir, 'authorized_keys'), clientKey + '\n', { mode: 0o644 });
    let user = 'root';
    if (options.user === 'nonroot') {
      testUser = await createTestUser(join(dir, 'home'), options.sudo ?? 'nopasswd');
      user = testUser.name;
    }
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const configPath = join(dir, 'sshd_config');
      await writeFile(configPath, sshdConfig(dir, port, options.config ?? []));
      const logPath = join(dir, 'sshd.log');
      await writeFile(logPath, '');
      const sshdArgs = ['-D', '-f', configPath, '-E', logPath];
      const mask = (options.maskRootBashrc ?? true) && existsSync(ROOT_BASHRC);
      // unshare and sh exec into sshd, so child.pid is the sshd's pid
      child = mask
        ? spawn(
            'unshare',
            ['--mount', '--propagation', 'private', '--', 'sh', '-c', `mount --bind /dev/null ${ROOT_BASHRC} && exec "$0" "$@"`, SSHD_PATH, ...sshdArgs],
            { stdio: 'ignore' },
          )
        : spawn(SSHD_PATH, sshdArgs, { stdio: 'ignore' });
      const spawned = child;
      await new Promise<void>((resolve, reject) => {
        spawned.once('spawn', resolve);
        spawned.once('error', reject);
      });
      try {
        await waitForBanner(port, spawned, 10_000);
      } catch (error) {
        const log = await readFile(logPath, 'utf8').catch(() => '');
        await killAndWait(spawned, spawned.pid!);
        // another process may have taken the port between freePort() and sshd's bind
        if (attempt < 4 && /Address already in use|Bind to port/i.test(log)) continue;
        throw new Error(`sshd did not start: ${(error as Error).message}: ${log.trim().split('\n').slice(-3).join(' | ')}`);
      }
      const node: NodeRecord = {
        v: RECORD_VERSION,
        kind: 'node',
        id: options.id ?? `sshd-${port}`,
        group: options.group ?? 'testkit',
        service: 'testkit',
        provider: 'sshd',
        address: '127.0.0.1',
        port,
        user,
        privateKey: join(dir, 'id_ed25519'),
        hostKey,
        state: 'running',
      };
      let stopped: Promise<void> | undefined;
      return {
        node,
        dir,
        pid: spawned.pid!,
        testUser,
        stop: () => (stopped ??= cleanup()),
      };
    }
  } catch (error) {
    await cleanup();
    throw error;
  }
}
