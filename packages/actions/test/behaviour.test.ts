// The framework's own actions run for real under dash and bash in a scratch directory:
// changed on the first run, ok on the second, a plan afterwards reports nothing; plan mode changes nothing.
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderActions, runScript, runScriptAsync, type Step } from './run-lib.js';

const scratch = mkdtempSync(join(tmpdir(), 'forklift-behaviour-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
function freshRoot(): { root: string; stateDir: string } {
  counter += 1;
  const root = join(scratch, `case-${counter}`);
  mkdirSync(root, { recursive: true });
  return { root, stateDir: join(root, 'state') };
}

/** Apply twice then plan: changed, ok, ok (in that shell). */
function converge(t: Test, steps: Step[], stateDir: string, shell: 'dash' | 'bash'): void {
  const first = runScript(renderActions(steps, { stateDir }), shell);
  t.equal(first.code, 0, `first run exits 0 (${first.stderr.trim()})`);
  for (const id of Object.keys(first.statuses)) t.equal(first.statuses[id], 'changed', `${id}: first run changed`);
  t.equal(Object.keys(first.statuses).length, steps.length, 'every action reported');
  const second = runScript(renderActions(steps, { stateDir }), shell);
  t.equal(second.code, 0, 'second run exits 0');
  for (const id of Object.keys(second.statuses)) t.equal(second.statuses[id], 'ok', `${id}: second run ok`);
  const plan = runScript(renderActions(steps, { stateDir, plan: true }), shell);
  t.equal(plan.code, 0, 'plan exits 0');
  for (const id of Object.keys(plan.statuses)) t.equal(plan.statuses[id], 'ok', `${id}: plan after converging reports no change`);
  t.same(plan.diffs, {}, 'plan after converging shows no diff');
}

for (const shell of ['dash', 'bash'] as const) {
  t.test(`file, directory, symlink, line-in-file, exec, archive - converge then report ok (${shell})`, async (t) => {
    const { root, stateDir } = freshRoot();
    const tarSource = join(root, 'src');
    mkdirSync(join(tarSource, 'pkg', 'bin'), { recursive: true });
    writeFileSync(join(tarSource, 'pkg', 'bin', 'tool'), 'tool\n');
    const tarball = join(root, 'pkg.tar.gz');
    execFileSync('tar', ['-czf', tarball, '-C', tarSource, 'pkg']);
    const steps: Step[] = [
      { action: 'directory', args: { path: `${root}/etc/app`, mode: '0750' } },
      {
        action: 'file',
        args: { path: `${root}/etc/app/app.conf`, template: 'port={{ port }}\n', values: { port: 8080 }, mode: '0640', owner: 'root', group: 0 },
      },
      { action: 'file', args: { path: `${root}/etc/app/empty`, mode: '0600' } },
      { action: 'symlink', args: { path: `${root}/etc/app/current`, target: 'app.conf' } },
      { action: 'line-in-file', args: { path: `${root}/etc/hosts`, line: '10.0.0.5 db', create: true } },
      { action: 'exec', args: { script: 'echo done >"$OUT"', env: { OUT: `${root}/exec.out` }, creates: `${root}/exec.out` } },
      { action: 'archive', args: { path: `${root}/opt/pkg`, local: 'pkg.tar.gz', stripComponents: 1 } },
    ];
    const files = new Map([['pkg.tar.gz', readFileSync(tarball)]]);
    const firstScript = renderActions(steps, { stateDir, files });
    const first = runScript(firstScript, shell);
    t.equal(first.code, 0, `first run exits 0 ${first.stderr}`);
    t.same(Object.values(first.statuses), Array(steps.length).fill('changed'), 'first run: every action changed');
    const second = runScript(renderActions(steps, { stateDir, files }), shell);
    t.same(Object.values(second.statuses), Array(steps.length).fill('ok'), 'second run: every action ok');
    const plan = runScript(renderActions(steps, { stateDir, files, plan: true }), shell);
    t.same(Object.values(plan.statuses), Array(steps.length).fill('ok'), 'plan after converging: zero changes');
    t.same(plan.diffs, {}, 'and no diffs');
    t.equal(statSync(`${root}/etc/app`).mode & 0o777, 0o750, 'directory mode');
    t.equal(readFileSync(`${root}/etc/app/app.conf`, 'utf8'), 'port=8080\n', 'template rendered');
    t.equal(statSync(`${root}/etc/app/app.conf`).mode & 0o777, 0o640, 'file mode');
    t.equal(statSync(`${root}/etc/app/empty`).size, 0, 'empty file created');
    t.equal(readlinkSync(`${root}/etc/app/current`), 'app.conf', 'symlink target');
    t.equal(readFileSync(`${root}/etc/hosts`, 'utf8'), '10.0.0.5 db\n', 'line added to a new file');
    t.equal(readFileSync(`${root}/exec.out`, 'utf8'), 'done\n', 'exec ran once');
    t.equal(readFileSync(`${root}/opt/pkg/bin/tool`, 'utf8'), 'tool\n', 'archive unpacked with strip-components');
  });
}

for (const shell of ['dash', 'bash'] as const) {
  t.test(`file action - the builtin content checks (empty content, small text read back after its size matched) see every byte (${shell})`, async (t) => {
    const { root, stateDir } = freshRoot();
    const text = 'a\\b  c\r\n\tlast line without newline $x `y` *';
    const cases: Array<[string, string | Buffer]> = [
      ['same size, one byte differs', text.replace('c', 'd')],
      ['same size, a NUL instead of a byte (read drops NULs)', Buffer.from(text.replace('c', '\0'), 'latin1')],
      ['a final newline more', `${text}\n`],
      ['the final line missing', text.slice(0, text.lastIndexOf('\n') + 1)],
      ['empty', ''],
    ];
    for (const [what, bytes] of cases) {
      const path = `${root}/f-${cases.findIndex(([w]) => w === what)}`;
      writeFileSync(path, bytes, { mode: 0o640 });
      const run = runScript(renderActions([{ action: 'file', id: 'f', args: { path, content: text, mode: '0640' } }], { stateDir }), shell);
      t.equal(run.statuses.f, 'changed', `${what}: changed`);
      t.equal(readFileSync(path, 'latin1'), text, `${what}: rewritten`);
      t.equal(
        runScript(renderActions([{ action: 'file', id: 'f', args: { path, content: text, mode: '0640' } }], { stateDir }), shell).statuses.f,
        'ok',
        `${what}: then ok`,
      );
    }
    const empty = `${root}/empty`;
    writeFileSync(empty, 'x');
    t.equal(
      runScript(renderActions([{ action: 'file', id: 'e', args: { path: empty, content: '', mode: '0644' } }], { stateDir }), shell).statuses.e,
      'changed',
      'empty content: a non-empty file changes',
    );
    t.equal(statSync(empty).size, 0, 'and is emptied');
    t.equal(
      runScript(renderActions([{ action: 'file', id: 'e', args: { path: empty, content: '', mode: '0644' } }], { stateDir }), shell).statuses.e,
      'ok',
      'then ok',
    );
  });
}

t.test('file action - plan mode shows a unified diff and changes nothing; apply keeps the last 5 versions', async (t) => {
  const { root, stateDir } = freshRoot();
  const path = `${root}/motd`;
  converge(t, [{ action: 'file', args: { path, content: 'v0\n' } }], stateDir, 'dash');
  const plan = runScript(renderActions([{ action: 'file', id: 'motd', args: { path, content: 'v1\n', mode: '0600' } }], { stateDir, plan: true }));
  t.equal(plan.statuses.motd, 'changed', 'plan reports changed');
  t.match(plan.diffs.motd, `--- ${path}\n+++ ${path}\n@@ -1 +1 @@\n-v0\n+v1\n`, 'content diff');
  t.match(plan.diffs.motd, /@@ mode @@\n-644\n\+600\n/, 'mode diff');
  t.equal(readFileSync(path, 'utf8'), 'v0\n', 'plan left the file alone');
  for (let version = 1; version <= 7; version += 1) {
    const run = runScript(renderActions([{ action: 'file', args: { path, content: `v${version}\n` } }], { stateDir }));
    t.equal(run.code, 0, `version ${version} written`);
  }
  const backup = `${stateDir}/backup${path}`;
  t.same(
    [1, 2, 3, 4, 5].map((n) => readFileSync(`${backup}.${n}`, 'utf8')),
    ['v6\n', 'v5\n', 'v4\n', 'v3\n', 'v2\n'],
    'backups .1 (newest) to .5',
  );
  t.notOk(existsSync(`${backup}.6`), 'no sixth backup');
  const gone = runScript(renderActions([{ action: 'file', id: 'rm', args: { path, ensure: 'absent' } }], { stateDir }));
  t.equal(gone.statuses.rm, 'changed', 'absent removes');
  t.notOk(existsSync(path), 'file is gone');
  t.equal(readFileSync(`${backup}.1`, 'utf8'), 'v7\n', 'removed version backed up');
});

t.test('file action - url content is checked against its sha256 on the node', async (t) => {
  const body = 'served over http\n';
  const server = createServer((req, res) => {
    if (req.url === '/app.conf') res.end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/app.conf`;
  const { root, stateDir } = freshRoot();
  const good = createHash('sha256').update(body).digest('hex');
  const steps: Step[] = [{ action: 'file', id: 'f', args: { path: `${root}/app.conf`, url, sha256: good } }];
  t.equal((await runScriptAsync(renderActions(steps, { stateDir }), 'bash')).statuses.f, 'changed', 'first run downloads');
  t.equal((await runScriptAsync(renderActions(steps, { stateDir }), 'bash')).statuses.f, 'ok', 'second run: same sha256, ok');
  t.equal((await runScriptAsync(renderActions(steps, { stateDir, plan: true }), 'bash')).statuses.f, 'ok', 'plan: ok');
  t.equal(readFileSync(`${root}/app.conf`, 'utf8'), body, 'downloaded content');
  const bad = await runScriptAsync(
    renderActions([{ action: 'file', id: 'bad', args: { path: `${root}/other.conf`, url, sha256: '0'.repeat(64) } }], { stateDir }),
  );
  t.equal(bad.statuses.bad, 'failed', 'mismatch fails the action');
  t.equal(bad.code, 1, 'script exits 1');
  t.match(bad.outputs.bad!.stderr, 'checksum mismatch', 'says why');
  t.notOk(existsSync(`${root}/other.conf`), 'nothing written');
});

t.test('line-in-file action - replaces the last match, adds a missing final newline, removes lines', async (t) => {
  const { root, stateDir } = freshRoot();
  const path = `${root}/sshd_config`;
  writeFileSync(path, '#PermitRootLogin yes\nPort 22\nPermitRootLogin yes');
  converge(t, [{ action: 'line-in-file', args: { path, line: 'PermitRootLogin no', match: '^#?PermitRootLogin' } }], stateDir, 'dash');
  t.equal(readFileSync(path, 'utf8'), '#PermitRootLogin yes\nPort 22\nPermitRootLogin no\n', 'last match replaced, newline added');
  converge(t, [{ action: 'line-in-file', args: { path, line: 'Port 22', ensure: 'absent' } }], stateDir, 'bash');
  t.equal(readFileSync(path, 'utf8'), '#PermitRootLogin yes\nPermitRootLogin no\n', 'line removed');
  const missing = runScript(renderActions([{ action: 'line-in-file', id: 'l', args: { path: `${root}/nope`, line: 'x' } }], { stateDir }));
  t.equal(missing.statuses.l, 'failed', 'a missing file without create fails');
});

t.test('symlink action - retargets a link, refuses a file in the way unless forced', async (t) => {
  const { root, stateDir } = freshRoot();
  const link = `${root}/link`;
  converge(t, [{ action: 'symlink', args: { path: link, target: '/a' } }], stateDir, 'dash');
  converge(t, [{ action: 'symlink', args: { path: link, target: '/b' } }], stateDir, 'dash');
  t.equal(readlinkSync(link), '/b', 'retargeted');
  writeFileSync(`${root}/file`, 'x');
  const refused = runScript(renderActions([{ action: 'symlink', id: 's', args: { path: `${root}/file`, target: '/b' } }], { stateDir }));
  t.equal(refused.statuses.s, 'failed', 'a regular file in the way fails');
  converge(t, [{ action: 'symlink', args: { path: `${root}/file`, target: '/b', force: true } }], stateDir, 'bash');
  t.ok(lstatSync(`${root}/file`).isSymbolicLink(), 'force replaced the file');
  converge(t, [{ action: 'symlink', args: { path: link, ensure: 'absent' } }], stateDir, 'dash');
  t.notOk(existsSync(link), 'link removed');
});

t.test('exec action - guards decide, plan mode never runs the command', async (t) => {
  const { root, stateDir } = freshRoot();
  const out = `${root}/ran`;
  const plan = runScript(renderActions([{ action: 'exec', id: 'e', args: { command: ['touch', out] } }], { stateDir, plan: true }));
  t.equal(plan.statuses.e, 'changed', 'plan reports it would run');
  t.notOk(existsSync(out), 'plan did not run it');
  const unless = runScript(renderActions([{ action: 'exec', id: 'e', args: { command: ['touch', out], unless: 'true' } }], { stateDir }));
  t.equal(unless.statuses.e, 'ok', 'unless succeeding skips');
  const onlyIf = runScript(renderActions([{ action: 'exec', id: 'e', args: { command: ['touch', out], onlyIf: 'false' } }], { stateDir }));
  t.equal(onlyIf.statuses.e, 'ok', 'onlyIf failing skips');
  t.notOk(existsSync(out), 'nothing ran');
  const failing = runScript(
    renderActions(
      [
        { action: 'exec', id: 'boom', args: { script: 'echo about to fail; exit 3' } },
        { action: 'exec', id: 'after', args: { command: ['touch', out] } },
      ],
      { stateDir },
    ),
  );
  t.equal(failing.statuses.boom, 'failed', 'failing command fails the block');
  t.match(failing.stdout, '::forklift:n0nce:boom:exit:3', 'exit code marker');
  t.equal(failing.code, 3, 'script stops with that code');
  t.notOk('after' in failing.statuses, 'later actions never start');
  t.notMatch(failing.stdout, 'after:begin', 'no begin marker for later actions');
  const nonce = runScript(renderActions([{ action: 'exec', id: 'peek', args: { script: 'echo "nonce=${fl_nonce:-unset}"' } }], { stateDir }));
  t.match(nonce.stdout, 'nonce=unset', 'commands cannot see the nonce');
});

t.test('phase script - once (bootstrap) runs the body once per node', async (t) => {
  const { root, stateDir } = freshRoot();
  const steps: Step[] = [{ action: 'exec', id: 'boot', args: { script: `echo x >>${root}/count` } }];
  const first = runScript(renderActions(steps, { stateDir, once: true, phase: 'bootstrap' }));
  t.equal(first.statuses.boot, 'changed', 'first bootstrap runs');
  const plan = runScript(renderActions(steps, { stateDir, once: true, phase: 'bootstrap', plan: true }));
  t.equal(plan.statuses.boot, 'ok', 'plan after bootstrap: nothing to do');
  const second = runScript(renderActions(steps, { stateDir, once: true, phase: 'bootstrap' }));
  t.equal(second.statuses.boot, 'ok', 'second bootstrap reports ok');
  t.match(second.stdout, 'already ran once', 'and says why');
  t.equal(readFileSync(`${root}/count`, 'utf8'), 'x\n', 'the body ran once');
  t.ok(existsSync(`${stateDir}/once/bootstrap.done`), 'flag under the state directory');
});

t.test('phase script - a bad or missing nonce stops before any action', async (t) => {
  const script = renderActions([{ action: 'exec', id: 'e', args: { command: ['true'] } }]);
  for (const [what, preamble] of [
    ['a bad nonce', "fl_nonce='a;b'\n"],
    ['no nonce', ''],
    ['a nonce on argv only', ''],
  ] as const) {
    const args = what === 'a nonce on argv only' ? ['-s', '--', 'n0nce'] : ['-s'];
    const run = spawnSync('dash', args, { input: preamble + script, encoding: 'utf8' });
    t.equal(run.status, 64, `${what}: exit 64`);
    t.notMatch(run.stdout, 'begin', `${what}: nothing started`);
    t.match(run.stderr, /no valid fl_nonce=NONCE line before the script on stdin/, `${what}: says why`);
  }
});

t.test('archive action - a zip from a url is verified, unpacked once, and unpacked again when it changes', async (t) => {
  for (const tool of ['zip', 'unzip']) {
    const probe = spawnSync(tool, ['-v']);
    if (probe.error) throw new Error(`${tool} is not installed: apt-get install zip unzip (needed by this test)`);
  }
  const { root, stateDir } = freshRoot();
  const archives: Record<string, Buffer> = {};
  for (const version of ['1', '2']) {
    const src = join(root, `src${version}`);
    mkdirSync(src);
    writeFileSync(join(src, 'VERSION'), `${version}\n`);
    execFileSync('zip', ['-q', '-r', join(root, `site${version}.zip`), '.'], { cwd: src });
    archives[version] = readFileSync(join(root, `site${version}.zip`));
  }
  let serving = '1';
  const server = createServer((_req, res) => res.end(archives[serving]));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/site.zip`;
  const step = (version: string): Step[] => [
    { action: 'archive', id: 'site', args: { path: `${root}/site`, url, sha256: createHash('sha256').update(archives[version]!).digest('hex') } },
  ];
  t.equal((await runScriptAsync(renderActions(step('1'), { stateDir }))).statuses.site, 'changed', 'first run unpacks');
  t.equal(readFileSync(`${root}/site/VERSION`, 'utf8'), '1\n', 'content of version 1');
  t.equal((await runScriptAsync(renderActions(step('1'), { stateDir }))).statuses.site, 'ok', 'same archive: ok');
  const plan = await runScriptAsync(renderActions(step('2'), { stateDir, plan: true }));
  t.equal(plan.statuses.site, 'changed', 'plan sees the new checksum');
  t.match(plan.diffs.site, '@@ archive @@', 'with a diff of the checksum');
  serving = '2';
  const wrong = await runScriptAsync(renderActions(step('1'), { stateDir: join(root, 'other-state') }));
  t.equal(wrong.statuses.site, 'failed', 'a served archive that does not match its sha256 fails');
  t.equal(readFileSync(`${root}/site/VERSION`, 'utf8'), '1\n', 'and nothing was unpacked');
  t.equal((await runScriptAsync(renderActions(step('2'), { stateDir }))).statuses.site, 'changed', 'new archive unpacks again');
  t.equal(readFileSync(`${root}/site/VERSION`, 'utf8'), '2\n', 'content of version 2');
});
