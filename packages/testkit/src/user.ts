import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { execa } from 'execa';

/** How a throwaway login user may use sudo: without password, only with a password, or not at all. */
export type SudoMode = 'nopasswd' | 'password' | 'none';

/** A throwaway non-root user created for one test; `remove()` deletes it and its sudoers file. */
export interface TestUser {
  name: string;
  home: string;
  sudoersFile?: string;
  remove(): Promise<void>;
}

async function retryOnLock(file: string, args: string[]): Promise<void> {
  // useradd/userdel of parallel tests contend for the lock on /etc/passwd
  for (let attempt = 0; ; attempt++) {
    const result = await execa(file, args, { reject: false });
    if (result.exitCode === 0) return;
    if (attempt >= 20 || !/lock/i.test(result.stderr)) throw new Error(`${file} ${args.join(' ')} failed: ${result.stderr.trim()}`);
    await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
  }
}

/**
 * Create a throwaway user `fltest-XXXXXX` with home `home` and shell /bin/sh, and a file in
 * /etc/sudoers.d for its sudo mode. The password is never locked (`*`, or a random one for
 * 'password' mode) so that sshd lets the key in.
 * @example const user = await createTestUser('/tmp/d/home', 'nopasswd'); await user.remove()
 */
export async function createTestUser(home: string, sudo: SudoMode): Promise<TestUser> {
  const name = `fltest-${randomBytes(3).toString('hex')}`;
  await retryOnLock('useradd', ['--home-dir', home, '--create-home', '--shell', '/bin/sh', '--no-user-group', '--gid', 'nogroup', name]);
  let sudoersFile: string | undefined;
  try {
    if (sudo === 'password') {
      const password = randomBytes(12).toString('hex');
      await execa('chpasswd', [], { input: `${name}:${password}\n` });
    } else {
      await retryOnLock('usermod', ['--password', '*', name]);
    }
    if (sudo !== 'none') {
      sudoersFile = `/etc/sudoers.d/${name}`;
      const rule = sudo === 'nopasswd' ? `${name} ALL=(ALL) NOPASSWD: ALL\n` : `${name} ALL=(ALL) ALL\n`;
      await writeFile(sudoersFile, rule, { mode: 0o440 });
    }
  } catch (error) {
    await retryOnLock('userdel', ['--force', name]).catch(() => undefined);
    throw error;
  }
  return {
    name,
    home,
    sudoersFile,
    async remove() {
      if (sudoersFile) await rm(sudoersFile, { force: true });
      await retryOnLock('userdel', ['--force', name]).catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    },
  };
}
