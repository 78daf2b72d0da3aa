import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath, runBinary } from '@forklift/testkit';
import { runTool } from './helpers.js';

async function project(t: Test, files: Record<string, string>): Promise<{ cwd: string; env: Record<string, string> }> {
  const cwd = await mkdtemp(join(tmpdir(), 'fl-services-'));
  t.teardown(() => rm(cwd, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(cwd, name, '..'), { recursive: true });
    await writeFile(join(cwd, name), text);
  }
  return { cwd, env: { FORKLIFT_HOME: join(cwd, 'home') } };
}

t.test('service file - unknown provider is exit 65 naming the file and field', async (t) => {
  const { cwd, env } = await project(t, { 'services/web.json5': "{ provider: 'docker' }" });
  const result = await runBinary('provision-node', ['web', '1'], { cwd, env });
  t.equal(result.exitCode, 65);
  t.match(result.stderr, new RegExp(`${join(cwd, 'services', 'web.json5')}: service field "provider"`));
  t.equal(result.stderr.trim().split('\n').length, 1, 'one line on stderr');
});

t.test('service file - malformed JSON5 is exit 65 naming the file', async (t) => {
  const { cwd, env } = await project(t, { 'services/web.json5': '{ provider: "nspawn", ' });
  const result = await runTool(['web', '1'], { cwd, env });
  t.equal(result.exitCode, 65);
  t.match(result.stderr, /services\/web\.json5: not valid JSON5/);
});

t.test('service file - unknown option of the nspawn provider is exit 65 naming options.field', async (t) => {
  const { cwd, env } = await project(t, { 'services/web.json5': '{ provider: "nspawn", options: { sweet: "bookworm" } }' });
  const result = await runTool(['web', '1'], { cwd, env });
  t.equal(result.exitCode, 65);
  t.match(result.stderr, /services\/web\.json5: service field "options\.sweet"/);
});

t.test('service - missing service file is exit 65 naming where it was looked for', async (t) => {
  const { cwd, env } = await project(t, {});
  const result = await runTool(['nothere', '1'], { cwd, env });
  t.equal(result.exitCode, 65);
  t.match(result.stderr, /services\/nothere\.json5: service file not found/);
});

t.test('usage - bad COUNT, COUNT with --list and unknown flags are exit 64', async (t) => {
  const { cwd, env } = await project(t, {});
  for (const args of [
    ['local', 'two'],
    ['local', '1', '--list'],
    ['local', '1', '--colour'],
    ['local', '1', '--group', 'Bad Name'],
  ]) {
    const result = await runTool(args, { cwd, env });
    t.equal(result.exitCode, 64, `provision-node ${args.join(' ')} exits 64`, { stderr: result.stderr });
  }
});

const inventory = `[
  { id: 'rack-a', address: '127.0.0.1', port: 2201, user: 'deploy', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3ertKCTc6DgsIPygi2TFebDXdmhIThx0aZfwat7v/b', group: 'db' },
  { id: 'rack-b', address: '127.0.0.2', group: 'db', os: { family: 'debian', release: '12' } },
  { id: 'rack-c', address: '127.0.0.3', group: 'web' },
]`;

t.test('node-list - an inventory file gives node records per group; other counts are exit 64', async (t) => {
  const { cwd, env } = await project(t, {
    'services/rack.json5': "{ provider: 'node-list', inventory: 'rack-inventory.json5' }",
    'services/rack-inventory.json5': inventory,
  });
  const db = await runTool(['rack', '2', '--group', 'db'], { cwd, env });
  t.equal(db.exitCode, 0, 'count equal to the inventory is ok', { stderr: db.stderr });
  t.same(
    db.records.filter((record) => record.kind === 'node'),
    [
      {
        v: 1,
        kind: 'node',
        id: 'rack-a',
        address: '127.0.0.1',
        port: 2201,
        user: 'deploy',
        group: 'db',
        hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3ertKCTc6DgsIPygi2TFebDXdmhIThx0aZfwat7v/b',
        provider: 'node-list',
        service: 'rack',
        state: 'running',
      },
      {
        v: 1,
        kind: 'node',
        id: 'rack-b',
        address: '127.0.0.2',
        port: 22,
        user: 'root',
        group: 'db',
        os: { family: 'debian', release: '12' },
        provider: 'node-list',
        service: 'rack',
        state: 'running',
      },
    ],
  );
  const web = await runTool(['rack', '--list', '--group', 'web'], { cwd, env });
  t.same(
    web.records.filter((record) => record.kind === 'node').map((node) => node.id),
    ['rack-c'],
    '--list of group web',
  );
  const more = await runTool(['rack', '3', '--group', 'db'], { cwd, env });
  t.equal(more.exitCode, 64, 'asking for more nodes than listed is a usage error');
  t.match(more.stderr, /cannot create or destroy/);
});

t.test('node-list - a bad inventory entry is exit 65 naming the inventory file and field', async (t) => {
  const { cwd, env } = await project(t, {
    'services/rack.json5': "{ provider: 'node-list', nodes: [{ id: 'x', address: '10.0.0.1', port: 'ssh' }] }",
  });
  const result = await runTool(['rack', '--list'], { cwd, env });
  t.equal(result.exitCode, 65);
  t.match(result.stderr, /services\/rack\.json5: service field "nodes\[0\]\.port"/);
});

t.test('localhost - the built-in service writes this machine as one node with its own host key', async (t) => {
  const { cwd, env } = await project(t, {});
  const result = await runTool(['localhost', '1', '--group', 'here'], { cwd, env });
  t.equal(result.exitCode, 0, 'exit 0', { stderr: result.stderr });
  t.match(result.records[0], { kind: 'node', id: 'localhost', address: '127.0.0.1', port: 22, group: 'here', provider: 'node-list', service: 'localhost' });
  t.match(result.records.at(-1), { kind: 'summary', ok: true, counts: { nodes: 1 } });
});

t.test('--spec - group and count come from a JSON5 or TypeScript group spec; a bad count is exit 65', async (t) => {
  const { cwd, env } = await project(t, {
    'services/rack.json5': "{ provider: 'node-list', inventory: 'rack-inventory.json5' }",
    'services/rack-inventory.json5': inventory,
    'groups/db.json5': "{ group: 'db', count: 2, color: 'blue', roles: ['db'], node: { image: 'debian-12', hardware: { minCores: 1 } } }",
    'groups/web.ts': "const count: number = 1;\nexport default { group: 'web', count, phases: { configure: [] } };\n",
    'groups/bad.json5': "{ group: 'db', count: 'two' }",
  });
  const db = await runTool(['rack', '--spec', 'groups/db'], { cwd, env });
  t.equal(db.exitCode, 0, 'groups/db.json5 gives group db and count 2', { stderr: db.stderr });
  t.same(
    db.records.filter((record) => record.kind === 'node').map((node) => node.id),
    ['rack-a', 'rack-b'],
  );
  t.ok(
    db.records.filter((record) => record.kind === 'node').every((node) => node.color === 'blue' && JSON.stringify(node.roles) === '["db"]'),
    "the spec's color and roles are in the node records",
  );
  const listed = await runTool(['rack', '--list', '--group', 'db'], { cwd, env });
  t.same(
    listed.records.filter((record) => record.kind === 'node').map((node) => [node.id, node.color, node.roles]),
    [
      ['rack-a', 'blue', ['db']],
      ['rack-b', 'blue', ['db']],
    ],
    '--list writes them too',
  );
  const mismatch = await runTool(['rack', '--spec', 'groups/db', '--group', 'web'], { cwd, env });
  t.equal(mismatch.exitCode, 64, '--group that contradicts the spec is a usage error');
  t.match(mismatch.stderr, /--group web but groups\/db\.json5 is group db/);
  const web = await runTool(['rack', '--spec', 'groups/web'], { cwd, env });
  t.equal(web.exitCode, 0, 'groups/web.ts is loaded through tsx', { stderr: web.stderr });
  t.same(
    web.records.filter((record) => record.kind === 'node').map((node) => node.id),
    ['rack-c'],
  );
  const bad = await runTool(['rack', '--spec', 'groups/bad'], { cwd, env });
  t.equal(bad.exitCode, 65);
  t.match(bad.stderr, /groups\/bad\.json5: count: Invalid input: expected number/);
});

t.test("--spec - the spec's project is found from another directory: its services/ and relative references", async (t) => {
  const { cwd, env } = await project(t, {
    'proj/services/rack.json5': "{ provider: 'node-list', inventory: 'rack-inventory.json5' }",
    'proj/services/rack-inventory.json5': inventory,
    'proj/groups/web.json5': "{ group: 'web', count: 1, roles: ['web'], extends: ['servers/base'] }",
    'proj/servers/base.json5': '{ phases: { configure: [] } }',
    'elsewhere/.keep': '',
  });
  const web = await runTool(['rack', '--spec', '../proj/groups/web'], { cwd: join(cwd, 'elsewhere'), env });
  t.equal(web.exitCode, 0, 'run from another directory', { stderr: web.stderr });
  t.same(
    web.records.filter((record) => record.kind === 'node').map((node) => [node.id, node.roles]),
    [['rack-c', ['web']]],
  );
  const server = await runTool(['rack', '1', '--spec', '../proj/servers/base'], { cwd: join(cwd, 'elsewhere'), env });
  t.equal(server.exitCode, 65, 'a server spec is not a group spec');
  t.match(server.stderr, /proj\/servers\/base\.json5: not a group spec/);
});

t.test('prerequisites - nspawn and netns as a non-root user are exit 69 saying what to do, touching nothing', async (t) => {
  const { cwd } = await project(t, {});
  for (const service of ['local', 'netns']) {
    const home = join(cwd, `home-${service}`);
    const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, binPath('provision-node'), service, '1'], {
      cwd,
      env: { ...process.env, FORKLIFT_HOME: home, HOME: cwd },
      encoding: 'utf8',
      timeout: 60_000,
    });
    t.equal(result.status, 69, `${service} as uid 65534 exits 69`, { stderr: result.stderr });
    t.match(result.stderr, /needs root.*run provision-node as root/);
    t.notOk(existsSync(home), 'nothing was written');
  }
});
