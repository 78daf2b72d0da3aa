// app-server and nginx on real nspawn nodes (one shared set for every case of this file): two app nodes
// running a fixture app with the controller's own Node.js, one nginx node in front; converge, converge
// again -> 0 changed, --plan -> 0 changes, HTTP through nginx reaches both app servers, the app runs as
// its own user in the common group, systemd restarts it, a new version switches `current`, old releases go.
import t from 'tap';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NodeRecord } from '@forklift/contract';
import { sshTransport } from '@forklift/run-actions';
import { CRATES_TEST_HOME, testEnv } from './helpers/nodes.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const project = fileURLToPath(new URL('./fixtures/web-tier/', import.meta.url));
const provisionBin = join(repo, 'packages/provision-node/bin/provision-node.js');
const runActionsBin = join(repo, 'packages/run-actions/bin/run-actions.js');
// the home every crate test shares (helpers/nodes.ts): one apt cache for all of them, kept between runs
const env = testEnv;
const token = randomBytes(24).toString('hex');

t.setTimeout(25 * 60 * 1000); // a fresh machine builds the rootfs first

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}
function sh(command: string, extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-o', 'pipefail', '-c', command], { cwd: repo, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
const records = (stdout: string): Array<Record<string, any>> =>
  stdout.trim() === ''
    ? []
    : stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, any>);
const results = (run: Run) => records(run.stdout).filter((r) => r.kind === 'result');
const changed = (run: Run) =>
  results(run)
    .filter((r) => r.status === 'changed')
    .map((r) => `${r.node} ${r.action} ${r.label}`);

async function onNode(node: NodeRecord, command: string): Promise<Run> {
  const transport = await sshTransport(node);
  let stdout = '';
  let stderr = '';
  try {
    const { exitCode } = await transport.exec(command, { onStdout: (b) => (stdout += b), onStderr: (b) => (stderr += b) });
    return { code: exitCode, stdout, stderr };
  } finally {
    await transport.close();
  }
}

/** The fixture app with its version baked in, as build/hello-VERSION.mjs; the runtime as build/node. */
async function build(version: string): Promise<void> {
  const dir = join(project, 'build');
  await mkdir(dir, { recursive: true });
  const source = await readFile(join(project, 'app', 'hello.mjs'), 'utf8');
  await writeFile(join(dir, `hello-${version}.mjs`), source.replace('__VERSION__', version));
  const runtime = join(dir, 'node');
  const [ours, theirs] = await Promise.all([stat(process.execPath), stat(runtime).catch(() => undefined)]);
  if (!theirs || theirs.size !== ours.size || theirs.mtimeMs < ours.mtimeMs) await copyFile(process.execPath, runtime);
  await writeFile(join(dir, 'token'), token, { mode: 0o600 });
}

// only this file's groups: other crate test files share the home (and run at the same time), and nginx
// takes every app node of its color among the records it is given as an upstream
const listOurs = `{ node ${provisionBin} local --list --group crates-app && node ${provisionBin} local --list --group crates-web; }`;
const converge = (group: 'app' | 'web', flags = '', version = '1.0.0') =>
  sh(`${listOurs} | node ${runActionsBin} ${join(project, 'groups', group)} ${flags}`, { HELLO_VERSION: version });

t.teardown(async () => {
  for (const group of ['crates-web', 'crates-app']) await sh(`node ${provisionBin} local 0 --group ${group} >/dev/null`).catch(() => undefined);
});

await mkdir(CRATES_TEST_HOME, { recursive: true });
await build('1.0.0');
const up = await sh(
  `node ${provisionBin} local 2 --spec ${join(project, 'groups/app')} >/dev/null && node ${provisionBin} local 1 --spec ${join(project, 'groups/web.json5')} >/dev/null && ${listOurs}`,
);
if (up.code !== 0) throw new Error(`provisioning failed: ${up.stderr.slice(-2000)}`);
const nodes = records(up.stdout).filter((r) => r.kind === 'node') as unknown as NodeRecord[];
const apps = nodes.filter((n) => n.group === 'crates-app');
const web = nodes.find((n) => n.group === 'crates-web')!;

const fetchWeb = (path: string, init?: RequestInit) => fetch(`http://${web.address}${path}`, init);

t.test('first converge - app servers then nginx, everything changes, nothing secret in the records', async (t) => {
  t.same(
    apps.map((n) => [n.roles, n.color]),
    [
      [['app'], 'blue'],
      [['app'], 'blue'],
    ],
    'node records carry roles and color from the group spec',
  );
  const app = await converge('app');
  t.equal(app.code, 0, app.stderr.slice(-3000));
  t.ok(changed(app).length > 10, 'app actions changed');
  t.notMatch(app.stdout + app.stderr, token, 'the secret is in no record and no log');
  const webRun = await converge('web');
  t.equal(webRun.code, 0, webRun.stderr.slice(-3000));
  t.match(records(webRun.stdout).at(-1), { kind: 'summary', ok: true });
  // systemd does not notice a new drop-in by itself: the first converge must have reloaded it, so every
  // `systemctl reload nginx` from now on runs nginx -t first
  const dropIns = await onNode(web, 'systemctl show -p DropInPaths --value nginx.service');
  t.match(dropIns.stdout, /\/etc\/systemd\/system\/nginx\.service\.d\/forklift-reload\.conf/, 'the reload drop-in is loaded after the first converge');
});

t.test('through nginx - both app servers answer, keep-alive upstreams, gzip, /labels/ from the directory', async (t) => {
  const seen = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const res = await fetchWeb('/hello');
    t.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    seen.add(String(body.node));
    t.match(body, { version: '1.0.0', uid: 2101, gid: 2100, secretBytes: token.length });
  }
  t.same([...seen].sort(), apps.map((n) => n.id).sort(), 'requests reach both app servers');
  const gz = await fetch(`http://${web.address}/hello`, { headers: { 'accept-encoding': 'gzip' } });
  t.equal(gz.headers.get('content-encoding'), 'gzip');
  t.equal(await fetchWeb('/labels/one.txt').then((r) => r.text()), 'a label\n');
  t.equal((await fetchWeb('/labels/none.txt')).status, 404);
  // the upstream connections stay open between requests (keepalive): established connections from nginx to :3000
  const conns = await onNode(web, "ss -tnH state established '( dport = :3000 )' | wc -l");
  t.ok(Number(conns.stdout.trim()) >= 1, `keep-alive connections to the app servers: ${conns.stdout.trim()}`);
});

t.test('app servers - own user in the common group, code owned by root, config and secret modes', async (t) => {
  for (const node of apps) {
    const ps = await onNode(
      node,
      'ps -o user=,group= -p "$(systemctl show -p MainPID --value hello)"; stat -c "%U:%G %a %n" /srv/hello/releases/1.0.0/hello-1.0.0.mjs /etc/hello/token /etc/hello/config.json; readlink /srv/hello/current',
    );
    t.equal(ps.code, 0, ps.stderr);
    t.same(
      ps.stdout
        .trim()
        .split('\n')
        .map((l) => l.trim().replace(/\s+/g, ' ')),
      [
        'hello apps',
        'root:root 644 /srv/hello/releases/1.0.0/hello-1.0.0.mjs',
        'hello:root 400 /etc/hello/token',
        'root:apps 640 /etc/hello/config.json',
        'releases/1.0.0',
      ],
    );
  }
});

t.test('converge again - 0 changed; --plan - 0 changes', async (t) => {
  for (const group of ['app', 'web'] as const) {
    const again = await converge(group);
    t.equal(again.code, 0, again.stderr.slice(-2000));
    t.same(changed(again), [], `${group}: nothing changed`);
    const plan = await converge(group, '--plan');
    t.equal(plan.code, 0, plan.stderr.slice(-2000));
    t.same(changed(plan), [], `${group}: the plan has no change`);
  }
});

t.test('restart on failure - a killed app server is started again by systemd', async (t) => {
  const node = apps[0]!;
  const before = (await onNode(node, 'systemctl show -p MainPID --value hello')).stdout.trim();
  await onNode(node, `kill -9 ${before}`);
  let after = '';
  for (let i = 0; i < 40; i++) {
    after = (await onNode(node, 'systemctl is-active hello >/dev/null && systemctl show -p MainPID --value hello')).stdout.trim();
    if (after !== '' && after !== '0' && after !== before) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  t.not(after, before, `restarted (pid ${before} -> ${after})`);
  let status = 0;
  for (let i = 0; i < 40 && status !== 200; i++) {
    status = await fetch(`http://${node.address}:3000/healthz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status !== 200) await new Promise((r) => setTimeout(r, 250));
  }
  t.equal(status, 200, 'it answers again');
});

t.test('new versions - current switches and the service restarts; only keepReleases releases stay', async (t) => {
  for (const version of ['1.1.0', '1.2.0']) {
    await build(version);
    const run = await converge('app', '', version);
    t.equal(run.code, 0, run.stderr.slice(-2000));
    t.match(changed(run).join('\n'), /symlink \/srv\/hello\/current/);
    for (let i = 0; i < 4; i++) t.match(await fetchWeb('/hello').then((r) => r.json()), { version });
  }
  for (const node of apps) {
    const ls = await onNode(node, 'ls /srv/hello/releases');
    t.same(ls.stdout.trim().split('\n'), ['1.1.0', '1.2.0'], `${node.id}: 1.0.0 pruned (keepReleases 2)`);
  }
  const again = await converge('app', '', '1.2.0');
  t.same(changed(again), [], 'converged at 1.2.0');
});

t.test('a bad nginx configuration fails before the reload, and the reload stays pending', async (t) => {
  // a file of ours nginx cannot load: the next site change must fail at nginx -t and keep the old config running
  await onNode(
    web,
    "printf 'this is not nginx;\\n' > /etc/nginx/conf.d/zz-broken.conf && sed -i 's/keepalive 32;/keepalive 31;/' /etc/nginx/conf.d/hello.conf",
  );
  const bad = await converge('web');
  t.equal(bad.code, 1);
  t.match(
    results(bad).find((r) => r.status === 'failed'),
    { id: 'nginx-test', action: 'exec', stderr: /zz-broken\.conf/ },
  );
  t.equal((await fetchWeb('/hello')).status, 200, 'the running nginx still serves');
  await onNode(web, 'rm /etc/nginx/conf.d/zz-broken.conf');
  const fixed = await converge('web');
  t.equal(fixed.code, 0, fixed.stderr.slice(-2000));
  t.match(changed(fixed).join('\n'), /nginx-service|service nginx/);
  t.equal((await fetchWeb('/hello')).status, 200);
});
