// The render-crate CLI in-process: records in and out, generic nodes per --os, byte stability, exit codes, shellcheck.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { nodeLine, runCli, SPECS } from './helpers.js';

t.test('render-crate - without stdin renders the spec for a generic debian node', async (t) => {
  const run = await runCli(['groups/web']);
  t.equal(run.code, 0, 'exit 0');
  t.same(
    run.records.map((r) => `${r.kind}:${r.node ?? ''}:${r.phase ?? ''}`),
    ['plan:generic-debian:bootstrap', 'plan:generic-debian:configure', 'summary::'],
    'one plan per phase, then the summary',
  );
  const plan = run.records[1]!;
  t.equal(plan.mode, 'apply', 'apply mode');
  t.equal(
    plan.sha256,
    createHash('sha256')
      .update(plan.script as string)
      .digest('hex'),
    'sha256 of the script',
  );
  t.match(plan.script as string, /^set -eu\n/, 'script starts with set -eu');
  t.same((run.records[2]!.counts as Record<string, number>).plans, 2, 'summary counts plans');
});

t.test('render-crate - node records on stdin: nodes re-emitted first, one plan per node per phase', async (t) => {
  const input =
    nodeLine('web-1', 'web', { family: 'debian', release: '12' }) +
    nodeLine('web-2', 'web', { family: 'fedora', release: '40' }) +
    nodeLine('db-1', 'db') +
    '{"v":1,"kind":"custom","x":1}\n';
  const run = await runCli(['groups/web', '--phase', 'configure', '--phase', 'deploy', '--plan'], input);
  t.equal(run.code, 0, 'exit 0');
  t.same(
    run.records.map((r) => `${r.kind}:${r.id ?? r.node ?? ''}:${r.phase ?? ''}`),
    [
      'node:web-1:',
      'node:web-2:',
      'node:db-1:',
      'custom::',
      'plan:web-1:configure',
      'plan:web-1:deploy',
      'plan:web-2:configure',
      'plan:web-2:deploy',
      'summary::',
    ],
    'pass-through, then plans for the group only',
  );
  t.ok(
    run.records.filter((r) => r.kind === 'plan').every((r) => r.mode === 'plan'),
    'plan mode recorded',
  );
  t.match(run.records[6]!.script as string, 'fedora 40', 'fedora node rendered with its own facts');
  t.match(run.stderr, '1 node(s) not running or not in group web', 'says which nodes got no plan');
});

t.test("render-crate - run from another directory, local files still come from the spec's project (not the cwd)", async (t) => {
  const elsewhere = mkdtempSync(join(tmpdir(), 'fl-render-cwd-'));
  t.teardown(() => rmSync(elsewhere, { recursive: true, force: true }));
  writeFileSync(join(elsewhere, 'index.html'), 'the wrong file\n');
  const input = nodeLine('web-1', 'web', { family: 'debian', release: '12' });
  const fromProject = await runCli(['groups/web', '--phase', 'configure'], input);
  const fromElsewhere = await runCli([join(SPECS, 'groups', 'web'), '--phase', 'configure'], input, elsewhere);
  t.equal(fromElsewhere.code, 0, 'exit 0', { stderr: fromElsewhere.stderr });
  const script = (run: typeof fromProject): string => String(run.records.find((r) => r.kind === 'plan')?.script);
  t.match(script(fromElsewhere), "'<h1>forklift</h1>\n'", "files/index.html of the spec's project");
  t.equal(script(fromElsewhere), script(fromProject), 'the same script from both directories');
});

t.test('render-crate - nodes provisioned without a group are adopted by a group spec and re-emitted in its group', async (t) => {
  const input = nodeLine('default-1', 'default', { family: 'debian', release: '12' }) + nodeLine('default-2', 'default');
  const run = await runCli(['groups/web', '--phase', 'configure'], input);
  t.equal(run.code, 0, 'exit 0', { stderr: run.stderr });
  t.same(
    run.records.filter((r) => r.kind === 'node').map((r) => `${r.id}:${r.group}`),
    ['default-1:web', 'default-2:web'],
    'the node records flow on in group web',
  );
  t.same(
    run.records.filter((r) => r.kind === 'plan').map((r) => r.node),
    ['default-1', 'default-2'],
    'one plan each',
  );
  t.match(run.stderr, 'render-crate: 2 node(s) of group default adopted into group web: default-1 default-2');
});

t.test('render-crate - only nodes of other groups for a group spec: exit 65 naming the groups seen, no plan', async (t) => {
  const run = await runCli(['groups/web', '--phase', 'configure'], nodeLine('db-1', 'db') + nodeLine('lb-1', 'lb'));
  t.equal(run.code, 65);
  t.equal(
    run.stderr,
    'render-crate: groups/web.json5: group web: none of the 2 running node(s) on stdin is in this group (groups seen: db, lb); provision them with --group web (or --spec), or give the spec of their group\n',
  );
  t.notOk(
    run.records.some((r) => r.kind === 'plan'),
    'no plan written',
  );
  t.match(
    run.records.find((r) => r.kind === 'error'),
    { code: 'no-node-of-group' },
    'the error record says why',
  );
});

t.test('render-crate - output is byte-stable', async (t) => {
  const input = nodeLine('web-1', 'web', { family: 'debian', release: '12' });
  const strip = (text: string): string => text.replace(/"durationMs":\d+/, '"durationMs":0');
  const first = await runCli(['groups/monitoring', '--phase', 'configure', '--phase', 'install'], input);
  const second = await runCli(['groups/monitoring', '--phase', 'configure', '--phase', 'install'], input);
  t.equal(strip(second.stdout), strip(first.stdout), 'identical bytes (only the summary duration differs)');
  t.match(first.stdout, /^\{"v":1,"kind":"node","address"/, 'keys sorted after v and kind');
});

t.test('render-crate - bad specs exit 65 with one line naming the file and path, and no plan', async (t) => {
  for (const [ref, message] of [
    ['groups/bad-action', 'groups/bad-action.json5: phases.configure[1].action: unknown action "pakage"'],
    ['groups/bad-option', 'groups/bad-option.json5: phases.configure[0]: unknown option "contnet"'],
    ['groups/bad-type', 'groups/bad-type.json5: phases.configure[0].parents: Invalid input: expected boolean, received string'],
  ] as const) {
    const run = await runCli([ref], nodeLine('web-1', 'web'));
    t.equal(run.code, 65, `${ref}: exit 65`);
    t.ok(run.stderr.startsWith(`render-crate: ${message}`), `${ref}: names file and path (${run.stderr.trim()})`);
    t.equal(run.stderr.split('\n').length, 2, `${ref}: one line`);
    t.notOk(
      run.records.some((r) => r.kind === 'plan'),
      `${ref}: no plan written`,
    );
  }
});

t.test('render-crate - usage errors exit 64', async (t) => {
  t.equal((await runCli([])).code, 64, 'missing SPEC');
  t.equal((await runCli(['groups/web', '--os', 'windows'])).code, 64, 'unknown --os');
  t.equal((await runCli(['groups/web', '--frobnicate'])).code, 64, 'unknown flag');
  const empty = await runCli(['groups/web', '--phase', '']);
  t.equal(empty.code, 64, 'an empty --phase is a usage error, as in run-actions');
  for (const args of [[], ['groups/web', '--os', 'windows'], ['groups/web', '--phase', '']])
    t.equal((await runCli(args)).stdout, '', `${args.join(' ')}: no records`);
  for (const phase of ['settings', 'a b']) {
    const run = await runCli(['groups/web', '--phase', phase]);
    t.equal(run.code, 64, `--phase ${JSON.stringify(phase)} is a usage error, as in run-actions`);
    t.match(run.stderr, `--phase ${JSON.stringify(phase)}: `);
  }
  const help = await runCli(['--help']);
  t.equal(help.code, 0, '--help exits 0');
  t.match(help.stdout, /line-in-file\s+a line present in a file/, 'help lists the actions from their schemas');
});

t.test('render-crate - every fixture spec renders for debian, fedora and alpine and passes shellcheck', async (t) => {
  const probe = spawnSync('shellcheck', ['--version']);
  if (probe.error || probe.status !== 0) throw new Error('shellcheck is not installed: apt-get install shellcheck');
  const dir = mkdtempSync(join(tmpdir(), 'forklift-render-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files: string[] = [];
  for (const os of ['debian', 'fedora', 'alpine']) {
    for (const ref of ['groups/web', 'groups/monitoring', 'servers/plain']) {
      for (const plan of [false, true]) {
        const run = await runCli([
          ref,
          '--os',
          os,
          '--phase',
          'bootstrap',
          '--phase',
          'configure',
          '--phase',
          'install',
          '--phase',
          'deploy',
          ...(plan ? ['--plan'] : []),
        ]);
        t.equal(run.code, 0, `${ref} ${os}${plan ? ' plan' : ''}: exit 0`);
        for (const record of run.records.filter((r) => r.kind === 'plan')) {
          const file = join(dir, `${files.length}-${os}-${String(record.phase)}.sh`);
          writeFileSync(file, record.script as string);
          files.push(file);
        }
      }
    }
  }
  const check = spawnSync('shellcheck', ['-s', 'sh', ...files], { encoding: 'utf8' });
  t.equal(check.stdout, '', `${files.length} scripts: no shellcheck findings`);
  t.equal(check.status, 0, 'shellcheck exits 0');
});
