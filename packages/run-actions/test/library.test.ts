import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeRecord } from '@forklift/contract';
import { runActions, type ExecOptions, type RunRecord, type Transport } from '../src/index.js';
import { testPlan } from './helpers.js';

function node(id: string, extra: Partial<NodeRecord> = {}): NodeRecord {
  return {
    v: 1,
    kind: 'node',
    id,
    group: 'g',
    service: 'fake',
    provider: 'fake',
    address: `${id}.invalid`,
    port: 22,
    user: 'root',
    state: 'running',
    os: { family: 'debian', release: '12' },
    ...extra,
  };
}

interface Call {
  node: string;
  command: string;
  stdin: string;
  holdStdin: boolean;
  startedAt: number;
  endedAt?: number;
}

const FACTS = 'id=debian\nversion_id=12\npm=apt-get\ninit=systemd\narch=x86_64\n';

/** The bytes written to a command's stdin (and its stdinStream), read as they arrive. */
function stdinOf(options: ExecOptions): { line(): Promise<string>; bytes(count: number): Promise<Buffer> } {
  let buffered = Buffer.from(options.stdin ?? '');
  let wake: (() => void) | undefined;
  options.stdinStream?.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    wake?.();
  });
  options.signal?.addEventListener('abort', () => wake?.());
  const until = async (ready: () => boolean): Promise<boolean> => {
    while (!ready()) {
      if (options.signal?.aborted) return false;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    return true;
  };
  return {
    async line() {
      if (!(await until(() => buffered.includes(10)))) return '';
      const at = buffered.indexOf(10);
      const line = buffered.subarray(0, at).toString();
      buffered = buffered.subarray(at + 1);
      return line;
    },
    async bytes(count) {
      await until(() => buffered.length >= count);
      const bytes = buffered.subarray(0, count);
      buffered = buffered.subarray(count);
      return bytes;
    },
  };
}

/**
 * A recording fake transport: answers the facts (on their own or on the first phase's channel) with Debian facts,
 * reads the wrapper's header and script from stdin, and answers with the markers its actions ask for (an action
 * whose id starts with "fail" fails), after `delayMs`.
 */
function fakeTransports(calls: Call[], delayMs = 20): (node: NodeRecord) => Promise<Transport> {
  return async (target) => ({
    async exec(command: string, options: ExecOptions = {}) {
      const input = stdinOf(options);
      if (!command.includes('forklift-run')) {
        const call: Call = {
          node: target.id,
          command,
          stdin: Buffer.from(options.stdin ?? '').toString(),
          holdStdin: Boolean(options.holdStdin),
          startedAt: performance.now(),
        };
        calls.push(call);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        options.onStdout?.(Buffer.from(`${FACTS}sudo=ok\n`));
        call.endedAt = performance.now();
        return { exitCode: 0 };
      }
      if (command.endsWith(' facts')) options.onStdout?.(Buffer.from(`${FACTS}end-of-facts\n`));
      const header = await input.line();
      const [nonce, length] = header.split(' ');
      if (!nonce || length === '0') return { exitCode: options.signal?.aborted ? null : 0 };
      const script = (await input.bytes(Number(length))).toString();
      const call: Call = { node: target.id, command, stdin: `${header}\n${script}`, holdStdin: Boolean(options.holdStdin), startedAt: performance.now() };
      calls.push(call);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      const ids = [...script.matchAll(/fl_mark (\S+) begin\n/g)].map((match) => match[1]!);
      for (const id of ids) {
        const status = id.startsWith('fail') ? 'failed' : 'ok';
        options.onStdout?.(
          Buffer.from(
            `::forklift:${nonce}:${id}:begin\n::forklift:${nonce}:${id}:stdout\n|out ${id}\n\n::forklift:${nonce}:${id}:exit:${status === 'ok' ? 0 : 1}\n::forklift:${nonce}:${id}:${status}\n`,
          ),
        );
        if (status === 'failed') {
          call.endedAt = performance.now();
          return { exitCode: 1 };
        }
      }
      call.endedAt = performance.now();
      return { exitCode: 0 };
    },
    async put() {},
    async close() {},
  });
}

async function collect(options: Omit<Parameters<typeof runActions>[0], 'onRecord'>) {
  const records: RunRecord[] = [];
  const report = await runActions({ ...options, onRecord: (record) => void records.push(record) });
  return { report, records };
}

t.test('runActions - one exec per phase with the script on held stdin, sudo -n for a non-root login', async (t) => {
  const calls: Call[] = [];
  const nodes = [node('a'), node('b', { user: 'deploy', os: undefined })];
  const plans = nodes.flatMap((n) => [
    testPlan(n, 'install', [{ id: 'one', body: 'true' }]),
    testPlan(n, 'configure', [
      { id: 'two', body: 'true' },
      { id: 'three', body: 'true' },
    ]),
  ]);
  const updated: NodeRecord[] = [];
  const records: RunRecord[] = [];
  const report = await runActions({ nodes, plans, transport: fakeTransports(calls), onNode: (n) => updated.push(n), onRecord: (r) => void records.push(r) });
  t.ok(report.ok);
  t.same(
    calls.filter((c) => c.node === 'a').map((c) => c.command.includes('forklift-run')),
    [true, true],
    'one exec per phase, no preflight of its own',
  );
  t.same(
    calls.filter((c) => c.node === 'a').map((c) => c.command.endsWith(' forklift-run facts')),
    [true, false],
    "the facts come on the first phase's channel",
  );
  const phaseCalls = calls.filter((c) => c.command.includes('forklift-run'));
  t.ok(
    phaseCalls.every((c) => c.holdStdin),
    'stdin held open while the script runs',
  );
  t.same(
    phaseCalls.filter((c) => c.node === 'a').map((c) => c.stdin.slice(c.stdin.indexOf('\n') + 1)),
    [plans[0]!.script, plans[1]!.script],
    'the header line, then the plan script, byte for byte',
  );
  t.same(
    phaseCalls.filter((c) => c.node === 'a').map((c) => c.stdin.split('\n')[0]!.split(' ').slice(1)),
    [
      [String(Buffer.byteLength(plans[0]!.script)), '-'],
      [String(Buffer.byteLength(plans[1]!.script)), '-'],
    ],
    'the header: nonce, script bytes, no blob directory',
  );
  t.ok(phaseCalls.filter((c) => c.node === 'b').every((c) => c.command.startsWith('sudo -n sh -c ')));
  t.ok(phaseCalls.filter((c) => c.node === 'a').every((c) => c.command.startsWith('sh -c ')));
  const nonceOf = (c: Call): string => c.stdin.split(' ')[0]!;
  t.equal(new Set(phaseCalls.map(nonceOf)).size, phaseCalls.length, 'a fresh nonce per script');
  t.ok(
    phaseCalls.every((c) => !c.command.includes(nonceOf(c))),
    'the nonce is never on the command line',
  );
  t.same(
    updated.map((n) => [n.id, n.os]),
    [['b', { family: 'debian', release: '12', packageManager: 'apt', init: 'systemd', arch: 'x86_64' }]],
    'facts only for the node without them',
  );
  const installEnd = Math.max(...phaseCalls.filter((c) => c.stdin.includes('one')).map((c) => c.endedAt!));
  const configureStart = Math.min(...phaseCalls.filter((c) => c.stdin.includes('three')).map((c) => c.startedAt));
  t.ok(installEnd <= configureStart, 'barrier between phases');
  t.same(
    records.filter((r) => r.kind === 'result' && r.fields.node === 'a').map((r) => r.fields.id),
    ['one', 'two', 'three'],
  );
});

t.test('runActions - --phase runs only the phases asked for, in plan order', async (t) => {
  const calls: Call[] = [];
  const a = node('a');
  const plans = ['bootstrap', 'install', 'configure'].map((phase) => testPlan(a, phase, [{ id: `in-${phase}`, body: 'true' }]));
  const { records } = await collect({ nodes: [a], plans, phases: ['configure', 'bootstrap'], transport: fakeTransports(calls) });
  t.same(
    records.filter((r) => r.kind === 'phase').map((r) => r.fields.phase),
    ['bootstrap', 'configure'],
  );
  t.equal(calls.filter((c) => c.command.includes('forklift-run')).length, 2);
});

t.test('runActions - --concurrency caps the nodes running at once', async (t) => {
  const calls: Call[] = [];
  const nodes = ['a', 'b', 'c', 'd', 'e'].map((id) => node(id));
  const plans = nodes.map((n) => testPlan(n, 'configure', [{ id: 'x', body: 'true' }]));
  await collect({ nodes, plans, concurrency: 2, transport: fakeTransports(calls, 30) });
  const events = calls
    .flatMap(
      (c) =>
        [
          [c.startedAt, 1],
          [c.endedAt!, -1],
        ] as const,
    )
    .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  let now = 0;
  let peak = 0;
  for (const [, delta] of events) peak = Math.max(peak, (now += delta));
  t.equal(peak, 2);
});

t.test('runActions - --batch rolls, --max-fail stops starting new batches', async (t) => {
  const calls: Call[] = [];
  const nodes = ['a', 'b', 'c', 'd'].map((id) => node(id));
  const plans = nodes.map((n) => testPlan(n, 'configure', [{ id: n.id === 'b' ? 'fail-x' : 'x', body: 'true' }]));
  const { report, records } = await collect({ nodes, plans, batch: { count: 2 }, maxFailPercent: 10, transport: fakeTransports(calls) });
  t.notOk(report.ok);
  t.same(
    calls.filter((c) => c.command.includes('forklift-run')).map((c) => c.node),
    ['a', 'b'],
    'the second batch never started',
  );
  t.same(
    records.filter((r) => r.kind === 'error').map((r) => [r.fields.node, r.fields.code]),
    [
      ['c', 'not-started'],
      ['d', 'not-started'],
    ],
  );
  t.match(records.find((r) => r.kind === 'error')!.fields.message, /1 of 4 nodes failed \(more than --max-fail 10%\)/);

  const rolling: Call[] = [];
  const ok = await collect({
    nodes: nodes.map((n) => n),
    plans: nodes.map((n) => testPlan(n, 'configure', [{ id: 'x', body: 'true' }])),
    batch: { percent: 50 },
    transport: fakeTransports(rolling),
  });
  t.ok(ok.report.ok);
  t.same(
    rolling.filter((c) => c.node === 'a').map((c) => c.command.includes('forklift-run')),
    [false, true],
    'with --batch the facts take a round trip of their own before the first batch',
  );
  const phase = rolling.filter((c) => c.command.includes('forklift-run'));
  const firstEnd = Math.max(...phase.filter((c) => ['a', 'b'].includes(c.node)).map((c) => c.endedAt!));
  const secondStart = Math.min(...phase.filter((c) => ['c', 'd'].includes(c.node)).map((c) => c.startedAt));
  t.ok(firstEnd <= secondStart, 'batch 2 starts after batch 1 ended');
});

t.test('runActions - a localhost node runs through the local transport', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'run-actions-local-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const local = node('local', { address: 'localhost', os: undefined });
  const records: RunRecord[] = [];
  const updated: NodeRecord[] = [];
  const report = await runActions({
    nodes: [local],
    plans: [testPlan(local, 'configure', [{ id: 'touch', body: `if [ ! -e ${dir}/x ]; then touch ${dir}/x; changed; fi; echo done` }])],
    onNode: (n) => updated.push(n),
    onRecord: (r) => void records.push(r),
  });
  t.ok(report.ok);
  t.ok(existsSync(join(dir, 'x')));
  t.match(records[0], { kind: 'result', fields: { id: 'touch', action: 'exec', status: 'changed', stdout: 'done\n' } });
  // the facts are this host's own, whatever it runs (the test does not assume Debian)
  const osRelease = ['/etc/os-release', '/usr/lib/os-release'].filter((path) => existsSync(path)).map((path) => readFileSync(path, 'utf8'))[0] ?? '';
  const hostId = /^ID="?([^"\n]*)"?$/m.exec(osRelease)?.[1];
  t.ok(hostId, 'this host has an os-release ID');
  t.equal(updated[0]?.os?.family, hostId, `OS facts gathered from the host itself (${hostId})`);
});
