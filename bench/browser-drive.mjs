#!/usr/bin/env node
// browser-drive benchmark: time to the first step and per-step overhead, in real headless chromium
// against a page served on 127.0.0.1 by this script. Needs the build: `npx tsc -b packages/browser-drive`.
//   node bench/browser-drive.mjs [--runs 3] [--steps 50]
// Prints one line per figure (medians over the runs); targets: first step < 2 s, per step < 50 ms.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browser, parseScript, runScript } from '../packages/browser-drive/dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
};
const RUNS = option('runs', 3);
const STEPS = option('steps', 50);

const page = '<!doctype html><title>Bench</title><h1>Bench page</h1><input id="q"><p class="x">a</p><p class="x">b</p>';
const server = createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'text/html' });
  response.end(page);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/`;
// CPU (user + sys, ms) used so far by live processes, children they reaped included; 100 ticks per second
const cpuMs = (pids) =>
  pids.reduce((sum, pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return sum + (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * 10;
    } catch {
      return sum;
    }
  }, 0);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value) => `${value.toFixed(1)} ms`;

const work = mkdtempSync(join(tmpdir(), 'browser-drive-bench-'));
try {
  // 1. CLI: from spawning the bin to its first step record on stdout (node start + launch + open)
  const scriptPath = join(work, 'first.json5');
  writeFileSync(scriptPath, `{ steps: [{ open: '${url}' }, { expectTitle: 'Bench' }] }`);
  const cliFirst = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    const child = spawn(process.execPath, [join(root, 'packages/browser-drive/bin/browser-drive.js'), scriptPath], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let firstAt;
    child.stdout.setEncoding('utf8').on('data', (text) => {
      out += text;
      if (firstAt === undefined && out.includes('"kind":"step"')) firstAt = performance.now();
    });
    const code = await new Promise((resolve) => child.once('close', resolve));
    if (code !== 0) throw new Error(`browser-drive exited ${code}: ${out}`);
    cliFirst.push(firstAt - started);
  }

  // 2. library: browser() launch, then the first open
  const launch = [];
  const firstOpen = [];
  const launchCpu = [];
  let b;
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    b = await browser();
    const launched = performance.now();
    await b.open(url);
    launch.push(launched - started);
    firstOpen.push(performance.now() - launched);
    launchCpu.push(cpuMs(b.pids()));
    if (run < RUNS - 1) await b.close();
  }

  // 3. per step: STEPS cheap steps through the step runner, against one raw WebDriver round trip
  const stepKinds = {
    expectTitle: { expectTitle: 'Bench' },
    expectText: { expectText: 'Bench', in: 'h1' },
    click: { click: '#q' },
    fill: { fill: '#q', with: 'pallet' },
    expectCount: { expectCount: 'p.x', count: 2 },
  };
  const perStep = {};
  for (const [kind, step] of Object.entries(stepKinds)) {
    const script = parseScript(
      Array.from({ length: STEPS }, () => step),
      `${kind}.json5`,
    );
    const samples = [];
    for (let run = 0; run < RUNS; run += 1) {
      let total = 0;
      const result = await runScript(script, { browser: b, onStep: (record) => (total += record.durationMs) });
      if (!result.ok) throw new Error(`${kind} steps failed`);
      samples.push(total / STEPS);
    }
    perStep[kind] = median(samples);
  }
  const roundTrip = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    for (let i = 0; i < STEPS; i += 1) await b.driver.getTitle();
    roundTrip.push((performance.now() - started) / STEPS);
  }
  await b.close();

  console.log(`browser-drive bench: ${RUNS} runs, ${STEPS} steps per kind, ${cpus().length} cores, load ${loadavg()[0].toFixed(1)}`);
  console.log(`cli time to first step (spawn -> first step record): ${ms(median(cliFirst))}  [${cliFirst.map((v) => v.toFixed(0)).join(' ')}]`);
  console.log(`library launch (chromedriver + chromium session): ${ms(median(launch))}`);
  console.log(`library first open (loopback page): ${ms(median(firstOpen))}`);
  console.log(`library time to first step (launch + open): ${ms(median(launch.map((v, i) => v + firstOpen[i])))}`);
  console.log(`CPU of the driver + browser processes until then (user + sys): ${ms(median(launchCpu))}`);
  for (const [kind, value] of Object.entries(perStep)) console.log(`per step ${kind}: ${ms(value)}`);
  console.log(`one WebDriver round trip (getTitle): ${ms(median(roundTrip))}`);
  console.log(`runner overhead per expectTitle step (step - round trip): ${ms(perStep.expectTitle - median(roundTrip))}`);
} finally {
  server.close();
  rmSync(work, { recursive: true, force: true });
}
