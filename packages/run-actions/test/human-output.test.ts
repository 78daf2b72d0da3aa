// What the person at the terminal reads on stderr: the recap names every failure (node, phase, label,
// exit code, the last lines of its stderr) and every unreachable node with its reason; --plan ends with
// a one-line summary and, on a terminal, shows the diffs in colour; --diff shows them when applying;
// -q and -v; NO_COLOR and FORCE_COLOR; the warning for a misspelt phase.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binPath, freePort, runBinary, startSshd, toNdjson } from '@forklift/testkit';
import type { NodeRecord } from '@forklift/contract';
import { ofKind, testPlan } from './helpers.js';

const ESC = '\u001b[';

// every script runs on THIS machine as root through the loopback sshd: confine it to a scratch dir
function scratch(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'run-actions-human-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A project with groups/demo managing a file under `target` (so a first run has a diff). */
function project(dir: string, target: string, phases: Record<string, unknown> = {}): string {
  const root = join(dir, 'project');
  mkdirSync(join(root, 'groups'), { recursive: true });
  writeFileSync(
    join(root, 'groups', 'demo.json5'),
    JSON.stringify({
      group: 'demo',
      phases: {
        configure: [
          { action: 'directory', id: 'dir', path: target },
          { action: 'file', id: 'conf', path: join(target, 'app.conf'), content: 'port = 8080\nworkers = 4\n' },
        ],
        ...phases,
      },
    }),
  );
  return root;
}

/**
 * Run a command with stderr on a pseudo-terminal (script(1)): stdin and stdout are files, what the
 * terminal shows comes back (script turns LF into CRLF; undone here).
 */
function onTerminal(t: Test, command: string, env: Record<string, string> = {}): { code: number | null; terminal: string; stdout: string } {
  const dir = scratch(t);
  const stdout = join(dir, 'stdout');
  const probe = spawnSync('script', ['--version']);
  if (probe.error) throw new Error('script(1) is missing: apt-get install bsdutils');
  // the colour settings of whoever runs the tests (tap sets some) must not decide these cases
  const { NO_COLOR: _no, FORCE_COLOR: _force, ...inherited } = process.env;
  const run = spawnSync('script', ['-qec', `${command} > ${stdout}`, '/dev/null'], {
    encoding: 'utf8',
    env: { ...inherited, TERM: 'xterm', ...env },
    timeout: 120_000,
  });
  return { code: run.status, terminal: run.stdout.replace(/\r\n/g, '\n'), stdout: readFileSync(stdout, 'utf8') };
}

t.test('recap - names the failed action (node, phase, label, exit code, last stderr lines) and the unreachable node with its reason', async (t) => {
  const sshd = await startSshd({ id: 'web-1' });
  t.teardown(sshd.stop);
  const deadPort = await freePort();
  const gone: NodeRecord = { ...sshd.node, id: 'web-2', port: deadPort };
  const noisy = Array.from({ length: 8 }, (_, i) => `echo "line ${i + 1}" >&2`).join('; ');
  const stdin = toNdjson([
    sshd.node,
    gone,
    testPlan(sshd.node, 'configure', [
      { id: 'ok-one', body: 'true' },
      { id: 'migrate', label: 'exec migrate the database', body: `${noisy}; exit 3` },
      { id: 'later', body: 'true' },
    ]),
    testPlan(gone, 'configure', [{ id: 'ok-one', body: 'true' }]),
  ]);
  const run = await runBinary('run-actions', [], { stdin, env: { FORCE_COLOR: '0' } });
  t.equal(run.exitCode, 1);
  const expected = [
    'RECAP',
    'web-1 : ok=1 changed=0 failed=1 skipped=1 unreachable=0',
    'web-2 : ok=0 changed=0 failed=0 skipped=0 unreachable=1',
    '',
    'FAILED (1 action)',
    'web-1 configure: exec migrate the database exit 3',
    '    line 4',
    '    line 5',
    '    line 6',
    '    line 7',
    '    line 8',
    '',
    'UNREACHABLE (1 node)',
  ].join('\n');
  t.ok(run.stderr.startsWith(expected + '\n'), run.stderr);
  t.match(run.stderr, new RegExp(`\\nweb-2: .*connect to 127\\.0\\.0\\.1:${deadPort}: ECONNREFUSED\\n$`), 'the reason the node could not be reached');
  t.notMatch(run.stderr, ESC, 'no colours off a terminal');
  t.equal(ofKind(run.records, 'error')[0]!.node, 'web-2', 'the same reason is in the error record');

  const quiet = await runBinary('run-actions', ['-q'], { stdin, env: { FORCE_COLOR: '0' } });
  t.equal(quiet.exitCode, 1);
  t.ok(quiet.stderr.startsWith('\nFAILED (1 action)\nweb-1 configure: exec migrate the database exit 3\n'), `-q keeps only the failures: ${quiet.stderr}`);
  t.notMatch(quiet.stderr, 'RECAP');

  const verbose = await runBinary('run-actions', ['-v'], { stdin, env: { FORCE_COLOR: '0' } });
  t.match(
    verbose.stderr,
    /^web-1 configure {2}ok {7}ok-one \(\d+ ms\)\nweb-1 configure {2}failed {3}exec migrate the database \(\d+ ms\)\nweb-1 configure {2}skipped {2}later \(0 ms\)\n/m,
    '-v: a line per action as it ends',
  );
});

t.test('--plan - one summary line always; the diffs only on a terminal or with --diff', async (t) => {
  const dir = scratch(t);
  const target = join(dir, 'target');
  const root = project(dir, target);
  const sshd = await startSshd({ id: 'web-1' });
  t.teardown(sshd.stop);
  const stdin = toNdjson([{ ...sshd.node, group: 'demo' }]);

  const piped = await runBinary('run-actions', ['groups/demo', '--plan'], { stdin, cwd: root, env: { FORCE_COLOR: '0' } });
  t.equal(piped.exitCode, 0, piped.stderr);
  t.match(piped.stderr, /\n2 to change, 0 unchanged on 1 node\n$/, 'the plan summary ends stderr');
  t.notMatch(piped.stderr, '+++', 'no diff when stderr is not a terminal');
  t.match(ofKind(piped.records, 'result')[1], { id: 'conf', status: 'changed', diff: /\+port = 8080/ }, 'the diff is in the record');

  const withDiff = await runBinary('run-actions', ['groups/demo', '--plan', '--diff'], { stdin, cwd: root, env: { FORCE_COLOR: '0' } });
  t.match(
    withDiff.stderr,
    /web-1 configure: file \S+app\.conf \(would change\)\n--- .*\n\+\+\+ .*\n@@ .*@@\n\+port = 8080\n\+workers = 4\n/,
    '--diff shows it anyway',
  );
  t.notMatch(withDiff.stderr, ESC);

  const nodesFile = join(dir, 'nodes.ndjson');
  writeFileSync(nodesFile, stdin);
  const bin = binPath('run-actions');
  const tty = onTerminal(t, `cd ${root} && node ${bin} groups/demo --plan < ${nodesFile}`);
  t.equal(tty.code, 0, tty.terminal);
  t.match(tty.terminal, `${ESC}32m+port = 8080${ESC}39m`, 'added lines in green on a terminal');
  t.match(tty.terminal, /(\u001b\[[0-9;]*m)*@@ -0,0 \+1,2 @@/, 'the hunk head');
  t.match(tty.terminal, /2 to change, 0 unchanged on 1 node\n$/);
  t.match(tty.stdout, /"kind":"summary"/, 'records still go to stdout');
  t.notMatch(tty.stdout, ESC, 'never a colour in the records');

  const noColor = onTerminal(t, `cd ${root} && node ${bin} groups/demo --plan < ${nodesFile}`, { NO_COLOR: '1' });
  t.match(noColor.terminal, '\n+port = 8080\n', 'NO_COLOR: the diff without colours');
  t.notMatch(noColor.terminal, `${ESC}32m`);

  const forced = await runBinary('run-actions', ['groups/demo', '--plan', '--diff'], { stdin, cwd: root, env: { FORCE_COLOR: '1', NO_COLOR: '' } });
  t.match(forced.stderr, `${ESC}32m+port = 8080${ESC}39m`, 'FORCE_COLOR: colours off a terminal');

  // applying: no diff unless --diff; then a second plan run has nothing to change
  const applied = await runBinary('run-actions', ['groups/demo', '--diff'], { stdin, cwd: root, env: { FORCE_COLOR: '0' } });
  t.equal(applied.exitCode, 0, applied.stderr);
  t.match(applied.stderr, /web-1 configure: file \S+app\.conf\n--- /, '--diff during apply');
  t.notMatch(applied.stderr, 'to change', 'no plan summary when applying');
  const again = await runBinary('run-actions', ['groups/demo', '--plan'], { stdin, cwd: root });
  t.match(again.stderr, /\n0 to change, 2 unchanged on 1 node\n$/);
});

t.test('a misspelt phase is a warning naming the closest standard phase; a custom one is a note with -v', async (t) => {
  const dir = scratch(t);
  const target = join(dir, 'target');
  const root = project(dir, target, {
    configur: [{ action: 'directory', path: join(target, 'typo') }],
    deploy: [{ action: 'directory', path: join(target, 'deployed') }],
  });
  const rendered = await runBinary('render-crate', ['groups/demo'], { cwd: root });
  t.equal(rendered.exitCode, 0, rendered.stderr);
  t.equal(
    rendered.stderr,
    'render-crate: warning: phase "configur" of groups/demo.json5 never runs: not a standard phase and not requested (did you mean "configure"?)\n',
  );
  const verbose = await runBinary('render-crate', ['groups/demo', '-v'], { cwd: root });
  t.match(verbose.stderr, 'render-crate: phase "deploy" of groups/demo.json5 is a custom phase: it runs only with --phase deploy');
  const asked = await runBinary('render-crate', ['groups/demo', '--phase', 'configur'], { cwd: root });
  t.equal(asked.stderr, '', 'no warning for a phase that is asked for');

  const sshd = await startSshd({ id: 'web-1' });
  t.teardown(sshd.stop);
  const run = await runBinary('run-actions', ['groups/demo', '--plan'], { cwd: root, stdin: toNdjson([{ ...sshd.node, group: 'demo' }]) });
  t.match(
    run.stderr,
    /^run-actions: warning: phase "configur" of groups\/demo\.json5 never runs: not a standard phase and not requested \(did you mean "configure"\?\)\n/,
  );
});
