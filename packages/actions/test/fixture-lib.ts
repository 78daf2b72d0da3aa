// Shared by the fixture runner and other tests: render one fixture case, run shellcheck.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { InputError } from '@forklift/contract';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { factsFromOs, PRELUDE, renderPhaseScript, validateArgs, type PhaseScript } from '../src/index.js';

export const FIXTURES = join(import.meta.dirname, 'fixtures');

/** One fixture case: args + facts -> expected script snapshot (file next to the json) or an error. */
export interface FixtureCase {
  title?: string;
  action?: string;
  id?: string;
  args: unknown;
  facts?: { family: string; release?: string; packageManager?: string; init?: string };
  plan?: boolean;
  phase?: string;
  stateDir?: string;
  /** Local files by name -> UTF-8 content (or { base64 }). */
  files?: Record<string, string | { base64: string }>;
  /** Controller files actions may upload, by path -> UTF-8 content (resolved as /project/<path>). */
  uploads?: Record<string, string>;
  /** Snapshot file of the rendered blocks (relative to the json), or the error text expected (substring). */
  expected?: string;
  error?: string;
}

export interface LoadedCase {
  action: string;
  name: string;
  file: string;
  fixture: FixtureCase;
}

/** Every fixture case under test/fixtures/<action>/<case>.json, sorted. */
export function loadCases(): LoadedCase[] {
  const out: LoadedCase[] = [];
  for (const action of readdirSync(FIXTURES).sort()) {
    for (const entry of readdirSync(join(FIXTURES, action)).sort()) {
      if (!entry.endsWith('.json')) continue;
      const file = join(FIXTURES, action, entry);
      out.push({ action, name: entry.slice(0, -5), file, fixture: JSON.parse(readFileSync(file, 'utf8')) as FixtureCase });
    }
  }
  return out;
}

/** Render a fixture case as a whole phase script. Throws what rendering throws. */
export function renderCase(item: LoadedCase): PhaseScript {
  const f = item.fixture;
  const action = f.action ?? item.action;
  const args = validateArgs(action, f.args, `${item.action}/${item.name}.json: args`);
  const files = new Map<string, Uint8Array>();
  for (const [name, value] of Object.entries(f.files ?? {}))
    files.set(name, typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.base64, 'base64'));
  return renderPhaseScript([{ id: f.id ?? `${action}-1`, action, args }], {
    phase: f.phase ?? 'configure',
    facts: factsFromOs(f.facts ?? { family: 'debian', release: '12' }),
    plan: f.plan ?? false,
    stateDir: f.stateDir,
    files,
    resolveUpload: (path, { sensitive }) => {
      const content = f.uploads?.[path];
      if (content === undefined) throw new InputError(`upload ${JSON.stringify(path)}: not in the fixture's uploads`, { code: 'local-file' });
      const bytes = Buffer.byteLength(content);
      return sensitive
        ? { source: `/project/${path}`, bytes }
        : { source: `/project/${path}`, bytes, sha256: createHash('sha256').update(content).digest('hex') };
    },
  });
}

/**
 * The snapshot a case's rendered blocks are compared with. Only `update` (npm run test:update-fixtures)
 * writes it; in a normal run a missing snapshot gives undefined (the test fails) and nothing is written,
 * so no test passes by accident.
 */
export function snapshotText(path: string, blocks: string, update: boolean): string | undefined {
  if (update) writeFileSync(path, blocks);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** The part of a script a snapshot keeps: the blocks after the prelude. */
export function blocksOf(script: string): string {
  const at = script.indexOf(PRELUDE);
  if (at < 0) throw new Error('rendered script does not contain the prelude');
  return script.slice(at + PRELUDE.length);
}

/** Fail loudly when shellcheck is missing (Debian package `shellcheck`). */
export function requireShellcheck(): void {
  const probe = spawnSync('shellcheck', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error('shellcheck is not installed: apt-get install shellcheck (required by the fixture tests)');
}

/** shellcheck many files at once (POSIX sh dialect); returns the findings per file (empty string when clean). */
export function shellcheckFiles(paths: string[]): Map<string, string> {
  const findings = new Map<string, string>(paths.map((p) => [p, '']));
  if (paths.length === 0) return findings;
  let output = '';
  try {
    execFileSync('shellcheck', ['-s', 'sh', '-f', 'gcc', ...paths], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string };
    if (e.status !== 1) throw new Error(`shellcheck could not run: ${e.stderr ?? String(error)}`);
    output = e.stdout ?? '';
  }
  for (const line of output.split('\n')) {
    const path = paths.find((p) => line.startsWith(`${p}:`));
    if (path) findings.set(path, `${findings.get(path)}${line}\n`);
  }
  return findings;
}
