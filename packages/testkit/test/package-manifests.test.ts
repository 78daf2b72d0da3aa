// Every published package is ready to publish on its own: license, repository, homepage, bugs,
// keywords, public access, a prepack that builds, a CHANGELOG, every import declared as a dependency
// and every dependency imported, one version range per shared dependency, and the shared dev tools
// (tap, typescript, @types/node) only at the root.
import t from 'tap';
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/index.js';

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  keywords?: string[];
  homepage?: string;
  bugs?: { url?: string };
  repository?: { type?: string; url?: string; directory?: string };
  publishConfig?: { access?: string };
  files?: string[];
  bin?: Record<string, string>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const SHARED_DEV_TOOLS = ['tap', 'typescript', '@types/node'];
const root = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;
const packages = readdirSync(join(REPO_ROOT, 'packages'))
  .filter((dir) => existsSync(join(REPO_ROOT, 'packages', dir, 'package.json')))
  .map((dir) => ({
    dir,
    path: join(REPO_ROOT, 'packages', dir),
    manifest: JSON.parse(readFileSync(join(REPO_ROOT, 'packages', dir, 'package.json'), 'utf8')) as Manifest,
  }));
const published = packages.filter((pkg) => !pkg.manifest.private);

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.(?:[cm]?[jt]s)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The packages a package's own code (src and bin shims) imports, by package name. */
function importedPackages(path: string, manifest: Manifest): { imports: Set<string>; text: string } {
  const files = [...sourceFiles(join(path, 'src')), ...Object.values(manifest.bin ?? {}).map((bin) => join(path, bin))];
  const imports = new Set<string>();
  let text = '';
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    text += source;
    for (const match of source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"./][^'"]*)['"]/g)) {
      const specifier = match[1]!;
      if (specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]!)) continue;
      imports.add(specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!);
    }
  }
  return { imports, text };
}

t.test('the root has the license and the shared dev tools, once', async (t) => {
  t.ok(existsSync(join(REPO_ROOT, 'LICENSE')), 'LICENSE at the root');
  t.equal(root.license, 'MIT');
  for (const tool of SHARED_DEV_TOOLS) t.ok(root.devDependencies?.[tool], `${tool} is a root devDependency`);
  t.ok(root.devDependencies?.['@changesets/cli'], 'releases are versioned with changesets');
  t.ok(existsSync(join(REPO_ROOT, '.changeset', 'config.json')));
});

for (const { dir, path, manifest } of published) {
  t.test(`${manifest.name} - publishable alone: metadata, LICENSE, CHANGELOG, prepack`, async (t) => {
    t.equal(manifest.license, 'MIT');
    t.equal(readFileSync(join(path, 'LICENSE'), 'utf8'), readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8'), 'the root LICENSE, copied');
    t.match(
      readFileSync(join(path, 'CHANGELOG.md'), 'utf8'),
      new RegExp(`^# ${manifest.name.replace('/', '\\/')}\\n[\\s\\S]*## ${manifest.version.replace(/\./g, '\\.')}\\n`),
      'a CHANGELOG with the current version',
    );
    t.ok(manifest.keywords && manifest.keywords.length >= 3 && manifest.keywords.includes('forklift'), 'keywords');
    t.match(manifest.repository, { type: 'git', url: /^git\+https:\/\/.+\.git$/, directory: `packages/${dir}` });
    t.equal(manifest.repository?.url, (root as Manifest & { repository?: { url?: string } }).repository?.url, 'the root repository');
    t.match(manifest.homepage, new RegExp(`/packages/${dir}#readme$`));
    t.match(manifest.bugs?.url, /\/issues$/);
    t.same(manifest.publishConfig, { access: 'public' });
    t.equal(manifest.scripts?.prepack, 'node ../../scripts/prepack.mjs', 'a packed tarball always holds a fresh dist, without the output of deleted sources');
    for (const file of ['dist', 'src', 'README.md', 'CHANGELOG.md', 'LICENSE'])
      t.ok(manifest.files?.includes(file), `files lists ${file} (src: the source maps point there)`);
  });

  t.test(`${manifest.name} - every import is a declared dependency and every dependency is used`, async (t) => {
    const { imports, text } = importedPackages(path, manifest);
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
    for (const name of imports) t.ok(declared.has(name) || name === manifest.name, `imports ${name}: declared`);
    for (const name of declared) {
      // a peer loaded by a name held in a constant (render-crate's crates) counts when the name is in the code
      t.ok(imports.has(name) || text.includes(`'${name}'`), `depends on ${name}: used`);
    }
    for (const tool of SHARED_DEV_TOOLS) t.notOk(manifest.devDependencies?.[tool], `${tool} comes from the root, not a second copy`);
  });
}

t.test('a dependency shared by packages has one version range', async (t) => {
  const ranges = new Map<string, Map<string, string[]>>();
  for (const { manifest } of [...packages, { manifest: root }]) {
    for (const [name, range] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies, ...manifest.peerDependencies })) {
      if (!ranges.has(name)) ranges.set(name, new Map());
      const users = ranges.get(name)!.get(range) ?? [];
      users.push(manifest.name);
      ranges.get(name)!.set(range, users);
    }
  }
  for (const [name, byRange] of ranges) {
    t.equal(byRange.size, 1, `${name}: ${[...byRange].map(([range, users]) => `${range} (${users.join(', ')})`).join(' / ')}`);
  }
});
