// Run rendered scripts for real (dash or bash, script on stdin like run-actions does) and read the markers.
import { spawn, spawnSync } from 'node:child_process';
import { decodeMarkers } from '@forklift/run-actions';
import { factsFromOs, renderPhaseScript, scriptPreamble, validateArgs, type PhaseScriptOptions } from '../src/index.js';

export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Final status per action id, in order. */
  statuses: Record<string, string>;
  /** Diff text per action id (all diff sections joined). */
  diffs: Record<string, string>;
  /** The block's own stdout and stderr per action id (sent framed after the block). */
  outputs: Record<string, { stdout: string; stderr: string }>;
}

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: process.env.TMPDIR ?? '/tmp' };

/** Run a script as `SHELL -s` with the nonce line (and upload directories) before the script on stdin, like run-actions. */
export function runScript(script: string, shell: 'dash' | 'bash' = 'dash', nonce = 'n0nce', dirs: { up?: string; blobs?: string } = {}): ScriptRun {
  const result = spawnSync(shell, ['-s'], {
    input: scriptPreamble({ nonce, ...dirs }) + script,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    env: ENV,
    timeout: 120_000,
  });
  if (result.error) throw result.error;
  return parseRun(result.status ?? -1, result.stdout, result.stderr, nonce);
}

/** runScript without blocking the event loop (for tests that serve HTTP from this process). */
export function runScriptAsync(script: string, shell: 'dash' | 'bash' = 'dash', nonce = 'n0nce'): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(shell, ['-s'], { env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve(parseRun(code ?? -1, stdout, stderr, nonce)));
    child.stdin.end(scriptPreamble({ nonce }) + script);
  });
}

function parseRun(code: number, stdout: string, stderr: string, nonce: string): ScriptRun {
  // run-actions' own marker parser: the tests read markers exactly as the runner does
  const statuses: Record<string, string> = {};
  const diffs: Record<string, string> = {};
  const outputs: Record<string, { stdout: string; stderr: string }> = {};
  for (const outcome of decodeMarkers(nonce, stdout, stderr, [], code)) {
    if (outcome.status !== 'skipped') statuses[outcome.id] = outcome.status;
    if (outcome.diff !== undefined) diffs[outcome.id] = outcome.diff;
    outputs[outcome.id] = { stdout: outcome.stdout, stderr: outcome.stderr };
  }
  return { code, stdout, stderr, statuses, diffs, outputs };
}

/** One action for `renderActions`: name, args and an optional id. */
export interface Step {
  action: string;
  args: unknown;
  id?: string;
}

/** Validate and render steps into one phase script (debian facts unless given). */
export function renderActions(steps: readonly Step[], options: Partial<PhaseScriptOptions> = {}): string {
  const instances = steps.map((step, index) => ({
    id: step.id ?? `${step.action}-${index + 1}`,
    action: step.action,
    args: validateArgs(step.action, step.args),
  }));
  return renderPhaseScript(instances, { phase: 'configure', facts: factsFromOs({ family: 'debian', release: '12' }), ...options }).script;
}
