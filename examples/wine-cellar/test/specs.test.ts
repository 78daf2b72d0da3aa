// The wine-cellar specs rendered for both topologies (no node needed, fast): every group renders, the
// app's configuration names its peers from the node records, secrets and large files travel as uploads
// (never in a script), and topology (a) puts nginx on 8081 behind HAProxy on the same node.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runBinary, toNdjson } from '@forklift/testkit';

const run = promisify(execFile);
const project = fileURLToPath(new URL('..', import.meta.url));
const hostKey = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIPfll1QuO9YLX4RNflLQWsNuDBRIOY09840yJDJZUxd';

function node(id: string, address: string, fields: Record<string, unknown>): Record<string, unknown> {
  return {
    v: 1,
    kind: 'node',
    id,
    group: id.replace(/-\d+$/, ''),
    service: 'local',
    provider: 'nspawn',
    address,
    port: 22,
    user: 'root',
    state: 'running',
    hostKey,
    os: { family: 'debian', release: '12' },
    ...fields,
  };
}

const SYSTEM = [
  node('lb-1', '10.9.0.2', { roles: ['lb'] }),
  node('zk-1', '10.9.0.3', { roles: ['zk'] }),
  node('files-1', '10.9.0.4', { roles: ['files'] }),
  node('blue-db-1', '10.9.0.5', { roles: ['db'], color: 'blue' }),
  node('blue-app-1', '10.9.0.6', { roles: ['app'], color: 'blue' }),
  node('blue-app-2', '10.9.0.7', { roles: ['app'], color: 'blue' }),
  node('blue-web-1', '10.9.0.8', { roles: ['web'], color: 'blue' }),
];

type Plan = { kind: string; node: string; script: string; uploads?: Array<{ source: string; bytes: number; sensitive?: boolean }> };

async function render(group: string, nodes: Array<Record<string, unknown>>): Promise<Plan[]> {
  const result = await runBinary('render-crate', [`groups/${group}`], { cwd: project, stdin: toNdjson(nodes) });
  if (result.exitCode !== 0) throw new Error(`render-crate groups/${group}: exit ${result.exitCode}: ${result.stderr}`);
  return result.records.filter((r) => r.kind === 'plan') as unknown as Plan[];
}

await run(process.execPath, [join(project, 'build.mjs')]);
const secrets = await Promise.all(['db-password', 'replication-password', 'files_ed25519'].map((name) => readFile(join(project, 'secrets', name), 'utf8')));

t.test('topology (b) - every group renders for its nodes; secrets and large files are uploads only', async (t) => {
  for (const group of ['zk', 'files', 'blue-db', 'blue-app', 'blue-web', 'lb']) {
    const plans = await render(group, SYSTEM);
    t.ok(plans.length >= 1, `${group}: plans`);
    for (const plan of plans) for (const secret of secrets) t.notMatch(plan.script, secret.trim(), `${group}: no secret in the script`);
  }
  const [app] = await render('blue-app', SYSTEM);
  const uploads = app!.uploads ?? [];
  t.ok(
    uploads.some((u) => u.source.endsWith('build/node') && u.bytes > 10_000_000 && !u.sensitive),
    'the runtime is an upload',
  );
  t.ok(
    uploads.some((u) => u.source.endsWith('build/wine-cellar.mjs') && !u.sensitive),
    'the bundle is an upload',
  );
  t.ok(
    uploads.some((u) => u.source.endsWith('secrets/db-password') && u.sensitive),
    'the password is a sensitive upload',
  );
});

t.test("topology (b) - the app's configuration names the db of its color and every zk node", async (t) => {
  const [app] = await render('blue-app', SYSTEM);
  t.match(app!.script, '"host": "10.9.0.5"');
  t.match(app!.script, '"connect": "10.9.0.3:2181"');
  t.match(app!.script, '"color": "blue"');
  const [web] = await render('blue-web', SYSTEM);
  t.match(web!.script, /server 10\.9\.0\.6:3000 [^\n]*\n {4}server 10\.9\.0\.7:3000/);
});

t.test('topology (a) - one node with every role: nginx on 8081, HAProxy in front on 80', async (t) => {
  const one = [node('wine-cellar-1', '10.9.0.20', { roles: ['lb', 'web', 'app', 'db', 'zk', 'files'], color: 'blue' })];
  const [plan] = await render('wine-cellar', one);
  t.match(plan!.script, 'listen 8081 default_server;');
  t.match(plan!.script, /server wine-cellar-1 10\.9\.0\.20:8081/);
  t.match(plan!.script, 'server 10.9.0.20:3000');
  for (const secret of secrets) t.notMatch(plan!.script, secret.trim(), 'no secret in the script');
});
