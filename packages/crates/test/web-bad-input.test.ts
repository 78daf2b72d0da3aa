// Bad input to the nginx and app-server crates through `run-actions SPEC` (JSON5, by name): a wrong
// type, a missing required option, a color other than blue/green, no app server of the color among the
// nodes -> exit 65, one stderr line naming the spec file, the crate and the field; nothing runs (the
// nodes point at a closed loopback port: no connection is tried).
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

const web = node('crate-web-blue-1', 'crate-web-blue', { roles: ['web'], color: 'blue' });
const app = node('crate-app-blue-1', 'crate-app-blue', { roles: ['app'], color: 'blue' });
const greenApp = node('crate-app-green-1', 'crate-app-green', { roles: ['app'], color: 'green' });

const cases: Array<{ title: string; spec: string; nodes: Array<Record<string, unknown>>; message: RegExp }> = [
  {
    title: 'nginx: a color other than blue/green',
    spec: 'groups/bad-nginx-color',
    nodes: [web, app],
    message: /^run-actions: groups\/bad-nginx-color\.json5 extends\[0\] \(nginx\): options\.color: .*"blue"\|"green"/,
  },
  {
    title: 'nginx: no app server of its color among the nodes',
    spec: 'groups/web-blue',
    nodes: [web, greenApp],
    message:
      /^run-actions: groups\/web-blue\.json5 extends\[0\] \(nginx\): upstreams: needs a node with role app, color blue among the node records \(found 0\)\n?$/,
  },
  {
    title: 'app-server: a missing required option',
    spec: 'groups/bad-app-server-missing',
    nodes: [app],
    message: /^run-actions: groups\/bad-app-server-missing\.json5 extends\[0\] \(app-server\): options\.version: missing\n?$/,
  },
  {
    title: 'app-server: an option of the wrong type',
    spec: 'groups/bad-app-server-type',
    nodes: [app],
    message: /^run-actions: groups\/bad-app-server-type\.json5 extends\[0\] \(app-server\): options\.port: .*expected number/,
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
