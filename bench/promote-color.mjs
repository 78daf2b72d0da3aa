#!/usr/bin/env node
// promote-color benchmark on real nodes: an LB converged with the haproxy crate and one web node per
// color running a Node HTTP app (the system of packages/promote-color/test/system.ts), wrk on the host
// (200 connections) during every run. Measures a full 3-stage shift with a 5 s hold through the library
// (per stage: apply, hold, total and the overhead beyond the hold; target < 200 ms) and through the CLI
// (wall time including start-up), and an automatic rollback (green's app stopped after the first stage:
// time from the failed gate to all traffic on blue, and from the break to the exit). Needs root and wrk.
// Run from the repository root after `npx tsc -b`:  node bench/promote-color.mjs [--hold 5s] [--rounds 2]
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { register } from 'tsx/esm/api';
import { promoteColor } from '../packages/promote-color/dist/index.js';

register();
const { APP, liveWeights, sh, socketErrors, startLoad, startSystem, stopSystem, waitUp } = await import('../packages/promote-color/test/system.ts');

const args = process.argv.slice(2);
const holdText = args.includes('--hold') ? args[args.indexOf('--hold') + 1] : '5s';
const holdMs = Number(/^(\d+)s$/.exec(holdText)?.[1] ?? 5) * 1000;
const rounds = Number(args.includes('--rounds') ? args[args.indexOf('--rounds') + 1] : 2) || 2;
const log = (line) => process.stderr.write(`${line}\n`);
const load1 = () => loadavg()[0].toFixed(1);
const ms = (value) => `${Math.round(value)} ms`;

function cli(argv, stdin) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['packages/promote-color/bin/promote-color.js', ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.stdin.end(stdin);
    child.once('close', (code) => resolve({ code, stdout, stderr, wallMs: performance.now() - started }));
  });
}

function loadLine(totals) {
  const seconds = totals.durationUs / 1e6;
  return `${totals.requests} requests in ${seconds.toFixed(1)} s (${Math.round(totals.requests / seconds)}/s), non-2xx ${totals.non2xx}, socket errors ${socketErrors(totals)}, p99 ${(totals.p99Us / 1000).toFixed(1)} ms`;
}

const results = { when: new Date().toISOString(), loadBefore: load1(), hold: holdText, library: [], cli: [], rollback: [] };
let system;
try {
  system = await startSystem('promote-color-bench', log);
  const url = `http://${system.lb.address}/`;
  let to = 'green';
  for (let round = 1; round <= rounds; round++) {
    // library: per-stage timings from the report
    const seconds = Math.ceil((3 * holdMs) / 1000) + 6;
    const wrk = startLoad(url, { connections: 200, seconds });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const load = load1();
    const started = performance.now();
    const report = await promoteColor({ app: APP, to, nodes: system.nodes, holdMs, stages: [10, 50, 100] });
    const totalMs = performance.now() - started;
    const totals = await wrk.result;
    if (!report.ok) throw new Error(`library shift to ${to} failed: ${JSON.stringify(report.records.at(-1))}`);
    results.library.push({ to, load, totalMs, stages: report.stages, totals });
    log(
      `library shift to ${to}: ${ms(totalMs)}; stages ${report.stages.map((s) => `${s.percent}%: apply ${s.applyMs} + held ${s.heldMs} = ${s.totalMs} ms (overhead ${s.totalMs - holdMs} ms)`).join('; ')}; wrk ${loadLine(totals)}`,
    );
    to = to === 'green' ? 'blue' : 'green';

    // CLI: wall time including node start-up and connections
    const wrk2 = startLoad(url, { connections: 200, seconds });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const load2 = load1();
    const run = await cli([APP, '--to', to, '--hold', holdText], system.stdin);
    const totals2 = await wrk2.result;
    if (run.code !== 0) throw new Error(`CLI shift to ${to} failed (exit ${run.code}): ${run.stderr}`);
    results.cli.push({ to, load: load2, wallMs: run.wallMs, overheadMs: run.wallMs - 3 * holdMs, totals: totals2 });
    log(`CLI shift to ${to}: ${ms(run.wallMs)} wall (${ms(run.wallMs - 3 * holdMs)} beyond 3 holds); wrk ${loadLine(totals2)}`);
    to = to === 'green' ? 'blue' : 'green';
  }

  // automatic rollback: blue live, green's app stopped once stage 1 holds
  if ((await liveWeights(system)).blue === 0) await promoteColor({ app: APP, to: 'blue', nodes: system.nodes, holdMs: 1000, stages: [100] });
  for (let round = 1; round <= rounds; round++) {
    const wrk = startLoad(url, { connections: 200, seconds: 14 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const load = load1();
    let breakAt = 0;
    const lines = [];
    const promise = promoteColor({
      app: APP,
      to: 'green',
      nodes: system.nodes,
      holdMs: 10_000,
      log: (line) => {
        lines.push(line);
        if (/stage 1\/3: .*holding/.test(line)) {
          setTimeout(() => {
            breakAt = performance.now();
            sh(system.green, 'systemctl stop color-app').catch((error) => log(String(error)));
          }, 1000);
        }
      },
    });
    const report = await promise;
    const sinceBreakMs = performance.now() - breakAt;
    const totals = await wrk.result;
    if (report.ok || report.rollbackMs === undefined) throw new Error(`expected a rollback: ${lines.join('\n')}`);
    results.rollback.push({ load, rollbackMs: report.rollbackMs, sinceBreakMs, reason: report.records.at(-1)?.reason, totals });
    log(
      `rollback: ${ms(report.rollbackMs)} from the failed gate to all traffic on blue; ${ms(sinceBreakMs)} from stopping green's app to the end; wrk ${loadLine(totals)}`,
    );
    await sh(system.green, 'systemctl start color-app');
    await waitUp(system);
  }
} finally {
  await stopSystem(system);
}
results.loadAfter = load1();

const stageOverheads = results.library.flatMap((r) => r.stages.map((s) => s.totalMs - holdMs));
console.log(
  `\npromote-color bench ${results.when} (load average ${results.loadBefore} before, ${results.loadAfter} after), hold ${holdText}, wrk 200 connections`,
);
console.log('| run | load | total | stage 10% (apply / overhead) | stage 50% | stage 100% | wrk requests, rate, non-2xx, socket errors |');
console.log('|---|---|---|---|---|---|---|');
for (const r of results.library) {
  const cells = r.stages.map((s) => `${s.applyMs} / ${s.totalMs - holdMs} ms`);
  console.log(
    `| library → ${r.to} | ${r.load} | ${ms(r.totalMs)} | ${cells.join(' | ')} | ${r.totals.requests}, ${Math.round(r.totals.requests / (r.totals.durationUs / 1e6))}/s, ${r.totals.non2xx}, ${socketErrors(r.totals)} |`,
  );
}
for (const r of results.cli) {
  console.log(
    `| CLI → ${r.to} | ${r.load} | ${ms(r.wallMs)} (${ms(r.overheadMs)} beyond the holds) | | | | ${r.totals.requests}, ${Math.round(r.totals.requests / (r.totals.durationUs / 1e6))}/s, ${r.totals.non2xx}, ${socketErrors(r.totals)} |`,
  );
}
console.log(
  `stage overhead beyond the hold: max ${Math.max(...stageOverheads)} ms, median ${[...stageOverheads].sort((a, b) => a - b)[Math.floor(stageOverheads.length / 2)]} ms (target < 200 ms)`,
);
for (const r of results.rollback) {
  console.log(
    `rollback (load ${r.load}): ${r.rollbackMs} ms from the failed gate to all traffic on blue, ${ms(r.sinceBreakMs)} from stopping green's app; wrk ${r.totals.requests} requests, non-2xx ${r.totals.non2xx}, socket errors ${socketErrors(r.totals)}; reason: ${r.reason}`,
  );
}
