// The crate shape: typed functions validated with zod, the JSON5 by-name form through render-crate,
// errors that name the spec file, the crate and the field (exit 65), and the peer and color helpers.
import t from 'tap';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError, type NodeRecord } from '@forklift/contract';
import { renderPlans, serverSpec, type SpecContext } from '@forklift/render-crate';
import { runBinary } from '@forklift/testkit';
import * as library from '../src/index.js';
import { colorOf, crateByName, crates, defineCrate, nodeExporter, peers, requirePeers } from '../src/index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

function node(id: string, fields: Partial<NodeRecord> = {}): NodeRecord {
  return {
    v: 1,
    kind: 'node',
    id,
    group: id.replace(/-\d+$/, ''),
    service: 'local',
    provider: 'nspawn',
    address: '10.0.0.2',
    port: 22,
    user: 'root',
    state: 'running',
    ...fields,
  } as NodeRecord;
}

function ctxFor(self: NodeRecord, nodes: NodeRecord[]): SpecContext {
  return { node: self, facts: { family: 'debian', release: '12' }, settings: {}, nodes } as unknown as SpecContext;
}

t.test('defineCrate - valid options give the spec, named after the crate, defaults applied', async (t) => {
  const spec = nodeExporter({});
  t.equal(spec.name, 'node-exporter');
  t.same(spec.settings, { nodeExporter: { port: 9100, textfileDir: '/var/lib/node-exporter-textfile' } });
  t.equal(nodeExporter.crateName, 'node-exporter');
});

t.test('defineCrate - a wrong type, a missing required option and an unknown option are InputErrors naming crate and field', async (t) => {
  t.throws(() => nodeExporter({ port: 'x' as unknown as number }), { name: 'InputError', message: /^crate node-exporter: options\.port: .*expected number/ });
  const needs = defineCrate({ name: 'needs', summary: 'x', schema: z.strictObject({ path: z.string() }), build: () => serverSpec({}) });
  t.throws(() => needs({} as { path: string }), { message: 'crate needs: options.path: missing' });
  t.throws(() => nodeExporter({ prot: 1 } as never), { message: 'crate node-exporter: options: unknown option "prot"' });
  try {
    nodeExporter({ port: 0 });
  } catch (error) {
    t.ok(error instanceof InputError && error.exitCode === 65, 'exit code 65');
  }
});

t.test('registry - every exported crate is registered under its name', async (t) => {
  const exported = Object.values(library).filter((value) => typeof value === 'function' && 'crateName' in value);
  t.ok(exported.length >= 1);
  for (const crate of exported as Array<{ crateName: string }>) t.equal(crates[crate.crateName], crate, crate.crateName);
  t.equal(crateByName('node-exporter'), nodeExporter);
  t.equal(crateByName('toString'), undefined, 'no inherited names');
});

t.test('peers - by role, group and color, running only, sorted by id', async (t) => {
  const nodes = [
    node('blue-app-2', { roles: ['app'], color: 'blue' }),
    node('green-app-1', { roles: ['app'], color: 'green' }),
    node('blue-app-1', { roles: ['app'], color: 'blue' }),
    node('blue-app-3', { roles: ['app'], color: 'blue', state: 'destroyed' }),
    node('zk-1', { roles: ['zk'] }),
  ];
  t.same(
    peers(nodes, { role: 'app', color: 'blue' }).map((n) => n.id),
    ['blue-app-1', 'blue-app-2'],
  );
  t.same(
    peers(nodes, { group: 'zk' }).map((n) => n.id),
    ['zk-1'],
  );
  t.same(
    peers(nodes).map((n) => n.id),
    ['blue-app-1', 'blue-app-2', 'green-app-1', 'zk-1'],
  );
  t.same(
    requirePeers(ctxFor(nodes[4]!, nodes), { role: 'zk' }, { field: 'ensemble' }).map((n) => n.id),
    ['zk-1'],
  );
  t.throws(() => requirePeers(ctxFor(nodes[4]!, nodes), { role: 'db', color: 'green' }, { field: 'primary' }), {
    message: 'primary: needs a node with role db, color green among the node records (found 0)',
  });
});

t.test('colorOf - the option, else the node record, else blue; another color is an InputError naming the field', async (t) => {
  t.equal(colorOf(ctxFor(node('a-1', { color: 'blue' }), []), 'green'), 'green');
  t.equal(colorOf(ctxFor(node('a-1', { color: 'green' }), [])), 'green');
  t.equal(colorOf(ctxFor(node('a-1'), [])), 'blue');
  t.throws(() => colorOf(ctxFor(node('red-db-1', { color: 'red' }), [])), { message: 'color: node red-db-1 has color "red"; expected one of blue, green' });
});

t.test('renderPlans - a render-time crate error names the spec label, the crate and the field', async (t) => {
  const needsZk = defineCrate({
    name: 'needs-zk',
    summary: 'x',
    schema: z.strictObject({}),
    build: () =>
      serverSpec({
        phases: { configure: (ctx) => [{ action: 'exec', script: `echo ${requirePeers(ctx, { role: 'zk' }, { field: 'zookeeper' })[0]!.address}` }] },
      }),
  });
  const spec = serverSpec({ source: 'groups/app.ts', extends: [{ ...needsZk({}), source: 'groups/app.ts extends[0] (needs-zk)' }] });
  await t.rejects(renderPlans(spec, [node('app-1')]), {
    message: 'groups/app.ts extends[0] (needs-zk): zookeeper: needs a node with role zk among the node records (found 0)',
  });
});

t.test('render-crate - a crate by name in JSON5 and by import in TypeScript render the same script', async (t) => {
  const json5 = await runBinary('render-crate', ['groups/exporter'], { cwd: FIXTURES });
  t.equal(json5.exitCode, 0, json5.stderr);
  const ts = await runBinary('render-crate', ['groups/exporter-import'], { cwd: FIXTURES });
  t.equal(ts.exitCode, 0, ts.stderr);
  const plan = (records: Array<Record<string, unknown>>) => records.find((r) => r.kind === 'plan')!;
  t.match(plan(json5.records).script, /--web\.listen-address=:9101/);
  t.equal(plan(json5.records).sha256, plan(ts.records).sha256);
});

t.test('render-crate - bad crate input is exit 65 with one line naming the spec file, the crate and the field; nothing rendered', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['groups/bad-type', /^render-crate: groups\/bad-type\.json5 extends\[0\] \(node-exporter\): options\.port: .*expected number/],
    ['groups/bad-import', /^render-crate: groups\/bad-import\.ts: crate node-exporter: options\.port: .*expected number/],
    ['groups/bad-unknown-option', /^render-crate: groups\/bad-unknown-option\.json5 extends\[0\] \(node-exporter\): options: unknown option "prot"/],
    [
      'groups/bad-crate-name',
      /^render-crate: groups\/bad-crate-name\.json5 extends\[0\]\.crate: unknown crate "node-exportr" \(@forklift\/crates has .*node-exporter/,
    ],
    ['groups/bad-crate-key', /^render-crate: groups\/bad-crate-key\.json5 extends\[0\]: unknown key "option"/],
  ];
  for (const [spec, message] of cases) {
    const result = await runBinary('render-crate', [spec], { cwd: FIXTURES });
    t.equal(result.exitCode, 65, spec);
    t.match(result.stderr, message, spec);
    t.equal(result.stderr.trimEnd().split('\n').length, 1, `${spec}: one line`);
    t.notOk(
      result.records.some((r) => r.kind === 'plan'),
      `${spec}: no plan`,
    );
  }
});
