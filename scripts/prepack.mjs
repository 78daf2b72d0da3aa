#!/usr/bin/env node
// A package's `prepack` (run by npm pack and npm publish in the package's folder): remove from dist/
// what no source in src/ produces any more (tsc -b never deletes the output of a deleted source, and
// npm would pack it), then build. Only stale files are removed, so other builds and tests using dist/
// at the same time are not disturbed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const packageDir = process.cwd();
const dist = join(packageDir, 'dist');
const src = join(packageDir, 'src');
const OUTPUT = /(\.d)?\.([cm]?js|[cm]?ts)(\.map)?$/;
const SOURCES = ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs'];

function prune(dir) {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      prune(path);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
      continue;
    }
    const base = join(src, relative(dist, path)).replace(OUTPUT, '');
    if (!SOURCES.some((extension) => existsSync(base + extension))) {
      rmSync(path);
      console.error(`prepack: removed ${relative(packageDir, path)} (its source is gone)`);
    }
  }
}

prune(dist);
const build = spawnSync('tsc', ['-b'], { stdio: 'inherit', shell: false });
process.exitCode = build.status ?? 1;
