// The recipe machinery: when a pipeline's records and exit code mean failure, how records and
// durations are written, and a run that outlives the reader of its output.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MINI, RECIPES } from './helpers.js';
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
  for (const code of [64, 65, 69, 70, 130, 143]) t.equal(pipelineProblem([], code)?.exitCode, code);
  t.same(pipelineProblem([{ v: 1, kind: 'error', code: 'unreachable', message: 'connect timeout', node: 'web-1' }], 1), {
    exitCode: 1,
    message: 'a stage exited 1: web-1: connect timeout',
  });
});

t.test('formatRecord - v and kind first, other keys sorted', async (t) => {
  t.equal(
    formatRecord({ ok: true, kind: 'summary', v: 1, counts: {}, tool: 'x', durationMs: 2 }),
    '{"v":1,"kind":"summary","counts":{},"durationMs":2,"ok":true,"tool":"x"}',
  );
});

t.test('formatDuration - ms, seconds, minutes', async (t) => {
  t.equal(formatDuration(850), '850 ms');
  t.equal(formatDuration(4210), '4.2 s');
  t.equal(formatDuration(112_000), '1 min 52 s');
});

t.test('a reader of the output that went away does not end a recipe before its end (EPIPE ignored)', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'fl-recipes-epipe-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const records = join(home, 'down.ndjson');
  // `down` of a system with no node: one provision-node per group, a line on stderr for each
  const child = spawn(process.execPath, [join(RECIPES, 'down.mjs'), '--service', 'netns', '--home', home, '--project', MINI, '--records', records], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.destroy();
  child.stderr.destroy();
  const code = await new Promise<number | null>((done) => child.on('close', done));
  t.equal(code, 0, 'the recipe ran to its end');
  const lines = readFileSync(records, 'utf8').trim().split('\n');
  const summary = JSON.parse(lines.at(-1)!);
  t.match(summary, { kind: 'summary', tool: 'down', ok: true, exitCode: 0 });
  t.ok(summary.steps.length >= 2 && summary.steps.every((s: { name: string }) => s.name.startsWith('tear down ')), 'every group torn down');
});
