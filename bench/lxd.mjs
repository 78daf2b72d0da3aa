#!/usr/bin/env node
// lxd provider benchmark, side by side with `local` (nspawn) in one run: time to one node answering
// SSH (median of N rounds), 10 nodes in parallel (lxd: across the two members of a real cluster),
// memory per node (PSS of the node's processes, and LXD's own cgroup figure), teardown of the 10.
// Starts the two-member test cluster of packages/provision-node/test/lxd-cluster.ts and stops it.
// Needs root. Run from the repository root after `npx tsc -b`:
//   node --import tsx bench/lxd.mjs [--rounds N]   (heavy: run it alone, nothing else heavy at the same time)
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionNodes } from '../packages/provision-node/dist/index.js';
import { cgroupPids, nodeCgroups } from '../packages/provision-node/dist/cgroups.js';
import { startLxdCluster } from '../packages/provision-node/test/lxd-cluster.ts';

const args = process.argv.slice(2);
const rounds = Number(args[args.indexOf('--rounds') + 1] || 3) || 3;
const cache = process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images';
const home = mkdtempSync(join(tmpdir(), 'fl-bench-lxd-'));
const project = mkdtempSync(join(tmpdir(), 'fl-bench-lxd-project-'));
const env = { ...process.env, FORKLIFT_HOME: home, FORKLIFT_IMAGE_CACHE: cache };
const quiet = () => undefined;
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function timed(body) {
  const started = performance.now();
  const value = await body();
  return { ms: performance.now() - started, value };
}

function pssMiB(pids) {
  let kib = 0;
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

/** PIDs of an LXD container's processes: those in its `lxc.payload.<instance>` cgroup. */
function payloadPids(instance) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(`lxc.payload.${instance}`)) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

const results = { when: new Date().toISOString().slice(0, 16).replace('T', ' '), loadBefore: loadavg()[0].toFixed(1) };
let cluster;
try {
  const clusterStart = await timed(() => startLxdCluster(quiet));
  cluster = clusterStart.value;
  results.clusterUp = seconds(clusterStart.ms);
  mkdirSync(join(project, 'services'), { recursive: true });
  writeFileSync(
    join(project, 'services', 'cloud.json5'),
    JSON.stringify({ provider: 'lxd', options: { endpoint: `unix:${cluster.members[0].socket}`, network: cluster.network, aptProxy: cluster.aptProxy } }),
  );
  const common = { home, env, cwd: project, log: quiet };

  // the first lxd node of the run imports the image into the cluster (the image file is cached)
  const first = await timed(() => provisionNodes({ ...common, service: 'cloud', count: 1, group: 'warm' }));
  results.lxdFirstWithImport = seconds(first.ms);
  await provisionNodes({ ...common, service: 'cloud', count: 0, group: 'warm' });
  // the image went with the last node: import it again for the measured rounds, kept by a node of another group
  await provisionNodes({ ...common, service: 'cloud', count: 1, group: 'keep' });

  for (const service of ['local', 'cloud']) {
    const one = [];
    for (let round = 0; round < rounds; round += 1) {
      const { ms } = await timed(() => provisionNodes({ ...common, service, count: 1, group: 'one' }));
      one.push(ms);
      await provisionNodes({ ...common, service, count: 0, group: 'one' });
    }
    const ten = await timed(() => provisionNodes({ ...common, service, count: 10, group: 'ten' }));
    const nodes = ten.value;
    let pss;
    let lxdUsage;
    let placement;
    if (service === 'local') {
      pss = nodes.map((node) => pssMiB(new Set(nodeCgroups(node.tags.machine).flatMap(cgroupPids))));
    } else {
      pss = nodes.map((node) => pssMiB(payloadPids(node.tags.instance)));
      const usage = [];
      for (const node of nodes) usage.push((await cluster.api.get(`/1.0/instances/${node.tags.instance}/state`)).memory.usage / 1048576);
      lxdUsage = median(usage);
      const members = {};
      for (const node of nodes) members[node.tags.member] = (members[node.tags.member] ?? 0) + 1;
      placement = Object.entries(members)
        .map(([member, count]) => `${member} ${count}`)
        .join(', ');
    }
    const down = await timed(() => provisionNodes({ ...common, service, count: 0, group: 'ten' }));
    results[service] = {
      oneNode: seconds(median(one)),
      oneNodeRounds: one.map(seconds).join(' / '),
      tenParallel: seconds(ten.ms),
      pssPerNodeMiB: median(pss).toFixed(1),
      ...(lxdUsage !== undefined ? { lxdMemoryUsageMiB: lxdUsage.toFixed(1), placement } : {}),
      tenDown: seconds(down.ms),
    };
  }
  await provisionNodes({ ...common, service: 'cloud', count: 0, group: 'keep' });
} finally {
  results.loadAfter = loadavg()[0].toFixed(1);
  if (cluster) await cluster.stop();
  rmSync(home, { recursive: true, force: true });
  rmSync(project, { recursive: true, force: true });
}
console.log(JSON.stringify(results, null, 2));
