import t from 'tap';
import { spawn } from 'node:child_process';
import { PassThrough, Writable } from 'node:stream';
import { forkliftCatTool, main, ExitCode, UsageError, UnavailableError, InputError, type ToolDefinition } from '../src/index.js';
import { catBin, nodeLine, runCat } from './helpers.js';

t.test('forklift-cat - unknown kinds pass through byte-for-byte and in order, nodes re-emitted', async (t) => {
  const lines = [
    '{"v":1,"kind":"zeta",  "b":2,"a":1}',
    nodeLine,
    '{"v":1,"kind":"alpha","x":"é\\u00e9"}',
    '{"v":1,"kind":"result","node":"n","phase":"configure","action":"a1","label":"l","status":"ok","exitCode":0,"stdout":"","stderr":"","durationMs":3}',
  ];
  const { code, stdout, stderr } = await runCat(lines.join('\n') + '\n');
  t.equal(code, 0, stderr);
  const out = stdout.trimEnd().split('\n');
  t.equal(out.length, 5);
  t.equal(out[0], lines[0]);
  t.same(JSON.parse(out[1]), JSON.parse(nodeLine));
  t.equal(out[2], lines[2]);
  t.same(JSON.parse(out[3]), JSON.parse(lines[3]));
  const summary = JSON.parse(out[4]);
  t.match(summary, { v: 1, kind: 'summary', tool: 'forklift-cat', ok: true, counts: { nodes: 1 } });
  t.type(summary.durationMs, 'number');
});

t.test('forklift-cat - empty stdin succeeds with only the summary', async (t) => {
  const { code, stdout } = await runCat('');
  t.equal(code, 0);
  const out = stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.equal(out.length, 1);
  t.match(out[0], { kind: 'summary', ok: true });
});

t.test('forklift-cat - CRLF input and a last line without newline succeed', async (t) => {
  const { code, stdout } = await runCat(`${nodeLine}\r\n{"v":1,"kind":"x"}`);
  t.equal(code, 0);
  t.equal(stdout.split('\n')[1], '{"v":1,"kind":"x"}');
});

t.test('forklift-cat - --help prints usage and exits 0, --version prints the version', async (t) => {
  const help = await runCat('', ['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /Usage:/);
  const version = await runCat('', ['--version']);
  t.match(version.stdout, /^forklift-cat \d+\.\d+\.\d+/);
});

t.test('forklift-cat - an unknown option exits 64 with one line', async (t) => {
  const { code, stderr } = await runCat('', ['--nope']);
  t.equal(code, 64);
  t.equal(stderr.trimEnd(), 'forklift-cat: unknown option --nope (see forklift-cat --help)');
});

t.test('forklift-cat - a closed stdout (| head -1) ends quietly with exit 0', async (t) => {
  const many = Array.from({ length: 20000 }, (_, i) => `{"v":1,"kind":"x","i":${i}}`).join('\n') + '\n';
  const result = await new Promise<{ code: number | null; stderr: string; head: string }>((resolve) => {
    const sh = spawn('bash', ['-c', `node ${JSON.stringify(catBin)} | head -1; echo "exit=\${PIPESTATUS[0]}" >&2`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let head = '';
    sh.stdout.setEncoding('utf8').on('data', (d) => (head += d));
    sh.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    sh.on('close', (code) => resolve({ code, stderr, head }));
    sh.stdin.on('error', () => undefined);
    sh.stdin.end(many);
  });
  t.equal(result.head, '{"v":1,"kind":"x","i":0}\n');
  t.equal(result.stderr, 'exit=0\n', 'forklift-cat exits 0 and prints nothing on stderr');
});

t.test('forklift-cat - a TTY stdin is a usage error: one line, exit 64, nothing on stdout', async (t) => {
  const stdin = new PassThrough() as PassThrough & { isTTY?: boolean };
  stdin.isTTY = true;
  let err = '';
  const stderr = new Writable({
    write(chunk, _enc, cb) {
      err += chunk;
      cb();
    },
  });
  const stdout = capture();
  const code = await main(forkliftCatTool, [], { stdin, stdout: stdout.stream, stderr, env: {} });
  t.equal(code, 64);
  t.equal(err, 'forklift-cat: no input: pipe node records into stdin (see forklift-cat --help)\n');
  t.equal(stdout.text(), '');
});

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk;
      cb();
    },
  });
  return { stream, text: () => text };
}

function tool(run: ToolDefinition['run'], extra: Partial<ToolDefinition> = {}): ToolDefinition {
  return { name: 'demo', version: '1.0.0', usage: 'demo usage', stdin: 'optional', run, ...extra };
}

async function runTool(def: ToolDefinition, argv: string[], input = '', signal?: AbortSignal) {
  const out = capture();
  const err = capture();
  const stdin = new PassThrough();
  stdin.end(input);
  const code = await main(def, argv, { stdin, stdout: out.stream, stderr: err.stream, env: {}, signal });
  const stdout = out.text();
  return {
    code,
    stdout,
    stderr: err.text(),
    get records() {
      return stdout
        .trimEnd()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
    },
  };
}

t.test('main - errors map to exit codes in one place', async (t) => {
  const cases: Array<[unknown, number]> = [
    [new UsageError('bad flag'), ExitCode.usage],
    [new InputError('bad spec'), ExitCode.dataErr],
    [new UnavailableError('no chromium: apt-get install chromium'), ExitCode.unavailable],
    [new Error('boom'), ExitCode.internal],
  ];
  for (const [error, expected] of cases) {
    const r = await runTool(
      tool(async () => {
        throw error;
      }),
      [],
    );
    t.equal(r.code, expected, String(error));
    t.equal(r.stderr.trimEnd().split('\n').length, 1, 'one line without --debug');
    if (expected === ExitCode.usage) t.equal(r.stdout, '', 'a usage error writes no records');
    else t.match(r.records.at(-1), { kind: 'summary', ok: false });
  }
  const debug = await runTool(
    tool(async () => {
      throw new Error('boom');
    }),
    ['--debug'],
  );
  t.match(debug.stderr, /Error: boom\n\s+at /, '--debug prints the stack');
});

t.test('main - outcome maps to 0, 1 and 2 with --detailed-exitcode', async (t) => {
  t.equal(
    (
      await runTool(
        tool(async () => ({ ok: true, changed: true })),
        [],
      )
    ).code,
    0,
  );
  t.equal(
    (
      await runTool(
        tool(async () => ({ ok: false })),
        [],
      )
    ).code,
    1,
  );
  const detailed = tool(async () => ({ ok: true, changed: true }), { detailedExitcode: true });
  t.equal((await runTool(detailed, ['--detailed-exitcode'])).code, 2);
  t.equal((await runTool(detailed, [])).code, 0);
});

t.test('main - nodes are re-emitted (updated) before the tool records, consumed kinds dropped, summary last', async (t) => {
  const input = [nodeLine, '{"v":1,"kind":"plan-ish","keep":true}', '{"v":1,"kind":"eat-me"}'].join('\n');
  const def = tool(
    async (ctx) => {
      ctx.updateNode({ ...ctx.nodes[0], os: { family: 'debian', release: '12' } });
      t.equal(ctx.consumed.length, 1);
      await ctx.emit('error', { code: 'unreachable', message: 'x', node: 'web-1' });
      return { ok: true, counts: { n: 1 } };
    },
    { consumes: ['eat-me'] },
  );
  const r = await runTool(def, [], input);
  t.same(
    r.records.map((x) => x.kind),
    ['node', 'plan-ish', 'error', 'summary'],
  );
  t.same(r.records[0].os, { family: 'debian', release: '12' });
  t.same(r.records[3].counts, { n: 1 });
});

t.test('main - abort with SIGINT/SIGTERM gives 130/143 after the summary', async (t) => {
  for (const [reason, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    const controller = new AbortController();
    const def = tool(async (ctx) => {
      controller.abort(reason);
      t.ok(ctx.signal.aborted);
      return { ok: false };
    });
    const r = await runTool(def, [], '', controller.signal);
    t.equal(r.code, code);
    t.equal(r.records.at(-1).kind, 'summary');
  }
});

t.test('main - argument bounds and repeatable flags', async (t) => {
  const def = tool(async (ctx) => ({ ok: true, counts: { phases: (ctx.flags.phase as string[]).length } }), {
    flags: { multiple: ['phase'] },
    maxArgs: 1,
    minArgs: 1,
  });
  t.equal((await runTool(def, [])).code, 64);
  t.equal((await runTool(def, ['a', 'b'])).code, 64);
  const ok = await runTool(def, ['a', '--phase', 'x', '--phase', 'y']);
  t.equal(ok.records.at(-1).counts.phases, 2);
});

t.test('main - --help and --version work without the required arguments', async (t) => {
  const def = tool(async () => ({ ok: true }), { minArgs: 1 });
  const help = await runTool(def, ['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^demo usage\n\nCommon options/);
  t.equal((await runTool(def, ['--version'])).stdout, 'demo 1.0.0\n');
});

t.test('upstream failure - a summary with ok:false or an error record upstream makes the tool end ok:false, exit 1', async (t) => {
  const upstreamOk = '{"v":1,"kind":"summary","tool":"render-crate","ok":true,"counts":{},"durationMs":1}';
  const upstreamFailed = '{"v":1,"kind":"summary","tool":"render-crate","ok":false,"counts":{},"durationMs":1}';
  const upstreamError = '{"v":1,"kind":"error","code":"bad-spec","message":"groups/x.json5: nope"}';
  for (const [what, lines, code, ok] of [
    ['an ok summary', [nodeLine, upstreamOk], 0, true],
    ['a failed summary', [nodeLine, upstreamFailed], 1, false],
    ['an error record', [upstreamError, nodeLine], 1, false],
  ] as const) {
    const run = await runCat(`${lines.join('\n')}\n`);
    t.equal(run.code, code, `${what}: exit ${code}`);
    const out = run.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    t.match(out.at(-1), { kind: 'summary', tool: 'forklift-cat', ok }, `${what}: own summary ok:${ok}`);
    t.equal(out.length, lines.length + 1, `${what}: everything passed through`);
    if (!ok)
      t.match(
        run.stderr,
        /forklift-cat: (upstream render-crate failed \(its summary says ok:false\)|1 error record upstream): this run ends ok:false/,
        `${what}: says why on stderr`,
      );
  }
});
