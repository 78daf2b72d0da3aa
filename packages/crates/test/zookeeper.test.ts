// The zookeeper crate on real local nodes: one standalone node (heap, data dir, znode from the spec) and a
// three-node ensemble; converge, converge again -> 0 changed, --plan -> 0 changes, ruok answered imok.
import t from 'tap';
import { join } from 'node:path';
import type { NodeRecord } from '@forklift/contract';
import { converge, describeRun, onNode, packageTimes, testNodes } from './helpers/nodes.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');

// a fresh machine builds the rootfs and fetches a JRE first
t.setTimeout(25 * 60_000);

const ruok = (node: NodeRecord) => onNode(node, `bash -c 'exec 3<>/dev/tcp/127.0.0.1/2181; printf ruok >&3; timeout 5 cat <&3'`);
const mode = async (node: NodeRecord) =>
  /^Mode: (\w+)$/m.exec(await onNode(node, `bash -c 'exec 3<>/dev/tcp/127.0.0.1/2181; printf srvr >&3; timeout 5 cat <&3'`))?.[1];

let single: NodeRecord[] = [];
let ensemble: NodeRecord[] = [];

t.before(async () => {
  [single, ensemble] = await Promise.all([
    testNodes(t, { group: 'crate-zk', count: 1, roles: ['zk'] }),
    testNodes(t, { group: 'crate-zk3', count: 3, roles: ['zk'] }),
  ]);
});

t.test('zookeeper - one node converges: imok, heap and data dir set, the znode holds the spec value', async (t) => {
  const first = await converge('groups/zk', single, { cwd: FIXTURES });
  t.comment(`apt: ${packageTimes(first)}`);
  t.equal(first.exitCode, 0, describeRun(first));
  t.ok(first.changed.length > 5, 'the first converge changes things');
  const [node] = single as [NodeRecord];
  t.equal(await ruok(node), 'imok', 'ruok is answered imok');
  t.equal(await mode(node), 'standalone');
  const java = await onNode(node, 'ps -o args= -u zookeeper');
  t.match(java, /-Xmx128m/, 'the heap is set');
  t.match(
    await onNode(node, 'ls /srv/zookeeper; readlink /srv/zookeeper/myid; cat /etc/zookeeper/conf/myid'),
    /^myid\nversion-2\n\/etc\/zookeeper\/conf\/myid\n1\n$/,
    'data in the data dir, myid 1',
  );
  const value = await onNode(node, '/usr/local/sbin/forklift-zk-get 2181 /wine-cellar/config');
  t.same(JSON.parse(value), { greeting: 'hello from the spec' }, 'the configuration znode holds the JSON from the spec');
  // the headless JRE only: the desktop one (GTK, X11, Mesa) is not on the server
  const status = (name: string) => onNode(node, `dpkg-query -W -f='\${Status}' ${name} 2>/dev/null || true`);
  t.equal(await status('forklift-zookeeper-jre'), 'install ok installed', 'the package standing in for default-jre is installed');
  t.equal(await status('default-jre-headless'), 'install ok installed', 'the headless JRE is installed');
  for (const desktop of ['default-jre', 'openjdk-17-jre', 'libgtk-3-0', 'libgl1'])
    t.notMatch(await status(desktop), /install ok installed/, `${desktop} is not installed`);
  const runningJava = await onNode(node, 'dpkg -S "$(readlink -f /proc/$(pgrep -o -u zookeeper java)/exe)"');
  t.match(runningJava, /^openjdk-\d+-jre-headless:/, "ZooKeeper's java is the headless JRE's");
});

t.test('zookeeper - converge again: 0 changed; --plan: 0 changes', async (t) => {
  const again = await converge('groups/zk', single, { cwd: FIXTURES });
  t.equal(again.exitCode, 0, describeRun(again));
  t.same(
    again.changed.map((r) => r.label),
    [],
    'nothing changed',
  );
  const plan = await converge('groups/zk', single, { cwd: FIXTURES, args: ['--plan'] });
  t.equal(plan.exitCode, 0, describeRun(plan));
  t.same(
    plan.changed.map((r) => r.label),
    [],
    'the plan has no change',
  );
});

t.test('zookeeper - a znode changed by hand is set back by the next converge', async (t) => {
  const [node] = single as [NodeRecord];
  await onNode(node, `/usr/local/sbin/forklift-zk-set 2181 /wine-cellar/config '{"greeting":"by hand"}'`);
  const plan = await converge('groups/zk', single, { cwd: FIXTURES, args: ['--plan'] });
  t.same(
    plan.changed.map((r) => r.id),
    ['zookeeper-znode-1'],
    'the plan names the znode',
  );
  const fix = await converge('groups/zk', single, { cwd: FIXTURES });
  t.equal(fix.exitCode, 0, describeRun(fix));
  t.same(JSON.parse(await onNode(node, '/usr/local/sbin/forklift-zk-get 2181 /wine-cellar/config')), { greeting: 'hello from the spec' });
});

t.test('zookeeper - three nodes with role zk form one ensemble: a leader, two followers; converge again 0 changed', async (t) => {
  const first = await converge('groups/zk3', ensemble, { cwd: FIXTURES });
  t.equal(first.exitCode, 0, describeRun(first));
  const modes = [];
  for (const node of ensemble) {
    t.equal(await ruok(node), 'imok', `${node.id} answers imok`);
    t.equal((await onNode(node, 'cat /etc/zookeeper/conf/myid')).trim(), node.id.slice(-1), `${node.id} has myid ${node.id.slice(-1)}`);
    modes.push(await mode(node));
  }
  t.same(modes.sort(), ['follower', 'follower', 'leader']);
  // a znode written through one member is read through another
  await onNode(ensemble[0]!, `/usr/local/sbin/forklift-zk-set 2181 /crate-test/shared 'written on ${ensemble[0]!.id}'`);
  t.equal((await onNode(ensemble[2]!, '/usr/local/sbin/forklift-zk-get 2181 /crate-test/shared')).trim(), `written on ${ensemble[0]!.id}`);
  const again = await converge('groups/zk3', ensemble, { cwd: FIXTURES });
  t.equal(again.exitCode, 0, describeRun(again));
  t.same(
    again.changed.map((r) => `${String(r.node)} ${String(r.label)}`),
    [],
    'nothing changed',
  );
});
