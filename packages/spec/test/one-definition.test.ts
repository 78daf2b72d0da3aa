// One definition each, across every package's sources: the spec extensions, the validation-issue line,
// the phase-name and action-id patterns, the binaries' versions and the passwd file reader. A second copy
// fails this test, naming the file and line and where the one definition lives.
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

interface Rule {
  what: string;
  /** The file (relative to the repository) that holds the one definition. */
  home: string;
  /** What the home file holds (checked, so that a moved definition is noticed). */
  defined: RegExp;
  /** A line that defines (or re-implements) it. */
  pattern: RegExp;
  /** Other files where the same text means something else, with why. */
  allowed?: Record<string, string>;
}

const RULES: Rule[] = [
  {
    what: 'the spec extensions',
    home: 'packages/spec/src/paths.ts',
    defined: /export const SPEC_EXTENSIONS = \[/,
    pattern: /['"]\.mts['"][\s\S]*['"]\.json5['"]|['"]\.json5['"][\s\S]*['"]\.mts['"]/,
  },
  // reading a validation error's issues (and wording unknown keys) is the formatter's job
  {
    what: 'the validation-issue line',
    home: 'packages/contract/src/issue.ts',
    defined: /export function issueLine\(/,
    pattern: /\bissues\s*(\?\.)?\[|unrecognized_keys|function\s+\w*(describe|format)\w*Issue/,
  },
  {
    what: 'the phase-name (and nonce) pattern',
    home: 'packages/contract/src/names.ts',
    defined: /export const PHASE_NAME_PATTERN = /,
    pattern: /\/\^\[A-Za-z0-9_-\]\+\$\//,
    allowed: {
      'packages/actions/src/actions/package-source.ts': 'a source name (it names files), not a phase',
      'packages/actions/src/actions/cron.ts': 'a cron.d file name, not a phase',
    },
  },
  {
    what: 'the action-id (and upload-name) pattern',
    home: 'packages/contract/src/names.ts',
    defined: /export const ACTION_ID_PATTERN = /,
    pattern: /\/\^\[A-Za-z0-9_\.-\]\+\$\//,
    allowed: { 'packages/actions/src/actions/cron.ts': 'a cron entry name (its marker comment), not an action id' },
  },
  {
    what: 'a version (each binary reads its package.json)',
    home: 'packages/contract/src/package-version.ts',
    defined: /export function packageVersion\(/,
    pattern: /VERSION\s*=\s*['"]\d|version:\s*['"]\d/,
  },
  // the controller's accounts (the nodes' are read by the actions' shell code, on the node)
  {
    what: 'a passwd file reader',
    home: 'packages/contract/src/passwd.ts',
    defined: /export function readPasswd\(/,
    pattern: /readFile(Sync)?\([^)]*(passwd|PASSWD)/,
  },
];

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every package's src files, relative to the repository. */
function packageSources(): Array<{ path: string; text: string }> {
  const packages = join(REPO, 'packages');
  return readdirSync(packages)
    .map((name) => join(packages, name, 'src'))
    .filter((src) => statSync(src, { throwIfNoEntry: false })?.isDirectory())
    .flatMap((src) => sources(src))
    .map((path) => ({ path: relative(REPO, path), text: readFileSync(path, 'utf8') }));
}

/** `file:line: a second definition of WHAT (the one is in HOME)` for each copy found. */
function secondDefinitions(files: ReadonlyArray<{ path: string; text: string }>): string[] {
  const found: string[] = [];
  for (const rule of RULES) {
    for (const file of files) {
      if (file.path === rule.home || rule.allowed?.[file.path]) continue;
      // a list may span lines: each line is tested with the two after it, and a match is reported once
      const lines = file.text.split('\n');
      for (let index = 0; index < lines.length; index += 1) {
        // comments may mention what they like (`@example appServer({ version: '1.0.0' })`): code defines
        if (/^\s*(\*|\/\/|\/\*)/.test(lines[index]!)) continue;
        if (!rule.pattern.test(lines.slice(index, index + 3).join(' '))) continue;
        found.push(`${file.path}:${index + 1}: a second definition of ${rule.what} (the one is in ${rule.home})`);
        index += 2;
      }
    }
  }
  return [...new Set(found)];
}

t.test('one definition - the check finds a second copy of each (it cannot pass by accident)', async (t) => {
  const copies = [
    { path: 'packages/x/src/a.ts', text: "export const EXTS = ['.ts', '.mts', '.js', '.mjs', '.json5', '.json'];" },
    { path: 'packages/x/src/b.ts', text: 'const issue = error.issues[0]!;' },
    { path: 'packages/x/src/c.ts', text: "if (!/^[A-Za-z0-9_-]+$/.test(phase)) throw new Error('bad phase');" },
    { path: 'packages/x/src/d.ts', text: 'const ID = /^[A-Za-z0-9_.-]+$/;' },
    { path: 'packages/x/src/e.ts', text: "export const X_VERSION = '0.1.0';" },
    { path: 'packages/x/src/f.ts', text: "if (issue.code === 'unrecognized_keys') return 'unknown';" },
    { path: 'packages/x/src/h.ts', text: "for (const line of readFileSync('/etc/passwd', 'utf8').split('\\n')) lookup(line);" },
    {
      path: 'packages/x/src/g.ts',
      text: "/** @example crate({ version: '1.0.0' }) */\n// the list is ['.ts', '.mts', '.json5'] as the docs say\nexport const ok = 1;",
    },
  ];
  const found = secondDefinitions(copies);
  t.same(
    found.map((line) => line.split(':')[0]).sort(),
    copies.slice(0, -1).map((copy) => copy.path),
    'each planted copy is reported, and comments are not definitions',
  );
  t.match(found[0], 'packages/x/src/a.ts:1: a second definition of the spec extensions (the one is in packages/spec/src/paths.ts)');
  const files = packageSources();
  for (const rule of RULES)
    t.ok(
      files.some((file) => file.path === rule.home && rule.defined.test(file.text)),
      `${rule.home} holds ${rule.what}`,
    );
});

t.test('one definition - packages/*/src hold one copy each of the shared names and rules', async (t) => {
  t.same(secondDefinitions(packageSources()), [], 'no second definition');
});

t.test('one definition - every binary answers --version with its own package.json version', async (t) => {
  const packages = join(REPO, 'packages');
  for (const name of readdirSync(packages)) {
    const manifest = JSON.parse(readFileSync(join(packages, name, 'package.json'), 'utf8')) as { version: string; bin?: Record<string, string> };
    for (const [bin, file] of Object.entries(manifest.bin ?? {})) {
      const run = spawnSync(process.execPath, [join(packages, name, file), '--version'], { encoding: 'utf8', timeout: 60_000 });
      t.equal(run.stdout.trim().split(/\s+/).at(-1), manifest.version, `${bin} --version`, { stderr: run.stderr });
    }
  }
});
