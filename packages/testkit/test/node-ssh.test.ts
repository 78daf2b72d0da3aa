import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, sshOnNode, startSshd } from '../src/index.js';

// sshOnNode against a real OpenSSH server: it runs the command with the node record's key, and it trusts
// only the host key pinned in the record — a record with another host key is refused.
t.test('sshOnNode - runs a command on the node the record names, host key pinned', async (t) => {
  const sshd = await startSshd();
  t.teardown(sshd.stop);
  const dir = mkdtempSync(join(tmpdir(), 'testkit-node-ssh-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const node = { ...sshd.node, id: 'n1' };

  t.equal(await sshOnNode(node, 'echo "$((6 * 7))" "$(id -u)"', { knownHostsDir: dir }), '42 0\n', 'the command ran as the record user');
  await t.rejects(sshOnNode(node, 'exit 3', { knownHostsDir: dir }), { code: 3 }, "the command's exit status rejects");

  const otherHostKey = await generateKey(join(dir, 'other_host_key'), 'not-the-server');
  await t.rejects(
    sshOnNode({ ...node, id: 'n2', hostKey: otherHostKey }, `touch ${dir}/must-not-run`, { knownHostsDir: dir }),
    /Host key verification failed/,
    'another host key in the record: refused',
  );
  t.notOk(existsSync(join(dir, 'must-not-run')), 'and the command never ran');
});
