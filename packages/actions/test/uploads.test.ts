// ctx.upload: controller files reach the script by name only (never their bytes), and run for real under dash
// with the directories run-actions provides: sensitive ones per run in fl_up, the others by sha256 in fl_blobs.
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { factsFromOs, renderPhaseScript, validateArgs, type UploadResolver } from '../src/index.js';
import { runScript } from './run-lib.js';

const SECRET = 'hunter2-canary-7f3a';
const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

function setup(t: { teardown(fn: () => void): void }) {
  const root = mkdtempSync(join(tmpdir(), 'forklift-uploads-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const controller: Record<string, string> = { 'secrets/db': `${SECRET}\n`, 'dist/app.bin': 'big non-secret bytes\n' };
  const resolveUpload: UploadResolver = (path, { sensitive }) => {
    const content = controller[path];
    if (content === undefined) throw new Error(`no ${path}`);
    return sensitive ? { source: `/p/${path}`, bytes: content.length } : { source: `/p/${path}`, bytes: content.length, sha256: sha(content) };
  };
  const up = join(root, 'up');
  const blobs = join(root, 'blobs');
  mkdirSync(up, { mode: 0o700 });
  mkdirSync(blobs);
  const deliver = (uploads: ReadonlyArray<{ name: string; source: string; sha256?: string; sensitive?: boolean }>): void => {
    for (const upload of uploads) {
      const content = controller[upload.source.slice(3)]!;
      writeFileSync(upload.sensitive ? join(up, upload.name) : join(blobs, upload.sha256!), content);
    }
  };
  return { root, up, blobs, resolveUpload, deliver };
}

function render(steps: Array<{ id: string; action: string; args: unknown }>, resolveUpload: UploadResolver, plan = false, stateDir?: string) {
  const instances = steps.map((step) => ({ id: step.id, action: step.action, args: validateArgs(step.action, step.args) }));
  return renderPhaseScript(instances, { phase: 'configure', facts: factsFromOs({ family: 'debian', release: '12' }), resolveUpload, plan, stateDir });
}

t.test('uploads - the plan names files, never carries their bytes; secrets get no sha256', async (t) => {
  const { resolveUpload } = setup(t);
  const rendered = render(
    [
      { id: 'pw', action: 'file', args: { path: '/etc/app/pw', contentFrom: 'secrets/db', mode: '0600' } },
      { id: 'bin', action: 'file', args: { path: '/opt/app.bin', upload: 'dist/app.bin' } },
      { id: 'env', action: 'exec', args: { command: ['true'], envFrom: { DB: 'secrets/db' } } },
    ],
    resolveUpload,
  );
  t.same(
    rendered.uploads,
    [
      { name: 'u1', source: '/p/secrets/db', bytes: SECRET.length + 1, sensitive: true },
      { name: 'u2', source: '/p/dist/app.bin', bytes: 21, sha256: sha('big non-secret bytes\n') },
    ],
    'one entry per file (the same secret twice is one upload)',
  );
  t.notMatch(rendered.script, SECRET, 'the secret is not in the script');
  t.match(rendered.script, '"$fl_up"/u1');
  t.match(rendered.script, `"$fl_blobs"/${sha('big non-secret bytes\n')}`);
});

t.test('uploads - a script that needs them stops with 64 when run without them', async (t) => {
  const { resolveUpload } = setup(t);
  const { script } = render([{ id: 'pw', action: 'file', args: { path: '/tmp/x', contentFrom: 'secrets/db' } }], resolveUpload);
  const run = runScript(script);
  t.equal(run.code, 64);
  t.match(run.stderr, /needs its uploaded files \(fl_up\)/);
  t.notMatch(run.stdout, 'begin');
});

t.test('uploads - contentFrom, upload and envFrom applied for real; diffs of secrets are masked', async (t) => {
  const { root, up, blobs, resolveUpload, deliver } = setup(t);
  const target = join(root, 'target');
  mkdirSync(target);
  const steps = [
    { id: 'pw', action: 'file', args: { path: join(target, 'pw'), contentFrom: 'secrets/db', mode: '0600' } },
    { id: 'bin', action: 'file', args: { path: join(target, 'app.bin'), upload: 'dist/app.bin', mode: '0755' } },
    {
      id: 'env',
      action: 'exec',
      args: { script: `printf '%s' "$DB" >${join(target, 'env-out')}`, envFrom: { DB: 'secrets/db' }, creates: join(target, 'env-out') },
    },
  ];
  for (const plan of [true, false]) {
    const rendered = render(steps, resolveUpload, plan, join(root, 'state'));
    deliver(rendered.uploads);
    const run = runScript(rendered.script, 'dash', 'n0nce', { up, blobs });
    t.equal(run.code, 0, `${plan ? 'plan' : 'apply'}: exit 0 ${run.stderr}`);
    t.same(run.statuses, { pw: 'changed', bin: 'changed', env: 'changed' }, `${plan ? 'plan' : 'apply'}: all change`);
    t.notMatch(run.stdout, SECRET, `${plan ? 'plan' : 'apply'}: the secret is not in the output`);
    t.match(run.diffs.pw, /-\*\*\*\n\+\*\*\*/, 'the secret file shows a masked diff');
    t.match(run.diffs.bin, /sha256/, 'the uploaded file shows a sha256 change');
  }
  t.equal(readFileSync(join(target, 'pw'), 'utf8'), `${SECRET}\n`);
  t.equal(statSync(join(target, 'pw')).mode & 0o777, 0o600);
  t.equal(readFileSync(join(target, 'app.bin'), 'utf8'), 'big non-secret bytes\n');
  t.equal(readFileSync(join(target, 'env-out'), 'utf8'), SECRET, 'envFrom: the value without its trailing newline');
  const again = runScript(render(steps, resolveUpload, false, join(root, 'state')).script, 'dash', 'n0nce', { up, blobs });
  t.same(again.statuses, { pw: 'ok', bin: 'ok', env: 'ok' }, 'a second run changes nothing');
});

t.test('uploads - a local file above 1 MiB is refused and pointed to upload', async (t) => {
  const instances = [{ id: 'big', action: 'file', args: validateArgs('file', { path: '/opt/big', local: 'big.bin' }) }];
  t.throws(
    () =>
      renderPhaseScript(instances, {
        phase: 'configure',
        facts: factsFromOs({ family: 'debian', release: '12' }),
        files: new Map([['big.bin', new Uint8Array(1024 * 1024 + 1)]]),
      }),
    { name: 'InputError', message: /local file "big.bin" is 1048577 bytes, more than the 1048576 bytes a plan may carry: use upload: "big.bin"/ },
  );
});
