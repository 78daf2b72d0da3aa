// The names that travel between specs, plan scripts, markers and records: one definition each
// (a test in @forklift/spec fails on a second one anywhere in packages/*/src).

/** Phase names: they appear in records, marker-free flag files and `--phase`. @example PHASE_NAME_PATTERN.test('configure') // true */
export const PHASE_NAME_PATTERN = /^[A-Za-z0-9_-]+$/;

/** Action ids: they appear in marker lines and file names on the node. @example ACTION_ID_PATTERN.test('nginx-conf') // true */
export const ACTION_ID_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** A run's nonce: it is part of every marker line (`::forklift:NONCE:ID:STATUS`). @example NONCE_PATTERN.test('k3J9_x-') // true */
export const NONCE_PATTERN = /^[A-Za-z0-9_-]+$/;

/** Upload names: how a plan record and its script name a file delivered out of band. @example UPLOAD_NAME_PATTERN.test('app.tar.gz') // true */
export const UPLOAD_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;

/** The standard phases, in the order they run; any other name is a custom phase, run only when asked for (`--phase NAME`). */
export const STANDARD_PHASES: readonly string[] = ['settings', 'bootstrap', 'configure', 'install'];

/** Phases a spec may hold that are not rendered into scripts: `settings` is evaluated, never run. */
export const UNRENDERED_PHASES: readonly string[] = ['settings'];

/**
 * Why `name` cannot be run as a phase, or undefined when it can: the one check behind render-crate's
 * and run-actions' `--phase`.
 * @example phaseNameProblem('settings') // 'settings is evaluated while rendering, it is not a phase that runs'
 */
export function phaseNameProblem(name: string): string | undefined {
  if (!PHASE_NAME_PATTERN.test(name)) return 'a phase name is letters, digits, _ and -';
  if (UNRENDERED_PHASES.includes(name)) return `${name} is evaluated while rendering, it is not a phase that runs`;
  return undefined;
}
