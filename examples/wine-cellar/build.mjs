#!/usr/bin/env node
// Prepares what the wine-cellar specs ship, under build/ (and secrets/, made once):
//   build/wine-cellar.mjs   the app bundle (app/build.mjs; version: --version V, else $WINE_CELLAR_VERSION, else app/package.json)
//   build/node              the Node.js runtime the app servers run: this controller's own `node` binary
//   build/release.json      {version, sha256, bytes, runtime} — what servers/app.ts deploys
//   secrets/db-password, secrets/replication-password   MariaDB passwords of the app's and the replication
//                           account (random, 0600; kept when they exist)
//   secrets/files_ed25519(.pub)   the key of the file store's sshfs clients (made once with ssh-keygen)
// Usage: node examples/wine-cellar/build.mjs [--version V]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
if (args.length > 0 && !(args.length === 2 && args[0] === '--version')) {
  process.stderr.write('usage: node build.mjs [--version V]\n');
  process.exit(64);
}
const buildDir = join(here, 'build');
mkdirSync(buildDir, { recursive: true });

const started = Date.now();
const out = execFileSync(process.execPath, [join(here, 'app', 'build.mjs'), ...args, '--out', join(buildDir, 'wine-cellar.mjs')], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
});
const bundle = JSON.parse(out);

// the runtime: copied only when it differs in size or is older than ours (it is ~100 MB)
const runtime = join(buildDir, 'node');
const ours = statSync(process.execPath);
const theirs = existsSync(runtime) ? statSync(runtime) : undefined;
if (!theirs || theirs.size !== ours.size || theirs.mtimeMs < ours.mtimeMs) {
  copyFileSync(process.execPath, `${runtime}.tmp`);
  renameSync(`${runtime}.tmp`, runtime);
}

const release = { version: bundle.version, sha256: bundle.sha256, bytes: bundle.bytes, runtime: process.version };
writeFileSync(join(buildDir, 'release.json'), `${JSON.stringify(release, null, 2)}\n`);

const secrets = join(here, 'secrets');
mkdirSync(secrets, { recursive: true, mode: 0o700 });
// the key the file store's clients log in with for the sshfs fallback (the server accepts its .pub)
const filesKey = join(secrets, 'files_ed25519');
if (!existsSync(filesKey)) {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'wine-cellar files client', '-f', filesKey], { stdio: ['ignore', 'ignore', 'inherit'] });
}
for (const name of ['db-password', 'replication-password']) {
  const file = join(secrets, name);
  if (!existsSync(file)) writeFileSync(file, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
}

process.stderr.write(`wine-cellar ${release.version} built (${release.bytes} bytes, runtime ${release.runtime}) in ${Date.now() - started} ms\n`);
process.stdout.write(`${JSON.stringify(release)}\n`);
