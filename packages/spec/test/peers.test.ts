// peers(): crates find the nodes they talk to by role, group and color, in a stable order.
import t from 'tap';
import type { NodeRecord } from '@forklift/contract';
import { peers } from '../src/index.js';

const node = (id: string, group: string, extra: Partial<NodeRecord> = {}): NodeRecord =>
  ({
    v: 1,
    kind: 'node',
    id,
    group,
    service: 'local',
    provider: 'nspawn',
    address: `10.0.0.${id.length}`,
    port: 22,
    user: 'root',
    state: 'running',
    ...extra,
  }) as NodeRecord;

const nodes = [
  node('blue-app-10', 'blue-app', { color: 'blue', roles: ['app'] }),
  node('blue-app-2', 'blue-app', { color: 'blue', roles: ['app'] }),
  node('green-app-1', 'green-app', { color: 'green', roles: ['app'] }),
  node('blue-db-1', 'blue-db', { color: 'blue', roles: ['db'] }),
  node('lb-1', 'lb', { roles: ['lb'] }),
  node('all-1', 'wine-cellar', { color: 'blue', roles: ['lb', 'web', 'app', 'db'] }),
  node('gone-1', 'blue-app', { color: 'blue', roles: ['app'], state: 'destroyed' }),
];

t.test('peers - by role, group and color together; running nodes only; ids in numeric order', async (t) => {
  t.same(
    peers(nodes, { role: 'app', color: 'blue' }).map((n) => n.id),
    ['all-1', 'blue-app-2', 'blue-app-10'],
  );
  t.same(
    peers(nodes, { role: 'app' }).map((n) => n.id),
    ['all-1', 'blue-app-2', 'blue-app-10', 'green-app-1'],
  );
  t.same(
    peers(nodes, { group: 'blue-app' }).map((n) => n.id),
    ['blue-app-2', 'blue-app-10'],
    'a destroyed node is no peer',
  );
  t.same(
    peers(nodes, { role: 'lb' }).map((n) => n.id),
    ['all-1', 'lb-1'],
    'one node may hold every role',
  );
  t.same(peers(nodes, { role: 'zk' }), [], 'no node of a role: an empty list, the crate decides');
  t.same(peers(nodes).length, 6, 'no selector: every running node');
  t.same(peers([...nodes].reverse(), { role: 'app' }), peers(nodes, { role: 'app' }), 'the order nodes arrived in does not matter');
});
