#!/usr/bin/env node
// Bundles the app into one file, its npm dependencies inside, the version baked in:
//   node build.mjs [--version V] [--out FILE]
// Default version: $WINE_CELLAR_VERSION, else package.json's; default output: dist/wine-cellar.mjs.
// Prints the output path, size and sha256 on stdout (one line of JSON).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const value = args[i + 1];
  if (value === undefined || value.startsWith('--')) {
    process.stderr.write(`build.mjs: ${name} needs a value\n`);
    process.exit(64);
  }
  return value;
};
for (const arg of args) {
  if (arg.startsWith('--') && !['--version', '--out'].includes(arg)) {
    process.stderr.write(`build.mjs: unknown option ${arg} (use --version V, --out FILE)\n`);
    process.exit(64);
  }
}
const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const version = flag('--version') ?? process.env.WINE_CELLAR_VERSION ?? pkg.version;
if (!/^[0-9A-Za-z][0-9A-Za-z.+_-]*$/.test(version)) {
  process.stderr.write(`build.mjs: version ${JSON.stringify(version)}: letters, digits and . + _ - only\n`);
  process.exit(65);
}
const out = resolve(flag('--out') ?? join(here, 'dist', 'wine-cellar.mjs'));

await build({
  entryPoints: [join(here, 'src', 'main.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: false,
  legalComments: 'none',
  logLevel: 'warning',
  define: { __WINE_CELLAR_VERSION__: JSON.stringify(version) },
  // the CommonJS dependencies call require() for node built-ins
  banner: { js: "import { createRequire as __wcCreateRequire } from 'node:module';\nconst require = __wcCreateRequire(import.meta.url);" },
});
const bytes = readFileSync(out);
process.stdout.write(`${JSON.stringify({ file: out, version, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') })}\n`);
