// selectNodes: a group spec's own nodes, the adoption of nodes provisioned without a group, and the
// error (never a silent success) when only nodes of other groups arrive.
import t from 'tap';
import type { NodeRecord } from '@forklift/contract';
import { DEFAULT_GROUP, selectNodes, type GroupSpec, type ServerSpec } from '../src/index.js';

const node = (id: string, group: string, extra: Partial<NodeRecord> = {}): NodeRecord =>
  ({
    v: 1,
    kind: 'node',
    id,
    group,
    service: 'local',
    provider: 'nspawn',
    address: '10.0.0.2',
    port: 22,
    user: 'root',
    state: 'running',
    ...extra,
  }) as NodeRecord;
const monitoring: GroupSpec = { group: 'monitoring', color: 'blue', roles: ['monitoring'], source: 'groups/monitoring.json5' };

t.test('selectNodes - a server spec takes every running node, changing nothing', async (t) => {
  const nodes = [node('a-1', 'a'), node('b-1', 'b'), node('c-1', 'c', { state: 'destroyed' })];
  const selection = selectNodes({ phases: {} } as ServerSpec, nodes);
  t.same(
    selection.targets.map((n) => n.id),
    ['a-1', 'b-1'],
  );
  t.same(selection.nodes, nodes);
  t.same(selection.adopted, []);
});

t.test('selectNodes - a group spec takes the nodes of its group; others pass by untouched', async (t) => {
  const nodes = [node('monitoring-1', 'monitoring'), node('default-1', DEFAULT_GROUP), node('web-1', 'web')];
  const selection = selectNodes(monitoring, nodes);
  t.same(
    selection.targets.map((n) => n.id),
    ['monitoring-1'],
  );
  t.same(selection.adopted, [], 'nodes of its own group came: nothing is adopted');
  t.same(selection.nodes, nodes);
});

t.test("selectNodes - nodes provisioned without a group are adopted into the spec's group, with its color and roles", async (t) => {
  const nodes = [
    node('default-1', DEFAULT_GROUP),
    node('default-2', DEFAULT_GROUP, { roles: ['old'] }),
    node('web-1', 'web'),
    node('default-3', DEFAULT_GROUP, { state: 'destroyed' }),
  ];
  const selection = selectNodes(monitoring, nodes);
  t.same(selection.adopted, ['default-1', 'default-2']);
  t.same(
    selection.targets.map((n) => [n.id, n.group, n.color, n.roles]),
    [
      ['default-1', 'monitoring', 'blue', ['monitoring']],
      ['default-2', 'monitoring', 'blue', ['monitoring']],
    ],
  );
  t.same(
    selection.nodes.map((n) => `${n.id}:${n.group}`),
    ['default-1:monitoring', 'default-2:monitoring', 'web-1:web', 'default-3:default'],
    'in input order; a destroyed node is not adopted',
  );
  t.equal(nodes[0]!.group, DEFAULT_GROUP, 'the input records are not changed in place');
  const again = selectNodes(monitoring, selection.nodes);
  t.same(
    again.targets.map((n) => n.id),
    ['default-1', 'default-2'],
    "adopted records select as the group's own downstream",
  );
});

t.test('selectNodes - only nodes of other groups: exit 65 naming the groups seen; no nodes at all: nothing to do', async (t) => {
  t.throws(() => selectNodes(monitoring, [node('web-1', 'web'), node('db-1', 'db'), node('web-2', 'web')]), {
    name: 'InputError',
    code: 'no-node-of-group',
    exitCode: 65,
    message:
      'groups/monitoring.json5: group monitoring: none of the 3 running node(s) on stdin is in this group (groups seen: db, web); provision them with --group monitoring (or --spec), or give the spec of their group',
  });
  t.same(selectNodes(monitoring, []).targets, []);
  t.same(selectNodes(monitoring, [node('monitoring-1', 'monitoring', { state: 'destroyed' })]).targets, [], 'destroyed nodes only: nothing to do');
});
