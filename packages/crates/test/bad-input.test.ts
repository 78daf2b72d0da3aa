// Bad crate input through `run-actions SPEC`: a crate option of the wrong type, a missing required option, a color
// other than blue/green (option or node record), a replica with no primary among the nodes, an even ZooKeeper
// ensemble, a file server missing -> exit 65, one stderr line naming the spec file, the crate and the field, and
// nothing runs (no connection is even tried: the nodes point at a closed loopback port).
import t from 'tap';
import { join } from 'node:path';
import { runBinary, toNdjson } from '@forklift/testkit';

const FIXTURES = join(import.meta.dirname, 'fixtures');

function node(id: string, group: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1,
    kind: 'node',
    id,
    group,
    service: 'local',
    provider: 'nspawn',
    address: '127.0.0.1',
    port: 9,
    user: 'root',
    state: 'running',
    os: { family: 'debian', release: '12' },
    ...fields,
  };
}

const cases: Array<{ title: string; spec: string; nodes: Array<Record<string, unknown>>; message: RegExp }> = [
  {
    title: 'a crate option of the wrong type',
    spec: 'groups/bad-db-option-type',
    nodes: [node('crate-db-blue-1', 'crate-db-blue', { roles: ['db'], color: 'blue' })],
    message: /^run-actions: groups\/bad-db-option-type\.json5 extends\[0\] \(mariadb\): options\.databases: .*expected array/,
  },
  {
    title: 'a missing required option',
    spec: 'groups/bad-db-missing-password',
    nodes: [node('crate-db-blue-1', 'crate-db-blue', { roles: ['db'], color: 'blue' })],
    message: /^run-actions: groups\/bad-db-missing-password\.json5 extends\[0\] \(mariadb\): options\.users\[0\]\.passwordFrom: missing\n?$/,
  },
  {
    title: 'a color option other than blue/green',
    spec: 'groups/bad-db-option-color',
    nodes: [node('crate-db-blue-1', 'crate-db-blue', { roles: ['db'], color: 'blue' })],
    message: /^run-actions: groups\/bad-db-option-color\.json5 extends\[0\] \(mariadb\): options\.color: .*"blue"\|"green"/,
  },
  {
    title: 'a node colored other than blue/green',
    spec: 'groups/bad-db-color',
    nodes: [node('crate-db-red-1', 'crate-db-red', { roles: ['db'], color: 'red' })],
    message: /^run-actions: groups\/bad-db-color\.json5 extends\[0\] \(mariadb\): color: node crate-db-red-1 has color "red"; expected one of blue, green\n?$/,
  },
  {
    title: 'a replica with no primary among the nodes',
    spec: 'groups/db-green',
    nodes: [node('crate-db-green-1', 'crate-db-green', { roles: ['db'], color: 'green' })],
    message:
      /^run-actions: groups\/db-green\.json5 extends\[0\] \(mariadb\): replication\.peer: a replica needs exactly one node with role db, color blue among the node records \(found 0\)\n?$/,
  },
  {
    title: 'two ZooKeeper nodes (not an ensemble)',
    spec: 'groups/bad-zk-ensemble',
    nodes: [node('crate-zk2-1', 'crate-zk2', { roles: ['zk'] }), node('crate-zk2-2', 'crate-zk2', { roles: ['zk'] })],
    message: /^run-actions: groups\/bad-zk-ensemble\.json5 extends\[0\] \(zookeeper\): role: an ensemble needs 1, 3, 5 or 7 nodes with role zk \(found 2/,
  },
  {
    title: 'an NFS client with no file server among the nodes',
    spec: 'groups/files-clients',
    nodes: [node('crate-files-clients-1', 'crate-files-clients', { roles: ['app'] })],
    message:
      /^run-actions: groups\/files-clients\.json5 extends\[0\] \(nfs-client\): server: needs a node with role files among the node records \(found 0\)\n?$/,
  },
];

for (const { title, spec, nodes, message } of cases) {
  t.test(`bad input - ${title}: exit 65, one line naming file, crate and field, nothing runs`, async (t) => {
    const run = await runBinary('run-actions', [spec], { cwd: FIXTURES, stdin: toNdjson(nodes) });
    t.equal(run.exitCode, 65);
    t.match(run.stderr, message);
    t.equal(run.stderr.trimEnd().split('\n').length, 1, 'one line');
    t.same(
      run.records.filter((r) => r.kind === 'result' || r.kind === 'phase'),
      [],
      'nothing ran',
    );
    t.notOk(
      run.records.some((r) => r.kind === 'error' && r.code === 'unreachable'),
      'no connection was tried',
    );
  });
}
