// The nginx crate rendered (no node needed): upstreams from the node records by role and color,
// the app's port from the app-server crate, gzip and /labels/, `nginx -t` before the reload, errors.
import t from 'tap';
import type { NodeRecord } from '@forklift/contract';
import { groupSpec, renderPlans, type ActionEntry, type SpecContext } from '@forklift/render-crate';
import { appServer, nginx, nginxOptions, nginxSite } from '../src/index.js';

function node(id: string, address: string, fields: Partial<NodeRecord> = {}): NodeRecord {
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
    os: { family: 'debian', release: '12' },
    ...fields,
  } as NodeRecord;
}

const SYSTEM = [
  node('blue-web-1', '10.0.0.10', { roles: ['web'], color: 'blue' }),
  node('blue-app-2', '10.0.0.12', { roles: ['app'], color: 'blue' }),
  node('blue-app-1', '10.0.0.11', { roles: ['app'], color: 'blue' }),
  node('green-app-1', '10.0.0.21', { roles: ['app'], color: 'green' }),
  node('blue-app-3', '10.0.0.13', { roles: ['app'], color: 'blue', state: 'destroyed' }),
];

async function siteFor(spec: ReturnType<typeof groupSpec>, nodes: NodeRecord[]): Promise<string> {
  const [plan] = await renderPlans(spec, nodes, { phases: ['configure'] });
  const script = plan!.script;
  const start = script.indexOf('upstream ');
  return script.slice(start, script.indexOf("'", start));
}

t.test('nginx - upstreams are the running app nodes of its own color, sorted by id', async (t) => {
  const site = await siteFor(groupSpec({ group: 'blue-web', extends: [nginx({ app: 'wine-cellar' })] }), SYSTEM);
  t.match(
    site,
    'upstream wine_cellar_blue {\n    server 10.0.0.11:3000 max_fails=2 fail_timeout=5s;\n    server 10.0.0.12:3000 max_fails=2 fail_timeout=5s;\n    keepalive 32;',
  );
  t.notMatch(site, '10.0.0.21', 'no green app');
  t.notMatch(site, '10.0.0.13', 'no destroyed node');
});

t.test('nginx - the color option overrides the node color', async (t) => {
  const site = await siteFor(groupSpec({ group: 'blue-web', extends: [nginx({ app: 'wine-cellar', color: 'green' })] }), SYSTEM);
  t.match(site, 'upstream wine_cellar_green {\n    server 10.0.0.21:3000');
});

t.test('nginx - topology (a): one node with every role proxies to itself; appPort from the app-server crate', async (t) => {
  const one = node('wine-cellar-1', '10.0.0.5', { roles: ['lb', 'web', 'app', 'db', 'zk', 'files'], color: 'blue' });
  const app = appServer({
    name: 'wine-cellar',
    version: '1.0.0',
    port: 3100,
    bundle: 'build/wine-cellar.mjs',
    runtime: { path: 'build/node', version: 'v20.20.2' },
  });
  const spec = groupSpec({ group: 'wine-cellar', extends: [app, nginx({ app: 'wine-cellar' })] });
  // render only the nginx part's site text: the settings of the app-server crate reach nginx's phase
  const { phases } = spec.extends![1] as { phases: { configure: (ctx: SpecContext) => ActionEntry[] } };
  const actions = phases.configure({
    node: one,
    nodes: [one],
    facts: { family: 'debian', release: '12' },
    settings: { appServer: { 'wine-cellar': { port: 3100 } } },
  });
  t.match(actions.find((a) => a.id === 'nginx-site')!.content, 'server 10.0.0.5:3100 max_fails');
});

t.test('nginx - gzip, keep-alive to the upstream, /labels/ from the shared store, nothing else on port 80', async (t) => {
  const site = nginxSite(nginxOptions.parse({ app: 'shop', labels: { path: '/img/', dir: '/srv/img' } }), 'blue', ['10.0.0.2'], 3000);
  t.match(site, 'gzip on;');
  t.match(site, /gzip_types application\/json /);
  t.match(site, 'proxy_http_version 1.1;\n        proxy_set_header Connection "";');
  t.match(site, 'location /img/ {\n        alias /srv/img/;');
  t.notMatch(nginxSite(nginxOptions.parse({ app: 'shop', labels: null }), 'blue', ['10.0.0.2'], 3000), 'alias');
});

t.test('nginx - the plan tests the configuration before the reload and removes the default site', async (t) => {
  const [plan] = await renderPlans(groupSpec({ group: 'blue-web', extends: [nginx({ app: 'wine-cellar' })] }), SYSTEM, { phases: ['configure'] });
  const ids = plan!.actions.map((a) => a.id);
  t.same(ids, [
    'nginx-package',
    'nginx-default-site',
    'nginx-dropin-dir',
    'nginx-reload-dropin',
    'nginx-daemon-reload',
    'nginx-site',
    'nginx-test',
    'nginx-service',
  ]);
  t.ok(ids.indexOf('nginx-test') < ids.indexOf('nginx-service'), 'nginx -t before the reload');
  t.match(plan!.script, /ExecReload=\/usr\/sbin\/nginx -t -q -g /, 'every reload tests the configuration (systemd drop-in)');
});

t.test('nginx - no app node of its color, or a bad option, is an InputError naming the field', async (t) => {
  const lonely = [node('blue-web-1', '10.0.0.10', { roles: ['web'], color: 'blue' })];
  await t.rejects(renderPlans(groupSpec({ group: 'blue-web', extends: [nginx({ app: 'wine-cellar' })] }), lonely, { phases: ['configure'] }), {
    name: 'InputError',
    message: /upstreams: needs a node with role app among the node records \(found 0\)/,
  });
  const greenOnly = [SYSTEM[0]!, SYSTEM[3]!];
  await t.rejects(renderPlans(groupSpec({ group: 'blue-web', extends: [nginx({ app: 'wine-cellar' })] }), greenOnly, { phases: ['configure'] }), {
    message: /upstreams: needs a node with role app, color blue among the node records \(found 0\)/,
  });
  t.throws(() => nginx({ app: 'wine-cellar', color: 'red' as 'blue' }), { message: /^crate nginx: options\.color: / });
  t.throws(() => nginx({ app: 'Wine Cellar' }), { message: /^crate nginx: options\.app: must be 1-32 lower-case/ });
  t.throws(() => nginx({} as { app: string }), { message: 'crate nginx: options.app: missing' });
});
