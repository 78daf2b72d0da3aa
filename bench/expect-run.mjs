#!/usr/bin/env node
// expect-run benchmark: start-up overhead for a test file with 100 expectations, and the --watch
// re-run latency after a save (targets: overhead < 300 ms, re-run < 500 ms). Prints its figures.
// Run from the repository root after `npx tsc -b`: node bench/expect-run.mjs
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'packages/expect-run/bin/expect-run.js');
const ROUNDS = Number(process.env.ROUNDS ?? 7);

function hundredExpectations(seed) {
  const lines = ["import { expect, inObj, inside } from '@forklift/expect-run';", ''];
  for (let i = 0; i < 100; i++) {
    const kind = i % 4;
    if (kind === 0) lines.push(`expect(${i + seed}, ${i} + ${seed});`);
    else if (kind === 1) lines.push(`expect({ port: ${i}, host: 'web-${i}' }, { host: 'web-${i}', port: ${i} });`);
    else if (kind === 2) lines.push(`expect(/web-${i}/, 'node web-${i} running');`);
    else lines.push(`expect(inObj({ id: ${i} }), { id: ${i}, roles: ['web'] }); expect(inside('web'), ['web', 'db']);`.split('; ')[0] + ';');
  }
  return lines.join('\n') + '\n';
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
// CPU time (user + sys) says more than wall time on a shared, loaded machine: GNU time reports it
const GNU_TIME = spawnSync('/usr/bin/time', ['-f', '%U', 'true'], { encoding: 'utf8' }).status === 0;
const timeRun = (args, cwd) => {
  const started = performance.now();
  const command = GNU_TIME ? '/usr/bin/time' : process.execPath;
  const argv = GNU_TIME ? ['-f', '::cpu %U %S', process.execPath, ...args] : args;
  const result = spawnSync(command, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const wallMs = performance.now() - started;
  const cpu = /::cpu ([\d.]+) ([\d.]+)/.exec(result.stderr ?? '');
  return { wallMs, cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN, result };
};

const dir = mkdtempSync(join(tmpdir(), 'expect-run-bench-'));
let watcher;
try {
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'hundred.expect.ts'), hundredExpectations(0));

  // warm tsx's transform cache once, then measure
  timeRun([BIN, 'hundred.expect.ts'], dir);
  const bare = [];
  const full = [];
  const bareCpu = [];
  const fullCpu = [];
  let testsSeen = 0;
  let inRunMs = [];
  for (let round = 0; round < ROUNDS; round++) {
    const node = timeRun(['-e', ''], dir);
    bare.push(node.wallMs);
    bareCpu.push(node.cpuMs);
    const { wallMs, cpuMs, result } = timeRun([BIN, 'hundred.expect.ts'], dir);
    if (result.status !== 0) throw new Error(`expect-run failed (${result.status}): ${result.stderr}`);
    full.push(wallMs);
    fullCpu.push(cpuMs);
    testsSeen = result.stdout.split('\n').filter((line) => line.includes('"kind":"test"')).length;
    inRunMs.push(Number(/in (\d+) ms/.exec(result.stderr)?.[1]));
  }
  console.log(`start-up, ${testsSeen} expectations in one .ts file (median of ${ROUNDS}):`);
  console.log(
    `  machine load average             ${(await import('node:os')).loadavg()[0].toFixed(1)} on ${(await import('node:os')).availableParallelism()} cores`,
  );
  console.log(`  node -e '' alone                 ${median(bare).toFixed(0)} ms wall, ${median(bareCpu).toFixed(0)} ms CPU`);
  console.log(`  expect-run hundred.expect.ts     ${median(full).toFixed(0)} ms wall, ${median(fullCpu).toFixed(0)} ms CPU`);
  console.log(
    `  overhead over bare node          ${(median(full) - median(bare)).toFixed(0)} ms wall, ${(median(fullCpu) - median(bareCpu)).toFixed(0)} ms CPU (target < 300 ms)`,
  );
  console.log(`  loading + running the file       ${median(inRunMs)} ms (the "Ran ... in X ms" figure)`);

  // --watch: save the file, time until the re-run's closing line appears on stderr
  watcher = spawn(process.execPath, [BIN, '--watch', 'hundred.expect.ts'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  watcher.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
  watcher.stdout.resume();
  const waitFor = async (predicate, what) => {
    const deadline = Date.now() + 60_000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  };
  await waitFor(() => stderr.includes('watching'), 'the first run');
  const latencies = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const before = (stderr.match(/^Ran /gm) ?? []).length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    const saved = performance.now();
    writeFileSync(join(dir, 'hundred.expect.ts'), hundredExpectations(round));
    await waitFor(() => (stderr.match(/^Ran /gm) ?? []).length > before, `re-run ${round}`);
    latencies.push(performance.now() - saved);
  }
  watcher.kill('SIGINT');
  await new Promise((resolve) => watcher.once('close', resolve));
  watcher = undefined;
  console.log(`--watch re-run after a save (${ROUNDS} saves, includes the 150 ms debounce (80 ms before 2026-12-05)):`);
  console.log(`  median ${median(latencies).toFixed(0)} ms, max ${Math.max(...latencies).toFixed(0)} ms (target < 500 ms)`);
} finally {
  if (watcher) watcher.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
