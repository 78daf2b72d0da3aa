import t from 'tap';
import { existsSync } from 'node:fs';
import { execa } from 'execa';
import { binPath, pinnedSshArgs, runBinary, startSshd, toNdjson, type TestSshd } from '../src/index.js';

function ssh(sshd: TestSshd, command: string) {
  return execa('ssh', pinnedSshArgs(sshd.node, command, sshd.dir), { reject: false, timeout: 20_000 });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

t.test('startSshd - root login with the generated key and the pinned host key', async (t) => {
  const sshd = await startSshd();
  t.teardown(sshd.stop);
  t.equal(sshd.node.user, 'root');
  t.match(sshd.node.hostKey, /^ssh-ed25519 \S+$/);
  const result = await ssh(sshd, 'id -u');
  t.equal(result.exitCode, 0, result.stderr);
  t.equal(result.stdout.trim(), '0');
  await sshd.stop();
  t.notOk(alive(sshd.pid), 'sshd process is gone after stop');
  t.notOk(existsSync(sshd.dir), 'temp dir removed after stop');
});

t.test('startSshd - non-root user with passwordless sudo', async (t) => {
  const sshd = await startSshd({ user: 'nonroot', sudo: 'nopasswd' });
  t.teardown(sshd.stop);
  t.not(sshd.node.user, 'root');
  const plain = await ssh(sshd, 'id -u');
  t.equal(plain.exitCode, 0, plain.stderr);
  t.not(plain.stdout.trim(), '0');
  const sudo = await ssh(sshd, 'sudo -n id -u');
  t.equal(sudo.stdout.trim(), '0', sudo.stderr);
  const sudoers = sshd.testUser!.sudoersFile!;
  t.ok(existsSync(sudoers));
  await sshd.stop();
  t.notOk(existsSync(sudoers), 'sudoers file removed after stop');
  const passwd = await execa('getent', ['passwd', sshd.node.user], { reject: false });
  t.not(passwd.exitCode, 0, 'throwaway user deleted after stop');
});

t.test('startSshd - non-root user whose sudo needs a password', async (t) => {
  const sshd = await startSshd({ user: 'nonroot', sudo: 'password' });
  t.teardown(sshd.stop);
  const sudo = await ssh(sshd, 'sudo -n id -u');
  t.not(sudo.exitCode, 0);
  t.match(sudo.stderr, /a password is required/);
});

t.test('runBinary - feeds stdin and parses stdout records', async (t) => {
  const sshd = await startSshd();
  t.teardown(sshd.stop);
  const result = await runBinary(binPath('contract').replace(/contract\.js$/, 'forklift-cat.js'), [], { stdin: toNdjson([sshd.node]) });
  t.equal(result.exitCode, 0, result.stderr);
  t.same(
    result.records.map((record) => record.kind),
    ['node', 'summary'],
  );
  t.equal(result.records[0]!.port, sshd.node.port);
});
