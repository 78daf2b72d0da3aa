// A package registry on loopback that knows exactly the third-party packages of package-lock.json
// and serves their tarballs from npm's own cache (where `npm ci` put them). The release dry run
// installs each forklift package alone against it: the same versions CI tested, no traffic beyond
// 127.0.0.1, and a declared range that no locked version satisfies fails the install, as it should.
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';

const PACKUMENT_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta', 'bin', 'engines', 'os', 'cpu', 'license'];

/** Compare two plain semver versions (prereleases sort before their release). */
function compareVersions(a, b) {
  const parse = (version) => {
    const [core, pre] = version.split('-', 2);
    return { parts: core.split('.').map(Number), pre };
  };
  const left = parse(a);
  const right = parse(b);
  for (let index = 0; index < 3; index += 1) if (left.parts[index] !== right.parts[index]) return (left.parts[index] ?? 0) - (right.parts[index] ?? 0);
  if (left.pre === right.pre) return 0;
  if (left.pre === undefined) return 1;
  if (right.pre === undefined) return -1;
  return left.pre < right.pre ? -1 : 1;
}

/**
 * Path of a tarball in npm's content-addressed cache (cacache: content-v2/ALGO/HEX[0:2]/HEX[2:4]/HEX[4:]).
 * @param {string} cache npm's cache folder (`npm config get cache`)
 * @param {string} integrity `sha512-BASE64`
 */
export function cachedTarball(cache, integrity) {
  const [algorithm, digest] = integrity.split(' ')[0].split(/-(.*)/s);
  const hex = Buffer.from(digest, 'base64').toString('hex');
  return join(cache, '_cacache', 'content-v2', algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
}

/**
 * The packuments of every registry package in a lockfile (workspace links and local folders left out).
 * @param {string} lockfile path of package-lock.json
 * @returns {Map<string, Map<string, object>>} name -> version -> lock entry
 */
export function lockedPackages(lockfile) {
  const lock = JSON.parse(readFileSync(lockfile, 'utf8'));
  const packages = new Map();
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    if (!path.includes('node_modules/') || entry.link || !entry.integrity || !entry.version) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!packages.has(name)) packages.set(name, new Map());
    packages.get(name).set(entry.version, entry);
  }
  return packages;
}

/**
 * Start the registry on 127.0.0.1 (a free port). `packed` adds packages of this repository from
 * their `npm pack` tarballs (name, version, the manifest packed, tarball path and integrity).
 * @param {{ lockfile: string, cache?: string, packed?: Array<{ name: string, version: string, manifest: object, tarball: string, integrity: string }> }} options cache: npm's cache folder (default ~/.npm)
 * @returns {Promise<{ url: string, close(): Promise<void>, served: Set<string> }>} served: the tarballs asked for (`name@version`)
 */
export async function startLockfileRegistry(options) {
  const cache = options.cache ?? join(homedir(), '.npm');
  const packages = lockedPackages(options.lockfile);
  const files = new Map();
  for (const pkg of options.packed ?? []) {
    // the repository's own packages are served from their tarballs only, never from the lockfile's workspace links
    packages.set(pkg.name, new Map([[pkg.version, { ...pkg.manifest, version: pkg.version, integrity: pkg.integrity }]]));
    files.set(`${pkg.name}@${pkg.version}`, pkg.tarball);
  }
  const served = new Set();
  let base = '';
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname).slice(1);
    const tarball = /^-\/tarball\/(.+)\/([^/]+)\.tgz$/.exec(path);
    if (tarball) {
      const entry = packages.get(tarball[1])?.get(tarball[2]);
      const file = files.get(`${tarball[1]}@${tarball[2]}`) ?? (entry ? cachedTarball(cache, entry.integrity) : undefined);
      if (!file || !existsSync(file)) {
        response
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ error: `${tarball[1]}@${tarball[2]} is not in npm's cache (run npm ci first)` }));
        return;
      }
      served.add(`${tarball[1]}@${tarball[2]}`);
      response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(file));
      return;
    }
    const versions = packages.get(path);
    if (!versions) {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `${path} is not in package-lock.json` }));
      return;
    }
    const sorted = [...versions.keys()].sort(compareVersions);
    const packument = {
      name: path,
      'dist-tags': { latest: sorted.at(-1) },
      versions: Object.fromEntries(
        sorted.map((version) => {
          const entry = versions.get(version);
          const fields = Object.fromEntries(PACKUMENT_FIELDS.filter((field) => entry[field] !== undefined).map((field) => [field, entry[field]]));
          return [
            version,
            { name: path, version, ...fields, dist: { tarball: `${base}/-/tarball/${encodeURIComponent(path)}/${version}.tgz`, integrity: entry.integrity } },
          ];
        }),
      ),
    };
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(packument));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
  return {
    url: base,
    served,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
