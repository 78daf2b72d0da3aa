#!/usr/bin/env node
// The typical system (examples/wine-cellar, topology (b): 7 nspawn nodes for one color) from nothing to
// passing acceptance tests, step by step, then a converge of the unchanged system. Targets on the
// project's 2-core machine, images cached: from nothing to passing tests under 2 minutes; an unchanged
// converge under 10 s. It runs the Makefile's own targets (the same pipelines the README shows) and
// times each; it tears the system down at the end (also when a step fails).
//   node bench/typical-system.mjs [--keep] [--home DIR]
// --home: the FORKLIFT_HOME to use (default ~/.forklift-bench): its apt proxy cache is what "images
// cached" means for packages — the first run on a machine fills it, later runs read from it.
// Needs root (nspawn nodes). Run through the heavy-job semaphore on shared machines.
import { spawn } from 'node:child_process';
import { loadavg, homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const keep = args.includes('--keep');
const homeFlag = args.indexOf('--home');
const home = homeFlag >= 0 ? args[homeFlag + 1] : join(homedir(), '.forklift-bench');
const project = fileURLToPath(new URL('../examples/wine-cellar/', import.meta.url));
const env = { ...process.env, FORKLIFT_HOME: home, FORKLIFT_IMAGE_CACHE: process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images' };

function make(target) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('make', ['-C', project, '--no-print-directory', target], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, ms: performance.now() - started }));
  });
}

const steps = [
  ['build', 'build the app bundle (+ runtime copy)'],
  ['provision', 'provision 7 nodes (6 groups side by side)'],
  ['converge-base', 'first wave: zk, files, blue-db side by side'],
  ['converge-tiers', 'second wave: blue-app (2 nodes), blue-web, lb side by side'],
  ['test', 'acceptance tests + browser script'],
];
const rows = [];
let failed = false;
const load = () => loadavg()[0].toFixed(1);
const loadBefore = load();
try {
  await make('down'); // from nothing
  for (const [target, what] of steps) {
    const run = await make(target);
    rows.push({ step: target, what, seconds: run.ms / 1000 });
    process.stderr.write(`${target}: ${(run.ms / 1000).toFixed(1)} s\n`);
    if (run.code !== 0) {
      failed = true;
      process.stderr.write(run.stderr.slice(-3000));
      break;
    }
  }
  if (!failed) {
    const again = await make('converge');
    rows.push({ step: 'converge (unchanged)', what: 'every tier again, nothing to change', seconds: again.ms / 1000 });
    if (again.code !== 0) failed = true;
  }
} finally {
  if (!keep) await make('down');
}

const total = rows.filter((r) => !r.step.startsWith('converge (')).reduce((sum, r) => sum + r.seconds, 0);
console.log(`typical system, topology (b), ${new Date().toISOString()}, load ${loadBefore} before / ${load()} after`);
console.log('| step | what | seconds |');
console.log('|---|---|---|');
for (const row of rows) console.log(`| ${row.step} | ${row.what} | ${row.seconds.toFixed(1)} |`);
console.log(`| **from nothing to passing tests** | target < 120 s | **${total.toFixed(1)}** |`);
if (failed) {
  console.log('a step failed: figures are incomplete');
  process.exitCode = 1;
}
