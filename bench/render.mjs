#!/usr/bin/env node
// render-crate benchmark: renders a spec of 50 actions (a realistic mix) for 1,000 nodes and prints the time.
// Needs a build: npx tsc -b packages/render-crate. Usage: node bench/render.mjs [--nodes 1000] [--actions 50] [--runs 5]
import { createHash } from 'node:crypto';
import { renderPlans, serverSpec } from '@forklift/render-crate';

const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const nodeCount = flag('nodes', 1000);
const actionCount = flag('actions', 50);
const runs = flag('runs', 5);

const templates = [
  (i) => ({ action: 'package', name: `pkg${i}` }),
  (i) => ({ action: 'directory', path: `/srv/app/d${i}`, owner: 'root', mode: '0755' }),
  (i) => ({ action: 'file', path: `/etc/app/f${i}.conf`, content: `setting=${i}\n`.repeat(20), mode: '0644' }),
  (i) => ({ action: 'file', path: `/etc/app/t${i}.conf`, template: 'port={{ port }}\nhost={{ host }}\n', values: { port: 8000 + i, host: 'db' } }),
  (i) => ({ action: 'symlink', path: `/usr/local/bin/tool${i}`, target: `/opt/tool/bin/tool${i}` }),
  (i) => ({ action: 'line-in-file', path: '/etc/hosts', line: `10.0.0.${i} host${i}` }),
  (i) => ({ action: 'exec', script: `echo ${i}`, creates: `/var/lib/app/done${i}` }),
  (i) => ({ action: 'user', name: `user${i}`, shell: '/bin/sh', createHome: false }),
  (i) => ({ action: 'cron', name: `job${i}`, schedule: '@daily', command: `/usr/local/bin/job ${i}` }),
  (i) => ({ action: 'service', name: `svc${i}`, state: 'started', enabled: true }),
];
const configure = Array.from({ length: actionCount }, (_, i) => templates[i % templates.length](i));
const spec = serverSpec({ phases: { configure } });
const nodes = Array.from({ length: nodeCount }, (_, i) => ({
  v: 1,
  kind: 'node',
  id: `node-${i}`,
  group: 'bench',
  service: 'local',
  provider: 'nspawn',
  address: `10.1.${i >> 8}.${i & 255}`,
  port: 22,
  user: 'root',
  state: 'running',
  os: { family: i % 10 === 0 ? 'fedora' : 'debian', release: i % 10 === 0 ? '40' : '12' },
}));

const times = [];
let last;
for (let run = 0; run < runs; run += 1) {
  const started = performance.now();
  last = await renderPlans(spec, nodes, { phases: ['configure'] });
  times.push(performance.now() - started);
}
times.sort((a, b) => a - b);
const bytes = last.reduce((sum, plan) => sum + plan.script.length, 0);
const digest = createHash('sha256')
  .update(last.map((plan) => plan.sha256).join(''))
  .digest('hex')
  .slice(0, 12);
console.log(
  `render-crate: ${nodeCount} nodes x ${actionCount} actions = ${nodeCount * actionCount} actions, ${last.length} plans, ${(bytes / 1e6).toFixed(1)} MB of sh (digest ${digest})`,
);
console.log(
  `runs: ${times.map((ms) => `${Math.round(ms)} ms`).join(', ')}; median ${Math.round(times[Math.floor(times.length / 2)])} ms, best ${Math.round(times[0])} ms (target < 1000 ms)`,
);
