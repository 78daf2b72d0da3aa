// Hostile output and hostile names against the real binaries on a real systemd node (issue 12 items 6 and 11):
// - an action that prints 20 MB on stdout made a 20 MB result line, which the next tool refused (65); a 9 MB line of
//   "::before " without a newline was re-scanned on every chunk. Now each field keeps 1 MiB (marked truncated), the
//   pipeline goes on, and the action after the floods is reported with its own status and output.
// - a `local` file above 1 MiB would be carried inside the plan: render-crate refuses it and names upload.
// - `package: openssh-server-` made apt-get REMOVE sshd; ids `ps`/`ls`/`cat` failed shellcheck (SC2209).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localNodes, ndjson, onNode, parseRecords, renderCrateBin, repo, runActionsBin, runBin } from './nodes-lib.js';

const forkliftCatBin = join(repo, 'packages/contract/bin/forklift-cat.js');
const MiB = 1024 * 1024;

t.test('floods, a package name ending in -, and ids that are command names - on a real node', async (t) => {
  const probe = spawnSync('shellcheck', ['--version']);
  if (probe.error || probe.status !== 0) throw new Error('shellcheck is not installed: apt-get install shellcheck');
  const { nodes, env } = await localNodes(t, 'floods');
  const node = nodes[0]!;
  const project = mkdtempSync(join(tmpdir(), 'fl-floods-'));
  t.teardown(() => rmSync(project, { recursive: true, force: true }));
  mkdirSync(join(project, 'servers'));
  mkdirSync(join(project, 'files'));
  const spec = (name: string, actions: unknown[]): void =>
    writeFileSync(join(project, 'servers', `${name}.json5`), JSON.stringify({ phases: { configure: actions } }));

  t.test('item 6 - 20 MB of output and a 9 MB "::" line: 1 MiB per field, the next tool reads the stream', async (t) => {
    spec('flood', [
      { action: 'exec', id: 'big', script: "head -c 20000000 /dev/zero | tr '\\000' x; echo; head -c 3000000 /dev/zero | tr '\\000' y >&2" },
      { action: 'exec', id: 'colons', script: 'awk \'BEGIN { for (i = 0; i < 1000000; i++) printf "::before " }\'' },
      { action: 'exec', id: 'after', script: 'echo after the floods' },
    ]);
    const run = await runBin(runActionsBin, ['servers/flood'], { stdin: ndjson(nodes), env, cwd: project });
    t.equal(run.code, 0, run.stderr);
    const longest = Math.max(...run.stdout.split('\n').map((line) => Buffer.byteLength(line)));
    t.ok(longest < 4 * MiB, `no record line is near the 16 MiB a reader takes (longest ${longest} bytes)`);
    const results = parseRecords(run.stdout).filter((r) => r.kind === 'result');
    t.same(
      results.map((r) => [r.id, r.status]),
      [
        ['big', 'changed'],
        ['colons', 'changed'],
        ['after', 'changed'],
      ],
    );
    const [big, colons, after] = results;
    t.same(big!.truncated, ['stdout', 'stderr'], 'both floods are marked truncated');
    t.ok(Buffer.byteLength(big!.stdout) < MiB + 200 && big!.stdout.startsWith('x'.repeat(1000)), 'stdout keeps 1 MiB of what was printed');
    t.match(big!.stdout, /\[forklift: \d+ more bytes not kept/);
    t.same(colons!.truncated, ['stdout']);
    t.ok(colons!.stdout.startsWith('::before ::before '), 'a line full of "::" is data');
    t.equal(after!.stdout, 'after the floods\n', 'the action after the floods has its own output');
    const cat = await runBin(forkliftCatBin, [], { stdin: run.stdout });
    t.equal(cat.code, 0, `forklift-cat reads the whole stream: ${cat.stderr}`);
  });

  t.test('item 6 - a local file above 1 MiB: render-crate exits 65 naming upload, nothing rendered', async (t) => {
    writeFileSync(join(project, 'files', 'big.bin'), Buffer.alloc(MiB + 1, 7));
    spec('big-local', [{ action: 'file', id: 'big', path: '/opt/big.bin', local: 'files/big.bin' }]);
    const render = await runBin(renderCrateBin, ['servers/big-local'], { stdin: ndjson(nodes), env, cwd: project });
    t.equal(render.code, 65);
    t.equal(render.stderr.trim().split('\n').length, 1, 'one line');
    t.match(render.stderr, /more than the 1048576 bytes a plan may carry: use upload/);
    t.notOk(
      parseRecords(render.stdout).some((r) => r.kind === 'plan'),
      'no plan record',
    );
  });

  t.test('item 11 - package "openssh-server-" (apt would remove sshd) is refused; the node keeps sshd', async (t) => {
    spec('remove-sshd', [{ action: 'package', id: 'sneaky', name: ['openssh-server-'] }]);
    const run = await runBin(runActionsBin, ['servers/remove-sshd'], { stdin: ndjson(nodes), env, cwd: project });
    t.equal(run.code, 65, run.stderr);
    t.match(run.stderr, /must not end with "-" \(apt would remove the package instead\)/);
    t.notOk(
      parseRecords(run.stdout).some((r) => r.kind === 'result'),
      'nothing ran',
    );
    const still = await onNode(node, "dpkg-query -W -f '${Status}' openssh-server");
    t.equal(still.stdout, 'install ok installed', 'sshd is still installed');
  });

  t.test('item 11 - ids ps, ls and cat: the plan passes shellcheck and runs', async (t) => {
    spec('command-ids', [
      { action: 'exec', id: 'ps', script: 'echo ps ran' },
      { action: 'package', id: 'ls', name: 'openssh-server' },
      { action: 'service', id: 'cat', name: 'ssh', state: 'started', restartOn: ['ls'] },
    ]);
    const render = await runBin(renderCrateBin, ['servers/command-ids'], { stdin: ndjson(nodes), env, cwd: project });
    t.equal(render.code, 0, render.stderr);
    const plan = parseRecords(render.stdout).find((r) => r.kind === 'plan')!;
    const check = spawnSync('shellcheck', ['-s', 'sh', '-'], { input: plan.script as string, encoding: 'utf8' });
    t.equal(check.status, 0, `shellcheck of the plan script:\n${check.stdout}`);
    const run = await runBin(runActionsBin, [], { stdin: render.stdout, env, cwd: project });
    t.equal(run.code, 0, run.stderr);
    t.same(
      parseRecords(run.stdout)
        .filter((r) => r.kind === 'result')
        .map((r) => [r.id, r.status]),
      [
        ['ps', 'changed'],
        ['ls', 'ok'],
        ['cat', 'ok'],
      ],
    );
  });

  t.test('item 11 - a hung action: the phase script is stopped at --timeout (default 1800 s), nothing left running on the node', async (t) => {
    const help = await runBin(runActionsBin, ['--help']);
    t.match(help.stdout, /--timeout S[\s\S]*default 1800/, 'the default is there without the flag');
    spec('hung', [
      { action: 'exec', id: 'hangs', script: 'sleep 7777' },
      { action: 'exec', id: 'never', script: 'echo never' },
    ]);
    const run = await runBin(runActionsBin, ['servers/hung', '--timeout', '3'], { stdin: ndjson(nodes), env, cwd: project });
    t.equal(run.code, 1, run.stderr);
    const results = parseRecords(run.stdout).filter((r) => r.kind === 'result');
    t.same(
      results.map((r) => [r.id, r.status]),
      [
        ['hangs', 'failed'],
        ['never', 'skipped'],
      ],
    );
    t.match(results[0]!.stderr, /timed out/);
    // the wrapper ends the script's process group when run-actions stops it (TERM, KILL after 1 s); [7] keeps pgrep off its own shell
    const left = await onNode(
      node,
      'for i in 1 2 3 4 5 6 7 8 9 10; do pgrep -f "sleep 777[7]" >/dev/null || exit 0; sleep 0.5; done; pgrep -af "sleep 777[7]"',
    );
    t.equal(left.stdout.trim(), '', 'the hung command was killed on the node');
  });
});
