// @forklift/contract/lite: the CLI helper reads and writes valid records of every kind without
// loading zod; a record the quick check cannot vouch for loads it and fails exactly as before.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as lite from '../src/lite.js';
import * as full from '../src/index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

// a child node process (the built package, as binaries load it) that pipes `input` through a tool
// emitting one record of every kind, and says whether zod was loaded (zod 4 sets a global when it is)
function throughLite(input: string): { code: number; stderr: string; kinds: string[]; zodLoaded: boolean } {
  const script = `
import { main, RECORD_VERSION } from '@forklift/contract/lite';
import { Readable, Writable } from 'node:stream';
let stdout = '', stderr = '';
const sink = (add) => new Writable({ write(chunk, _encoding, done) { add(String(chunk)); done(); } });
const tool = {
  name: 'lite-probe', version: '0', usage: 'lite-probe', stdin: 'required',
  async run(ctx) {
    await ctx.emit('plan', { node: 'n', phase: 'configure', script: 'true', actions: [{ id: 'a', action: 'exec', label: 'l' }], sha256: 'f'.repeat(64) });
    await ctx.emit('result', { node: 'n', phase: 'configure', action: 'a', label: 'l', status: 'ok', exitCode: 0, stdout: '', stderr: '', durationMs: 1 });
    await ctx.emit('phase', { node: 'n', phase: 'configure', status: 'ok', counts: { changed: 0, ok: 1, failed: 0, skipped: 0 }, durationMs: 1 });
    await ctx.emit('test', { file: 'f', name: 'n', status: 'failed', durationMs: 1, failure: { message: 'm', expected: 1, actual: 2 } });
    await ctx.emit('step', { script: 's', index: 0, step: 'open', status: 'passed', durationMs: 1 });
    await ctx.emit('promotion', { app: 's', from: 'blue', to: 'green', weights: [{ color: 'green', weight: 100 }], stage: 1, status: 'done', window: { requests: 1, errors: 0, errorRate: 0 } });
    await ctx.emit('error', { code: 'c', message: 'm' });
    return { ok: true };
  },
};
const code = await main(tool, [], { stdin: Readable.from([process.env.INPUT]), stdout: sink((text) => (stdout += text)), stderr: sink((text) => (stderr += text)), env: {} });
const kinds = stdout.trim().split('\\n').filter(Boolean).map((line) => JSON.parse(line).kind);
console.log(JSON.stringify({ code, stderr, kinds, zodLoaded: '__zod_globalConfig' in globalThis }));
`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: packageDir,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', INPUT: input },
  });
  return JSON.parse(out);
}

const node = {
  v: 1,
  kind: 'node',
  id: 'web-1',
  group: 'web',
  service: 'local',
  provider: 'nspawn',
  address: '10.0.0.2',
  port: 22,
  user: 'root',
  state: 'running',
  os: { family: 'debian', release: '12' },
};
const summary = { v: 1, kind: 'summary', tool: 'up', ok: true, counts: { nodes: 1 }, durationMs: 5 };

t.test('lite - valid records in and out of every kind: zod is never loaded', async (t) => {
  const result = throughLite([node, summary, { v: 1, kind: 'custom', x: 1 }].map((record) => JSON.stringify(record)).join('\n') + '\n');
  t.equal(result.code, 0, result.stderr);
  t.same(result.kinds, ['node', 'summary', 'custom', 'plan', 'result', 'phase', 'test', 'step', 'promotion', 'error', 'summary']);
  t.equal(result.zodLoaded, false);
});

t.test('lite - a bad record loads zod for the same one-line error and exit 65', async (t) => {
  const result = throughLite(JSON.stringify({ ...node, port: '22' }) + '\n');
  t.equal(result.code, 65);
  t.equal(result.stderr, 'lite-probe: stdin line 1: node record field "port": Invalid input: expected number, received string\n');
  t.same(result.kinds, []);
  t.equal(result.zodLoaded, true);
});

t.test('lite - exports everything of the main entry but the zod schemas', async (t) => {
  const zodOnly = [
    'OsFactsSchema',
    'NodeRecordSchema',
    'PlanActionSchema',
    'PlanRecordSchema',
    'PlanUploadSchema',
    'ActionStatusSchema',
    'ResultRecordSchema',
    'StatusCountsSchema',
    'PhaseRecordSchema',
    'TestFailureSchema',
    'TestRecordSchema',
    'StepRecordSchema',
    'ColorWeightSchema',
    'PromotionStatusSchema',
    'PromotionWindowSchema',
    'PromotionRecordSchema',
    'ErrorRecordSchema',
    'SummaryRecordSchema',
    'summaryCountsSchemas',
    'recordSchemas',
    'makeRecord',
    'jsonSchemaFor',
    'parseRecordLine',
  ];
  t.same(
    Object.keys(lite).sort(),
    Object.keys(full)
      .filter((name) => !zodOnly.includes(name))
      .sort(),
  );
  for (const name of Object.keys(lite))
    t.equal((lite as Record<string, unknown>)[name], (full as Record<string, unknown>)[name], `${name} is the same binding`);
});
