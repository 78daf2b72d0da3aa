// Phases a spec defines that will not run: a custom phase runs only when asked for (`--phase NAME`),
// so a misspelt standard phase (`configur`) would silently never run. Say so before anything runs.
import { closest, STANDARD_PHASES } from '@forklift/contract/lite';
import type { Spec } from '@forklift/spec';
import { definedPhases, flattenSpec } from './compose.js';
import { defaultPhases } from './render.js';

/** What phaseNotes finds: warnings (a likely typo of a standard phase) and notes (other custom phases left out). */
export interface PhaseNotes {
  warnings: string[];
  notes: string[];
}

/**
 * The phases of `spec` that this render leaves out, worded for stderr: a phase that is not a standard
 * one and not among `requested` (or the defaults when none is requested) is a warning when it is close
 * to a standard name, else a note.
 * @example phaseNotes(spec, []).warnings // ['phase "configur" of groups/web.json5 never runs: not a standard phase and not requested (did you mean "configure"?)']
 */
export function phaseNotes(spec: Spec, requested: readonly string[]): PhaseNotes {
  const running = requested.length > 0 ? requested : defaultPhases(spec);
  const where = spec.source ? ` of ${spec.source}` : '';
  const out: PhaseNotes = { warnings: [], notes: [] };
  for (const phase of definedPhases(flattenSpec(spec))) {
    if (STANDARD_PHASES.includes(phase) || running.includes(phase)) continue;
    const standard = closest(phase, STANDARD_PHASES);
    if (standard) out.warnings.push(`phase "${phase}"${where} never runs: not a standard phase and not requested (did you mean "${standard}"?)`);
    else out.notes.push(`phase "${phase}"${where} is a custom phase: it runs only with --phase ${phase}`);
  }
  return out;
}
