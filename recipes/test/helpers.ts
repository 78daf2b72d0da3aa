// Test helpers for the recipes: a real git repository holding a project, with a bare origin in a
// temporary directory (develop and master pushed), and the recipes run as subprocesses.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RECIPES = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const ROOT = resolve(RECIPES, '..');
export const MINI = join(RECIPES, 'test', 'fixtures', 'mini');

export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Recipe Test',
  GIT_AUTHOR_EMAIL: 'recipes@test.invalid',
  GIT_COMMITTER_NAME: 'Recipe Test',
  GIT_COMMITTER_EMAIL: 'recipes@test.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** git in a folder; throws with git's stderr when it fails. */
export function git(cwd: string, ...args: string[]): string {
  const out = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...GIT_ENV } });
  if (out.status !== 0) throw new Error(`git ${args.join(' ')}: ${out.stderr}`);
  return out.stdout.trim();
}

export interface TestRepo {
  dir: string;
  work: string;
  origin: string;
  home: string;
  env: Record<string, string>;
}

/**
 * A temporary directory with `origin.git` (bare) and `work` (a clone holding `project` at its root,
 * node_modules linked to the repository's), develop and master pushed; FORKLIFT_HOME inside it.
 */
export function makeRepo(project = MINI): TestRepo {
  const dir = mkdtempSync(join(tmpdir(), 'fl-recipes-'));
  const origin = join(dir, 'origin.git');
  const work = join(dir, 'work');
  git(dir, 'init', '-q', '--bare', origin);
  git(dir, 'init', '-q', '-b', 'master', work);
  cpSync(project, work, { recursive: true, filter: (src) => !/\/(build|node_modules|secrets)$/.test(src) });
  symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'));
  if (!existsSync(join(work, '.gitignore'))) writeFileSync(join(work, '.gitignore'), 'build/\nnode_modules\nsecrets/\n');
  // a project of its own has a package.json; inside the monorepo the example relies on the root's
  // ("type": "module": its TypeScript specs and tests are ES modules)
  if (!existsSync(join(work, 'package.json')))
    writeFileSync(join(work, 'package.json'), `${JSON.stringify({ name: 'recipes-test-project', private: true, type: 'module' }, null, 2)}\n`);
  git(work, 'add', '-A');
  git(work, 'commit', '-q', '-m', 'the project');
  git(work, 'branch', 'develop');
  git(work, 'remote', 'add', 'origin', origin);
  git(work, 'push', '-q', 'origin', 'master', 'develop');
  git(work, 'checkout', '-q', 'develop');
  const home = join(dir, 'home');
  const env = {
    ...GIT_ENV,
    FORKLIFT_HOME: home,
    FORKLIFT_IMAGE_CACHE: process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images',
  };
  return { dir, work, origin, home, env };
}

/** Commit a change of files on a new branch from develop (then back on develop). */
export function branchWith(repo: TestRepo, branch: string, files: Record<string, string>, message: string): string {
  git(repo.work, 'checkout', '-q', '-b', branch, 'develop');
  for (const [path, content] of Object.entries(files)) writeFileSync(join(repo.work, path), content);
  git(repo.work, 'add', '--', ...Object.keys(files));
  git(repo.work, 'commit', '-q', '-m', message);
  const commit = git(repo.work, 'rev-parse', 'HEAD');
  git(repo.work, 'checkout', '-q', 'develop');
  return commit;
}

export interface RecipeRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Run recipes/NAME.mjs with args in `cwd`. */
export function runRecipe(name: string, args: string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<RecipeRun> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(RECIPES, `${name}.mjs`), ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...(options.env ?? {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), options.timeoutMs ?? 20 * 60_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** The records of an NDJSON file (or text). */
export function readRecords(file: string): Array<Record<string, any>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, any>];
      } catch {
        return [];
      }
    });
}

/** The running nodes of a FORKLIFT_HOME's service (provision-node SERVICE --list). */
export function listNodes(home: string, service: string): Array<Record<string, any>> {
  const out = spawnSync(join(ROOT, 'node_modules', '.bin', 'provision-node'), [service, '--list'], {
    encoding: 'utf8',
    env: { ...process.env, FORKLIFT_HOME: home },
  });
  return out.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, any>)
    .filter((r) => r.kind === 'node' && r.state === 'running');
}

/** Destroy groups (teardown safety net; never throws). */
export function destroyGroups(home: string, service: string, groups: string[]): void {
  for (const group of groups) {
    spawnSync(join(ROOT, 'node_modules', '.bin', 'provision-node'), [service, '0', '--group', group], {
      stdio: 'ignore',
      env: { ...process.env, FORKLIFT_HOME: home },
    });
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
