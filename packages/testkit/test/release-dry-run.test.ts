// The release, dry: every published package is packed (its prepack builds it), then installed ALONE
// into an empty folder from a registry on loopback that holds only the packed tarballs of this
// repository and the locked third-party packages (scripts/lockfile-registry.mjs, fed from npm's
// cache), and its bins answer --help there. Also what each tarball holds: LICENSE, README, CHANGELOG,
// dist, no tests, and source maps whose sources are in the tarball.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { REPO_ROOT } from '../src/index.js';
import { forkliftClosure, helpOfBins, installAlone, packAll, publishedPackages } from '../../../scripts/release-dry-run.mjs';
import { startLockfileRegistry } from '../../../scripts/lockfile-registry.mjs';

interface Packed {
  name: string;
  version: string;
  manifest: { bin?: Record<string, string> };
  tarball: string;
  integrity: string;
  files: string[];
}

const work = mkdtempSync(join(tmpdir(), 'forklift-release-test-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const packages = publishedPackages() as Array<{ name: string; version: string; manifest: Record<string, unknown> }>;
const manifests = new Map(packages.map((pkg) => [pkg.name, pkg.manifest]));
const packed = packAll(join(work)) as Map<string, Packed>;
const registry = await startLockfileRegistry({ lockfile: join(REPO_ROOT, 'package-lock.json'), packed: [...packed.values()] });
t.teardown(() => registry.close());

for (const { name, version } of packages) {
  t.test(`${name} - the tarball holds LICENSE, README, CHANGELOG and dist, no tests, and every source map's sources`, async (t) => {
    const { files, tarball } = packed.get(name)!;
    for (const file of ['package.json', 'LICENSE', 'README.md', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts']) t.ok(files.includes(file), file);
    t.same(
      files.filter((file) => /(^|\/)test\/|\.test\.|\.tsbuildinfo$/.test(file)),
      [],
      'no tests or build state',
    );
    const unpacked = join(work, 'unpacked', name.replace('@forklift/', ''));
    execFileSync('mkdir', ['-p', unpacked]);
    execFileSync('tar', ['-xzf', tarball, '-C', unpacked]);
    const missing: string[] = [];
    for (const map of files.filter((file) => file.endsWith('.map'))) {
      const { sources } = JSON.parse(readFileSync(join(unpacked, 'package', map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const relative = normalize(join(dirname(map), source));
        if (!files.includes(relative)) missing.push(`${map} -> ${relative}`);
      }
    }
    t.same(missing, [], 'no source map points at a file the tarball does not ship');
  });

  t.test(`${name} - installs alone (its tarball and its @forklift/* tarballs only) and its bins answer --help`, async (t) => {
    const { project, installed } = await installAlone(name, version, join(work, 'try'), registry.url);
    t.same(installed, [name, ...forkliftClosure(name, manifests)].sort(), 'exactly its @forklift/* packages');
    for (const help of helpOfBins(name, project, manifests) as Array<{ bin: string; status: number | null; stdout: string; stderr: string }>) {
      t.equal(help.status, 0, `${help.bin} --help: ${help.stderr}`);
      t.match(help.stdout, /Usage:/, `${help.bin} --help prints its usage`);
      t.match(help.stdout, /\n {2}143 +terminated by SIGTERM/, `${help.bin} --help lists the exit codes`);
    }
    const use = `import * as lib from '${name}';\nconsole.log(Object.keys(lib).length > 0);\n`;
    writeFileSync(join(project, 'use.mjs'), use);
    t.equal(execFileSync(process.execPath, ['use.mjs'], { cwd: project, encoding: 'utf8' }).trim(), 'true', 'its library loads');
  });
}

t.test('@forklift/expect-run - alone it runs tests without selenium; browser() says what to install', async (t) => {
  const project = join(work, 'try', 'expect-run');
  t.notOk(existsSync(join(project, 'node_modules', 'selenium-webdriver')), 'selenium-webdriver is not installed with it');
  t.notOk(existsSync(join(project, 'node_modules', '@forklift', 'browser-drive')), 'browser-drive is an optional peer');
  writeFileSync(
    join(project, 'plain.expect.js'),
    "import { expect, test, browser } from '@forklift/expect-run';\nexpect(2, 1 + 1);\ntest('wants a browser', async () => { await browser(); });\n",
  );
  const run = spawnSync(join(project, 'node_modules', '.bin', 'expect-run'), ['plain.expect.js'], {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  t.equal(run.status, 1, run.stderr);
  const records = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  t.match(
    records.filter((record) => record.kind === 'test'),
    [
      { status: 'passed' },
      {
        name: 'wants a browser',
        status: 'errored',
        failure: {
          message:
            /browser\(\) needs @forklift\/browser-drive, which is not installed: npm install --save-dev @forklift\/browser-drive \(and Debian's browser: apt-get install chromium chromium-driver\)/,
        },
      },
    ],
  );
});

t.test('the registry served only packages of the lockfile and the packed tarballs', async (t) => {
  const served = [...(registry.served as Set<string>)];
  t.ok(
    served.some((entry) => entry.startsWith('zod@')),
    'third-party packages came from the lockfile registry',
  );
  t.ok(
    served.some((entry) => entry.startsWith('@forklift/contract@')),
    'and forklift packages from their tarballs',
  );
});
