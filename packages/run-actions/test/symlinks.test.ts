// Writes that never follow symlinks (issue 12 items 1-3) on a real systemd node: an unprivileged user of the
// node (mallory) plants links where root's actions will write, and a racing reader watches for a file that is
// world-readable before its mode is set. Each case is run-actions applying a spec, as in production.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeRecord } from '@forklift/contract';
import { localNodes, ndjson, onNode, parseRecords, runActionsBin, runBin } from './nodes-lib.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy@ci';
const VICTIM_FILE = '/etc/fl-victim-file';
const VICTIM_DIR = '/etc/fl-victim-dir';

let node: NodeRecord;
let env: NodeJS.ProcessEnv;
let project: string;
let serial = 0;

/** Apply one server spec (JSON5 text of its configure phase) to the node; the result records. */
async function apply(actions: string): Promise<{ code: number | null; results: Array<Record<string, any>>; stderr: string }> {
  serial += 1;
  writeFileSync(join(project, 'servers', `case${serial}.json5`), `{ phases: { configure: [${actions}] } }`);
  const run = await runBin(runActionsBin, [`servers/case${serial}`], { stdin: ndjson([node]), env, cwd: project });
  return { code: run.code, results: parseRecords(run.stdout).filter((r) => r.kind === 'result'), stderr: run.stderr };
}

/** The victims: a root file and a root directory that must come out of every case untouched. */
async function victimsUntouched(tt: Test): Promise<void> {
  const state = await onNode(node, `stat -c '%U:%G %a' ${VICTIM_FILE} ${VICTIM_DIR}; cat ${VICTIM_FILE}; ls -A ${VICTIM_DIR}`);
  tt.equal(state.stdout, 'root:root 600\nroot:root 755\nroot only\n', 'the root file and directory are untouched');
}

const mallory = (command: string) => onNode(node, command, { as: 'mallory' });

t.before(async () => {
  const nodes = await localNodes(t, 'symlinks');
  node = nodes.nodes[0]!;
  env = nodes.env;
  project = mkdtempSync(join(tmpdir(), 'fl-symlinks-project-'));
  mkdirSync(join(project, 'servers'));
  mkdirSync(join(project, 'files'));
  const src = join(project, 'app-src');
  mkdirSync(join(src, 'bin'), { recursive: true });
  writeFileSync(join(src, 'bin', 'hello'), '#!/bin/sh\necho hello\n');
  // only the file member, no directory member for bin/: tar then resolves bin/ through whatever is on the node
  execFileSync('tar', ['-czf', join(project, 'files', 'app.tar.gz'), '-C', src, '--owner=0', '--group=0', './bin/hello']);
  await onNode(
    node,
    `useradd -m -s /bin/sh mallory && printf 'root only\\n' >${VICTIM_FILE} && chmod 600 ${VICTIM_FILE} && mkdir -m 755 ${VICTIM_DIR} && mkdir -m 755 /srv/race`,
  );
});
t.teardown(() => rmSync(project, { recursive: true, force: true }));

t.test('user.authorizedKeys - ~/.ssh planted as a link to a root directory: refused, nothing followed', async (t) => {
  await mallory(`rm -rf ~/.ssh && ln -s ${VICTIM_DIR} ~/.ssh`);
  const run = await apply(`{ action: 'user', id: 'keys', name: 'mallory', authorizedKeys: ['${KEY}'] }`);
  t.equal(run.code, 1);
  t.match(run.results[0], { id: 'keys', action: 'user', status: 'failed', stderr: /\/home\/mallory\/\.ssh is a symbolic link: refusing to follow it/ });
  await victimsUntouched(t);
  await mallory('rm -f ~/.ssh');
});

t.test('user.authorizedKeys - authorized_keys planted as a link to a root file: refused', async (t) => {
  await mallory(`mkdir -p ~/.ssh && ln -sf ${VICTIM_FILE} ~/.ssh/authorized_keys`);
  const run = await apply(`{ action: 'user', id: 'keys', name: 'mallory', authorizedKeys: ['${KEY}'] }`);
  t.match(run.results[0], { status: 'failed', stderr: /authorized_keys is a symbolic link: refusing to follow it/ });
  await victimsUntouched(t);
  await mallory('rm -rf ~/.ssh');
  const clean = await apply(`{ action: 'user', id: 'keys', name: 'mallory', authorizedKeys: ['${KEY}'] }`);
  t.match(clean.results[0], { status: 'changed' }, 'without the links the key goes in');
  const keys = await onNode(node, "stat -c '%U %a' /home/mallory/.ssh /home/mallory/.ssh/authorized_keys; cat /home/mallory/.ssh/authorized_keys");
  t.equal(keys.stdout, `mallory 700\nmallory 600\n${KEY}\n`);
});

t.test('file - a link planted at the managed path: refused naming it; replaceSymlink replaces the link itself', async (t) => {
  await mallory(`ln -sf ${VICTIM_FILE} ~/app.conf`);
  const spec = (extra: string) =>
    `{ action: 'file', id: 'conf', path: '/home/mallory/app.conf', content: 'owned by the spec\\n', owner: 'mallory', mode: '0644'${extra} }`;
  const refused = await apply(spec(''));
  t.match(refused.results[0], { status: 'failed', stderr: /\/home\/mallory\/app.conf is a symbolic link: refusing to write through it/ });
  await victimsUntouched(t);
  const replaced = await apply(spec(', replaceSymlink: true'));
  t.match(replaced.results[0], { status: 'changed' });
  const state = await onNode(node, "stat -c '%F %U %a' /home/mallory/app.conf; cat /home/mallory/app.conf");
  t.equal(state.stdout, 'regular file mallory 644\nowned by the spec\n', 'the link became the file');
  await victimsUntouched(t);
});

t.test('file - a link planted above the managed path, and a root-owned file in a user directory, are refused', async (t) => {
  await mallory(`ln -s ${VICTIM_DIR} ~/conf.d`);
  const above = await apply(`{ action: 'file', id: 'deep', path: '/home/mallory/conf.d/x', content: 'x', owner: 'mallory' }`);
  t.match(above.results[0], { status: 'failed', stderr: /\/home\/mallory\/conf.d is a symbolic link owned by uid \d+: refusing to follow it/ });
  const rootOwned = await apply(`{ action: 'file', id: 'rooty', path: '/home/mallory/root.conf', content: 'x' }`);
  t.match(rootOwned.results[0], { status: 'failed', stderr: /refusing to act as root in \/home\/mallory, which users other than root can change/ });
  await victimsUntouched(t);
});

t.test('file - owner and mode never follow a link (meta only)', async (t) => {
  await mallory(`ln -sf ${VICTIM_FILE} ~/app.log`);
  const run = await apply(`{ action: 'file', id: 'log', path: '/home/mallory/app.log', owner: 'mallory', mode: '0666' }`);
  t.match(run.results[0], { status: 'failed', stderr: /app.log is a symbolic link/ });
  await victimsUntouched(t);
});

t.test('directory - owner and mode of a planted link are not applied to its target', async (t) => {
  await mallory(`ln -s ${VICTIM_DIR} ~/data`);
  const run = await apply(`{ action: 'directory', id: 'data', path: '/home/mallory/data', owner: 'mallory', mode: '0700' }`);
  t.match(run.results[0], { status: 'failed', stderr: /\/home\/mallory\/data is a symbolic link, not a directory: refusing to follow it/ });
  await victimsUntouched(t);
});

t.test('line-in-file - a link planted at the managed path: refused', async (t) => {
  await mallory(`ln -sf ${VICTIM_FILE} ~/.profile`);
  const run = await apply(`{ action: 'line-in-file', id: 'line', path: '/home/mallory/.profile', line: 'export EDITOR=vi' }`);
  t.match(run.results[0], { status: 'failed', stderr: /\.profile is a symbolic link: refusing to write through it/ });
  await victimsUntouched(t);
});

t.test('archive - a link planted inside a user-owned target is not followed by root', async (t) => {
  await mallory(`mkdir -p ~/app && ln -s ${VICTIM_DIR} ~/app/bin`);
  const run = await apply(`{ action: 'archive', id: 'app', path: '/home/mallory/app', local: 'files/app.tar.gz', owner: 'mallory' }`);
  await victimsUntouched(t);
  t.equal((await onNode(node, `ls -A ${VICTIM_DIR}`)).stdout, '', 'nothing was unpacked into the root directory');
  t.match(run.results[0], { status: 'failed' }, 'unpacked as mallory, the write through her link is refused by the kernel');
  await mallory(`ln -s ${VICTIM_DIR} ~/app2`);
  const target = await apply(`{ action: 'archive', id: 'app2', path: '/home/mallory/app2', local: 'files/app.tar.gz' }`);
  t.match(target.results[0], { status: 'failed', stderr: /app2 is a symbolic link: refusing to unpack through it/ });
  await victimsUntouched(t);
});

t.test('file - a racing reader never sees a new 0600 file before its mode is set', async (t) => {
  const reader = await onNode(
    node,
    `nohup runuser -u mallory -- sh -c 'while :; do cat /srv/race/f* 2>/dev/null; done' >/tmp/race-reader.log 2>/dev/null & echo $!`,
  );
  t.teardown(() => onNode(node, `kill ${reader.stdout.trim()}`, { allowFail: true }).catch(() => undefined));
  for (let round = 1; round <= 3; round += 1) {
    const files = Array.from(
      { length: 30 },
      (_, index) =>
        `{ action: 'file', id: 'f${index}', path: '/srv/race/f${index}', content: ${JSON.stringify(`RACESECRET-${round}-${index}\n`.repeat(2000))}, mode: '0600' }`,
    );
    const run = await apply(files.join(', '));
    t.equal(run.code, 0, run.stderr.slice(-500));
  }
  await onNode(node, `kill ${reader.stdout.trim()}`);
  const seen = await onNode(node, 'grep -c RACESECRET /tmp/race-reader.log || true');
  t.equal(seen.stdout.trim(), '0', 'the reader never read a secret');
  const modes = await onNode(node, "stat -c '%a %U' /srv/race/f* | sort -u");
  t.equal(modes.stdout, '600 root\n');
});
