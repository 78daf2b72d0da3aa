// The app-server crate rendered (no node needed): what is uploaded, where it goes, the unit, the user,
// what restarts the service, the readiness check, and the errors.
import t from 'tap';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeRecord } from '@forklift/contract';
import { groupSpec, renderPlans, type SpecContext } from '@forklift/render-crate';
import { appServer, systemdQuote } from '../src/index.js';

const self = {
  v: 1,
  kind: 'node',
  id: 'blue-app-1',
  group: 'blue-app',
  service: 'local',
  provider: 'nspawn',
  address: '10.0.0.11',
  port: 22,
  user: 'root',
  state: 'running',
  os: { family: 'debian', release: '12' },
  roles: ['app'],
  color: 'blue',
} as NodeRecord;

const BASE = { name: 'wine-cellar', version: '1.2.0', bundle: 'build/wine-cellar.mjs', runtime: { path: 'build/node', version: 'v20.20.2' } };

type Entry = { id: string; action: string; [key: string]: unknown };
function actionsOf(spec: ReturnType<typeof appServer>, ctx: Partial<SpecContext> = {}): Entry[] {
  const configure = spec.phases!.configure as (ctx: SpecContext) => Entry[];
  return configure({ node: self, nodes: [self], facts: { family: 'debian', release: '12' }, settings: {}, ...ctx } as SpecContext);
}

t.test('app-server - runtime and bundle are uploads to versioned paths; current points at the release', async (t) => {
  const actions = actionsOf(appServer({ ...BASE, uid: 2001, gid: 2000 }));
  const byId = new Map(actions.map((a) => [a.id, a]));
  t.match(byId.get('app-wine-cellar-runtime'), {
    action: 'file',
    path: '/opt/forklift/node/v20.20.2/bin/node',
    upload: 'build/node',
    mode: '0755',
    owner: 'root',
  });
  t.match(byId.get('app-wine-cellar-bundle'), {
    action: 'file',
    path: '/srv/wine-cellar/releases/1.2.0/wine-cellar.mjs',
    upload: 'build/wine-cellar.mjs',
    owner: 'root',
    mode: '0644',
  });
  t.match(byId.get('app-wine-cellar-current'), { action: 'symlink', path: '/srv/wine-cellar/current', target: 'releases/1.2.0' });
  t.match(byId.get('app-wine-cellar-user'), { action: 'user', name: 'wine-cellar', group: 'apps', uid: 2001, system: true, shell: '/usr/sbin/nologin' });
  t.match(byId.get('app-wine-cellar-group'), { action: 'group', name: 'apps', gid: 2000 });
  t.notOk(
    actions.some((a) => 'content' in a && String(a.content).length > 100_000),
    'no large content inline',
  );
});

t.test('app-server - the unit runs the current release with the shipped runtime as the app user, restarts on failure', async (t) => {
  const unit = String(
    actionsOf(appServer({ ...BASE, configEnv: 'WINE_CELLAR_CONFIG', env: { GREETING: 'a "b" 100%' } })).find((a) => a.id === 'app-wine-cellar-unit')!.content,
  );
  t.match(unit, 'ExecStart=/opt/forklift/node/v20.20.2/bin/node /srv/wine-cellar/current/wine-cellar.mjs\n');
  t.match(unit, 'User=wine-cellar\nGroup=apps\n');
  t.match(unit, 'Restart=on-failure\n');
  t.match(unit, 'Environment="WINE_CELLAR_CONFIG=/etc/wine-cellar/config.json"\n');
  t.match(unit, 'Environment="GREETING=a \\"b\\" 100%%"\n');
  t.equal(systemdQuote('a\\b'), '"a\\\\b"');
});

t.test('app-server - config (object or function of the context), secrets out of band, all watched by the service', async (t) => {
  const spec = appServer({
    ...BASE,
    config: (ctx) => ({ color: ctx.node.color, db: { host: '10.0.0.30' } }),
    secrets: [{ path: '/etc/wine-cellar/db-password', from: 'secrets/db-password' }],
  });
  const actions = actionsOf(spec);
  const byId = new Map(actions.map((a) => [a.id, a]));
  t.match(byId.get('app-wine-cellar-config'), {
    path: '/etc/wine-cellar/config.json',
    content: '{\n  "color": "blue",\n  "db": {\n    "host": "10.0.0.30"\n  }\n}\n',
    group: 'apps',
    mode: '0640',
  });
  t.match(byId.get('app-wine-cellar-secret-1'), {
    action: 'file',
    path: '/etc/wine-cellar/db-password',
    contentFrom: 'secrets/db-password',
    sensitive: true,
    owner: 'wine-cellar',
    mode: '0400',
  });
  t.same(byId.get('app-wine-cellar-service'), {
    action: 'service',
    id: 'app-wine-cellar-service',
    name: 'wine-cellar',
    state: 'started',
    enabled: true,
    restartOn: ['app-wine-cellar-bundle', 'app-wine-cellar-current', 'app-wine-cellar-unit', 'app-wine-cellar-config', 'app-wine-cellar-secret-1'],
  });
  const ids = actions.map((a) => a.id);
  t.ok(ids.indexOf('app-wine-cellar-ready') > ids.indexOf('app-wine-cellar-service'), 'readiness after the service');
  t.match(byId.get('app-wine-cellar-ready'), { script: /http:\/\/127\.0\.0\.1:3000\/healthz any 60 \|\|/, unless: / any 0 2>\/dev\/null$/ });
});

t.test('app-server - settings tell other crates the port, user and version', async (t) => {
  t.same(appServer({ ...BASE, port: 3100, user: 'wc' }).settings, {
    appServer: { 'wine-cellar': { port: 3100, version: '1.2.0', user: 'wc', group: 'apps', current: '/srv/wine-cellar/current' } },
  });
});

t.test('app-server - renders a plan whose uploads name the controller files, never their bytes', async (t) => {
  const project = await mkdtemp(join(tmpdir(), 'app-server-render-'));
  t.teardown(() => rm(project, { recursive: true, force: true }));
  await mkdir(join(project, 'build'));
  await writeFile(join(project, 'build', 'wine-cellar.mjs'), 'console.log("hi")\n');
  await writeFile(join(project, 'build', 'node'), '#!/bin/sh\n');
  const [plan] = await renderPlans(groupSpec({ group: 'blue-app', extends: [appServer(BASE)] }), [self], { phases: ['configure'], cwd: project });
  const uploads = (plan as unknown as { uploads?: Array<{ source: string; sha256?: string }> }).uploads ?? [];
  t.same(uploads.map((u) => u.source).sort(), [join(project, 'build', 'node'), join(project, 'build', 'wine-cellar.mjs')]);
  t.ok(
    uploads.every((u) => /^[0-9a-f]{64}$/.test(u.sha256 ?? '')),
    'checked by sha256',
  );
  t.notMatch(plan!.script, 'console.log("hi")');
});

t.test('app-server - bad options are InputErrors naming the crate and the field', async (t) => {
  t.throws(() => appServer({ ...BASE, version: '1.0 beta' }), { message: /^crate app-server: options\.version: must be a version/ });
  t.throws(() => appServer({ ...BASE, port: '3000' as unknown as number }), { message: /^crate app-server: options\.port: .*expected number/ });
  t.throws(() => appServer({ ...BASE, runtime: { path: 'build/node' } as never }), { message: 'crate app-server: options.runtime.version: missing' });
  t.throws(() => appServer({ ...BASE, env: { GREETING: 'two\nlines' } }), { message: /options\.env\.GREETING: must be one line/ });
  t.throws(() => appServer({ ...BASE, baseDir: '/srv/../etc' }), { message: /options\.baseDir: must not contain \.\./ });
  t.throws(() => appServer({ ...BASE, config: 'x' as never }), { message: /options\.config: / });
  t.throws(() => appServer({ ...BASE, colour: 'blue' } as never), { message: 'crate app-server: options: unknown option "colour"' });
});
