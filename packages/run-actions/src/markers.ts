import { StringDecoder } from 'node:string_decoder';
import type { ActionStatus, PlanAction } from '@forklift/contract';

/** What the markers said about one action. */
export interface ActionOutcome {
  id: string;
  action: string;
  label: string;
  status: ActionStatus;
  exitCode: number;
  stdout: string;
  stderr: string;
  diff?: string;
  durationMs: number;
}

interface Tracked {
  plan: PlanAction;
  begun: boolean;
  beganAt: number;
  endedAt?: number;
  stdoutDone: boolean;
  stderrDone: boolean;
  status?: ActionStatus;
  exitCode?: number;
  stdout: string;
  stderr: string;
  diff?: string;
  emitted: boolean;
}

const STATUSES = new Set(['ok', 'changed', 'failed', 'skipped']);

/** Splits a byte stream into lines and marker events for one nonce. */
class StreamSplitter {
  #decoder = new StringDecoder('utf8');
  #partial = '';
  readonly #prefix: string;
  constructor(nonce: string, private readonly onText: (text: string) => void, private readonly onMarker: (id: string, what: string) => void) {
    this.#prefix = `::forklift:${nonce}:`;
  }

  push(chunk: Buffer): void {
    this.#feed(this.#decoder.write(chunk));
  }

  end(): void {
    this.#feed(this.#decoder.end());
    if (this.#partial) this.onText(this.#partial);
    this.#partial = '';
  }

  #feed(text: string): void {
    let buffer = this.#partial + text;
    let newline = buffer.indexOf('\n');
    while (newline !== -1) {
      this.#line(buffer.slice(0, newline + 1));
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
    // hold a partial line only while it could still become a marker; plain output streams on
    let at = buffer.indexOf('::');
    if (at === -1 && buffer.endsWith(':')) at = buffer.length - 1;
    if (at === -1) {
      if (buffer) this.onText(buffer);
      this.#partial = '';
    } else {
      if (at > 0) this.onText(buffer.slice(0, at));
      this.#partial = buffer.slice(at);
    }
  }

  #line(line: string): void {
    const at = line.indexOf(this.#prefix);
    if (at === -1) return this.onText(line);
    // output without a final newline leaves the marker mid-line: the text before it is still output
    if (at > 0) this.onText(line.slice(0, at));
    const rest = line.slice(at + this.#prefix.length).replace(/\r?\n$/, '');
    const colon = rest.indexOf(':');
    if (colon <= 0) return this.onText(line.slice(at));
    this.onMarker(rest.slice(0, colon), rest.slice(colon + 1));
  }
}

/** Output outside every action block (script preamble, errors of the script itself). */
export interface StrayOutput {
  stdout: string;
  stderr: string;
}

/**
 * Turns a phase script's stdout and stderr into per-action outcomes as the markers arrive
 * (DEVELOPING.md, "The marker protocol"). An outcome is delivered, in plan order, once both streams
 * closed the action; `finish` settles actions left open or never reached.
 * @example const parser = new MarkerParser(nonce, plan.actions, (outcome) => emit(outcome))
 */
export class MarkerParser {
  readonly #tracked = new Map<string, Tracked>();
  readonly #order: Tracked[] = [];
  readonly #stdout: StreamSplitter;
  readonly #stderr: StreamSplitter;
  #stdoutCurrent: Tracked | undefined;
  #stderrCurrent: Tracked | undefined;
  #diffTarget: Tracked | undefined;
  #next = 0;
  readonly stray: StrayOutput = { stdout: '', stderr: '' };

  constructor(
    nonce: string,
    actions: readonly PlanAction[],
    private readonly onOutcome: (outcome: ActionOutcome) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    for (const plan of actions) {
      const tracked: Tracked = { plan, begun: false, beganAt: 0, stdoutDone: false, stderrDone: false, stdout: '', stderr: '', emitted: false };
      this.#tracked.set(plan.id, tracked);
      this.#order.push(tracked);
    }
    this.#stdout = new StreamSplitter(nonce, (text) => this.#stdoutText(text), (id, what) => this.#stdoutMarker(id, what));
    this.#stderr = new StreamSplitter(nonce, (text) => this.#stderrText(text), (id, what) => this.#stderrMarker(id, what));
  }

  /** Feed a chunk of the script's stdout. */
  pushStdout(chunk: Buffer): void {
    this.#stdout.push(chunk);
  }

  /** Feed a chunk of the script's stderr. */
  pushStderr(chunk: Buffer): void {
    this.#stderr.push(chunk);
  }

  /** The id of the action running now (begun, not ended), if any. */
  get running(): string | undefined {
    const current = this.#stdoutCurrent;
    return current && !current.stdoutDone ? current.plan.id : undefined;
  }

  #track(id: string): Tracked {
    let tracked = this.#tracked.get(id);
    if (!tracked) {
      // an id the plan did not list: report it all the same, after the listed ones it follows
      tracked = { plan: { id, action: 'unknown', label: id }, begun: false, beganAt: 0, stdoutDone: false, stderrDone: false, stdout: '', stderr: '', emitted: false };
      this.#tracked.set(id, tracked);
      this.#order.push(tracked);
    }
    return tracked;
  }

  #stdoutText(text: string): void {
    if (this.#diffTarget) this.#diffTarget.diff = (this.#diffTarget.diff ?? '') + text;
    else if (this.#stdoutCurrent && !this.#stdoutCurrent.stdoutDone) this.#stdoutCurrent.stdout += text;
    else this.stray.stdout += text;
  }

  #stderrText(text: string): void {
    if (this.#stderrCurrent && !this.#stderrCurrent.stderrDone) this.#stderrCurrent.stderr += text;
    else this.stray.stderr += text;
  }

  #stdoutMarker(id: string, what: string): void {
    const tracked = this.#track(id);
    if (what === 'begin') {
      tracked.begun = true;
      tracked.beganAt = this.now();
      this.#stdoutCurrent = tracked;
    } else if (what === 'diff') {
      this.#diffTarget = tracked;
      tracked.diff ??= '';
    } else if (what === 'enddiff') {
      this.#diffTarget = undefined;
    } else if (what.startsWith('exit:')) {
      const code = Number(what.slice(5));
      tracked.exitCode = Number.isInteger(code) ? code : 1;
    } else if (STATUSES.has(what)) {
      if (!tracked.begun) {
        tracked.begun = true;
        tracked.beganAt = this.now();
      }
      tracked.status = what as ActionStatus;
      tracked.stdoutDone = true;
      tracked.endedAt = this.now();
      this.#diffTarget = undefined;
      this.#deliver();
    } else {
      this.#stdoutText(`::forklift:?:${id}:${what}\n`);
    }
  }

  #stderrMarker(id: string, what: string): void {
    const tracked = this.#track(id);
    if (what === 'begin') this.#stderrCurrent = tracked;
    else if (STATUSES.has(what)) {
      tracked.stderrDone = true;
      this.#deliver();
    }
  }

  #outcome(tracked: Tracked): ActionOutcome {
    const status = tracked.status ?? 'skipped';
    return {
      id: tracked.plan.id,
      action: tracked.plan.action,
      label: tracked.plan.label,
      status,
      exitCode: tracked.exitCode ?? (status === 'failed' ? 1 : 0),
      stdout: tracked.stdout,
      stderr: tracked.stderr,
      ...(tracked.diff !== undefined ? { diff: tracked.diff } : {}),
      durationMs: tracked.begun ? Math.max(0, Math.round((tracked.endedAt ?? this.now()) - tracked.beganAt)) : 0,
    };
  }

  #deliver(force = false): void {
    while (this.#next < this.#order.length) {
      const tracked = this.#order[this.#next]!;
      if (!force && !(tracked.stdoutDone && tracked.stderrDone)) return;
      if (!tracked.emitted) {
        tracked.emitted = true;
        this.onOutcome(this.#outcome(tracked));
      }
      this.#next += 1;
    }
  }

  /**
   * The script ended (exit code, or null when killed): flush both streams, report an action left
   * open as failed with `why`, and every action never reached as skipped. Returns all outcomes so far.
   * @example parser.finish(result.exitCode, 'interrupted by SIGINT')
   */
  finish(exitCode: number | null, why?: string): void {
    this.#stdout.end();
    this.#stderr.end();
    for (const tracked of this.#order) {
      if (tracked.emitted) continue;
      if (tracked.begun && !tracked.status) {
        tracked.status = 'failed';
        tracked.exitCode = exitCode ?? -1;
        tracked.endedAt = this.now();
        const reason = why ?? (exitCode === null ? 'the script was killed' : `the script exited with ${exitCode}`);
        tracked.stderr += `${tracked.stderr && !tracked.stderr.endsWith('\n') ? '\n' : ''}forklift: ${reason} before this action finished\n`;
      }
    }
    this.#deliver(true);
  }
}

/**
 * The outcomes a finished script's whole output holds, in order: what MarkerParser streams, at once
 * (tests that ran a plan script themselves read its markers with run-actions' own parser this way).
 * Ids the plan did not list are reported too, with action `unknown`.
 * @example decodeMarkers('n0nce', run.stdout, run.stderr).map((o) => [o.id, o.status])
 */
export function decodeMarkers(nonce: string, stdout: string | Buffer, stderr: string | Buffer, actions: readonly PlanAction[] = [], exitCode: number | null = 0): ActionOutcome[] {
  const outcomes: ActionOutcome[] = [];
  const parser = new MarkerParser(nonce, actions, (outcome) => outcomes.push(outcome), () => 0);
  parser.pushStdout(Buffer.from(stdout));
  parser.pushStderr(Buffer.from(stderr));
  parser.finish(exitCode);
  return outcomes;
}
