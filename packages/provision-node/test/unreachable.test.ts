// Nodes a provider knows exist but cannot reach now (an lxd node on an offline cluster member), with a
// fake provider: they count towards COUNT and are not re-created, get no record but a report entry,
// and are the first surplus when the group shrinks. Light: no nodes, no root.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convergeNodes, listReport, type CreateRequest, type ListedNode, type Provider } from '../src/index.js';

function fake() {
  const nodes: ListedNode[] = [
    { node: { id: 'web-1', group: 'web', service: 'f', provider: 'fake', address: '192.0.2.1', port: 22, user: 'root' }, createdMs: 1, status: 'running' },
    // as the lxd provider lists a node of an offline member: its age unknown, so it goes first when the group shrinks
    {
      node: { id: 'web-2', group: 'web', service: 'f', provider: 'fake', address: '0.0.0.0', port: 22, user: 'root' },
      createdMs: Number.MAX_SAFE_INTEGER,
      status: 'running',
      unreachable: 'web-2 is unreachable: its member m2 is offline',
    },
  ];
  const calls: string[] = [];
  const provider: Provider = {
    name: 'fake',
    canCreate: true,
    async prerequisites() {},
    async list(_ctx, group) {
      return nodes.filter((node) => group === undefined || node.node.group === group);
    },
    async create(_ctx, requests: CreateRequest[]) {
      calls.push(`create ${requests.map((request) => request.id).join(' ')}`);
      const made = requests.map((request, index): ListedNode => ({
        node: { id: request.id, group: request.group, service: 'f', provider: 'fake', address: '192.0.2.9', port: 22, user: 'root' },
        createdMs: 10 + index,
        status: 'running',
      }));
      nodes.push(...made);
      return made;
    },
    async destroy(_ctx, gone) {
      calls.push(`destroy ${gone.map((node) => node.node.id).join(' ')}`);
      for (const node of gone) nodes.splice(nodes.indexOf(node), 1);
    },
  };
  return { provider, calls };
}

t.test('unreachable nodes - counted, not re-created, no record but a report entry; the first surplus', async (t) => {
  const home = await mkdtemp(join(tmpdir(), 'fl-unreachable-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  const { provider, calls } = fake();
  const common = { service: 'f', group: 'web', home, env: {}, provider, log: () => undefined };

  const listed = await listReport(common);
  t.same(
    listed.nodes.map((node) => node.id),
    ['web-1'],
    '--list: a record for the reachable node only',
  );
  t.same(listed.unreachable, [{ id: 'web-2', group: 'web', message: 'web-2 is unreachable: its member m2 is offline' }], 'and the unreachable one reported');

  const same = await convergeNodes({ ...common, count: 2 });
  t.same(
    [same.created, same.destroyed, same.nodes.length, same.unreachable.length],
    [0, 0, 1, 1],
    'count 2 with one unreachable: nothing made, nothing destroyed',
  );

  const grown = await convergeNodes({ ...common, count: 3 });
  t.same(calls, ['create web-3'], 'count 3: only one node is created (the unreachable one counts)');
  t.same(
    grown.nodes.map((node) => node.id),
    ['web-1', 'web-3'],
  );
  t.same(
    grown.unreachable.map((node) => node.id),
    ['web-2'],
  );

  const shrunk = await convergeNodes({ ...common, count: 2 });
  t.same(calls.at(-1), 'destroy web-2', 'shrinking to 2 picks the unreachable node first');
  t.same([shrunk.nodes.map((node) => node.id), shrunk.unreachable], [['web-1', 'web-3'], []]);
});
