#!/usr/bin/env node
// The Debian packages the test suite needs on the host (scripts/prerequisites.json): checks which
// are missing and installs them with apt-get when run as root; otherwise prints the exact command
// and exits 69. `npm test` runs this first; `node scripts/prerequisites.mjs --check` only reports.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const list = JSON.parse(readFileSync(new URL('./prerequisites.json', import.meta.url), 'utf8'));
const wanted = Object.keys(list.packages).sort();

/** The wanted packages dpkg does not list as installed. */
export function missingPackages() {
  const query = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...wanted], { encoding: 'utf8' });
  if (query.error) return null; // not a Debian-like host
  const installed = new Set(
    query.stdout
      .split('\n')
      .filter((line) => line.endsWith(' installed'))
      .map((line) => line.split(' ')[0]),
  );
  return wanted.filter((name) => !installed.has(name));
}

/** Install what is missing (root) or explain how; returns an exit code (0 ready, 69 not). */
export function ensurePrerequisites({ checkOnly = false, log = (line) => console.error(line) } = {}) {
  const missing = missingPackages();
  if (missing === null) {
    log('prerequisites: dpkg-query not found; the test suite needs a Debian 12 host with: apt-get install ' + wanted.join(' '));
    return 69;
  }
  if (missing.length === 0) return 0;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (checkOnly || process.getuid?.() !== 0) {
    log(`prerequisites: missing Debian packages: ${missing.join(' ')}`);
    log(`prerequisites: as root, run: apt-get update && ${command}`);
    return 69;
  }
  log(`prerequisites: installing ${missing.length} Debian package(s): ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-q'],
    ['install', '-y', '-q', '--no-install-recommends', ...missing],
  ]) {
    const run = spawnSync('apt-get', args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (run.status !== 0) {
      log((run.stdout + run.stderr).split('\n').slice(-30).join('\n'));
      log(`prerequisites: apt-get ${args[0]} failed (exit ${run.status}); run it by hand: apt-get update && ${command}`);
      return 69;
    }
  }
  const still = missingPackages();
  if (still.length) {
    log(`prerequisites: still missing after apt-get: ${still.join(' ')}`);
    return 69;
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit(ensurePrerequisites({ checkOnly: process.argv.includes('--check') }));
}
