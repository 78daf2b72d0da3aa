#!/usr/bin/env node
// run-actions benchmark (not a test): the pyinfra-performance workload (add a user, touch a file,
// copy a file, run echo) on 1, 10 and 50 isolated SSH nodes (netns provider: own network namespace,
// own sshd, own overlay filesystem), first run and idempotent re-run, side by side with Ansible
// (Debian's ansible, forks = node count, pipelining on, same keys, host keys checked) and a bare
// parallel ssh2 fan-out piping the same rendered scripts. Prints figures and ratios.
//
//   node bench/run-actions.mjs [--sizes 1,10,50] [--keep]
//
// Needs root, the built workspace (npx tsc -b), ansible, and the netns provider's prerequisites.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bareFanOut } from './run-actions-bare.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { provisionNodes } = await import(join(root, 'packages/provision-node/dist/index.js'));
const { loadSpec, renderPlans } = await import(join(root, 'packages/render-crate/dist/index.js'));
const { runActions } = await import(join(root, 'packages/run-actions/dist/index.js'));

const args = process.argv.slice(2);
const sizes = (args.includes('--sizes') ? args[args.indexOf('--sizes') + 1] : '1,10,50').split(',').map(Number);
const keep = args.includes('--keep');
const GROUP = 'bench-run-actions';
const SERVICE = 'bench-netns';
const work = mkdtempSync(join(tmpdir(), 'bench-run-actions-'));
const controller = new AbortController();
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) process.exit(130);
    stopping = true;
    controller.abort(signal);
  });
}

function log(line) {
  process.stderr.write(line + '\n');
}

/** Run a command; resolve with wall ms, exit code, max RSS (KB, GNU time) and output. */
function timed(command, argv, { stdin = '', cwd = work, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const rssFile = join(work, `rss-${process.hrtime.bigint()}`);
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%M', '-o', rssFile, command, ...argv], { cwd, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.end(stdin);
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - started;
      let rssKb = NaN;
      try {
        rssKb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
        rmSync(rssFile);
      } catch {}
      resolve({ ms, code, rssKb, stdout, stderr });
    });
  });
}

function workloadSpec(prefix) {
  return {
    phases: {
      configure: [
        { action: 'user', id: 'add-user', name: `${prefix}user`, createHome: false, shell: '/bin/sh' },
        { action: 'file', id: 'touch-file', path: `/tmp/${prefix}-touched`, content: '', mode: '0644', backups: 0 },
        { action: 'file', id: 'copy-file', path: `/tmp/${prefix}-copied`, local: 'files/payload.txt', mode: '0644', backups: 0 },
        { action: 'exec', id: 'echo', command: ['echo', 'hello'] },
      ],
    },
  };
}

function ansibleFiles(nodes, prefix) {
  const dir = join(work, `ansible-${prefix}`);
  mkdirSync(dir, { recursive: true });
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, nodes.map((node) => `${node.address} ${node.hostKey}\n`).join(''));
  const hosts = nodes.map((node) => `${node.id} ansible_host=${node.address} ansible_port=${node.port}`).join('\n');
  writeFileSync(join(dir, 'inventory.ini'), `[bench]\n${hosts}\n\n[bench:vars]\nansible_user=root\nansible_ssh_private_key_file=${nodes[0].privateKey}\nansible_python_interpreter=/usr/bin/python3\n`);
  writeFileSync(
    join(dir, 'ansible.cfg'),
    [
      '[defaults]',
      `forks = ${nodes.length}`,
      'host_key_checking = True',
      'gathering = explicit',
      'retry_files_enabled = False',
      'stdout_callback = default',
      '[ssh_connection]',
      'pipelining = True',
      `ssh_args = -o ControlMaster=auto -o ControlPersist=30s -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes`,
      `control_path_dir = ${join(dir, 'cp')}`,
      '',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'playbook.yml'),
    `- hosts: bench
  gather_facts: false
  tasks:
    - name: add a user
      ansible.builtin.user: { name: ${prefix}user, create_home: false, shell: /bin/sh }
    - name: touch a file
      ansible.builtin.file: { path: /tmp/${prefix}-touched, state: touch, mode: "0644", access_time: preserve, modification_time: preserve }
    - name: copy a file
      ansible.builtin.copy: { src: ${join(work, 'files', 'payload.txt')}, dest: /tmp/${prefix}-copied, mode: "0644" }
    - name: run echo
      ansible.builtin.command: echo hello
`,
  );
  return dir;
}

/** End the ControlPersist ssh masters Ansible left under our control path dir (by PID). */
function endSshMasters() {
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.startsWith('ssh') && cmdline.includes(work)) process.kill(Number(entry), 'SIGTERM');
    } catch {}
  }
}

const rows = [];
let nodes = [];
try {
  mkdirSync(join(work, 'files'));
  writeFileSync(join(work, 'files', 'payload.txt'), 'forklift bench payload\n'.repeat(64));
  mkdirSync(join(work, 'servers'));
  // a netns service whose rootfs also has python3, which Ansible's modules need on the nodes
  mkdirSync(join(work, 'services'));
  writeFileSync(join(work, 'services', `${SERVICE}.json5`), JSON.stringify({ provider: 'netns', description: 'bench nodes with python3 for Ansible', options: { include: ['python3'] } }));
  const prereq = spawn('ansible-playbook', ['--version'], { stdio: 'ignore' });
  await new Promise((resolve, reject) => {
    prereq.on('error', () => reject(new Error('ansible-playbook not found: apt-get install ansible')));
    prereq.on('close', resolve);
  });
  for (const size of sizes) {
    if (controller.signal.aborted) break;
    log(`== ${size} node(s): provisioning (netns) ...`);
    const t0 = performance.now();
    nodes = await provisionNodes({ service: SERVICE, cwd: work, count: size, group: GROUP, log: (line) => log(`   ${line}`), signal: controller.signal });
    log(`   ${nodes.length} node(s) up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const nodeLines = nodes.map((node) => JSON.stringify(node)).join('\n') + '\n';

    // forklift: the run-actions binary, rendering the spec itself
    const flPrefix = `fl${size}`;
    writeFileSync(join(work, 'servers', `${flPrefix}.json5`), JSON.stringify(workloadSpec(flPrefix)));
    const flFirst = await timed(process.execPath, [join(root, 'packages/run-actions/bin/run-actions.js'), `servers/${flPrefix}`], { stdin: nodeLines });
    const flSecond = await timed(process.execPath, [join(root, 'packages/run-actions/bin/run-actions.js'), `servers/${flPrefix}`], { stdin: nodeLines });
    const flOk = (run) => run.code === 0 && run.stdout.includes('"kind":"result"') && !run.stdout.includes('"status":"failed"');
    if (!flOk(flFirst) || !flOk(flSecond)) throw new Error(`run-actions failed: ${flFirst.stderr.slice(-500)} ${flSecond.stderr.slice(-500)}`);
    const changedSecond = flSecond.stdout.split('\n').filter((line) => line.includes('"kind":"result"') && line.includes('"status":"changed"')).length;

    // forklift in-process (library, transport over ssh2), same spec with other names
    const libPrefix = `lib${size}`;
    writeFileSync(join(work, 'servers', `${libPrefix}.json5`), JSON.stringify(workloadSpec(libPrefix)));
    const libSpec = await loadSpec(`servers/${libPrefix}`, { cwd: work });
    const lib = async () => {
      const started = performance.now();
      const report = await runActions({ nodes, render: async (withFacts) => (await renderPlans(libSpec, withFacts, { cwd: work })).map((p) => ({ v: 1, kind: 'plan', ...p })), onRecord: () => undefined });
      if (!report.ok) throw new Error('runActions (library) failed');
      return performance.now() - started;
    };
    const libFirst = await lib();
    const libSecond = await lib();

    // bare ssh2 fan-out piping the same rendered scripts
    const barePrefix = `bare${size}`;
    writeFileSync(join(work, 'servers', `${barePrefix}.json5`), JSON.stringify(workloadSpec(barePrefix)));
    const barePlans = await renderPlans(await loadSpec(`servers/${barePrefix}`, { cwd: work }), nodes, { cwd: work });
    const bareFirst = await bareFanOut(nodes, barePlans);
    const bareSecond = await bareFanOut(nodes, barePlans);

    // Ansible
    const anPrefix = `an${size}`;
    const anDir = ansibleFiles(nodes, anPrefix);
    const ansible = () => timed('ansible-playbook', ['-i', join(anDir, 'inventory.ini'), join(anDir, 'playbook.yml')], { cwd: anDir, env: { ANSIBLE_CONFIG: join(anDir, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1' } });
    const anFirst = await ansible();
    const anSecond = await ansible();
    endSshMasters();
    for (const run of [anFirst, anSecond]) if (run.code !== 0) throw new Error(`ansible-playbook failed (exit ${run.code}): ${run.stdout.slice(-1500)}`);
    const anRecap = (anSecond.stdout.split('PLAY RECAP')[1] ?? '').split('\n').find((line) => line.includes(' : ok=')) ?? '';

    const row = {
      size,
      load: loadavg()[0].toFixed(1),
      flFirst: flFirst.ms, flSecond: flSecond.ms, flRssMb: Math.max(flFirst.rssKb, flSecond.rssKb) / 1024,
      libFirst, libSecond,
      bareFirst, bareSecond,
      anFirst: anFirst.ms, anSecond: anSecond.ms,
      changedSecond,
      anRecap,
    };
    rows.push(row);
    const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
    log(`   run-actions (binary)   first ${s(row.flFirst)}  re-run ${s(row.flSecond)}  peak RSS ${row.flRssMb.toFixed(0)} MB  (re-run: ${changedSecond} changed = the echo per node)`);
    log(`   runActions (library)   first ${s(libFirst)}  re-run ${s(libSecond)}`);
    log(`   bare ssh2 fan-out      first ${s(bareFirst)}  re-run ${s(bareSecond)}`);
    log(`   ansible-playbook       first ${s(row.anFirst)}  re-run ${s(row.anSecond)}  (re-run recap: ${anRecap.replace(/\s+/g, ' ').trim()})`);
  }
} finally {
  endSshMasters();
  if (!keep) {
    log('tearing down the bench nodes ...');
    await provisionNodes({ service: SERVICE, cwd: work, count: 0, group: GROUP, log: (line) => log(`   ${line}`) }).catch((error) => log(`teardown failed: ${error.message}`));
  }
  rmSync(work, { recursive: true, force: true });
}

const fmt = (ms) => (ms / 1000).toFixed(2);
const ratio = (a, b) => (a / b).toFixed(1);
console.log('\n| nodes | load | run-actions first / re-run (s) | library first / re-run (s) | bare ssh2 first / re-run (s) | Ansible first / re-run (s) | Ansible ÷ run-actions (first, re-run) | run-actions ÷ bare (binary; library) | peak RSS run-actions |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.size} | ${r.load} | ${fmt(r.flFirst)} / ${fmt(r.flSecond)} | ${fmt(r.libFirst)} / ${fmt(r.libSecond)} | ${fmt(r.bareFirst)} / ${fmt(r.bareSecond)} | ${fmt(r.anFirst)} / ${fmt(r.anSecond)} | ${ratio(r.anFirst, r.flFirst)}× , ${ratio(r.anSecond, r.flSecond)}× | ${ratio(r.flFirst, r.bareFirst)}× / ${ratio(r.flSecond, r.bareSecond)}× ; ${ratio(r.libFirst, r.bareFirst)}× / ${ratio(r.libSecond, r.bareSecond)}× | ${r.flRssMb.toFixed(0)} MB |`,
  );
}
