// The secrets canary (issue 12 item 5) on a real systemd node: a secret in every place a spec can hold one
// (file.contentFrom, user.passwordFrom, exec.envFrom), then render + apply + --plan + a failing run, while the
// node samples every process's command line and environment as an unprivileged user would. The canary must
// appear 0 times in every record, every stderr and every sample; the node has it only where the spec put it.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localNodes, ndjson, onNode, parseRecords, renderCrateBin, runActionsBin, runBin } from './nodes-lib.js';

const CANARY = `CANARY${randomBytes(6).toString('hex')}`;
const secret = (what: string, generation = 1): string => `${CANARY}-${what}-${generation}`;
const count = (haystack: string, needle = CANARY): number => haystack.split(needle).length - 1;
/** Not a secret: a word in an exec's script and guard, which must not show on any command line either. */
const CODE = `ARGVCODE${randomBytes(6).toString('hex')}`;

t.test('secrets canary - 0 occurrences in records, stderr and process listings across render, apply, --plan and a failure', async (t) => {
  const { nodes, env } = await localNodes(t, 'canary');
  const node = nodes[0]!;
  const project = mkdtempSync(join(tmpdir(), 'fl-canary-project-'));
  t.teardown(() => rmSync(project, { recursive: true, force: true }));
  for (const dir of ['groups', 'servers', 'secrets']) mkdirSync(join(project, dir));
  const writeSecrets = (generation: number): void => {
    writeFileSync(join(project, 'secrets', 'db'), `${secret('db', generation)}\n`);
    writeFileSync(join(project, 'secrets', 'env'), `${secret('env', generation)}\n`);
    writeFileSync(join(project, 'secrets', 'canary.hash'), `$6$canarysalt$${secret('hash', generation).replace(/-/g, '.')}\n`);
  };
  writeSecrets(1);
  writeFileSync(
    join(project, 'groups', 'canary.json5'),
    `{ group: 'canary', phases: { configure: [
      { action: 'user', id: 'user', name: 'canary', passwordFrom: 'secrets/canary.hash' },
      { action: 'directory', id: 'dir', path: '/etc/canary', mode: '0755' },
      { action: 'file', id: 'db', path: '/etc/canary/db-password', contentFrom: 'secrets/db', mode: '0600' },
      { action: 'exec', id: 'use-env', sensitive: true, envFrom: { DB_PW: 'secrets/env' }, unless: 'test -s /root/canary-env.sum && test "$(cat /root/canary-env.sum)" = "$(printf %s "$DB_PW" | sha256sum)"',
        script: 'printf %s "$DB_PW" | sha256sum >/root/canary-env.sum; sleep 0.3' },
      { action: 'exec', id: 'plain-env', envFrom: { DB_PW: 'secrets/env' }, unless: 'test -e /nonexistent/${CODE}', script: 'test -n "$DB_PW" && sleep 0.3 # ${CODE}' },
    ] } }`,
  );
  writeFileSync(
    join(project, 'servers', 'fail.json5'),
    `{ phases: { configure: [
      { action: 'exec', id: 'fails', sensitive: true, envFrom: { DB_PW: 'secrets/env' }, script: 'echo "leaking $DB_PW"; echo "leaking $DB_PW" >&2; exit 3' },
      { action: 'file', id: 'never', path: '/etc/canary/never', contentFrom: 'secrets/db' },
    ] } }`,
  );

  // sample every process's argv (readable by every user) and, as nobody, every environ it may read
  const sampler = await onNode(
    node,
    `nohup sh -c 'while :; do cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\000" " " >>/root/ps-argv.log; echo >>/root/ps-argv.log; ` +
      `runuser -u nobody -- sh -c "cat /proc/[0-9]*/environ 2>/dev/null" | tr "\\000" " " >>/root/ps-environ-nobody.log; sleep 0.02; done' >/dev/null 2>&1 & echo $!`,
  );
  const samplerPid = sampler.stdout.trim();
  t.teardown(() => onNode(node, `kill ${samplerPid}`, { allowFail: true }).catch(() => undefined));

  const outputs: Array<[string, string]> = [];
  const nodeLines = ndjson([node]);
  const rendered = await runBin(renderCrateBin, ['groups/canary'], { stdin: nodeLines, env, cwd: project });
  t.equal(rendered.code, 0, rendered.stderr);
  outputs.push(['render-crate stdout', rendered.stdout], ['render-crate stderr', rendered.stderr]);

  const apply = await runBin(runActionsBin, [], { stdin: rendered.stdout, env, cwd: project });
  t.equal(apply.code, 0, apply.stderr);
  outputs.push(['apply stdout', apply.stdout], ['apply stderr', apply.stderr]);
  const applied = parseRecords(apply.stdout).filter((r) => r.kind === 'result');
  t.same(
    applied.map((r) => [r.id, r.status]),
    [
      ['user', 'changed'],
      ['dir', 'changed'],
      ['db', 'changed'],
      ['use-env', 'changed'],
      ['plain-env', 'changed'],
    ],
  );
  t.equal(applied.find((r) => r.id === 'use-env')!.label, 'exec ***');

  const spec = await runBin(runActionsBin, ['groups/canary'], { stdin: nodeLines, env, cwd: project });
  t.equal(spec.code, 0, spec.stderr);
  outputs.push(['second run stdout', spec.stdout], ['second run stderr', spec.stderr]);
  t.same(
    parseRecords(spec.stdout)
      .filter((r) => r.kind === 'result')
      .map((r) => r.status),
    ['ok', 'ok', 'ok', 'ok', 'changed'],
    'converged (plain-env has no guard)',
  );

  writeSecrets(2);
  const plan = await runBin(runActionsBin, ['groups/canary', '--plan'], { stdin: nodeLines, env, cwd: project });
  t.equal(plan.code, 0, plan.stderr);
  outputs.push(['--plan stdout', plan.stdout], ['--plan stderr', plan.stderr]);
  const planned = parseRecords(plan.stdout).filter((r) => r.kind === 'result');
  t.same(
    planned.filter((r) => r.status === 'changed').map((r) => r.id),
    ['user', 'db', 'use-env', 'plain-env'],
    'rotated secrets would change',
  );
  t.match(planned.find((r) => r.id === 'db')!.diff, /\*\*\*/, 'the secret file diff is masked');
  t.match(planned.find((r) => r.id === 'user')!.diff, /password\b.*\n.*\*\*\*/s, 'the password diff is masked');

  const failed = await runBin(runActionsBin, ['servers/fail'], { stdin: nodeLines, env, cwd: project });
  t.equal(failed.code, 1, 'the failure run exits 1');
  outputs.push(['failure stdout', failed.stdout], ['failure stderr', failed.stderr]);
  const failure = parseRecords(failed.stdout).filter((r) => r.kind === 'result');
  t.same(
    failure.map((r) => [r.id, r.status, r.exitCode]),
    [
      ['fails', 'failed', 3],
      ['never', 'skipped', 0],
    ],
  );
  t.match(failure[0]!.stderr, /output hidden: sensitive/);

  await onNode(node, `kill ${samplerPid}`);
  const argv = await onNode(node, 'cat /root/ps-argv.log');
  const environ = await onNode(node, 'cat /root/ps-environ-nobody.log');
  t.ok(argv.stdout.includes('forklift-run'), 'the sampler saw the runs');
  outputs.push(['process argv samples', argv.stdout], ['process environ samples (as nobody)', environ.stdout]);
  for (const [what, text] of outputs) t.equal(count(text), 0, `${what}: the canary appears 0 times`);
  const runLines = argv.stdout.split('\n').filter((line) => line.includes('forklift-run'));
  t.same(
    runLines.filter((line) => /\b[0-9a-f]{24}\b/.test(line)),
    [],
    'no nonce on a command line',
  );
  t.equal(count(argv.stdout, CODE), 0, "an exec's script and guard never appear on a command line");

  const state = await onNode(node, `grep -rl ${CANARY} /var/lib/forklift /run /tmp 2>/dev/null || true; ls -d /run/forklift-run.* 2>/dev/null || true`);
  t.equal(state.stdout.trim(), '', 'no copy of a secret in forklift state, /run or /tmp (no backups of secrets, no cache, run dirs removed)');
  const placed = await onNode(node, 'cat /etc/canary/db-password; stat -c %a /etc/canary/db-password; getent shadow canary | cut -d: -f2');
  t.equal(placed.stdout, `${secret('db')}\n600\n$6$canarysalt$${secret('hash').replace(/-/g, '.')}\n`, 'the node has the secrets where the spec put them');
});
