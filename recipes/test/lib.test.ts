// The recipe machinery's pure parts: when a pipeline's records and exit code mean failure, and how
// records and durations are written.
import t from 'tap';
// @ts-expect-error a plain ES module without types
import { formatDuration, formatRecord, pipelineProblem } from '../lib/recipe.mjs';

const summary = (tool: string, ok: boolean, counts: Record<string, number> = {}) => ({ v: 1, kind: 'summary', tool, ok, counts, durationMs: 1 });

t.test('pipelineProblem - a clean pipeline is no problem', async (t) => {
  t.equal(pipelineProblem([summary('provision-node', true), summary('run-actions', true)], 0), undefined);
});

t.test('pipelineProblem - an upstream summary with ok:false fails even when the last tool exited 0', async (t) => {
  t.same(pipelineProblem([summary('run-actions', false, { failed: 2, ok: 3 }), summary('expect-run', true)], 0), {
    exitCode: 1,
    message: 'run-actions reported ok:false (failed 2)',
  });
});

t.test('pipelineProblem - a stage exiting non-zero fails; 64, 65, 69, 70, 130, 143 are kept, others are 1', async (t) => {
  t.same(pipelineProblem([], 1), { exitCode: 1, message: 'a stage exited 1' });
  t.same(pipelineProblem([], 3), { exitCode: 1, message: 'a stage exited 3' });
  for (const code of [64, 65, 69, 70, 130, 143]) t.equal(pipelineProblem([], code).exitCode, code);
  t.same(pipelineProblem([{ v: 1, kind: 'error', code: 'unreachable', message: 'connect timeout', node: 'web-1' }], 1), {
    exitCode: 1,
    message: 'a stage exited 1: web-1: connect timeout',
  });
});

t.test('formatRecord - v and kind first, other keys sorted', async (t) => {
  t.equal(formatRecord({ ok: true, kind: 'summary', v: 1, counts: {}, tool: 'x', durationMs: 2 }), '{"v":1,"kind":"summary","counts":{},"durationMs":2,"ok":true,"tool":"x"}');
});

t.test('formatDuration - ms, seconds, minutes', async (t) => {
  t.equal(formatDuration(850), '850 ms');
  t.equal(formatDuration(4210), '4.2 s');
  t.equal(formatDuration(112_000), '1 min 52 s');
});
