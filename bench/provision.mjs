#!/usr/bin/env node
// provision-node benchmark: rootfs build time (cold and cached), time to one ready nspawn node, to
// 10 in parallel, memory per node (and the same for netns nodes). Targets with the image cached:
// one nspawn node < 2 s, 10 < 10 s. Prints its figures; needs root.
// Run from the repository root after `npx tsc -b`:  node bench/provision.mjs [--no-cold] [--rounds N]
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureRootfs, provisionNodes } from '../packages/provision-node/dist/index.js';
import { cgroupPids, nodeCgroups } from '../packages/provision-node/dist/cgroups.js';
import { unmountUnder } from '../packages/provision-node/dist/mounts.js';

const args = process.argv.slice(2);
const cold = !args.includes('--no-cold');
const rounds = Number(args[args.indexOf('--rounds') + 1] || 3) || 3;
const cache = process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images';
const home = mkdtempSync(join(tmpdir(), 'fl-bench-'));
const env = { ...process.env, FORKLIFT_HOME: home, FORKLIFT_IMAGE_CACHE: cache };
const quiet = () => undefined;
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function timed(body) {
  const started = performance.now();
  const value = await body();
  return { ms: performance.now() - started, value };
}

/** Proportional set size (MiB) of every process in a node's cgroups. */
function nodeMemoryMiB(machine) {
  let kib = 0;
  const pids = new Set(nodeCgroups(machine).flatMap(cgroupPids));
  for (const pid of pids) {
    try {
      const match = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m);
      if (match) kib += Number(match[1]);
    } catch {
      // gone
    }
  }
  return kib / 1024;
}

function upperMiB(service, id) {
  const dir = join(home, 'state', service, 'nodes', id, 'upper');
  let bytes = 0;
  const walk = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) bytes += readFileSync(full).length;
    }
  };
  if (existsSync(dir)) walk(dir);
  return bytes / 1024 / 1024;
}

const results = { when: new Date().toISOString(), loadAvgBefore: loadavg()[0].toFixed(1) };
try {
  if (cold) {
    const coldCache = mkdtempSync(join(tmpdir(), 'fl-bench-images-'));
    try {
      const { ms } = await timed(() => ensureRootfs(coldCache, {}, (line) => console.error(line)));
      results.imageCold = seconds(ms);
    } finally {
      await unmountUnder(coldCache);
      rmSync(coldCache, { recursive: true, force: true });
    }
  }
  const cached = await timed(() => ensureRootfs(cache, {}, (line) => console.error(line)));
  results.imageCached = seconds(cached.ms);

  for (const service of ['local', 'netns']) {
    const one = [];
    for (let round = 0; round < rounds; round += 1) {
      const { ms } = await timed(() => provisionNodes({ service, count: 1, group: 'one', home, env, log: quiet }));
      one.push(ms);
      await provisionNodes({ service, count: 0, group: 'one', home, env, log: quiet });
    }
    // one more node while the group (and so the bridge and apt proxy) already runs
    await provisionNodes({ service, count: 1, group: 'one', home, env, log: quiet });
    const more = [];
    for (let round = 0; round < rounds; round += 1) {
      const { ms } = await timed(() => provisionNodes({ service, count: 2, group: 'one', home, env, log: quiet }));
      more.push(ms);
      await provisionNodes({ service, count: 1, group: 'one', home, env, log: quiet });
    }
    await provisionNodes({ service, count: 0, group: 'one', home, env, log: quiet });
    const ten = await timed(() => provisionNodes({ service, count: 10, group: 'ten', home, env, log: quiet }));
    const memory = ten.value.map((node) => nodeMemoryMiB(node.tags.machine));
    const disk = ten.value.map((node) => upperMiB(service, node.id));
    const down = await timed(() => provisionNodes({ service, count: 0, group: 'ten', home, env, log: quiet }));
    results[service] = {
      oneNode: `${seconds(median(one))} (median of ${rounds}, from no bridge)`,
      oneMoreNode: `${seconds(median(more))} (median of ${rounds}, bridge up)`,
      tenParallel: seconds(ten.ms),
      memoryPerNode: `${(memory.reduce((a, b) => a + b, 0) / memory.length).toFixed(1)} MiB PSS (min ${Math.min(...memory).toFixed(1)}, max ${Math.max(...memory).toFixed(1)})`,
      diskPerNode: `${(disk.reduce((a, b) => a + b, 0) / disk.length).toFixed(2)} MiB overlay upper`,
      tenTeardown: seconds(down.ms),
    };
  }
} finally {
  for (const [service, group] of [
    ['local', 'one'],
    ['local', 'ten'],
    ['netns', 'one'],
    ['netns', 'ten'],
  ]) {
    await provisionNodes({ service, count: 0, group, home, env, log: quiet }).catch(() => undefined);
  }
  rmSync(home, { recursive: true, force: true });
}
results.loadAvgAfter = loadavg()[0].toFixed(1);
console.log(JSON.stringify(results, null, 2));
