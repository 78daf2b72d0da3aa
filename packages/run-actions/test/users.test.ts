import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, rmSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBinary, startSshd, toNdjson } from '@forklift/testkit';
import { ofKind, testPlan } from './helpers.js';

function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'run-actions-users-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('run-actions - a non-root user with passwordless sudo runs the script as root', async (t) => {
  const dir = scratch(t);
  const sshd = await startSshd({ id: 'deploy', user: 'nonroot', sudo: 'nopasswd' });
  t.teardown(sshd.stop);
  const plan = testPlan(sshd.node, 'configure', [{ id: 'whoami', body: `id -u; if [ ! -e ${dir}/made ]; then touch ${dir}/made; changed; fi` }]);
  const run = await runBinary('run-actions', [], { stdin: toNdjson([sshd.node, plan]) });
  t.equal(run.exitCode, 0, run.stderr);
  t.match(ofKind(run.records, 'result')[0], { id: 'whoami', status: 'changed', stdout: '0\n' });
  t.equal(statSync(join(dir, 'made')).uid, 0, 'the file was created by root');
});

t.test('run-actions - a non-root user whose sudo wants a password fails fast with what to configure', async (t) => {
  const dir = scratch(t);
  const sshd = await startSshd({ id: 'nopass', user: 'nonroot', sudo: 'password' });
  t.teardown(sshd.stop);
  const plan = testPlan(sshd.node, 'configure', [{ id: 'x', body: `touch ${dir}/ran` }]);
  const started = Date.now();
  const run = await runBinary('run-actions', [], { stdin: toNdjson([sshd.node, plan]), timeoutMs: 60_000 });
  t.ok(Date.now() - started < 30_000, 'no hang on a password prompt');
  t.equal(run.exitCode, 1);
  const user = sshd.node.user;
  t.match(ofKind(run.records, 'error')[0], {
    code: 'sudo-password',
    node: 'nopass',
    message: new RegExp(
      `user ${user} cannot run commands as root without a password \\(sudo: a password is required\\); allow it with a line "${user} ALL=\\(ALL\\) NOPASSWD: ALL" in /etc/sudoers.d/`,
    ),
  });
  t.equal(ofKind(run.records, 'result').length, 0);
  t.notOk(existsSync(join(dir, 'ran')));
});

t.test('run-actions - a non-root user without any sudo rule fails with what to configure', async (t) => {
  const dir = scratch(t);
  chmodSync(dir, 0o777);
  const sshd = await startSshd({ id: 'nosudo', user: 'nonroot', sudo: 'none' });
  t.teardown(sshd.stop);
  const plan = testPlan(sshd.node, 'configure', [{ id: 'x', body: `touch ${dir}/ran` }]);
  const run = await runBinary('run-actions', [], { stdin: toNdjson([sshd.node, plan]), timeoutMs: 60_000 });
  t.equal(run.exitCode, 1);
  t.match(ofKind(run.records, 'error')[0], { code: 'sudo-password', message: /cannot run commands as root without a password.*NOPASSWD: ALL/ });
  t.notOk(existsSync(join(dir, 'ran')), 'nothing ran, not even as the login user');
});
