// What the recipes know of a project: its layout (Pallet's groups/ servers/ nodes/, a build script,
// acceptance tests) and the system's groups, from `recipes.json` in the project folder or, without
// one, the wine-cellar layout (examples/wine-cellar). Also the environments (one FORKLIFT_HOME each).
import { existsSync, readFileSync } from 'node:fs';
import { cp, lstat, mkdir, readFile, readlink, symlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { RecipeError, refusal, unavailable, usageError } from './recipe.mjs';

/** The wine-cellar system (CONTRACTS §3, topology (b) and (a)): what a project without recipes.json gets. */
export const WINE_CELLAR = {
  app: 'wine-cellar',
  build: ['node', 'build.mjs'],
  versionFlag: '--version',
  versionFile: 'app/package.json',
  secrets: 'secrets',
  lb: 'lb',
  // converge waves: the groups of one wave run side by side; {color} is blue or green
  waves: [['zk', 'files', '{color}-db'], ['{color}-app'], ['{color}-web'], ['lb']],
  db: '{color}-db',
  minimal: { '{color}-app': 1, '{color}-web': 1 },
  dev: { group: 'wine-cellar' },
  tests: { expect: ['test/'], browser: ['test/add-wine.json5'] },
  testEnv: { color: 'WINE_CELLAR_COLOR', lbPort: 'WINE_CELLAR_LB_PORT' },
  stagingPort: 8080,
  firstColor: 'blue',
};

export const COLORS = ['blue', 'green'];

/** The other color. */
export function otherColor(color) {
  return color === 'blue' ? 'green' : 'blue';
}

/** A project: its folder and its recipe settings. */
export class Project {
  constructor(dir, config) {
    this.dir = dir;
    this.config = config;
  }

  /** The project in `dir` (default: the working directory). */
  static open(dir) {
    const folder = resolve(dir ?? process.cwd());
    if (!existsSync(folder)) throw usageError(`--project ${dir}: no such folder`);
    const file = join(folder, 'recipes.json');
    let config = WINE_CELLAR;
    if (existsSync(file)) {
      let own;
      try {
        own = JSON.parse(readFileSync(file, 'utf8'));
      } catch (error) {
        throw new RecipeError(`${file}: not JSON (${error.message})`, 65);
      }
      config = { ...WINE_CELLAR, ...own, tests: { ...WINE_CELLAR.tests, ...(own.tests ?? {}) }, testEnv: { ...WINE_CELLAR.testEnv, ...(own.testEnv ?? {}) } };
      if (!Array.isArray(config.waves) || config.waves.some((wave) => !Array.isArray(wave) || wave.some((g) => typeof g !== 'string'))) {
        throw new RecipeError(`${file}: waves must be a list of lists of group names`, 65);
      }
    }
    if (!existsSync(join(folder, 'groups')))
      throw usageError(`${folder} is not a forklift project (no groups/ folder; run the recipe from the project folder or give --project DIR)`);
    return new Project(folder, config);
  }

  /** The same project checked out elsewhere (a worktree). */
  at(dir) {
    return new Project(dir, this.config);
  }

  /** Group names of the converge waves for a color. */
  waves(color) {
    return this.config.waves.map((wave) => wave.map((group) => group.replaceAll('{color}', color)));
  }

  /** Every group of the system with `color` (provision order). */
  groups(color) {
    return this.waves(color).flat();
  }

  /** The groups that belong to a color (those named with {color}). */
  colorGroups(color) {
    return this.config.waves
      .flat()
      .filter((g) => g.includes('{color}'))
      .map((g) => g.replaceAll('{color}', color));
  }

  /** Waves of the colored groups only, then the LB (what a release converges). */
  releaseWaves(color) {
    const waves = this.config.waves
      .map((wave) => wave.filter((g) => g.includes('{color}')).map((g) => g.replaceAll('{color}', color)))
      .filter((wave) => wave.length > 0);
    if (this.config.lb) waves.push([this.config.lb]);
    return waves;
  }

  /** Every group of both colors and the shared ones (for `down` and `status`). */
  allGroups() {
    const out = [];
    for (const color of COLORS) for (const g of this.groups(color)) if (!out.includes(g)) out.push(g);
    return out;
  }

  /** The DB group of a color, if the system has one. */
  dbGroup(color) {
    return this.config.db ? this.config.db.replaceAll('{color}', color) : undefined;
  }

  /** Minimal node counts of a color's groups once it is no longer live ({group: count}). */
  minimal(color) {
    return Object.fromEntries(Object.entries(this.config.minimal ?? {}).map(([g, n]) => [g.replaceAll('{color}', color), n]));
  }
}

/**
 * The environment a recipe works in: a FORKLIFT_HOME of its own (production is $FORKLIFT_HOME itself;
 * dev and dev-qa get `$FORKLIFT_HOME/envs/NAME` so their nodes never mix with production's), the
 * service, and the image cache shared with the base home (the rootfs is built once per machine).
 */
export function environment(r, name) {
  const base = process.env.FORKLIFT_HOME || join(homedir(), '.forklift');
  const home = typeof r.flags.home === 'string' ? resolve(r.flags.home) : name === 'production' ? base : join(base, 'envs', name);
  r.env.FORKLIFT_HOME = home;
  if (!r.env.FORKLIFT_IMAGE_CACHE) r.env.FORKLIFT_IMAGE_CACHE = join(base, 'images');
  const service = typeof r.flags.service === 'string' ? r.flags.service : 'local';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(service)) throw usageError(`--service ${JSON.stringify(service)} is not a service name`);
  return { home, service, base };
}

/**
 * Make a worktree of the project buildable the way the controller's checkout is: the installed
 * dependencies (node_modules, the seed's "local maven repository") are linked in when the
 * worktree's package-lock.json is the installed one, else installed afresh with `npm ci`; the
 * controller's secrets are copied when `withSecrets` (a release deploys to production: they must
 * exist), or only when they exist with `withSecrets: 'if-present'` (dev-qa: nodes kept with --keep
 * or converged again by a later run keep the same passwords).
 * Returns what was done, one phrase.
 */
export async function prepareCheckout(r, sourceProject, repo, worktreeRepoDir, { withSecrets }) {
  const done = [];
  // the nearest node_modules above the project, inside the repository
  let modules;
  for (let dir = sourceProject.dir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) {
      modules = dir;
      break;
    }
    if (dir === repo.dir || dirname(dir) === dir) break;
  }
  if (modules) {
    const inRepo = relative(repo.dir, modules);
    const target = join(worktreeRepoDir, inRepo);
    const ours = join(modules, 'package-lock.json');
    const theirs = join(target, 'package-lock.json');
    const same = !existsSync(ours) || (existsSync(theirs) && (await readFile(ours, 'utf8')) === (await readFile(theirs, 'utf8')));
    if (same) {
      if (!existsSync(join(target, 'node_modules'))) await symlink(await realModules(join(modules, 'node_modules')), join(target, 'node_modules'));
      done.push('dependencies linked (same package-lock.json)');
    } else {
      const install = await r.with({ cwd: target })`npm ci --no-audit --no-fund`.run();
      if (install.exitCode !== 0) throw new RecipeError(`npm ci in the checkout failed: ${install.stderr.trim().split('\n').pop()}`);
      done.push('dependencies installed (package-lock.json differs)');
    }
  }
  if (withSecrets && sourceProject.config.secrets) {
    const from = join(sourceProject.dir, sourceProject.config.secrets);
    const to = join(worktreeRepoDir, relative(repo.dir, sourceProject.dir), sourceProject.config.secrets);
    if (!existsSync(from)) {
      if (withSecrets === 'if-present') return [...done, 'no secrets to copy (the build makes its own)'].join(', ');
      throw unavailable(`${from} is missing: the release needs the secrets the live system was built with`);
    }
    await mkdir(dirname(to), { recursive: true });
    await cp(from, to, { recursive: true, preserveTimestamps: true, mode: 0 });
    done.push('secrets copied');
  }
  return done.join(', ') || 'nothing to prepare';
}

async function realModules(path) {
  const stat = await lstat(path);
  return stat.isSymbolicLink() ? resolve(dirname(path), await readlink(path)) : path;
}

/** The release state of an app in an environment: `$FORKLIFT_HOME/releases/APP.json`. */
export function releaseStatePath(home, app) {
  return join(home, 'releases', `${app}.json`);
}

/** Read the release state (an empty one when none was written). */
export function readReleaseState(home, app) {
  const file = releaseStatePath(home, app);
  if (!existsSync(file)) return { app, live: null, staged: null, history: [] };
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw refusal(`${file} is damaged (${error.message}): fix or remove it`);
  }
}
