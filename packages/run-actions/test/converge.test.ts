import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runBinary, startSshd, toNdjson } from '@forklift/testkit';
import { ofKind, testPlan } from './helpers.js';

// every script runs on THIS machine as root through the loopback sshd: confine it to a scratch dir
function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'run-actions-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const touchBlocks = (dir: string) => [
  { id: 'touch-a', label: `touch ${dir}/a`, body: `if [ ! -e ${dir}/a ]; then echo creating; touch ${dir}/a; changed; fi` },
  { id: 'copy-b', label: 'copy b', body: `if ! cmp -s ${dir}/a ${dir}/b 2>/dev/null; then cp ${dir}/a ${dir}/b; changed; fi; echo to-stderr >&2` },
  { id: 'echo', body: 'echo hi' },
];

t.test('run-actions - first run reports changes, the second run only ok', async (t) => {
  const dir = scratch(t);
  const sshd = await startSshd({ id: 'web-1' });
  t.teardown(sshd.stop);
  const stdin = toNdjson([sshd.node, testPlan(sshd.node, 'configure', touchBlocks(dir))]);

  const first = await runBinary('run-actions', ['--detailed-exitcode'], { stdin });
  t.equal(first.exitCode, 2, `changed with --detailed-exitcode: ${first.stderr}`);
  t.same(
    first.records.map((r) => r.kind),
    ['node', 'result', 'result', 'result', 'phase', 'summary'],
  );
  const results = ofKind(first.records, 'result');
  t.same(
    results.map((r) => [r.id, r.status]),
    [
      ['touch-a', 'changed'],
      ['copy-b', 'changed'],
      ['echo', 'ok'],
    ],
  );
  t.equal(results[0]!.stdout, 'creating\n', "each result carries its own action's stdout");
  t.equal(results[1]!.stderr, 'to-stderr\n', "each result carries its own action's stderr");
  t.equal(results[2]!.stdout, 'hi\n');
  t.equal(results[0]!.label, `touch ${dir}/a`);
  t.ok(existsSync(join(dir, 'b')));
  const node = first.records[0]!;
  t.match(node.os, { family: 'debian', release: '12', packageManager: 'apt' }, 'OS facts gathered and written back into the node record');
  t.match(ofKind(first.records, 'phase')[0], { node: 'web-1', phase: 'configure', status: 'changed', counts: { changed: 2, ok: 1, failed: 0, skipped: 0 } });
  t.match(first.records.at(-1), { kind: 'summary', tool: 'run-actions', ok: true });
  t.match(first.stderr, /RECAP\nweb-1 : ok=1 changed=2 failed=0 skipped=0 unreachable=0/);

  const second = await runBinary('run-actions', ['--detailed-exitcode'], { stdin: toNdjson([node, testPlan(sshd.node, 'configure', touchBlocks(dir))]) });
  t.equal(second.exitCode, 0, second.stderr);
  t.same(
    ofKind(second.records, 'result').map((r) => r.status),
    ['ok', 'ok', 'ok'],
  );
  t.same(second.records[0], node, 'a node record with facts is re-emitted unchanged');
});

t.test('run-actions - a failing action fails only its node; later actions and phases are skipped', async (t) => {
  const dir = scratch(t);
  const good = await startSshd({ id: 'good' });
  t.teardown(good.stop);
  const bad = await startSshd({ id: 'bad' });
  t.teardown(bad.stop);
  const failing = [
    { id: 'before', body: 'echo before' },
    { id: 'boom', body: 'echo about to fail; echo broken >&2; exit 7' },
    { id: 'after', body: `touch ${dir}/after-bad` },
  ];
  const stdin = toNdjson([
    good.node,
    bad.node,
    testPlan(good.node, 'configure', [{ id: 'ok-1', body: `touch ${dir}/good-configure` }]),
    testPlan(bad.node, 'configure', failing),
    testPlan(good.node, 'install', [{ id: 'ok-2', body: `touch ${dir}/good-install` }]),
    testPlan(bad.node, 'install', [{ id: 'never', body: `touch ${dir}/bad-install` }]),
  ]);
  const run = await runBinary('run-actions', [], { stdin });
  t.equal(run.exitCode, 1, 'exit 1 when an action failed');
  const results = ofKind(run.records, 'result');
  const badResults = results.filter((r) => r.node === 'bad');
  t.same(
    badResults.map((r) => [r.phase, r.id, r.status]),
    [
      ['configure', 'before', 'ok'],
      ['configure', 'boom', 'failed'],
      ['configure', 'after', 'skipped'],
      ['install', 'never', 'skipped'],
    ],
  );
  const boom = badResults[1]!;
  t.equal(boom.exitCode, 7);
  t.equal(boom.stdout, 'about to fail\n');
  t.equal(boom.stderr, 'broken\n');
  t.same(
    results.filter((r) => r.node === 'good').map((r) => [r.phase, r.status]),
    [
      ['configure', 'changed'],
      ['install', 'changed'],
    ].map(([p]) => [p, 'ok']),
  );
  t.ok(existsSync(join(dir, 'good-configure')) && existsSync(join(dir, 'good-install')), 'the other node ran both phases');
  const logins = readFileSync(join(good.dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? [];
  t.equal(logins.length, 1, 'one SSH connection for facts and both phases');
  t.notOk(existsSync(join(dir, 'after-bad')) || existsSync(join(dir, 'bad-install')), 'nothing ran after the failure');
  const phases = ofKind(run.records, 'phase').map((r) => [r.node, r.phase, r.status]);
  t.same(
    phases.filter((p) => p[0] === 'bad'),
    [
      ['bad', 'configure', 'failed'],
      ['bad', 'install', 'skipped'],
    ],
  );
  const configureEnds = run.records.findIndex((r) => r.kind === 'phase' && r.phase === 'configure' && r.node === 'good');
  const installStarts = run.records.findIndex((r) => r.kind === 'result' && r.phase === 'install');
  t.ok(configureEnds < installStarts, 'phases run with a barrier');
  t.match(run.stderr, /bad\s+: ok=1 changed=0 failed=1 skipped=2 unreachable=0/);
  t.match(run.records.at(-1), { kind: 'summary', ok: false });
});

t.test('run-actions - an unreachable node gets an error record after three tries; the others run', async (t) => {
  const sshd = await startSshd({ id: 'up' });
  t.teardown(sshd.stop);
  const port = await freePort();
  const down = { ...sshd.node, id: 'down', port };
  const stdin = toNdjson([
    sshd.node,
    down,
    testPlan(sshd.node, 'configure', [{ id: 'x', body: 'true' }]),
    testPlan(down, 'configure', [{ id: 'x', body: 'true' }]),
  ]);
  const started = Date.now();
  const run = await runBinary('run-actions', [], { stdin });
  t.equal(run.exitCode, 1);
  const errors = ofKind(run.records, 'error');
  t.equal(errors.length, 1);
  t.match(errors[0], { code: 'unreachable', node: 'down', message: /unreachable after 3 tries.*ECONNREFUSED/ });
  t.ok(Date.now() - started >= 1400, 'backoff between the tries (0.5 s + 1 s)');
  t.same(
    ofKind(run.records, 'result').map((r) => [r.node, r.status]),
    [['up', 'ok']],
  );
  t.match(run.stderr, /down : ok=0 changed=0 failed=0 skipped=0 unreachable=1/);
  t.match(run.records.at(-1), { kind: 'summary', ok: false, counts: { unreachable: 1 } });
});

t.test('run-actions - a wrong pinned host key fails that node and runs nothing', async (t) => {
  const dir = scratch(t);
  const sshd = await startSshd({ id: 'pinned' });
  t.teardown(sshd.stop);
  const other = await startSshd({ id: 'other' });
  t.teardown(other.stop);
  const node = { ...sshd.node, hostKey: other.node.hostKey };
  const run = await runBinary('run-actions', [], { stdin: toNdjson([node, testPlan(node, 'configure', [{ id: 'x', body: `touch ${dir}/ran` }])]) });
  t.equal(run.exitCode, 1);
  t.match(ofKind(run.records, 'error')[0], {
    code: 'host-key-mismatch',
    node: 'pinned',
    message: /host key mismatch at 127\.0\.0\.1:\d+: the server presented ssh-ed25519 SHA256:\S+ but the node record pins SHA256:/,
  });
  t.notOk(existsSync(join(dir, 'ran')));
  t.equal(ofKind(run.records, 'result').length, 0);
});

t.test('run-actions - without a pinned host key, known_hosts decides (hashed entries, [host]:port)', async (t) => {
  const dir = scratch(t);
  const sshd = await startSshd({ id: 'kh' });
  t.teardown(sshd.stop);
  const { hostKey: _pinned, ...unpinned } = sshd.node;
  const home = join(dir, 'home');
  const knownHosts = join(home, '.ssh', 'known_hosts');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  const plan = testPlan(unpinned as typeof sshd.node, 'configure', [{ id: 'x', body: 'true' }]);
  const stdin = toNdjson([unpinned, plan]);

  const unknown = await runBinary('run-actions', [], { stdin, env: { HOME: home } });
  t.equal(unknown.exitCode, 1);
  t.match(ofKind(unknown.records, 'error')[0], { code: 'host-key-unknown', message: /\[127\.0\.0\.1\]:\d+ is not in .*known_hosts.*no trust on first use/ });

  writeFileSync(knownHosts, `[127.0.0.1]:${sshd.node.port} ${sshd.node.hostKey}\n`);
  const { execa } = await import('execa');
  await execa('ssh-keygen', ['-H', '-f', knownHosts]);
  t.match(readFileSync(knownHosts, 'utf8'), /^\|1\|/, 'the entry is hashed');
  const known = await runBinary('run-actions', [], { stdin, env: { HOME: home } });
  t.equal(known.exitCode, 0, known.stderr);
  t.same(
    ofKind(known.records, 'result').map((r) => r.status),
    ['ok'],
  );

  const other = await startSshd({ id: 'other' });
  t.teardown(other.stop);
  writeFileSync(knownHosts, `[127.0.0.1]:${sshd.node.port} ${other.node.hostKey}\n`);
  const wrong = await runBinary('run-actions', [], { stdin, env: { HOME: home } });
  t.equal(wrong.exitCode, 1);
  t.match(ofKind(wrong.records, 'error')[0], { code: 'host-key-mismatch', message: /which known_hosts does not list/ });
});

t.test('run-actions - bad input stops before anything runs', async (t) => {
  const dir = scratch(t);
  const sshd = await startSshd({ id: 'n' });
  t.teardown(sshd.stop);
  const plan = testPlan(sshd.node, 'configure', [{ id: 'x', body: `touch ${dir}/ran` }]);
  const edited = { ...plan, script: plan.script.replace('true', 'false') + '\n' };
  const tampered = await runBinary('run-actions', [], { stdin: toNdjson([sshd.node, edited]) });
  t.equal(tampered.exitCode, 65);
  t.match(tampered.stderr, /sha256 does not match its script/);
  t.equal(tampered.stderr.trim().split('\n').length, 1, 'one line on stderr');

  const orphan = await runBinary('run-actions', [], { stdin: toNdjson([sshd.node, { ...plan, node: 'ghost' }]) });
  t.equal(orphan.exitCode, 65);
  t.match(orphan.stderr, /plan for node "ghost" phase "configure": no such node record/);

  const planFlag = await runBinary('run-actions', ['--plan'], { stdin: toNdjson([sshd.node, plan]) });
  t.equal(planFlag.exitCode, 64, 'a saved apply-mode plan cannot be turned into a check');
  t.match(planFlag.stderr, /rendered to apply changes; render it with `render-crate --plan`/);

  for (const [args, pattern] of [
    [['--batch', '0'], /--batch must be positive \(a whole number\), got "0"/],
    [['--max-fail', '120%'], /--max-fail needs a share/],
    [['--timeout', 'soon'], /--timeout must be a number of seconds/],
    [['--timeout', '-1'], /--timeout must be positive \(seconds\), got "-1"/],
    [['--phase', ''], /option --phase needs a value/],
    [['--phase', 'settings'], /--phase "settings": settings is evaluated while rendering, it is not a phase that runs/],
    [['--phase', 'a b'], /--phase "a b": a phase name is letters, digits, _ and -/],
    [['--bogus'], /unknown option --bogus/],
  ] as const) {
    const run = await runBinary('run-actions', [...args], { stdin: toNdjson([sshd.node, plan]) });
    t.equal(run.exitCode, 64, args.join(' '));
    t.match(run.stderr, pattern);
    t.equal(run.stdout, '', 'a usage error writes no records');
  }
  t.notOk(existsSync(join(dir, 'ran')), 'nothing ran');
});

t.test('run-actions - an unreadable private key fails that node with exit 69', async (t) => {
  const sshd = await startSshd({ id: 'keyless' });
  t.teardown(sshd.stop);
  const node = { ...sshd.node, privateKey: join(sshd.dir, 'no-such-key') };
  const run = await runBinary('run-actions', [], { stdin: toNdjson([node, testPlan(node, 'configure', [{ id: 'x', body: 'true' }])]) });
  t.equal(run.exitCode, 69);
  t.match(ofKind(run.records, 'error')[0], { code: 'no-ssh-key', node: 'keyless', message: /cannot read privateKey .*no-such-key: ENOENT/ });
});
