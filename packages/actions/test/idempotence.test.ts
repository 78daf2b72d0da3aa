// Idempotence on a real Debian 12 node: every action (user, group, package, package-source, cron, service, file,
// directory, symlink, line-in-file, exec, archive) applied twice reports `changed` then only `ok`, a plan run after
// that reports zero changes, and a restartOn restart survives a run that died between the change and the restart.
//
// The node is provision-node's own: a `local`-style nspawn service (real systemd, an overlay of the cached rootfs
// with the packages the actions use baked in) on the home's bridge, reaching Debian's mirror only through the
// home's apt proxy, exactly as users' nodes do. Scripts run inside through nsenter with the marker protocol
// (`fl_nonce=NONCE` before the script on `sh -s`'s stdin), read back with run-actions' own marker parser.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRootfs, provisionNodes } from '@forklift/provision-node';
import { decodeMarkers } from '@forklift/run-actions';
import { factsFromOs, listActions, renderPhaseScript, scriptPreamble, validateArgs, type ActionInstance } from '../src/index.js';

const NODE_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The image cache provision-node's tests share (the rootfs is built once per machine). */
const IMAGE_CACHE = process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images';
/** Packages the actions under test use, baked into the node's rootfs (beside provision-node's base set). */
const INCLUDE = ['cron', 'passwd', 'gnupg', 'unzip', 'xz-utils'];

function need(tool: string, debianPackage: string): void {
  const probe = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error(`${tool} is not installed: apt-get install ${debianPackage} (required by the idempotence test)`);
}

/** A booted nspawn node: run scripts in it, tear it down. */
interface Node {
  /** Run a phase script with a fresh nonce under `shell` (default sh, i.e. dash); statuses by action id and the raw output. */
  run(script: string, shell?: 'sh' | 'bash'): { statuses: Map<string, string>; stdout: string; stderr: string; exitCode: number };
  /** Run a shell command in the node; its stdout (throws on failure). */
  sh(command: string, input?: string): string;
  /** How many processes running this phase script starts in the node (its own `sh` included). */
  processes(script: string): number;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** What bootNode needs of a tap test: somewhere to register cleanup. */
interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Provision one node with provision-node (its own home, the shared image cache), and enter it with nsenter. */
async function bootNode(tt: Teardown): Promise<Node> {
  const project = mkdtempSync(join(tmpdir(), 'forklift-actions-node-'));
  const home = join(project, 'home');
  const env = { ...process.env, FORKLIFT_HOME: home, FORKLIFT_IMAGE_CACHE: IMAGE_CACHE };
  mkdirSync(join(project, 'services'));
  writeFileSync(join(project, 'services', 'idem.json5'), JSON.stringify({ provider: 'nspawn', options: { include: INCLUDE } }));
  const common = { service: 'idem', group: 'idem', home, cwd: project, env, log: (line: string) => t.comment(line) };
  tt.teardown(async () => {
    await provisionNodes({ ...common, count: 0 });
    rmSync(project, { recursive: true, force: true });
  });
  const [record] = await provisionNodes({ ...common, count: 1 });
  const nspawnPid = Number(readFileSync(join(home, 'state', 'idem', 'nodes', record!.id, 'pid'), 'utf8'));
  const leader = childrenOf(nspawnPid)[0];
  if (!leader) throw new Error(`node ${record!.id}: no init process under systemd-nspawn ${nspawnPid}`);
  const enter = (args: string[], input?: string, prefix: string[] = []) =>
    spawnSync(
      prefix[0] ?? 'nsenter',
      [
        ...prefix.slice(1),
        ...(prefix.length ? ['nsenter'] : []),
        '-t',
        String(leader),
        '-m',
        '-u',
        '-i',
        '-n',
        '-p',
        '-r',
        '-w',
        'env',
        '-i',
        NODE_PATH,
        'HOME=/root',
        ...args,
      ],
      {
        input,
        encoding: 'utf8',
        maxBuffer: 64 << 20,
        timeout: 10 * 60_000,
      },
    );
  t.match(
    enter(['cat', '/etc/apt/apt.conf.d/01forklift-proxy']).stdout,
    /^Acquire::http::Proxy "http:\/\/[\d.]+:3142";$/m,
    "apt on the node goes through the home's apt proxy",
  );
  return {
    run(script, shell = 'sh') {
      const nonce = randomBytes(12).toString('hex');
      const result = enter([shell, '-s'], scriptPreamble({ nonce, up: '/run/fl-test-up' }) + script);
      if (result.error) throw result.error;
      // run-actions' own marker parser, as the runner reads them
      const statuses = new Map(decodeMarkers(nonce, result.stdout, result.stderr, [], result.status).map((outcome) => [outcome.id, outcome.status]));
      // block output arrives framed (each line prefixed with |): unframe it for the text checks below
      return { statuses, stdout: result.stdout.replace(/^\|/gm, ''), stderr: result.stderr, exitCode: result.status ?? -1 };
    },
    processes(script) {
      // processes the script starts: every fork/clone that returned a child, traced from the host with strace -f
      const nonce = randomBytes(12).toString('hex');
      const trace = join(project, `trace-${nonce}`);
      const result = enter(['sh', '-s'], scriptPreamble({ nonce, up: '/run/fl-test-up' }) + script, [
        'strace',
        '-f',
        '-qq',
        '-o',
        trace,
        '-e',
        'trace=clone,clone3,fork,vfork',
      ]);
      if (result.status !== 0) throw new Error(`counting failed: ${result.stderr}`);
      // (threads are not processes: CLONE_THREAD is left out; strace pads short calls like `vfork()   = N`)
      const forks = readFileSync(trace, 'utf8')
        .split('\n')
        .filter((line) => /\b(clone3?|v?fork)\(.*\)\s*= [1-9][0-9]*$/.test(line) && !line.includes('CLONE_THREAD')).length;
      rmSync(trace, { force: true });
      return forks;
    },
    sh(command, input) {
      const result = enter(['sh', '-c', command], input);
      if (result.status !== 0) throw new Error(`node command failed (${result.status}): ${command}\n${result.stderr}`);
      return result.stdout;
    },
  };
}

const facts = factsFromOs({ family: 'debian', release: '12' });

function render(actions: Array<{ id: string; action: string; args: unknown }>, files: ReadonlyMap<string, Uint8Array>, plan = false) {
  const instances: ActionInstance[] = actions.map(({ id, action, args }) => ({ id, action, args: validateArgs(action, args, id) }));
  // uploads: secrets/<name> stands for a file the test puts into the node's /run/fl-test-up/u1... (run() says where)
  const resolveUpload = (path: string) => ({ source: `/controller/${path}`, bytes: UPLOADS[path]!.length });
  return renderPhaseScript(instances, { phase: 'configure', facts, plan, files, resolveUpload });
}

const CREDENTIAL_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFh0c3RjcmVkZW50aWFsa2V5Zm9yZm9ya2xpZnR0ZXN0 credential@host';
const DEPLOY_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl deploy@ci';
// A sha512-crypt hash of "forklift" (only a test value).
const HASH = '$6$forklift$ZS6kmEg2mTGfldnhKlX1qAX1zaEJMAwv6WJ5DxqfT1xnCLXEKn/jW/CEYN/bRl5ZwqMtGGSnjNZ9EvVdlfdER/';
/** Controller files of the test's sensitive uploads, placed in the node's /run/fl-test-up as u1, u2 ... in this order. */
const UPLOADS: Record<string, string> = { 'secrets/deploy.hash': `${HASH}\n` };

function archiveBytes(scratch: string): Uint8Array {
  const source = join(scratch, 'app');
  mkdirSync(join(source, 'bin'), { recursive: true });
  writeFileSync(join(source, 'bin', 'hello'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
  const archive = join(scratch, 'app.tar.gz');
  execFileSync('tar', ['-czf', archive, '-C', source, '--owner=0', '--group=0', '--mtime=2020-01-01', '.']);
  return readFileSync(archive);
}

t.test('idempotence on a real Debian 12 node', async (t) => {
  for (const [tool, pkg] of [
    ['nsenter', 'util-linux'],
    ['tar', 'tar'],
    ['strace', 'strace'],
  ] as const)
    need(tool, pkg);
  if (process.getuid?.() !== 0) throw new Error('the idempotence test needs root (provision-node local nodes, nsenter)');
  const scratch = mkdtempSync(join(tmpdir(), 'forklift-actions-idem-'));
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
  const node = await bootNode(t);

  // What the absent/remove actions remove must exist first, or their first run could not report `changed`;
  // root's authorized_keys is written as nspawn's credential writes it: without a final newline.
  node.sh(
    'useradd ghost && groupadd oldgroup && mkdir -p /root/.ssh && chmod 700 /root/.ssh && ' +
      `printf %s '${CREDENTIAL_KEY}' >/root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys && ` +
      "printf '# forklift:stale\\n* * * * * root true\\n' >/etc/cron.d/forklift-stale && mkdir -p /srv/old && touch /srv/old/junk && printf 'old\\n' >/etc/forklift-old",
  );

  // the sensitive uploads, where run-actions would put them for the run
  node.sh('mkdir -p -m 0700 /run/fl-test-up && cat >/run/fl-test-up/u1', UPLOADS['secrets/deploy.hash']);

  // A real repository key, ASCII-armored (the Debian archive keys the node already trusts), for signed-by.
  const archiveKey = node.sh('gpg --batch --quiet --no-default-keyring --keyring /usr/share/keyrings/debian-archive-keyring.gpg --export --armor 2>/dev/null');
  t.match(archiveKey, /^-----BEGIN PGP PUBLIC KEY BLOCK-----/, 'the archive key exported armored');
  const files = new Map<string, Uint8Array>([['app.tar.gz', archiveBytes(scratch)]]);
  const actions = [
    { id: 'group-web', action: 'group', args: { name: 'web', gid: 2001 } },
    { id: 'group-old', action: 'group', args: { name: 'oldgroup', ensure: 'absent' } },
    {
      id: 'user-deploy',
      action: 'user',
      args: {
        name: 'deploy',
        uid: 2001,
        shell: '/bin/bash',
        groups: ['web', 'adm'],
        comment: "Deploy 'the' $(app) `touch /tmp/pwned`; *",
        passwordFrom: 'secrets/deploy.hash',
        authorizedKeys: [DEPLOY_KEY],
      },
    },
    { id: 'user-ops', action: 'user', args: { name: 'ops', system: true, shell: '/usr/sbin/nologin', locked: true } },
    { id: 'user-root-keys', action: 'user', args: { name: 'root', authorizedKeys: [DEPLOY_KEY] } },
    { id: 'user-ghost', action: 'user', args: { name: 'ghost', ensure: 'absent' } },
    {
      id: 'backports',
      action: 'package-source',
      args: { name: 'forklift-backports', url: 'http://deb.debian.org/debian', suites: ['bookworm-backports'], components: ['main'], key: archiveKey },
    },
    { id: 'pkg-tools', action: 'package', args: { name: ['hello', 'tree'] } },
    { id: 'pkg-latest', action: 'package', args: { name: 'less', ensure: 'latest' } },
    { id: 'pkg-gone', action: 'package', args: { name: 'gnupg', ensure: 'absent' } },
    { id: 'cron-d', action: 'cron', args: { name: 'tick', schedule: '*/5 * * * *', command: "echo 'tick' $(date) >>/tmp/tick.log", file: 'forklift-test' } },
    { id: 'cron-stale', action: 'cron', args: { name: 'stale', ensure: 'absent', file: 'forklift-stale' } },
    { id: 'cron-user', action: 'cron', args: { name: 'report', schedule: '@daily', command: '/bin/echo report', user: 'deploy', target: 'crontab' } },
    { id: 'conf-dir', action: 'directory', args: { path: '/etc/forklift-test', mode: '0750', owner: 'root', group: 'web' } },
    { id: 'conf-file', action: 'file', args: { path: '/etc/forklift-test/app.conf', content: 'port = 8080\n', mode: '0640', group: 'web' } },
    // the bench's workload (bench/run-actions.mjs): touch a file (empty content, mode) and copy a small file (mode)
    { id: 'touch-file', action: 'file', args: { path: '/etc/forklift-test/touched', content: '', mode: '0644' } },
    { id: 'copy-file', action: 'file', args: { path: '/etc/forklift-test/copied', content: 'forklift bench payload\n'.repeat(64), mode: '0644' } },
    { id: 'old-file', action: 'file', args: { path: '/etc/forklift-old', ensure: 'absent' } },
    { id: 'old-dir', action: 'directory', args: { path: '/srv/old', ensure: 'absent' } },
    { id: 'conf-link', action: 'symlink', args: { path: '/etc/forklift-test/current.conf', target: 'app.conf' } },
    { id: 'line', action: 'line-in-file', args: { path: '/etc/forklift-test/extra.conf', line: 'workers = 4', match: '^workers', create: true } },
    { id: 'exec-once', action: 'exec', args: { script: 'date >/etc/forklift-test/stamp', creates: '/etc/forklift-test/stamp' } },
    { id: 'unpack', action: 'archive', args: { path: '/opt/forklift-app', local: 'app.tar.gz' } },
    { id: 'cron-service', action: 'service', args: { name: 'cron', state: 'started', enabled: true, restartOn: ['cron-d', 'pkg-tools'] } },
  ];

  t.same(
    [...new Set(actions.map((action) => action.action))].sort(),
    listActions().map((action) => action.name),
    'every registered action is part of this test',
  );
  const cronPid = () => node.sh('systemctl show -p MainPID --value cron').trim();
  const pidBefore = cronPid();
  const apply = render(actions, files);

  const first = node.run(apply.script);
  t.equal(first.exitCode, 0, `first apply run exits 0${first.exitCode === 0 ? '' : `: ${first.stderr.slice(-3000)}`}`);
  for (const { id } of actions) t.equal(first.statuses.get(id), 'changed', `first run: ${id} changed`);
  t.not(cronPid(), pidBefore, 'cron was restarted because its watched cron.d entry changed');
  t.notOk(node.sh('ls /var/lib/forklift/pending 2>/dev/null || true').trim(), 'no pending restart is left after the restart');

  const pidAfterFirst = cronPid();
  const second = node.run(apply.script, 'bash');
  t.equal(second.exitCode, 0, `second apply run (bash) exits 0${second.exitCode === 0 ? '' : `: ${second.stderr.slice(-3000)}`}`);
  for (const { id } of actions) t.equal(second.statuses.get(id), 'ok', `second run (bash): ${id} ok`);
  t.equal(cronPid(), pidAfterFirst, 'cron is not restarted when nothing it watches changed');

  const plan = node.run(render(actions, files, true).script);
  t.equal(plan.exitCode, 0, 'plan run exits 0');
  t.same(
    [...plan.statuses.values()].filter((status) => status !== 'ok'),
    [],
    'plan run after convergence reports zero changes',
  );
  t.equal(plan.statuses.size, actions.length, 'plan run reports every action');

  // Processes an unchanged check starts, per action (issue 14's budget): the script's own ones (sh, its temp
  // directory) are measured with an empty script and taken off; the least of three runs (the node's own services
  // may start something meanwhile).
  const least = (script: string): number => Math.min(node.processes(script), node.processes(script), node.processes(script));
  const baseline = least(render([], files).script);
  const counts: Array<[string, number]> = actions.map(({ id, action, args }) => [
    `${action} (${id})`,
    least(render([{ id, action, args }], files).script) - baseline,
  ]);
  t.comment(`processes an unchanged check starts (script baseline ${baseline}):\n${counts.map(([what, n]) => `  ${what}: ${n}`).join('\n')}`);
  // package `latest` refreshes the index (apt-get update: its own fetch processes) on every apply run, by design
  for (const [what, n] of counts) if (!what.includes('(pkg-latest)')) t.ok(n <= 6, `${what}: ${n} processes when nothing changes (at most 6)`);

  // What the actions did, seen from the node.
  t.equal(
    node.sh('cat /root/.ssh/authorized_keys'),
    `${CREDENTIAL_KEY}\n${DEPLOY_KEY}\n`,
    'a key appended to a file without a final newline lands on its own line',
  );
  t.match(
    node.sh('getent passwd deploy'),
    /^deploy:x:2001:\d+:Deploy 'the' \$\(app\) `touch \/tmp\/pwned`; \*:\/home\/deploy:\/bin\/bash\n$/,
    'deploy has uid, comment, home and shell',
  );
  t.equal(node.sh('id -Gn deploy').trim().split(' ').slice(1).sort().join(' '), 'adm web', 'deploy is in adm and web');
  t.equal(node.sh('getent shadow deploy | cut -d: -f2').trim(), HASH, 'deploy has the password hash');
  t.equal(node.sh('ls /tmp/pwned 2>/dev/null || echo absent').trim(), 'absent', 'the command in the comment never ran');
  t.match(node.sh('getent shadow ops | cut -d: -f2'), /^!/, 'ops is locked');
  t.equal(node.sh('crontab -u deploy -l'), '# forklift:report\n@daily /bin/echo report\n', 'deploy crontab holds the named entry');
  t.equal(node.sh('cat /etc/cron.d/forklift-test'), "# forklift:tick\n*/5 * * * * root echo 'tick' $(date) >>/tmp/tick.log\n", 'cron.d entry written verbatim');
  t.equal(node.sh('ls /etc/cron.d/forklift-stale 2>/dev/null || echo gone').trim(), 'gone', 'the emptied cron.d file is removed');
  t.equal(
    node.sh("dpkg-query -W -f='${db:Status-Status} ' hello tree; dpkg-query -W -f='${db:Status-Status}' gnupg 2>/dev/null || true"),
    'installed installed not-installed',
    'hello and tree installed, gnupg removed',
  );
  t.match(
    node.sh('cat /etc/apt/sources.list.d/forklift-backports.sources'),
    /^Signed-By: \/etc\/apt\/keyrings\/forklift-backports\.asc$/m,
    'the source is signed-by its keyring file',
  );
  t.match(node.sh('apt-cache policy'), /bookworm-backports\/main/, 'apt verified and uses the new source');
  t.notMatch(first.stdout + first.stderr + second.stdout + second.stderr + plan.stdout, HASH, 'the password hash never appears in the output');

  // A cron entry is replaced in place by name; lines it does not own stay where they are.
  node.sh("sed -i '1i # kept by hand' /etc/cron.d/forklift-test && printf '0 0 * * * root /bin/true\\n' >>/etc/cron.d/forklift-test");
  const tick = actions.find((action) => action.id === 'cron-d')!;
  const moved = node.run(render([{ ...tick, args: { ...(tick.args as object), schedule: '0 * * * *' } }], files).script);
  t.equal(moved.statuses.get('cron-d'), 'changed', 'a new schedule for the entry reports changed');
  t.equal(
    node.sh('cat /etc/cron.d/forklift-test'),
    "# kept by hand\n# forklift:tick\n0 * * * * root echo 'tick' $(date) >>/tmp/tick.log\n0 0 * * * root /bin/true\n",
    'the entry is replaced in place, the other lines are kept',
  );
  t.match(moved.stdout, /^-\*\/5 \* \* \* \* root echo[^\n]*\n\+0 \* \* \* \* root echo/m, 'the change comes with a unified diff');

  // The aggregated package actions ran one apt-get install for the phase, and refreshed the index once.
  // (apt-get update prints one Hit/Get line for the main suite's InRelease per refresh.)
  const refreshes = (run: { stdout: string }) => (run.stdout.match(/^(Hit|Get):\d+ http:\/\/deb\.debian\.org\/debian bookworm InRelease/gm) ?? []).length;
  t.equal(refreshes(first), 1, 'the package index was refreshed exactly once in the first run');
  t.equal((first.stdout.match(/^Unpacking /gm) ?? []).length >= 2 ? 1 : 0, 1, 'packages were unpacked');
  t.equal((first.stdout.match(/^Reading package lists/gm) ?? []).length, 2, 'one apt-get update and one apt-get install, nothing else');
});

t.test('service restartOn - a run that dies between the change and the restart still restarts on the next run', async (t) => {
  if (process.getuid?.() !== 0) throw new Error('the restartOn test needs root (provision-node local nodes, nsenter)');
  const node = await bootNode(t);
  const none = new Map<string, Uint8Array>();
  const watched = { id: 'watched-conf', action: 'file', args: { path: '/etc/forklift-watched.conf', content: 'version 2\n' } };
  // Watched by its label: restartOn takes action ids or labels.
  const service = { id: 'cron-restart', action: 'service', args: { name: 'cron', restartOn: ['file /etc/forklift-watched.conf'] } };
  const boom = { id: 'boom', action: 'exec', args: { script: 'echo dying; exit 3' } };
  const cronPid = () => node.sh('systemctl show -p MainPID --value cron').trim();
  const pidBefore = cronPid();

  const dying = node.run(render([watched, boom, service], none).script);
  t.not(dying.exitCode, 0, 'the run with a failing action in between fails');
  t.equal(dying.statuses.get('watched-conf'), 'changed', 'the watched file changed');
  t.equal(dying.statuses.get('boom'), 'failed', 'the action in between failed');
  t.notOk(dying.statuses.has('cron-restart'), 'the service block never ran');
  t.equal(cronPid(), pidBefore, 'cron was not restarted by the dead run');
  t.equal(node.sh('ls /var/lib/forklift/pending').trim(), 'cron-restart', 'a pending restart flag is on the node');

  const plan = node.run(render([watched, service], none, true).script);
  t.equal(plan.statuses.get('cron-restart'), 'changed', 'a plan run reports the pending restart');
  t.equal(node.sh('ls /var/lib/forklift/pending').trim(), 'cron-restart', 'the plan run leaves the flag alone');

  const next = node.run(render([watched, service], none).script);
  t.equal(next.exitCode, 0, 'the next run succeeds');
  t.equal(next.statuses.get('watched-conf'), 'ok', 'the file is already converged');
  t.equal(next.statuses.get('cron-restart'), 'changed', 'the service restarts for the earlier change');
  t.not(cronPid(), pidBefore, 'cron has a new main process');
  t.equal(node.sh('ls /var/lib/forklift/pending').trim(), '', 'the flag is cleared after the restart');

  const again = node.run(render([watched, service], none).script);
  t.same([...again.statuses.values()], ['ok', 'ok'], 'a third run changes nothing');

  // A failing action is data: its block reports failed with one clear line, and the script stops there.
  const unlock = node.run(render([{ id: 'no-hash', action: 'user', args: { name: 'nohash', locked: false } }, watched], none).script);
  t.equal(unlock.statuses.get('no-hash'), 'failed', 'unlocking an account without a hash fails');
  t.match(unlock.stdout, /forklift: user nohash: cannot unlock an account without a password hash \(give passwordFrom\)/, 'with a clear message');
  t.notOk(unlock.statuses.has('watched-conf'), 'the actions after it do not run');
});

t.test('service action - without systemd the sysvinit fallback starts, stops, enables and disables via the init script', async (t) => {
  if (process.getuid?.() !== 0) throw new Error('the sysvinit test needs root (mount, chroot)');
  // the same cached rootfs the provisioned node is made of (provision-node builds it once per machine)
  const rootfs = await ensureRootfs(IMAGE_CACHE, { include: INCLUDE }, (line) => t.comment(line));
  const dir = mkdtempSync(join(tmpdir(), 'forklift-actions-sysv-'));
  const merged = join(dir, 'merged');
  for (const sub of ['upper', 'work', 'merged']) mkdirSync(join(dir, sub));
  const mounts: string[] = [];
  const pidFile = join(merged, 'run', 'crond.pid');
  t.teardown(() => {
    // The init script started cron inside the chroot: end it by its pid file if a failed assertion left it running.
    if (existsSync(pidFile)) {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (pid > 1) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
    }
    for (const mount of mounts.reverse()) execFileSync('umount', [mount]);
    rmSync(dir, { recursive: true, force: true });
  });
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${rootfs},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, merged]);
  mounts.push(merged);
  execFileSync('mount', ['-t', 'proc', 'proc', join(merged, 'proc')]);
  mounts.push(join(merged, 'proc'));
  const run = (args: object) => {
    const nonce = randomBytes(12).toString('hex');
    const script = render([{ id: 'cron-sysv', action: 'service', args }], new Map()).script;
    const result = spawnSync('chroot', [merged, 'env', '-i', NODE_PATH, 'sh', '-s'], {
      input: scriptPreamble({ nonce }) + script,
      encoding: 'utf8',
      timeout: 60_000,
    });
    return {
      status: decodeMarkers(nonce, result.stdout, result.stderr, [], result.status).find((outcome) => outcome.id === 'cron-sysv')?.status,
      exitCode: result.status,
      stderr: result.stderr,
    };
  };
  const inRoot = (command: string) => spawnSync('chroot', [merged, 'env', '-i', NODE_PATH, 'sh', '-c', command], { encoding: 'utf8' });
  t.notOk(existsSync(join(merged, 'run', 'systemd', 'system')), 'no systemd runs in the chroot');
  t.not(inRoot('/etc/init.d/cron status').status, 0, 'cron is not running yet');

  const start = run({ name: 'cron', state: 'started', enabled: false });
  t.same([start.status, start.exitCode], ['changed', 0], `started + disabled: changed${start.exitCode === 0 ? '' : `: ${start.stderr}`}`);
  t.equal(inRoot('/etc/init.d/cron status').status, 0, 'the init script reports cron running');
  t.equal(inRoot('ls /etc/rc2.d').stdout.match(/^[SK]\d\dcron$/m)?.[0]?.[0], 'K', 'the rc2.d link is a K link (disabled)');
  t.same(run({ name: 'cron', state: 'started', enabled: false }).status, 'ok', 'second run: ok');

  const stop = run({ name: 'cron', state: 'stopped', enabled: true });
  t.same([stop.status, stop.exitCode], ['changed', 0], `stopped + enabled: changed${stop.exitCode === 0 ? '' : `: ${stop.stderr}`}`);
  t.not(inRoot('/etc/init.d/cron status').status, 0, 'cron is stopped');
  t.equal(inRoot('ls /etc/rc2.d').stdout.match(/^[SK]\d\dcron$/m)?.[0]?.[0], 'S', 'the rc2.d link is an S link (enabled)');
  t.same(run({ name: 'cron', state: 'stopped', enabled: true }).status, 'ok', 'second run: ok');
});
