import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { UsageError } from '@forklift/contract/lite';

/** Names of test files found in directories: `*.expect.ts`, `*.expect.js` (and `.mts`, `.mjs`). */
export const TEST_FILE = /\.expect\.(?:ts|js|mts|mjs)$/;

const SKIP_DIRS = new Set(['node_modules', '.git']);

/** Test files found for the given paths, and every directory looked into (for --watch). */
export interface Discovery {
  files: string[];
  dirs: string[];
}

/** Whether a path argument is a glob (`test/**\/*.expect.ts`). */
export function isGlob(path: string): boolean {
  return /[*?[]/.test(path);
}

/** A RegExp matching absolute paths against a glob: `**` any depth, `*` and `?` within one name. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let index = 0; index < glob.length; index++) {
    const char = glob[index]!;
    if (char === '*' && glob[index + 1] === '*') {
      const slash = glob[index + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      index += slash ? 2 : 1;
    } else if (char === '*') out += '[^/]*';
    else if (char === '?') out += '[^/]';
    else out += /[\\^$.|+(){}[\]]/.test(char) ? `\\${char}` : char;
  }
  return new RegExp(`^${out}$`);
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
      const parts = absolute.split(sep);
      const firstGlob = parts.findIndex(isGlob);
      const base = parts.slice(0, firstGlob).join(sep) || sep;
      const pattern = globToRegExp(absolute);
      walk(base, (path) => pattern.test(path), found, dirs);
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
