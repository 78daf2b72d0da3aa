#!/usr/bin/env node
// Wall time of each recipe with the time of its steps, from the recipes' own summary records.
//   node bench/recipes.mjs [--home DIR]   wine-cellar (examples/wine-cellar) on local nodes, one after
//                                          another in one forklift home: dev --once (topology (a), then
//                                          --down), dev-qa of a feature branch from nothing to tested and
//                                          merged, production (blue) brought up by the Makefile's `up`,
//                                          qa-release 1.0.0 and production-release (blue -> green); every
//                                          node torn down at the end
//   node bench/recipes.mjs --mini          the recipe machinery alone: the mini project on netns nodes
//                                          (dev-qa, dev --once)
// "Images cached" means the rootfs and the nodes' packages: --home (default
// /var/cache/forklift/recipes-bench-home) keeps its apt cache between runs (only its nodes, bridge and apt
// proxy go). On a shared machine run it when nothing else heavy runs; it prints the load average next
// to the figures. Targets (issue 17, images cached): dev-qa < 2 min, production-release < 30 s.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const mini = process.argv.includes('--mini');
const project = mini ? join(root, 'recipes', 'test', 'fixtures', 'mini') : join(root, 'examples', 'wine-cellar');
const service = mini ? 'netns' : 'local';
const homeAt = process.argv.indexOf('--home');
const home = resolve(homeAt > 0 ? process.argv[homeAt + 1] : '/var/cache/forklift/recipes-bench-home');
const dir = mkdtempSync(join(tmpdir(), 'fl-bench-recipes-'));
const gitEnv = { GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@test.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@test.invalid' };
const env = {
  ...process.env,
  ...gitEnv,
  FORKLIFT_HOME: mini ? join(dir, 'home') : home,
  FORKLIFT_IMAGE_CACHE: process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images',
};

const git = (cwd, ...args) => {
  const out = spawnSync('git', args, { cwd, encoding: 'utf8', env });
  if (out.status !== 0) throw new Error(`git ${args.join(' ')}: ${out.stderr}`);
  return out.stdout.trim();
};

// a repository holding the project, with a bare origin (develop, master) and one feature branch
const origin = join(dir, 'origin.git');
const work = join(dir, 'work');
git(dir, 'init', '-q', '--bare', origin);
git(dir, 'init', '-q', '-b', 'master', work);
cpSync(project, work, { recursive: true, filter: (src) => !/\/(build|node_modules|secrets)$/.test(src) });
symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'));
if (!existsSync(join(work, '.gitignore'))) writeFileSync(join(work, '.gitignore'), 'build/\nnode_modules\nsecrets/\n');
// a project of its own has a package.json; inside the monorepo the example relies on the root's
// ("type": "module": its TypeScript specs and tests are ES modules)
if (!existsSync(join(work, 'package.json')))
  writeFileSync(join(work, 'package.json'), `${JSON.stringify({ name: 'bench-project', private: true, type: 'module' }, null, 2)}\n`);
git(work, 'add', '-A');
git(work, 'commit', '-q', '-m', 'the project');
git(work, 'branch', 'develop');
git(work, 'remote', 'add', 'origin', origin);
git(work, 'push', '-q', 'origin', 'master', 'develop');
git(work, 'checkout', '-q', '-b', 'feature/bench', 'develop');
writeFileSync(join(work, 'BENCH.md'), 'bench\n');
git(work, 'add', 'BENCH.md');
git(work, 'commit', '-q', '-m', 'bench feature');
git(work, 'checkout', '-q', 'develop');

// SIGINT/SIGTERM: passed on to the recipe that runs (it tears down what it started), then the bench stops
// after it and its finally block removes its nodes and temporary repository; a second signal exits at once.
let current;
let interrupted;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = signal;
    current?.kill(signal);
  });
}

function recipe(name, args) {
  if (interrupted) throw new Error(`interrupted (${interrupted})`);
  return new Promise((done) => {
    const load = loadavg()[0];
    const started = Date.now();
    const child = spawn(process.execPath, [join(root, 'recipes', `${name}.mjs`), ...args], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    current = child;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      current = undefined;
      let summary;
      try {
        summary = stdout.trim() ? JSON.parse(stdout.trim().split('\n').pop()) : undefined;
      } catch {
        summary = undefined; // cut short: no summary record
      }
      done({ name, args, code, wallMs: Date.now() - started, load, summary, stderr });
    });
  });
}

function report(run) {
  const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
  console.log(
    `\n${run.name} ${run.args.join(' ')} — exit ${run.code}, wall ${s(run.wallMs)} (load ${run.load.toFixed(1)} at start, ${loadavg()[0].toFixed(1)} at end)`,
  );
  for (const step of run.summary?.steps ?? []) console.log(`  ${step.ok ? 'ok  ' : 'FAIL'} ${s(step.durationMs).padStart(8)}  ${step.name}`);
  if (run.code !== 0) console.log(run.stderr.split('\n').slice(-15).join('\n'));
}

const runs = [];
try {
  if (!mini) {
    // the whole system on one node, tests run once; then gone (its crates would see production's nodes)
    runs.push(await recipe('dev', ['--service', service, '--home', home, '--once']));
    report(runs.at(-1));
    runs.push(await recipe('dev', ['--service', service, '--home', home, '--down']));
    report(runs.at(-1));
  }
  // dev-qa in the same home (one apt cache); its nodes are torn down at its end
  runs.push(await recipe('dev-qa', ['feature/bench', '--service', service, ...(mini ? [] : ['--home', home])]));
  report(runs.at(-1));
  if (mini) {
    runs.push(await recipe('dev', ['--service', service, '--once']));
    report(runs.at(-1));
    runs.push(await recipe('dev', ['--service', service, '--down']));
  } else {
    // production: blue, as the Makefile's `up` brings it, then a release to green
    git(work, 'pull', '-q', '--ff-only', 'origin', 'develop');
    const upStarted = Date.now();
    const make = ['-C', work, `BIN=${join(root, 'node_modules', '.bin')}`, `RECIPES=${join(root, 'recipes')}`];
    if (interrupted) throw new Error(`interrupted (${interrupted})`);
    const up = spawnSync('make', [...make, 'up'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (up.status !== 0) throw new Error('make up failed');
    console.log(`\nmake up (production, blue) — wall ${((Date.now() - upStarted) / 1000).toFixed(1)} s`);
    runs.push(await recipe('qa-release', ['1.0.0', '--service', service]));
    report(runs.at(-1));
    runs.push(await recipe('production-release', ['--service', service]));
    report(runs.at(-1));
  }
} finally {
  if (!mini) spawnSync(process.execPath, [join(root, 'recipes', 'down.mjs'), '--service', service], { cwd: work, env, stdio: 'ignore' });
  spawnSync(process.execPath, [join(root, 'recipes', 'dev.mjs'), '--service', service, '--down', ...(mini ? [] : ['--home', home])], {
    cwd: work,
    env,
    stdio: 'ignore',
  });
  rmSync(dir, { recursive: true, force: true });
}
console.log(`\n${new Date().toISOString()} — ${runs.map((r) => `${r.name} ${(r.wallMs / 1000).toFixed(1)} s`).join(', ')}`);
