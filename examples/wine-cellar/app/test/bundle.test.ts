// The bundle build.mjs makes: one file that runs with nothing beside it (no node_modules), the
// version baked in, the configuration checked before anything starts.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { parseConfig } from '../src/config.js';
import { parseAppConfig } from '../src/zk.js';

const run = promisify(execFile);
const app = join(dirname(fileURLToPath(import.meta.url)), '..');

t.test('bundle - one file, runs alone, version baked in, bad config exit 78', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'wine-cellar-bundle-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const built = await run(process.execPath, [join(app, 'build.mjs'), '--version', '9.8.7-rc.1', '--out', join(dir, 'build', 'wine-cellar.mjs')]);
  const info = JSON.parse(built.stdout);
  t.match(info, { version: '9.8.7-rc.1', sha256: /^[0-9a-f]{64}$/ });
  // a directory with nothing else in it: the dependencies must be inside the bundle
  const alone = join(dir, 'alone');
  await mkdir(alone);
  const bundle = join(alone, 'wine-cellar.mjs');
  await copyFile(info.file, bundle);
  t.equal((await run(process.execPath, [bundle, '--version'], { cwd: alone })).stdout, '9.8.7-rc.1\n');

  const bad = await run(process.execPath, [bundle], { cwd: alone, env: { WINE_CELLAR_CONFIG: join(dir, 'missing.json') } }).catch((e) => e);
  t.equal(bad.code, 78);
  t.match(bad.stderr, /missing\.json: cannot read/);

  await writeFile(join(dir, 'pw'), 'secret\n');
  await mkdir(join(dir, 'labels'));
  const config = {
    port: 0,
    host: '127.0.0.1',
    color: 'blue',
    db: { host: '127.0.0.1', port: 9, passwordFile: join(dir, 'pw') },
    zookeeper: { connect: '127.0.0.1:9' },
    labels: { dir: join(dir, 'labels') },
  };
  await writeFile(join(dir, 'zero-port.json'), JSON.stringify(config));
  const zero = await run(process.execPath, [bundle], { env: { WINE_CELLAR_CONFIG: join(dir, 'zero-port.json') } }).catch((e) => e);
  t.equal(zero.code, 78);
  t.match(zero.stderr, /zero-port\.json: port: must be a port number/);
});

t.test('typecheck - the app and its tests compile under the repository settings', async (t) => {
  const tsc = join(app, '..', '..', '..', 'node_modules', 'typescript', 'bin', 'tsc');
  const result = await run(process.execPath, [tsc, '-p', join(app, 'tsconfig.json')]).catch((e) => e);
  t.equal(result.code ?? 0, 0, result.stdout);
});

t.test('config - defaults filled, errors name the file and the field', async (t) => {
  const config = parseConfig({ db: { host: '10.0.0.5' }, zookeeper: { connect: '10.0.0.6:2181' } }, 'c.json');
  t.same(config, {
    port: 3000,
    host: '0.0.0.0',
    color: 'blue',
    db: { host: '10.0.0.5', port: 3306, user: 'winecellar', database: 'winecellar', passwordFile: '/etc/wine-cellar/db-password' },
    zookeeper: { connect: '10.0.0.6:2181', configNode: '/wine-cellar/config' },
    labels: { dir: '/mnt/files/labels' },
  });
  t.throws(() => parseConfig({ zookeeper: { connect: 'x' } }, 'c.json'), /^c\.json: db: host: missing$/);
  t.throws(() => parseConfig({ db: { host: 'h' } }, 'c.json'), /^c\.json: zookeeper: connect: missing$/);
  t.throws(() => parseConfig({ db: { host: 'h', port: '3306' }, zookeeper: { connect: 'x' } }, 'c.json'), /db: port: must be a port/);
  t.throws(() => parseConfig({ db: 'h' }, 'c.json'), /c\.json: db: must be an object/);
  t.throws(() => parseConfig({ db: { host: 'h' }, zookeeper: { connect: 'x', configNode: 'rel' } }, 'c.json'), /configNode: must start with \//);
  t.throws(() => parseConfig([], 'c.json'), /must be a JSON object/);
});

t.test('znode data - JSON object over the defaults; anything else is refused', async (t) => {
  t.same(parseAppConfig(Buffer.from('{"greeting":"Salut"}')), { config: { greeting: 'Salut' } });
  t.same(parseAppConfig(Buffer.from('{"theme":"dark"}')), { config: { greeting: 'Welcome to the wine cellar', theme: 'dark' } });
  t.same(parseAppConfig(undefined), { config: { greeting: 'Welcome to the wine cellar' } });
  t.match(parseAppConfig(Buffer.from('[1]')), { error: 'not a JSON object' });
  t.match(parseAppConfig(Buffer.from('{')), { error: /^not JSON/ });
});
