#!/usr/bin/env node
// The release, without publishing: pack every published package (its `prepack` builds it), then
// install each one ALONE into an empty folder — from its own tarball and the tarballs of the
// @forklift/* packages it depends on, nothing else from this repository — and run its bins with
// --help. Third-party dependencies come from a registry on loopback that serves exactly the
// versions of package-lock.json out of npm's cache (scripts/lockfile-registry.mjs; `npm ci` filled
// the cache), so the check sends no traffic beyond 127.0.0.1.
//   node scripts/release-dry-run.mjs [--keep]      (npm run release:dry-run)
// packages/testkit/test/release-dry-run.test.ts runs the same steps in the test suite.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLockfileRegistry } from './lockfile-registry.mjs';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The packages that are published: every packages/* that is not private.
 * @returns {Array<{ dir: string, name: string, version: string, manifest: any }>}
 */
export function publishedPackages() {
  return readdirSync(join(REPO_ROOT, 'packages'))
    .filter((dir) => existsSync(join(REPO_ROOT, 'packages', dir, 'package.json')))
    .map((dir) => {
      const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'packages', dir, 'package.json'), 'utf8'));
      return { dir: join(REPO_ROOT, 'packages', dir), name: manifest.name, version: manifest.version, manifest };
    })
    .filter((pkg) => !pkg.manifest.private)
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The @forklift/* packages `name` needs installed with it (dependencies and required peers, transitively).
 * @param {string} name
 * @param {Map<string, any>} manifests
 * @returns {string[]}
 */
export function forkliftClosure(name, manifests) {
  const out = new Set();
  const visit = (current) => {
    const manifest = manifests.get(current);
    const optional = manifest.peerDependenciesMeta ?? {};
    const needed = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {}).filter((peer) => !optional[peer]?.optional)];
    for (const dep of needed) {
      if (!dep.startsWith('@forklift/') || out.has(dep)) continue;
      if (!manifests.has(dep)) throw new Error(`${current} depends on ${dep}, which is not a published package of this repository`);
      out.add(dep);
      visit(dep);
    }
  };
  visit(name);
  return [...out].sort();
}

/**
 * `npm pack` every published package into `dir` (each package's prepack builds it first).
 * @param {string} dir
 * @returns {Map<string, { name: string, version: string, manifest: object, tarball: string, integrity: string, files: string[] }>} by package name
 */
export function packAll(dir) {
  const packed = new Map();
  for (const pkg of publishedPackages()) {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: pkg.dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const [info] = JSON.parse(out.slice(out.indexOf('[')));
    packed.set(pkg.name, {
      name: pkg.name,
      version: pkg.version,
      manifest: pkg.manifest,
      tarball: join(dir, info.filename),
      integrity: info.integrity,
      files: info.files.map((file) => file.path),
    });
  }
  return packed;
}

function run(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text) => (stderr += text));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * Install one package alone into a new empty folder under `dir`, as a user would (`npm install
 * NAME@VERSION`), from a registry that holds only the packed tarballs of this repository and the
 * locked third-party packages (startLockfileRegistry).
 * @returns {Promise<{ project: string, installed: string[] }>} installed: the @forklift/* packages in node_modules
 */
export async function installAlone(name, version, dir, registry) {
  const project = join(dir, name.replace('@forklift/', ''));
  mkdirSync(project, { recursive: true });
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: `try-${name.replace('@forklift/', '')}`, version: '1.0.0', private: true, type: 'module' }),
  );
  const install = await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--loglevel=error', `--registry=${registry}`, `--cache=${join(dir, '.npm-cache')}`, `${name}@${version}`],
    {
      cwd: project,
      env: { ...process.env, npm_config_registry: registry, npm_config_offline: 'false', npm_config_prefer_offline: 'false' },
    },
  );
  if (install.status !== 0) throw new Error(`npm install of ${name} alone failed:\n${install.stderr}`);
  const scope = join(project, 'node_modules', '@forklift');
  const installed = existsSync(scope)
    ? readdirSync(scope)
        .map((entry) => `@forklift/${entry}`)
        .sort()
    : [];
  return { project, installed };
}

/**
 * Run every bin of an installed package with --help.
 * @returns {Array<{ bin: string, status: number | null, stdout: string, stderr: string }>}
 */
export function helpOfBins(name, project, manifests) {
  return Object.keys(manifests.get(name).bin ?? {}).map((bin) => {
    const run = spawnSync(join(project, 'node_modules', '.bin', bin), ['--help'], {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    return { bin, status: run.status, stdout: run.stdout, stderr: run.stderr };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const keep = process.argv.includes('--keep');
  const work = mkdtempSync(join(tmpdir(), 'forklift-release-'));
  let failed = 0;
  const manifests = new Map(publishedPackages().map((pkg) => [pkg.name, pkg.manifest]));
  const packed = packAll(join(work));
  const registry = await startLockfileRegistry({ lockfile: join(REPO_ROOT, 'package-lock.json'), packed: [...packed.values()] });
  try {
    for (const name of manifests.keys()) {
      try {
        const { project, installed } = await installAlone(name, manifests.get(name).version, join(work, 'try'), registry.url);
        const helps = helpOfBins(name, project, manifests);
        const bad = helps.filter((help) => help.status !== 0 || !/Usage:/.test(help.stdout));
        const expected = [name, ...forkliftClosure(name, manifests)].sort();
        if (installed.join(' ') !== expected.join(' ')) {
          failed += 1;
          console.log(`FAIL ${name}: installed ${installed.join(', ')}, expected ${expected.join(', ')}`);
        }
        failed += bad.length;
        console.log(
          `${bad.length ? 'FAIL' : 'ok  '} ${name}: installed alone with ${installed.filter((pkg) => pkg !== name).join(', ') || 'no other @forklift package'}; ${helps.map((help) => `${help.bin} --help exit ${help.status}`).join(', ') || 'no bin'}`,
        );
      } catch (error) {
        failed += 1;
        console.log(`FAIL ${name}: ${error.message}`);
      }
    }
  } finally {
    await registry.close();
    if (keep) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  process.exitCode = failed ? 1 : 0;
}
