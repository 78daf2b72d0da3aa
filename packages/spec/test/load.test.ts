// The one spec loader: files of every extension, the default-export rule, the group rule, the node spec
// vocabulary, extends (references, objects, crates by name) and the project a spec belongs to.
import t, { type Test } from 'tap';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSpecShape, loadSpec, projectRootOf, resolveSpecPath, SPEC_EXTENSIONS, type ServerSpec } from '../src/index.js';

async function project(t: Test, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fl-spec-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

t.test('loadSpec - every spec extension, tried in order', async (t) => {
  t.same([...SPEC_EXTENSIONS], ['.ts', '.mts', '.js', '.mjs', '.json5', '.json']);
  const dir = await project(t, {
    'package.json': '{ "type": "module" }',
    'groups/a.ts': "const n: number = 1;\nexport default { group: 'a', count: n };\n",
    'groups/b.mts': "export default { group: 'b' };\n",
    'groups/c.js': "export default { group: 'c' };\n",
    'groups/d.mjs': "export default { group: 'd' };\n",
    'groups/e.json5': "{ group: 'e', // a comment\n}",
    'groups/f.json': '{ "group": "f" }',
    'groups/both.ts': "export default { group: 'both-ts' };\n",
    'groups/both.json5': "{ group: 'both-json5' }",
  });
  for (const name of ['a', 'b', 'c', 'd', 'e', 'f'])
    t.match(await loadSpec(`groups/${name}`, { cwd: dir }), {
      group: name,
      source: join('groups', `${name}${['.ts', '.mts', '.js', '.mjs', '.json5', '.json']['abcdef'.indexOf(name)]}`),
      cwd: dir,
    });
  t.match(await loadSpec('groups/both', { cwd: dir }), { group: 'both-ts' }, '.ts comes before .json5');
  t.match(await loadSpec('groups/both.json5', { cwd: dir }), { group: 'both-json5' }, 'a reference with an extension names its file');
  t.throws(() => resolveSpecPath('groups/none', dir), {
    code: 'spec-not-found',
    message: /spec "groups\/none" not found \(tried groups\/none\.ts, groups\/none\.mts, .*groups\/none\.json\)/,
  });
});

// What the READMEs warn about (issue 12 item 11): a code spec is code run by the loading process, as its user, and a
// `.ts` dropped next to a `.json5` takes its place under the extension-less reference.
t.test("loadSpec - a .ts spec runs with the caller's privileges and shadows the .json5 of the same name", async (t) => {
  const dir = await project(t, {
    'package.json': '{ "type": "module" }',
    'groups/web.json5': "{ group: 'web', count: 2 }",
  });
  t.match(await loadSpec('groups/web', { cwd: dir }), { group: 'web', count: 2, source: join('groups', 'web.json5') }, 'the data spec alone');
  const ran = join(dir, 'ran-as');
  await writeFile(
    join(dir, 'groups', 'web.ts'),
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(ran)}, String(process.getuid?.()) + ' ' + process.pid);\nexport default { group: 'web', count: 9 };\n`,
  );
  t.match(await loadSpec('groups/web', { cwd: dir }), { group: 'web', count: 9, source: join('groups', 'web.ts') }, 'the .ts beside it is loaded instead');
  t.equal(await readFile(ran, 'utf8'), `${process.getuid?.()} ${process.pid}`, 'its top-level code ran in the loading process, as the loading user');
  t.match(await loadSpec('groups/web.json5', { cwd: dir }), { count: 2 }, 'naming the extension loads exactly the data spec');
});

t.test('loadSpec - the default export rule: default (else `spec`), a function is called once, CommonJS unwrapped', async (t) => {
  const dir = await project(t, {
    'groups/named.mjs': "export const spec = { group: 'named' };\n",
    'groups/factory.mjs': "let calls = 0;\nexport default () => ({ group: 'factory', count: ++calls });\n",
    'groups/async.mjs': "export default async () => ({ group: 'async' });\n",
    'groups/throws.mjs': "export default () => { throw new Error('no database'); };\n",
    'groups/nothing.mjs': 'export const other = 1;\n',
    // no package.json with "type": "module" here: tsx compiles these .ts files as CommonJS
    'groups/cjs.ts': "export default { group: 'cjs' };\n",
    'groups/cjs-factory.ts': "export default function make() { return { group: 'cjs-factory' }; }\n",
  });
  t.match(await loadSpec('groups/named', { cwd: dir }), { group: 'named' });
  t.match(await loadSpec('groups/factory', { cwd: dir }), { group: 'factory', count: 1 });
  t.match(await loadSpec('groups/async', { cwd: dir }), { group: 'async' });
  t.match(await loadSpec('groups/cjs', { cwd: dir }), { group: 'cjs' });
  t.match(await loadSpec('groups/cjs-factory', { cwd: dir }), { group: 'cjs-factory' });
  await t.rejects(loadSpec('groups/throws', { cwd: dir }), { name: 'InputError', message: 'groups/throws.mjs: default export: threw no database' });
  await t.rejects(loadSpec('groups/nothing', { cwd: dir }), { name: 'InputError', message: /^groups\/nothing\.mjs: exports no spec/ });
});

t.test('group rule - `group` names the group; `name` is a label; group fields without a group are an error', async (t) => {
  t.match(checkSpecShape({ name: 'web servers', group: 'web', count: 2 }, 'g.json5'), { group: 'web' });
  t.throws(() => checkSpecShape({ name: 'web', count: 2 }, 'g.json5'), {
    name: 'InputError',
    message: 'g.json5: group: missing: a spec with "count" is a group spec and names its group with "group" ("name" is only a label)',
  });
  t.throws(() => checkSpecShape({ roles: ['web'] }, 'g.json5'), { message: /a spec with "roles" is a group spec/ });
  t.throws(() => checkSpecShape({ group: 'Web_1' }, 'g.json5'), { message: 'g.json5: group: must be lowercase letters, digits and -, at most 40' });
  t.match(checkSpecShape({ group: 'blue-web', color: 'blue', roles: ['web', 'lb'] }, 'g.json5'), { color: 'blue', roles: ['web', 'lb'] });
  t.throws(() => checkSpecShape({ group: 'w', color: 'Blue' }, 'g.json5'), {
    message: 'g.json5: color: must be lowercase letters, digits, _ and - (at most 40)',
  });
  t.throws(() => checkSpecShape({ group: 'w', roles: 'web' }, 'g.json5'), { message: /^g\.json5: roles: Invalid input: expected array/ });
  t.throws(() => checkSpecShape({ group: 'w', colour: 'blue' }, 'g.json5'), { message: 'g.json5: unknown field "colour"' });
});

t.test('node spec - one hardware vocabulary (minimums with units); the old words are refused', async (t) => {
  t.match(
    checkSpecShape(
      { group: 'w', node: { image: 'debian-12', hardware: { minCores: 2, minRamMiB: 1024, minDiskGiB: 4 }, network: { inboundPorts: [80] } } },
      'g.json5',
    ),
    { node: { hardware: { minRamMiB: 1024 } } },
  );
  t.match(checkSpecShape({ group: 'w', node: { image: { osFamily: 'debian', osVersion: '12' }, provider: { qemu: { machine: 'q35' } } } }, 'g.json5'), {
    group: 'w',
  });
  t.throws(() => checkSpecShape({ group: 'w', node: { hardware: { cpus: 1 } } }, 'g.json5'), { message: 'g.json5: node.hardware: unknown field "cpus"' });
  t.throws(() => checkSpecShape({ group: 'w', node: { hardware: { minRam: 512, memoryMiB: 1 } } }, 'g.json5'), {
    message: 'g.json5: node.hardware: unknown field "minRam", "memoryMiB"',
  });
  t.throws(() => checkSpecShape({ group: 'w', node: { network: { inboundPorts: [0] } } }, 'g.json5'), {
    message: /^g\.json5: node\.network\.inboundPorts\[0\]: Too small/,
  });
});

t.test("extends - references resolve against the spec's project first, whatever the cwd; objects and crates by name", async (t) => {
  const dir = await project(t, {
    'proj/groups/web.json5':
      "{ group: 'web', extends: ['servers/base', { name: 'inline', phases: { configure: [] } }, { crate: 'motd', options: { text: 'hi' } }] }",
    'proj/servers/base.json5': "{ name: 'base', extends: ['servers/deeper'] }",
    'proj/servers/deeper.json5': "{ name: 'deeper' }",
    'proj/groups/loop.json5': "{ group: 'loop', extends: ['groups/loop'] }",
    'other/.keep': '',
  });
  const resolveCrate = (entry: { crate: string; options?: unknown }, where: string, projectDir: string): ServerSpec => ({
    name: `crate ${entry.crate} ${JSON.stringify(entry.options)} at ${where} in ${projectDir}`,
  });
  const spec = await loadSpec('../proj/groups/web', { cwd: join(dir, 'other'), resolveCrate });
  t.equal(spec.cwd, join(dir, 'proj'), 'the project is the parent of groups/');
  const [base, inline, crate] = spec.extends as ServerSpec[];
  t.match(base, { name: 'base', source: join('..', 'proj', 'servers', 'base.json5'), cwd: join(dir, 'proj') });
  t.match((base!.extends as ServerSpec[])[0], { name: 'deeper' }, 'a reference inside a referenced spec resolves against its project too');
  t.match(inline, { name: 'inline', source: '../proj/groups/web.json5 extends[1] (inline)' });
  t.match(crate, {
    name: `crate motd {"text":"hi"} at ../proj/groups/web.json5 extends[2] in ${join(dir, 'proj')}`,
    source: '../proj/groups/web.json5 extends[2] (motd)',
  });
  await t.rejects(loadSpec('proj/groups/web', { cwd: dir }), {
    code: 'unknown-crate',
    message: /^proj\/groups\/web\.json5 extends\[2\]: crate "motd": no crate resolver given/,
  });
  const shallow = await loadSpec('proj/groups/web', { cwd: dir, shallow: true });
  t.same(
    shallow.extends,
    ['servers/base', { name: 'inline', phases: { configure: [] } }, { crate: 'motd', options: { text: 'hi' } }],
    'shallow: extends left as written (provision-node reads only the group)',
  );
  await t.rejects(loadSpec('proj/groups/loop', { cwd: dir }), { message: /extends itself \(proj\/groups\/loop\.json5 -> proj\/groups\/loop\.json5\)/ });
});

t.test("projectRootOf - the parent of groups/, servers/ or nodes/, else the file's folder", async (t) => {
  t.equal(projectRootOf('/p/examples/monitoring/groups/monitoring.json5'), '/p/examples/monitoring');
  t.equal(projectRootOf('/p/servers/base.ts'), '/p');
  t.equal(projectRootOf('/p/nodes/small.json5'), '/p');
  t.equal(projectRootOf('/p/specs/web.json5'), '/p/specs');
});
