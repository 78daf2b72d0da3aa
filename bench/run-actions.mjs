#!/usr/bin/env node
// run-actions benchmark (not a test): the pyinfra-performance workload (add a user, touch a file, copy a file,
// run echo) on N SSH nodes — provision-node's `local` service by default (systemd-nspawn: real systemd, own
// sshd, overlay filesystem; `--provider netns` for the lighter network-namespace nodes) — first run and
// idempotent re-run, side by side in one run:
//   - the run-actions binary (process start, rendering the spec, one connection per node, facts + phase on one channel)
//   - runActions (the library, in-process), with a per-node breakdown: connect, facts, waiting for the render,
//     script, marker parsing
//   - a bare ssh2 fan-out piping the same rendered scripts into `sh -s` (bench/run-actions-bare.mjs): the floor;
//     and the same fan-out under run-actions' remote wrapper (what the wrapper's guarantees cost)
//   - Ansible (Debian's ansible: forks = N, pipelining, ControlPersist, same key, host keys checked)
// then (with --algorithms) ssh2 key exchange and cipher choices against the nodes' sshd: N handshakes at once.
// Prints the load average next to every figure. Tears its nodes down at the end, on failure and on SIGINT/SIGTERM
// (its own FORKLIFT_HOME under a temporary directory: nothing lands in other homes).
//
//   node bench/run-actions.mjs [--sizes 50] [--provider local|netns] [--settle 30] [--rounds 3] [--no-ansible] [--algorithms] [--keep]
//
// --rounds R: the idempotent re-runs of the binary, the library, the bare fan-out (plain, under the wrapper, as a process)
// run R rounds, the five in turn; figures are medians and each ratio is taken round by round.
//
// --settle S: seconds to wait after provisioning (the nodes' boot jobs) before measuring.
//
// Needs root, the built workspace (npx tsc -b), ansible (apt-get install ansible) and the provider's
// prerequisites. The nodes' rootfs includes python3 (Ansible's modules need it): built once into the image cache.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bareFanOut, connectBare } from './run-actions-bare.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { provisionNodes } = await import(join(root, 'packages/provision-node/dist/index.js'));
const { loadSpec, renderPlans } = await import(join(root, 'packages/render-crate/dist/index.js'));
const { runActions, sshTransport, SSH_ALGORITHMS } = await import(join(root, 'packages/run-actions/dist/index.js'));
const runActionsBin = join(root, 'packages/run-actions/bin/run-actions.js');

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const sizes = option('--sizes', '50').split(',').map(Number);
const providerName = option('--provider', 'local');
if (!['local', 'netns'].includes(providerName)) throw new Error('--provider: local or netns');
const keep = args.includes('--keep');
const withAnsible = !args.includes('--no-ansible');
const withAlgorithms = args.includes('--algorithms');
const rounds = Number(option('--rounds', '3'));
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds: a positive integer');
const settle = Number(option('--settle', '30'));
const GROUP = 'bench-run-actions';
const SERVICE = `bench-${providerName}`;
const work = mkdtempSync(join(tmpdir(), 'bench-run-actions-'));
const home = join(work, 'home');
const env = { ...process.env, FORKLIFT_HOME: home, FORKLIFT_IMAGE_CACHE: process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images' };
const controller = new AbortController();
const children = new Set();
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) process.exit(130);
    stopping = true;
    controller.abort(signal);
    for (const child of children) child.kill('SIGTERM');
  });
}

function log(line) {
  process.stderr.write(line + '\n');
}
const load = () => loadavg()[0].toFixed(2);
/** The whole machine's CPU so far (every core, the nodes' sshd and shells included), in jiffies: busy and idle. */
function machineCpu() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
  return { busy: user + nice + system + irq + softirq + steal, idle: idle + iowait };
}
const HZ = 100; // USER_HZ: /proc/stat counts in 1/100 s on Linux
/** Run `work` and note what the whole machine spent meanwhile: { result, coreSeconds, busyShare }. */
async function withMachineCpu(work) {
  const before = machineCpu();
  const result = await work();
  const after = machineCpu();
  const busy = after.busy - before.busy;
  const idle = after.idle - before.idle;
  return { result, coreSeconds: busy / HZ, busyShare: busy / Math.max(1, busy + idle) };
}
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN;
};
const max = (values) => Math.max(...values);
const ms = (value) => `${value.toFixed(0)} ms`;
const s = (value) => `${(value / 1000).toFixed(2)} s`;

/** Run a command; resolve with wall ms, exit code, max RSS (KB, GNU time), user+sys CPU s and output. */
function timed(command, argv, { stdin = '', cwd = work, extraEnv = {} } = {}) {
  return new Promise((resolve, reject) => {
    const rssFile = join(work, `rss-${process.hrtime.bigint()}`);
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%M %U %S', '-o', rssFile, command, ...argv], {
      cwd,
      env: { ...env, ...extraEnv },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.end(stdin);
    child.on('error', reject);
    child.on('close', (code) => {
      children.delete(child);
      const wall = performance.now() - started;
      let rssKb = NaN;
      let cpu = NaN;
      try {
        const [rss, user, sys] = readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        rssKb = rss;
        cpu = user + sys;
        rmSync(rssFile);
      } catch {}
      resolve({ ms: wall, code, rssKb, cpu, stdout, stderr });
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

/** Write the workload with names of its own (`prefix`) as `servers/PREFIX.json5`; returns the spec reference. */
function writeWorkload(prefix) {
  writeFileSync(join(work, 'servers', `${prefix}.json5`), JSON.stringify(workloadSpec(prefix)));
  return `servers/${prefix}`;
}

/** The plans of the workload with names of its own for `nodes`, rendered in-process: what the bare fan-out runs. */
async function workloadPlans(prefix, nodes) {
  return renderPlans(await loadSpec(writeWorkload(prefix), { cwd: work }), nodes, { cwd: work });
}

function ansibleFiles(nodes, prefix) {
  const dir = join(work, `ansible-${prefix}`);
  mkdirSync(dir, { recursive: true });
  const knownHosts = join(dir, 'known_hosts');
  writeFileSync(knownHosts, nodes.map((node) => `${node.address} ${node.hostKey}\n`).join(''));
  const hosts = nodes.map((node) => `${node.id} ansible_host=${node.address} ansible_port=${node.port}`).join('\n');
  writeFileSync(
    join(dir, 'inventory.ini'),
    `[bench]\n${hosts}\n\n[bench:vars]\nansible_user=root\nansible_ssh_private_key_file=${nodes[0].privateKey}\nansible_python_interpreter=/usr/bin/python3\n`,
  );
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
      `ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes`,
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

/** End the ControlPersist ssh masters our Ansible runs left under our work directory (by PID). */
function endSshMasters() {
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.startsWith('ssh') && cmdline.includes(work)) process.kill(Number(entry), 'SIGTERM');
    } catch {}
  }
}

/**
 * runActions in-process with a per-node breakdown, from a transport wrapping the real one: connect (TCP, key
 * exchange, auth), facts (the first channel's exec until its end-of-facts line), wait (until the script is sent:
 * every node's facts, then the render), script (sent until the channel closed), parse (time inside run-actions'
 * output handlers: marker parsing and records).
 */
async function libraryRun(nodes, spec) {
  const per = new Map(nodes.map((node) => [node.id, { connect: 0, facts: 0, wait: 0, script: 0, parse: 0 }]));
  const transport = async (node, signal) => {
    const t0 = performance.now();
    const real = await sshTransport(node, { signal });
    const row = per.get(node.id);
    row.connect = performance.now() - t0;
    return {
      exec(command, options = {}) {
        const started = performance.now();
        let factsAt = command.endsWith(' facts') ? undefined : started;
        let sentAt;
        let seen = '';
        const stdin = options.stdinStream;
        if (stdin) {
          const write = stdin.write.bind(stdin);
          stdin.write = (chunk, ...rest) => {
            if (sentAt === undefined) sentAt = performance.now();
            return write(chunk, ...rest);
          };
        }
        const onStdout = options.onStdout;
        const wrapped = {
          ...options,
          onStdout: (chunk) => {
            if (factsAt === undefined) {
              seen = (seen + chunk.toString('latin1')).slice(-64);
              if (seen.includes('end-of-facts\n')) factsAt = performance.now();
            }
            const p0 = performance.now();
            onStdout?.(chunk);
            row.parse += performance.now() - p0;
          },
        };
        return real.exec(command, wrapped).then((result) => {
          const end = performance.now();
          if (command.includes('forklift-run')) {
            row.facts += (factsAt ?? end) - started;
            row.wait += (sentAt ?? end) - (factsAt ?? started);
            row.script += end - (sentAt ?? end);
          }
          return result;
        });
      },
      close: () => real.close(),
    };
  };
  const started = performance.now();
  const report = await runActions({
    nodes,
    transport,
    render: async (withFacts) => (await renderPlans(spec, withFacts, { cwd: work })).map((p) => ({ v: 1, kind: 'plan', ...p })),
    onRecord: () => undefined,
    signal: controller.signal,
  });
  if (!report.ok) throw new Error('runActions (library) failed');
  return { ms: performance.now() - started, perNode: [...per.values()] };
}

function breakdown(perNode, keys) {
  return keys.map((key) => `${key} ${ms(median(perNode.map((row) => row[key])))} (max ${ms(max(perNode.map((row) => row[key])))})`).join(', ');
}

/** N handshakes at once (one per node) with the given algorithms: wall ms and median per-node connect ms. */
async function handshakes(nodes, algorithms) {
  const started = performance.now();
  const results = await Promise.all(nodes.map((node) => connectBare(node, algorithms)));
  const wall = performance.now() - started;
  for (const { client } of results) client.end();
  return { wall, median: median(results.map((r) => r.connectMs)) };
}

const rows = [];
let provisioned = false;
const common = { service: SERVICE, cwd: work, home, env, group: GROUP, log: (line) => log(`   ${line}`) };
try {
  mkdirSync(join(work, 'files'));
  writeFileSync(join(work, 'files', 'payload.txt'), 'forklift bench payload\n'.repeat(64));
  mkdirSync(join(work, 'servers'));
  mkdirSync(join(work, 'services'));
  // nodes whose rootfs also has python3, which Ansible's modules need
  writeFileSync(
    join(work, 'services', `${SERVICE}.json5`),
    JSON.stringify({
      provider: providerName === 'local' ? 'nspawn' : 'netns',
      description: 'bench nodes with python3 for Ansible',
      options: { include: ['python3'] },
    }),
  );
  if (withAnsible) {
    const prereq = spawn('ansible-playbook', ['--version'], { stdio: 'ignore' });
    await new Promise((resolve, reject) => {
      prereq.on('error', () => reject(new Error('ansible-playbook not found: apt-get install ansible')));
      prereq.on('close', resolve);
    });
  }
  for (const size of sizes) {
    if (controller.signal.aborted) break;
    log(`== ${size} node(s): provisioning (${providerName}) ... load ${load()}`);
    const t0 = performance.now();
    provisioned = true;
    const nodes = await provisionNodes({ ...common, count: size, signal: controller.signal });
    log(`   ${nodes.length} node(s) up in ${s(performance.now() - t0)}; letting their boot settle for ${settle} s (load ${load()})`);
    await new Promise((resolve) => setTimeout(resolve, settle * 1000));
    const nodeLines = nodes.map((node) => JSON.stringify(node)).join('\n') + '\n';
    const row = { size, loads: [] };

    // process start alone: the binary's --version (node start, no zod, no render-crate)
    const versions = [];
    for (let i = 0; i < 5; i++) versions.push((await timed(process.execPath, [runActionsBin, '--version'])).ms);
    row.versionMs = median(versions);

    // a first handshake with every node, for no tool: each sshd's first connection (its binary and libraries
    // paged in) must not count against whichever tool happens to run first
    await handshakes(nodes, SSH_ALGORITHMS);
    // how busy the whole machine is while N handshakes run at once (the nodes' sshd included): when both cores are
    // busy, nothing a tool does overlaps with them and every ms of its own CPU adds to the wall time
    const saturation = await withMachineCpu(() => handshakes(nodes, SSH_ALGORITHMS));
    row.handshakeCpu = { wall: saturation.result.wall, coreSeconds: saturation.coreSeconds, busyShare: saturation.busyShare };

    // first runs, each tool with names of its own (so each does the work): the binary (rendering the spec
    // itself), the library in-process, the bare fan-out of the same rendered scripts
    const flSpec = writeWorkload(`fl${size}`);
    const flOk = (run) => run.code === 0 && run.stdout.includes('"kind":"result"') && !run.stdout.includes('"status":"failed"');
    const binaryRun = async () => {
      const run = await timed(process.execPath, [runActionsBin, flSpec], { stdin: nodeLines });
      if (!flOk(run)) throw new Error(`run-actions failed (exit ${run.code}): ${run.stderr.slice(-500)}`);
      return run;
    };
    const libSpec = await loadSpec(writeWorkload(`lib${size}`), { cwd: work });
    const barePlans = await workloadPlans(`bare${size}`, nodes);
    // the same fan-out as a process of its own: the floor for the binary (node start and ssh2 loading included)
    const job = join(work, 'bare-job.json');
    writeFileSync(job, JSON.stringify({ nodes, plans: barePlans }));
    const bareProcessRun = async () => {
      const run = await timed(process.execPath, [join(root, 'bench', 'run-actions-bare.mjs'), job]);
      if (run.code !== 0) throw new Error(`bare fan-out process failed: ${run.stderr.slice(-500)}`);
      return run.ms;
    };

    // the binary's fixed cost: node start, the CLI, render-crate (zod, the action registry), loading the spec and
    // rendering it for no node — the same command with no node records on stdin
    const startups = [];
    for (let i = 0; i < 5; i++) startups.push((await timed(process.execPath, [runActionsBin, flSpec])).ms);
    row.startupMs = median(startups);

    // a first run for no tool (names of its own, not measured): the nodes page in useradd and the rest of what a
    // first run starts (one overlay image under all 50), so the tool measured first does not pay that for the others
    await bareFanOut(nodes, await workloadPlans(`warm${size}`, nodes));

    row.loads.push(load());
    const flFirst = await binaryRun();
    row.libFirst = await libraryRun(nodes, libSpec);
    row.bareFirst = await bareFanOut(nodes, barePlans);

    // re-runs: `--rounds` rounds, the four in turn in each round; the figures are medians over the rounds and
    // each ratio is taken round by round (side by side), then its median and range
    row.loads.push(load());
    const reruns = { fl: [], lib: [], bare: [], bareWrapped: [], bareProcess: [] };
    // the whole machine's CPU (core-seconds: this process, the nodes' sshd and shells) per re-run of each tool
    const machine = { fl: [], lib: [], bare: [], bareWrapped: [], bareProcess: [] };
    const noted = async (key, work) => {
      const { result, coreSeconds } = await withMachineCpu(work);
      machine[key].push(coreSeconds);
      return result;
    };
    const flRuns = [];
    for (let round = 0; round < rounds; round++) {
      const fl = await noted('fl', binaryRun);
      flRuns.push(fl);
      reruns.fl.push(fl.ms);
      const lib = await noted('lib', () => libraryRun(nodes, libSpec));
      reruns.lib.push(lib);
      const bare = await noted('bare', () => bareFanOut(nodes, barePlans));
      reruns.bare.push(bare);
      reruns.bareWrapped.push(await noted('bareWrapped', () => bareFanOut(nodes, barePlans, { wrapper: true })));
      reruns.bareProcess.push(await noted('bareProcess', bareProcessRun));
    }
    row.machineCpu = Object.fromEntries(Object.entries(machine).map(([key, values]) => [key, median(values)]));
    const middle = (runs) => [...runs].sort((a, b) => a.ms - b.ms)[Math.floor(runs.length / 2)];
    const changedSecond = flRuns[0].stdout.split('\n').filter((line) => line.includes('"kind":"result"') && line.includes('"status":"changed"')).length;
    const perRound = (a, b) => a.map((value, i) => value / b[i]);
    const bareMs = reruns.bare.map((run) => run.ms);
    Object.assign(row, {
      flFirst: flFirst.ms,
      flSecond: median(reruns.fl),
      flCpu: [flFirst.cpu, median(flRuns.map((run) => run.cpu))],
      flRssMb: Math.max(flFirst.rssKb, ...flRuns.map((run) => run.rssKb)) / 1024,
      changedSecond,
      libSecond: middle(reruns.lib),
      bareSecond: middle(reruns.bare),
      bareWrapped: middle(reruns.bareWrapped),
      bareProcess: median(reruns.bareProcess),
      rounds: {
        fl: reruns.fl,
        lib: reruns.lib.map((run) => run.ms),
        bare: bareMs,
        bareProcess: reruns.bareProcess,
        bareWrapped: reruns.bareWrapped.map((run) => run.ms),
        wrappedOverBare: perRound(
          reruns.bareWrapped.map((run) => run.ms),
          bareMs,
        ),
        libraryOverWrapped: perRound(
          reruns.lib.map((run) => run.ms),
          reruns.bareWrapped.map((run) => run.ms),
        ),
        binaryOverBare: perRound(reruns.fl, bareMs),
        libraryOverBare: perRound(
          reruns.lib.map((run) => run.ms),
          bareMs,
        ),
        binaryOverBareProcess: perRound(reruns.fl, reruns.bareProcess),
      },
    });

    // Ansible
    if (withAnsible) {
      const anPrefix = `an${size}`;
      const anDir = ansibleFiles(nodes, anPrefix);
      const ansible = () =>
        timed('ansible-playbook', ['-i', join(anDir, 'inventory.ini'), join(anDir, 'playbook.yml')], {
          cwd: anDir,
          extraEnv: { ANSIBLE_CONFIG: join(anDir, 'ansible.cfg'), ANSIBLE_NOCOLOR: '1' },
        });
      row.loads.push(load());
      const anFirst = await ansible();
      const anSecond = await ansible();
      endSshMasters();
      for (const run of [anFirst, anSecond]) if (run.code !== 0) throw new Error(`ansible-playbook failed (exit ${run.code}): ${run.stdout.slice(-1500)}`);
      row.anRecap = ((anSecond.stdout.split('PLAY RECAP')[1] ?? '').split('\n').find((line) => line.includes(' : ok=')) ?? '').replace(/\s+/g, ' ').trim();
      Object.assign(row, { anFirst: anFirst.ms, anSecond: anSecond.ms });
    }
    row.loads.push(load());
    rows.push(row);

    log(`   load (1 min) before each tool: ${row.loads.join(' → ')}`);
    log(`   run-actions --version   ${ms(row.versionMs)} (median of 5: node start + the CLI's modules)`);
    log(`   run-actions SPEC, no node ${ms(row.startupMs)} (median of 5: + render-crate, zod, the action registry, the spec)`);
    log(
      `   run-actions (binary)    first ${s(row.flFirst)}  re-run ${s(row.flSecond)}  CPU ${row.flCpu.map((c) => `${c.toFixed(2)} s`).join(' / ')}  peak RSS ${row.flRssMb.toFixed(0)} MB  (re-run: ${changedSecond} changed = the echo per node)`,
    );
    log(
      `   runActions (library)    first ${s(row.libFirst.ms)}  re-run ${s(row.libSecond.ms)}  bench process max RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`,
    );
    log(`     per node, first:  ${breakdown(row.libFirst.perNode, ['connect', 'facts', 'wait', 'script', 'parse'])}`);
    log(`     per node, re-run: ${breakdown(row.libSecond.perNode, ['connect', 'facts', 'wait', 'script', 'parse'])}`);
    log(`   bare ssh2 fan-out       first ${s(row.bareFirst.ms)}  re-run ${s(row.bareSecond.ms)}`);
    log(`   bare fan-out (process)  re-run ${s(row.bareProcess)}  (node start + ssh2 + the fan-out)`);
    const list = (values) => values.map((v) => (v / 1000).toFixed(2)).join(' ');
    const spread = (values) => `${median(values).toFixed(2)}× (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})`;
    log(
      `   re-runs, ${rounds} round(s): binary ${list(row.rounds.fl)} s; library ${list(row.rounds.lib)} s; bare ${list(row.rounds.bare)} s; bare under the wrapper ${list(row.rounds.bareWrapped)} s; bare process ${list(row.rounds.bareProcess)} s`,
    );
    log(
      `   re-run ratios round by round, median (range): binary ÷ bare ${spread(row.rounds.binaryOverBare)}; library ÷ bare ${spread(row.rounds.libraryOverBare)}; binary ÷ bare process ${spread(row.rounds.binaryOverBareProcess)}; bare under the wrapper ÷ bare ${spread(row.rounds.wrappedOverBare)}; library ÷ bare under the wrapper ${spread(row.rounds.libraryOverWrapped)}`,
    );
    log(
      `   whole machine's CPU per re-run (median core-seconds, the nodes included): binary ${row.machineCpu.fl.toFixed(2)}; library ${row.machineCpu.lib.toFixed(2)}; bare ${row.machineCpu.bare.toFixed(2)}; bare under the wrapper ${row.machineCpu.bareWrapped.toFixed(2)}; bare process ${row.machineCpu.bareProcess.toFixed(2)}`,
    );
    log(
      `   ${size} handshakes at once: ${ms(row.handshakeCpu.wall)}, ${row.handshakeCpu.coreSeconds.toFixed(2)} core-s, the machine ${(100 * row.handshakeCpu.busyShare).toFixed(0)}% busy (${cpus().length} cores)`,
    );
    log(`     per node, first:  ${breakdown(row.bareFirst.perNode, ['connectMs', 'scriptMs'])}`);
    log(`     per node, re-run: ${breakdown(row.bareSecond.perNode, ['connectMs', 'scriptMs'])}`);
    if (withAnsible) log(`   ansible-playbook        first ${s(row.anFirst)}  re-run ${s(row.anSecond)}  (re-run recap: ${row.anRecap})`);

    if (withAlgorithms) {
      log(`   ssh2 key exchange x cipher, ${size} handshakes at once (host key ${nodes[0].hostKey.split(' ')[0]}), best of 3, load ${load()}:`);
      const kexes = ['curve25519-sha256', 'ecdh-sha2-nistp256', 'diffie-hellman-group14-sha256', 'diffie-hellman-group16-sha512'];
      const ciphers = ['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes128-ctr'];
      row.algorithms = [];
      const tryOne = async (kex, cipher) => {
        const algorithms = { ...SSH_ALGORITHMS, kex: [kex], cipher: [cipher] };
        const runs = [];
        for (let i = 0; i < 3; i++) runs.push(await handshakes(nodes, algorithms));
        const best = runs.sort((a, b) => a.wall - b.wall)[0];
        row.algorithms.push({ kex, cipher, ...best });
        log(`     ${kex.padEnd(30)} ${cipher.padEnd(30)} ${ms(best.wall)} all, median ${ms(best.median)} per node`);
      };
      for (const kex of kexes) await tryOne(kex, 'aes128-gcm@openssh.com');
      for (const cipher of ciphers.slice(1)) await tryOne('curve25519-sha256', cipher);
    }
  }
} finally {
  endSshMasters();
  for (const child of children) child.kill('SIGTERM');
  if (provisioned && !keep) {
    log('tearing down the bench nodes ...');
    await provisionNodes({ ...common, count: 0 }).catch((error) => log(`teardown failed: ${error.message}`));
  }
  if (!keep) rmSync(work, { recursive: true, force: true });
  else log(`kept: FORKLIFT_HOME=${home}`);
}

const fmt = (value) => (value / 1000).toFixed(2);
const ratio = (a, b) => (a / b).toFixed(2);
console.log(`\nprovider ${providerName}; load (1 min) before each tool: see each row`);
console.log(
  "| nodes | load | run-actions first / re-run (s, re-runs: median of the rounds) | library first / re-run (s) | bare ssh2 first / re-run (s) | bare as a process, re-run (s) | Ansible first / re-run (s) | Ansible ÷ run-actions (first, re-run) | run-actions ÷ bare: binary ; library ; binary ÷ bare process (re-run ratios: median of the rounds' ratios) | peak RSS |",
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const an = r.anFirst ? `${fmt(r.anFirst)} / ${fmt(r.anSecond)}` : '—';
  const anRatio = r.anFirst ? `${ratio(r.anFirst, r.flFirst)}× , ${ratio(r.anSecond, r.flSecond)}×` : '—';
  console.log(
    `| ${r.size} | ${r.loads.join(' → ')} | ${fmt(r.flFirst)} / ${fmt(r.flSecond)} | ${fmt(r.libFirst.ms)} / ${fmt(r.libSecond.ms)} | ${fmt(r.bareFirst.ms)} / ${fmt(r.bareSecond.ms)} | ${fmt(r.bareProcess)} | ${an} | ${anRatio} | ${ratio(r.flFirst, r.bareFirst.ms)}× / ${median(r.rounds.binaryOverBare).toFixed(2)}× ; ${ratio(r.libFirst.ms, r.bareFirst.ms)}× / ${median(r.rounds.libraryOverBare).toFixed(2)}× ; ${median(r.rounds.binaryOverBareProcess).toFixed(2)}× | ${r.flRssMb.toFixed(0)} MB |`,
  );
}
