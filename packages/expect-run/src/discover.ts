import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { UsageError } from '@forklift/contract/lite';
import { globSync, isDynamicPattern } from 'tinyglobby';

/** Names of test files found in directories: `*.expect.ts`, `*.expect.js` (and `.mts`, `.mjs`). */
export const TEST_FILE = /\.expect\.(?:ts|js|mts|mjs)$/;

const SKIP_DIRS = new Set(['node_modules', '.git']);

/** Test files found for the given paths, and every directory looked into (for --watch). */
export interface Discovery {
  files: string[];
  dirs: string[];
}

/** Whether a path argument is a glob (`test/**\/*.expect.ts`, `test/{web,db}/*.expect.ts`, `test/[ab]*.expect.ts`). */
export function isGlob(path: string): boolean {
  return isDynamicPattern(path);
}

/** The directory a glob is rooted at: its path up to the first segment with a glob character. */
function globBase(absolute: string): string {
  const parts = absolute.split(sep);
  const first = parts.findIndex((part) => isDynamicPattern(part));
  return parts.slice(0, first === -1 ? parts.length - 1 : first).join(sep) || sep;
}

function walk(dir: string, accept: (path: string) => boolean, found: Set<string>, dirs: Set<string>): void {
  dirs.add(dir);
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) walk(path, accept, found, dirs);
    } else if (entry.isFile() && accept(path)) found.add(path);
  }
}

/**
 * Find the test files named by PATHS (files, directories searched for `*.expect.ts|js`, or globs).
 * Throws UsageError for a path that does not exist.
 * @example discoverTests(['test/'], process.cwd()).files
 */
export function discoverTests(paths: readonly string[], cwd: string): Discovery {
  const found = new Set<string>();
  const dirs = new Set<string>();
  for (const given of paths.length ? paths : ['.']) {
    const absolute = isAbsolute(given) ? given : resolve(cwd, given);
    if (isGlob(given)) {
      // tinyglobby (picomatch): **, *, ?, [classes], {braces}, extglobs; node_modules and .git are skipped
      for (const file of globSync(absolute, { absolute: true, onlyFiles: true, expandDirectories: false, ignore: ['**/node_modules/**', '**/.git/**'] }))
        found.add(resolve(file));
      // every directory under the glob's base, so --watch sees a matching file appear
      walk(globBase(absolute), () => false, found, dirs);
      continue;
    }
    let stats;
    try {
      stats = statSync(absolute);
    } catch {
      throw new UsageError(`${given}: no such file or directory`);
    }
    if (stats.isDirectory()) walk(absolute, (path) => TEST_FILE.test(path), found, dirs);
    else {
      found.add(absolute);
      dirs.add(resolve(absolute, '..'));
    }
  }
  return { files: [...found].sort(), dirs: [...dirs].sort() };
}
