// Controller files named by specs (local, contentFrom, upload, passwordFrom, envFrom) stay inside the spec's
// project: `../../etc/shadow`, an absolute path outside, or a symlink inside pointing out are refused (65).
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, type NodeRecord } from '@forklift/contract';
import { renderPlans, type ActionEntry } from '../src/index.js';
import { runCli } from './helpers.js';

const node: NodeRecord = {
  v: 1,
  kind: 'node',
  id: 'n1',
  group: 'g',
  service: 's',
  provider: 'p',
  address: '10.0.0.1',
  port: 22,
  user: 'root',
  state: 'running',
  os: { family: 'debian', release: '12' },
};

function project(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'render-crate-files-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'project');
  const outside = join(dir, 'outside');
  mkdirSync(join(root, 'groups'), { recursive: true });
  mkdirSync(join(root, 'files'));
  mkdirSync(outside);
  writeFileSync(join(root, 'files', 'motd'), 'hello\n');
  writeFileSync(join(outside, 'secret'), 'not yours\n');
  symlinkSync(join(outside, 'secret'), join(root, 'files', 'sneaky'));
  return { dir, root, outside };
}

const kinds: Array<[string, (ref: string) => ActionEntry]> = [
  ['local', (ref) => ({ action: 'file', path: '/etc/x', local: ref })],
  ['contentFrom', (ref) => ({ action: 'file', path: '/etc/x', contentFrom: ref })],
  ['upload', (ref) => ({ action: 'file', path: '/etc/x', upload: ref })],
  ['passwordFrom', (ref) => ({ action: 'user', name: 'bob', passwordFrom: ref })],
  ['envFrom', (ref) => ({ action: 'exec', command: ['true'], envFrom: { X: ref } })],
  ['archive upload', (ref) => ({ action: 'archive', path: '/opt/x', upload: ref, format: 'tar' })],
];

t.test('controller files - inside the project they render; outside (.., absolute, symlink out) is an InputError', async (t) => {
  const { root, outside } = project(t);
  for (const [kind, entry] of kinds) {
    const ok = await renderPlans({ cwd: root, source: 'groups/x.json5', phases: { configure: [entry('files/motd')] } }, [node]);
    t.equal(ok.length, 1, `${kind}: a file inside the project renders`);
    for (const ref of ['../outside/secret', '../../../../../../etc/shadow', join(outside, 'secret'), 'files/sneaky']) {
      const spec = { cwd: root, source: 'groups/x.json5', phases: { configure: [entry(ref)] } };
      await t.rejects(renderPlans(spec, [node]), InputError, `${kind}: ${ref} is refused`);
      await t.rejects(renderPlans(spec, [node]), { message: /outside the spec's project .*allow another folder with --allow-files DIR|cannot read/ });
    }
    const widened = await renderPlans({ cwd: root, source: 'groups/x.json5', phases: { configure: [entry('files/sneaky')] } }, [node], {
      allowFiles: [outside],
    });
    t.equal(widened.length, 1, `${kind}: allowFiles widens the confinement`);
  }
  await t.rejects(
    renderPlans({ cwd: root, source: 'groups/x.json5', phases: { configure: [{ action: 'file', path: '/etc/x', local: '../../../../../../etc/shadow' }] } }, [
      node,
    ]),
    {
      message:
        /^groups\/x\.json5: phases\.configure\[0\]: local file "\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/\.\.\/etc\/shadow" is \/etc\/shadow, outside the spec's project/,
    },
  );
});

t.test('render-crate CLI - a spec reading /etc/shadow exits 65 with one line; --allow-files widens it', async (t) => {
  const { root, outside } = project(t);
  writeFileSync(join(root, 'groups', 'evil.json5'), `{ phases: { configure: [{ action: 'file', path: '/etc/x', local: '../outside/secret' }] } }`);
  const refused = await runCli(['groups/evil'], undefined, root);
  t.equal(refused.code, 65, refused.stderr);
  t.equal(refused.stderr.trim().split('\n').length, 1, 'one line');
  t.match(refused.stderr, /local file "..\/outside\/secret" is .*outside\/secret, outside the spec's project/);
  t.notMatch(refused.stdout, 'not yours', 'nothing of the file reached a record');
  const widened = await runCli(['groups/evil', '--allow-files', outside], undefined, root);
  t.equal(widened.code, 0, widened.stderr);
});
