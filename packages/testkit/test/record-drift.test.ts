// Schema drift, every binary: each binary runs a case that makes it write every field it can (a
// failure, a diff, an unreachable node, a test that fails, a file that does not load, a browser step
// that fails), and every record it writes must validate against the contract's schemas and carry no
// field the published JSON Schemas (packages/contract/schema) leave undeclared.
import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordSchemas, isKnownKind, summaryCountsSchemas } from '@forklift/contract';
import { freePort, REPO_ROOT, runBinary, startSshd, undeclaredFields } from '../src/index.js';

type Rec = Record<string, unknown>;

const seenKinds = new Map<string, Set<string>>();

function checkOutput(t: Test, tool: string, records: Rec[]): void {
  const kinds = seenKinds.get(tool) ?? new Set<string>();
  seenKinds.set(tool, kinds);
  for (const record of records) {
    const kind = String(record.kind);
    kinds.add(kind);
    t.same(undeclaredFields(record), [], `${tool}: ${kind} record declares every field`);
    if (!isKnownKind(kind)) continue;
    const parsed = recordSchemas[kind].safeParse(record);
    t.ok(parsed.success, `${tool}: ${kind} record is valid${parsed.success ? '' : `: ${JSON.stringify(parsed.error.issues[0])}`}`);
    if (typeof record.durationMs === 'number') t.ok(Number.isInteger(record.durationMs), `${tool}: ${kind}.durationMs is a whole number`);
  }
  const summary = records.at(-1);
  t.match(summary, { kind: 'summary', tool }, `${tool}: the summary comes last`);
  t.ok(tool in summaryCountsSchemas, `${tool}: its summary counts have a schema`);
}

t.test('undeclaredFields - finds fields the schemas do not declare, at any depth', async (t) => {
  const plan = {
    v: 1,
    kind: 'plan',
    node: 'n',
    phase: 'p',
    script: 's',
    actions: [{ id: 'a', action: 'exec', label: 'l', extra: 1 }],
    sha256: 'f'.repeat(64),
    mode: 'plan',
    future: true,
  };
  t.same(undeclaredFields(plan), ['plan.actions[0].extra', 'plan.future']);
  t.same(undeclaredFields({ v: 1, kind: 'summary', tool: 'run-actions', ok: true, counts: { nodes: 1, bogus: 2 }, durationMs: 1 }), ['summary.counts.bogus']);
  t.same(
    undeclaredFields({ v: 1, kind: 'summary', tool: 'other', ok: true, counts: { anything: 2 }, durationMs: 1 }),
    [],
    'counts of a tool without its own schema are free',
  );
  t.same(undeclaredFields({ v: 1, kind: 'test', file: 'f', name: 'n', status: 'failed', durationMs: 1, failure: { message: 'm', stack: 's' } }), [
    'test.failure.stack',
  ]);
  t.same(
    undeclaredFields({
      v: 1,
      kind: 'node',
      id: 'a',
      group: 'g',
      service: 's',
      provider: 'p',
      address: 'x',
      port: 22,
      user: 'u',
      state: 'running',
      tags: { any: 'thing' },
      os: { family: 'debian', release: '12', codename: 'bookworm' },
    }),
    ['node.os.codename'],
  );
  t.same(undeclaredFields({ v: 1, kind: 'my-own-kind', anything: 1 }), [], 'kinds forklift does not define are not checked');
});

t.test('every binary writes only declared fields, valid records and an integer durationMs', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'forklift-drift-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const sshd = await startSshd({ id: 'drift-1' });
  t.teardown(sshd.stop);

  // provision-node: a node-list service (an inventory of existing servers) holding the test sshd and
  // a node nothing listens on
  const home = join(work, 'home');
  mkdirSync(join(home, 'services'), { recursive: true });
  const deadPort = await freePort();
  const { v: _v, kind: _k, state: _s, service: _svc, provider: _p, group: _g, ...inventoryNode } = sshd.node as Rec;
  writeFileSync(
    join(home, 'services', 'rack.json5'),
    JSON.stringify({
      provider: 'node-list',
      nodes: [
        { ...inventoryNode, group: 'drift', roles: ['app'], tags: { rack: 'r1' } },
        { id: 'gone', address: '127.0.0.1', port: deadPort, user: 'root', group: 'drift', privateKey: sshd.node.privateKey, hostKey: sshd.node.hostKey },
      ],
    }),
  );
  const env = { FORKLIFT_HOME: home };
  const listed = await runBinary('provision-node', ['rack', '--list', '--group', 'drift'], { env, cwd: work });
  t.equal(listed.exitCode, 0, listed.stderr);
  checkOutput(t, 'provision-node', listed.records);
  const nodes = listed.records.filter((record) => record.kind === 'node');
  t.equal(nodes.length, 2);

  // a project whose group converges a file (a diff), then fails an action (stderr, exit code)
  const project = join(work, 'project');
  const target = join(work, 'target');
  mkdirSync(join(project, 'groups'), { recursive: true });
  writeFileSync(
    join(project, 'groups', 'drift.json5'),
    JSON.stringify({
      group: 'drift',
      phases: {
        configure: [
          { action: 'directory', id: 'dir', path: target },
          { action: 'file', id: 'conf', path: join(target, 'app.conf'), content: 'port = 80\n' },
          { action: 'exec', id: 'boom', script: 'echo "it went wrong" >&2; exit 3' },
          { action: 'exec', id: 'after', script: 'true' },
        ],
        install: [{ action: 'exec', id: 'never', script: 'true' }],
      },
    }),
  );

  const rendered = await runBinary('render-crate', ['groups/drift', '--phase', 'configure', '--phase', 'install'], { cwd: project, stdin: listed.stdout });
  t.equal(rendered.exitCode, 0, rendered.stderr);
  checkOutput(t, 'render-crate', rendered.records);
  const planned = await runBinary('render-crate', ['groups/drift', '--plan'], { cwd: project, stdin: listed.stdout });
  t.equal(planned.exitCode, 0, planned.stderr);
  checkOutput(t, 'render-crate', planned.records);
  t.ok(planned.records.some((record) => record.kind === 'plan' && record.mode === 'plan'));

  const applied = await runBinary('run-actions', [], { cwd: project, stdin: rendered.stdout });
  t.equal(applied.exitCode, 1, applied.stderr);
  checkOutput(t, 'run-actions', applied.records);
  const results = applied.records.filter((record) => record.kind === 'result');
  t.match(results, [
    { id: 'dir', action: 'directory' },
    { id: 'conf', action: 'file', diff: /\+port = 80/ },
    { id: 'boom', action: 'exec', status: 'failed', exitCode: 3, stderr: /it went wrong/ },
    { id: 'after', status: 'skipped' },
    { id: 'never', status: 'skipped' },
  ]);
  t.match(
    applied.records.filter((record) => record.kind === 'error'),
    [{ node: 'gone', code: 'unreachable' }],
  );
  const checked = await runBinary('run-actions', ['groups/drift', '--plan'], { cwd: project, stdin: listed.stdout });
  checkOutput(t, 'run-actions', checked.records);

  const cat = await runBinary(join(REPO_ROOT, 'packages', 'contract', 'bin', 'forklift-cat.js'), [], { stdin: applied.stdout });
  t.equal(cat.exitCode, 1, 'forklift-cat reads the failed run-actions summary: it ends ok:false, exit 1 (an upstream failure is never masked)');
  checkOutput(t, 'forklift-cat', cat.records);

  // expect-run: passing, failing and erroring tests, and a file that does not load
  const fixtures = join(REPO_ROOT, 'packages', 'expect-run', 'test', 'fixtures');
  for (const dir of ['pass', 'stack', 'broken']) {
    const run = await runBinary('expect-run', [join(fixtures, dir)], { cwd: REPO_ROOT, stdin: listed.stdout });
    t.ok(run.exitCode === 0 || run.exitCode === 1, `expect-run ${dir}: ${run.stderr.slice(0, 400)}`);
    checkOutput(t, 'expect-run', run.records);
  }
  t.ok(seenKinds.get('expect-run')?.has('test'));
  t.ok(seenKinds.get('expect-run')?.has('error'), 'a file that does not load is an error record');
});

t.test('browser-drive writes only declared fields (a step with a result, a failed step with its snapshot)', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'forklift-drift-browser-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const script = join(work, 'page.json5');
  const page = 'data:text/html,<title>Drift</title><h1 id="t">forklift</h1>';
  writeFileSync(
    script,
    JSON.stringify({ steps: [{ open: page }, { execute: 'return document.title' }, { expectText: 'hovercraft', in: '#t', timeout: 1 }, { click: '#t' }] }),
  );
  const run = await runBinary('browser-drive', [script, '--screenshots', join(work, 'shots')], { timeoutMs: 120_000 });
  t.equal(run.exitCode, 1, run.stderr);
  checkOutput(t, 'browser-drive', run.records);
  const steps = run.records.filter((record) => record.kind === 'step');
  t.match(steps, [
    { status: 'passed' },
    { status: 'passed', result: 'Drift' },
    { status: 'failed', pageSource: /\.html$/, screenshot: /\.png$/ },
    { status: 'skipped' },
  ]);
  t.ok(readdirSync(join(work, 'shots')).length >= 2, 'the failure snapshot was saved');
});

t.test('between them the binaries wrote every record kind but promotion', async (t) => {
  const all = new Set([...seenKinds.values()].flatMap((kinds) => [...kinds]));
  for (const kind of ['node', 'plan', 'result', 'phase', 'test', 'step', 'error', 'summary']) t.ok(all.has(kind), kind);
});
