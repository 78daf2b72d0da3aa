// Specs: loading every kind of reference, composition with extends, settings, phases, and errors.
import t from 'tap';
import { dirname } from 'node:path';
import { InputError } from '@forklift/contract';
import { loadSpec, renderPlans, serverSpec, groupSpec, type Spec } from '../src/index.js';
import { nodeLine, SPECS } from './helpers.js';

const node = (id: string, group = 'web') => JSON.parse(nodeLine(id, group, { family: 'debian', release: '12' }));

t.test('loadSpec - resolves .json5, .ts, .mts, .mjs and .json references relative to cwd', async (t) => {
  for (const [ref, phase, first] of [
    ['groups/web', 'configure', 'motd'],
    ['groups/monitoring', 'configure', 'motd'],
    ['servers/plain', 'configure', 'file-1'],
    ['servers/plain-json', 'configure', 'directory-1'],
    ['servers/typed', 'configure', 'typed-link'],
    ['groups/web.json5', 'bootstrap', 'forklift-etc'],
  ] as const) {
    const spec = await loadSpec(ref, { cwd: SPECS });
    const plans = await renderPlans(spec, [node('n1', (spec as { group?: string }).group ?? 'web')], { phases: [phase] });
    t.equal(plans[0]?.actions[0]?.id, first, `${ref}: first ${phase} action`);
  }
});

t.test('loadSpec - a missing reference names what was tried', async (t) => {
  await t.rejects(loadSpec('groups/nope', { cwd: SPECS }), {
    name: 'InputError',
    message: /spec "groups\/nope" not found \(tried groups\/nope.ts, .*groups\/nope.json\)/,
  });
  await t.rejects(loadSpec('groups/bad-extends', { cwd: SPECS }), { message: /^groups\/bad-extends.json5: extends\[0\]: spec "servers\/missing" not found/ });
});

t.test('extends - inherited phases come first, in extends order, then the spec itself', async (t) => {
  const a = serverSpec({ name: 'a', phases: { configure: [{ action: 'directory', id: 'a', path: '/a' }] } });
  const b = serverSpec({ name: 'b', extends: [a], phases: { configure: [{ action: 'directory', id: 'b', path: '/b' }] } });
  const c = serverSpec({ name: 'c', phases: { configure: [{ action: 'directory', id: 'c', path: '/c' }] } });
  const top = groupSpec({ group: 'web', extends: [b, c], phases: { configure: [{ action: 'directory', id: 'top', path: '/top' }] } });
  const [plan] = await renderPlans(top, [node('n1')]);
  t.same(
    plan!.actions.map((action) => action.id),
    ['a', 'b', 'c', 'top'],
    'depth first, extends order',
  );
  const shared = groupSpec({ group: 'web', extends: [a, b] });
  const [once] = await renderPlans(shared, [node('n1')]);
  t.same(
    once!.actions.map((action) => action.id),
    ['a', 'b'],
    'a spec reached twice contributes once',
  );
});

t.test('settings - merged in extends order and readable by later crates and phase functions', async (t) => {
  const spec = await loadSpec('groups/monitoring', { cwd: SPECS });
  const [plan] = await renderPlans(spec, [node('mon-1', 'monitoring')], { phases: ['configure'] });
  t.match(plan!.script, "'monitoring node (exporter)\n'", 'the exporter crate read the motd crate settings; the group phase read both');
  t.match(plan!.script, "'127.0.0.1 exporter-mon-1'", 'phase functions see the node');
  const merged = serverSpec({
    extends: [serverSpec({ settings: { app: { port: 80, host: 'a' } } })],
    settings: (ctx) => ({ app: { port: (ctx.settings.app as { port: number }).port + 1 } }),
    phases: { configure: (ctx) => [{ action: 'file', path: '/etc/app', content: JSON.stringify(ctx.settings.app) }] },
  });
  const [result] = await renderPlans(merged, [node('n1')]);
  t.match(result!.script, `'{"port":81,"host":"a"}'`, 'deep merge, later wins');
});

t.test('phases - default is bootstrap then configure; --phase picks and orders; bootstrap is once per node', async (t) => {
  const spec = await loadSpec('groups/web', { cwd: SPECS });
  t.same(
    (await renderPlans(spec, [node('n1')])).map((plan) => plan.phase),
    ['bootstrap', 'configure'],
    'default phases',
  );
  const picked = await renderPlans(spec, [node('n1'), node('n2')], { phases: ['deploy', 'configure', 'nothing-here'] });
  t.same(
    picked.map((plan) => `${plan.node}/${plan.phase}`),
    ['n1/deploy', 'n1/configure', 'n1/nothing-here', 'n2/deploy', 'n2/configure', 'n2/nothing-here'],
    'node then phase order',
  );
  t.same(picked[2]!.actions, [], 'an undefined phase renders an empty, valid script');
  const [boot] = await renderPlans(spec, [node('n1')], { phases: ['bootstrap'] });
  t.match(boot!.script, 'fl_once_flag=/var/lib/forklift/once/bootstrap.done', 'bootstrap remembers itself on the node');
  await t.rejects(renderPlans(spec, [node('n1')], { phases: ['settings'] }), { name: 'InputError' }, 'settings is not a renderable phase');
});

t.test('ids - default ids count per action over the whole spec; duplicates and unknown restartOn are errors', async (t) => {
  const spec = await loadSpec('groups/web', { cwd: SPECS });
  const all = await renderPlans(spec, [node('n1')], { phases: ['bootstrap', 'configure', 'deploy'] });
  const onlyConfigure = await renderPlans(spec, [node('n1')], { phases: ['configure'] });
  t.same(onlyConfigure[0]!.actions, all[1]!.actions, 'ids do not depend on which phases are rendered');
  const dup = serverSpec({ phases: { configure: [{ action: 'directory', id: 'x', path: '/a' }], install: [{ action: 'directory', id: 'x', path: '/b' }] } });
  await t.rejects(renderPlans(dup, [node('n1')]), {
    name: 'InputError',
    message: /phases.install\[0\]: id "x" is already used by spec: phases.configure\[0\]/,
  });
  const watch = serverSpec({ phases: { configure: [{ action: 'service', name: 'nginx', restartOn: ['nope'] }] } });
  await t.rejects(renderPlans(watch, [node('n1')]), { name: 'InputError', message: /watches unknown action id "nope"/ });
});

t.test('errors - unknown action, misspelt option, wrong type name the file and the path', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['groups/bad-action', /^groups\/bad-action.json5: phases.configure\[1\].action: unknown action "pakage"/],
    ['groups/bad-option', /^groups\/bad-option.json5: phases.configure\[0\]: unknown option "contnet"$/],
    ['groups/bad-type', /^groups\/bad-type.json5: phases.configure\[0\].parents: Invalid input: expected boolean, received string$/],
    ['groups/bad-nested', /^groups\/bad-type.json5: phases.configure\[0\].parents/],
    ['groups/bad-syntax', /^groups\/bad-syntax.json5: not valid JSON5/],
  ];
  for (const [ref, message] of cases) {
    const attempt = async (): Promise<unknown> => renderPlans(await loadSpec(ref, { cwd: SPECS }), [node('n1')]);
    await t.rejects(attempt(), { name: 'InputError', message }, ref);
  }
  const shape = loadSpec('groups/web', { cwd: SPECS }).then((spec: Spec) =>
    renderPlans({ ...spec, phases: { configure: { not: 'a list' } as never } }, [node('n1')]),
  );
  await t.rejects(shape, InputError, 'a phase that is not a list');
});

t.test("local files - read relative to the spec's project at render time, whatever cwd says; a missing one is an InputError", async (t) => {
  const spec = await loadSpec('groups/web', { cwd: SPECS });
  const [plan] = await renderPlans(spec, [node('n1')], { cwd: '/nonexistent', phases: ['configure'] });
  t.match(plan!.script, "'<h1>forklift</h1>\n'", "local content embedded from the spec's project, not from the cwd option");
  const unplaced = { ...spec, cwd: undefined };
  const [fromCwd] = await renderPlans(unplaced, [node('n1')], { cwd: SPECS, phases: ['configure'] });
  t.equal(fromCwd!.sha256, plan!.sha256, 'a spec without a project reads local files from the cwd option');
  await t.rejects(renderPlans(unplaced, [node('n1')], { cwd: '/nonexistent' }), {
    name: 'InputError',
    message: /phases.configure\[1\]: cannot read local file "files\/index.html" \(ENOENT\)/,
  });
});

t.test('groups - a group spec renders only nodes of its group', async (t) => {
  const spec = await loadSpec('groups/web', { cwd: SPECS });
  const plans = await renderPlans(spec, [node('w1'), node('db1', 'db')], { phases: ['configure'] });
  t.same(
    plans.map((plan) => plan.node),
    ['w1'],
    'db1 is not in group web',
  );
  const gone = await renderPlans(spec, [{ ...node('w2'), state: 'destroyed' }], { phases: ['configure'] });
  t.same(gone, [], 'destroyed nodes get no plan');
});

t.test('loadSpec - extends inside a spec resolve against its project, whatever the cwd', async (t) => {
  const repo = dirname(dirname(SPECS));
  const fromRepo = await loadSpec('fixtures/specs/groups/web', { cwd: repo });
  const fromProject = await loadSpec('groups/web', { cwd: SPECS });
  const plansA = await renderPlans(fromRepo, [node('n1')], { phases: ['configure'] });
  const plansB = await renderPlans(fromProject, [node('n1')], { phases: ['configure'] });
  t.same(
    plansA.map((p) => p.sha256),
    plansB.map((p) => p.sha256),
  );
  await t.rejects(loadSpec('fixtures/specs/groups/bad-extends', { cwd: repo }), { message: /extends\[0\]: spec "servers\/missing" not found/ });
});

t.test('peers - spec functions see every running node of the render (all groups) as ctx.nodes, and find peers with peers()', async (t) => {
  const { peers } = await import('../src/index.js');
  const app = (id: string, color: string) => ({ ...node(id, `${color}-app`), color, roles: ['app'], address: `10.0.1.${id.slice(-1)}` });
  const seen: string[][] = [];
  const web = groupSpec({
    group: 'blue-web',
    phases: {
      configure: (ctx) => {
        seen.push(ctx.nodes.map((n) => n.id));
        const upstreams = peers(ctx.nodes, { role: 'app', color: 'blue' }).map((n) => `server ${n.address}:3000;`);
        return [{ action: 'file', path: '/etc/nginx/upstream.conf', content: upstreams.join('\n') + '\n' }];
      },
    },
  });
  const nodes = [
    node('blue-web-1', 'blue-web'),
    app('blue-app-2', 'blue'),
    app('blue-app-1', 'blue'),
    app('green-app-1', 'green'),
    { ...app('blue-app-3', 'blue'), state: 'destroyed' },
  ];
  const plans = await renderPlans(web, nodes, { phases: ['configure'] });
  t.same(
    plans.map((plan) => plan.node),
    ['blue-web-1'],
    'plans only for the group',
  );
  t.same(seen, [['blue-web-1', 'blue-app-2', 'blue-app-1', 'green-app-1']], 'ctx.nodes: every running node given, all groups, in input order');
  t.match(plans[0]!.script, "'server 10.0.1.1:3000;\nserver 10.0.1.2:3000;\n'", 'the blue app nodes, by id, whatever the input order');
  const subset = await renderPlans(web, [nodes[0]!], { phases: ['configure'], allNodes: nodes });
  t.equal(subset[0]!.sha256, plans[0]!.sha256, 'allNodes gives the peers when rendering for a subset (run-actions renders for the nodes it reached)');
});

t.test('controller files - renderPlans reads them only through options.files: given in memory, rendering touches no disk', async (t) => {
  const spec = serverSpec({
    cwd: '/nonexistent/project',
    source: 'servers/mem.json5',
    phases: { configure: [{ action: 'file', path: '/etc/motd', local: 'files/motd' }] },
  });
  const asked: string[] = [];
  const files = {
    read: (ref: string, where: string) => (asked.push(`${ref} @ ${where}`), new TextEncoder().encode('from memory\n')),
    resolver: () => () => {
      throw new Error('no upload expected');
    },
  };
  const [plan] = await renderPlans(spec, [node('n1')], { phases: ['configure'], files });
  t.match(plan!.script, "'from memory\n'", 'the bytes the edge gave');
  t.same(asked, ['files/motd @ servers/mem.json5: phases.configure[0]']);
  await t.rejects(
    renderPlans(spec, [node('n1')], { phases: ['configure'] }),
    { name: 'InputError', message: /cannot read/ },
    'without files, the default reads the (missing) project on disk',
  );
});
