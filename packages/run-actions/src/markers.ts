import type { ActionStatus, PlanAction } from '@forklift/contract/lite';

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
  /** Fields cut at the per-field limit (the rest was not kept). */
  truncated?: Array<'stdout' | 'stderr' | 'diff'>;
}

/** Most bytes of one field (stdout, stderr, diff) a result record carries; the rest is dropped and the field is marked truncated. */
export const FIELD_LIMIT_BYTES = 1024 * 1024;

/** Most bytes kept of output outside every block (it only feeds error messages). */
const STRAY_LIMIT_BYTES = 64 * 1024;

/** Longest line that can still be a marker line (`::forklift:NONCE:ID:WHAT`); longer ones are stray text. */
const MARKER_LINE_LIMIT = 1024;

type Field = 'stdout' | 'stderr' | 'diff';
const FIELDS = new Set<string>(['stdout', 'stderr', 'diff']);
const STATUSES = new Set(['ok', 'changed', 'failed', 'skipped']);

/** A field's bytes as they arrive, kept up to the limit. */
class Capped {
  readonly chunks: Buffer[] = [];
  kept = 0;
  dropped = 0;
  constructor(private readonly limit: number) {}

  push(bytes: Buffer): void {
    const room = this.limit - this.kept;
    if (room <= 0) {
      this.dropped += bytes.length;
      return;
    }
    const part = bytes.length > room ? bytes.subarray(0, room) : bytes;
    // copy: the chunk's buffer belongs to the stream
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
    this.dropped += bytes.length - part.length;
  }

  /** Add text beyond the limit (forklift's own last words about the action). */
  append(text: string): void {
    const bytes = Buffer.from(text);
    this.chunks.push(bytes);
    this.kept += bytes.length;
  }

  text(): string {
    const text = Buffer.concat(this.chunks, this.kept).toString('utf8');
    return this.dropped > 0
      ? `${text.replace(/\uFFFD$/, '')}\n[forklift: ${this.dropped} more bytes not kept: the field is limited to ${this.limit} bytes]\n`
      : text;
  }
}

interface Tracked {
  plan: PlanAction;
  begun: boolean;
  beganAt: number;
  endedAt?: number;
  status?: ActionStatus;
  exitCode?: number;
  fields: Partial<Record<Field, Capped>>;
  emitted: boolean;
}

/** Output outside every action block (script preamble, errors of the script itself). */
export interface StrayOutput {
  stdout: string;
  stderr: string;
}

/**
 * Turns a phase script's stdout into per-action outcomes as the markers arrive (DEVELOPING.md, "The marker
 * protocol"). Only lines that start with `::forklift:NONCE:` are markers; a block's own output arrives after it,
 * framed: every line prefixed with `|`, ended by an empty line (or the next marker), so no output of a command
 * can start a marker line. Each byte is looked at once (a partial line is held only while it may still be a
 * marker, at most 1 KiB); each field keeps at most `limit` bytes. An outcome is delivered, in plan order, at its
 * status marker; `finish` settles actions left open or never reached.
 * @example const parser = new MarkerParser(nonce, plan.actions, (outcome) => emit(outcome))
 */
export class MarkerParser {
  readonly #tracked = new Map<string, Tracked>();
  readonly #order: Tracked[] = [];
  readonly #prefix: Buffer;
  readonly #limit: number;
  #next = 0;
  /** The action between its begin and status markers. */
  #current: Tracked | undefined;
  /** Where framed lines go now, and whether a line of that frame was seen (a later one starts with a newline). */
  #frame: { target: Capped | undefined; started: boolean } | undefined;
  /** The state at the start of the next byte: 'start' of a line, inside a 'frame' line, a 'marker' candidate, 'stray' text. */
  #mode: 'start' | 'frame' | 'marker' | 'stray' = 'start';
  #held: Buffer[] = [];
  #heldBytes = 0;
  #stray = new Capped(STRAY_LIMIT_BYTES);
  #strayStderr = new Capped(STRAY_LIMIT_BYTES);
  readonly stray: StrayOutput = { stdout: '', stderr: '' };

  constructor(
    nonce: string,
    actions: readonly PlanAction[],
    private readonly onOutcome: (outcome: ActionOutcome) => void,
    private readonly now: () => number = () => performance.now(),
    options: { limit?: number } = {},
  ) {
    this.#prefix = Buffer.from(`::forklift:${nonce}:`);
    this.#limit = options.limit ?? FIELD_LIMIT_BYTES;
    for (const plan of actions) {
      const tracked: Tracked = { plan, begun: false, beganAt: 0, fields: {}, emitted: false };
      this.#tracked.set(plan.id, tracked);
      this.#order.push(tracked);
    }
  }

  /** Feed a chunk of the script's stdout. */
  pushStdout(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#mode === 'start') {
        const first = chunk[at]!;
        if (first === 0x7c /* | */ && this.#frame) {
          if (this.#frame.started) this.#frame.target?.push(NEWLINE);
          this.#frame.started = true;
          this.#mode = 'frame';
          at += 1;
          continue;
        }
        if (first === 0x0a && this.#frame) {
          // the empty line that ends a frame: the framed text ended with a newline
          if (this.#frame.started) this.#frame.target?.push(NEWLINE);
          this.#frame = undefined;
          at += 1;
          continue;
        }
        this.#mode = first === 0x3a /* : */ ? 'marker' : 'stray';
        continue;
      }
      const newline = chunk.indexOf(0x0a, at);
      const end = newline === -1 ? chunk.length : newline;
      const piece = chunk.subarray(at, end);
      if (this.#mode === 'frame') {
        this.#frame?.target?.push(piece);
      } else if (this.#mode === 'stray') {
        this.#stray.push(chunk.subarray(at, newline === -1 ? chunk.length : newline + 1));
      } else {
        this.#held.push(Buffer.from(piece));
        this.#heldBytes += piece.length;
        if (this.#heldBytes > MARKER_LINE_LIMIT) {
          // too long to be a marker: plain stray text from here on
          for (const held of this.#held) this.#stray.push(held);
          this.#held = [];
          this.#heldBytes = 0;
          this.#mode = 'stray';
        }
      }
      if (newline === -1) return;
      if (this.#mode === 'marker') this.#markerLine(Buffer.concat(this.#held, this.#heldBytes));
      this.#held = [];
      this.#heldBytes = 0;
      this.#mode = 'start';
      at = newline + 1;
    }
  }

  /** Feed a chunk of the script's stderr (the script's own errors: block output never goes there). */
  pushStderr(chunk: Buffer): void {
    this.#strayStderr.push(chunk);
  }

  /** The id of the action running now (begun, not ended), if any. */
  get running(): string | undefined {
    return this.#current?.plan.id;
  }

  #markerLine(line: Buffer): void {
    if (line.length <= this.#prefix.length || !line.subarray(0, this.#prefix.length).equals(this.#prefix)) {
      this.#stray.push(line);
      this.#stray.push(NEWLINE);
      return;
    }
    const rest = line.subarray(this.#prefix.length).toString('latin1').replace(/\r$/, '');
    const colon = rest.indexOf(':');
    if (colon <= 0) {
      this.#stray.push(line);
      this.#stray.push(NEWLINE);
      return;
    }
    this.#marker(rest.slice(0, colon), rest.slice(colon + 1));
  }

  #track(id: string): Tracked {
    let tracked = this.#tracked.get(id);
    if (!tracked) {
      // an id the plan did not list: report it all the same, after the listed ones it follows
      tracked = { plan: { id, action: 'unknown', label: id }, begun: false, beganAt: 0, fields: {}, emitted: false };
      this.#tracked.set(id, tracked);
      this.#order.push(tracked);
    }
    return tracked;
  }

  #marker(id: string, what: string): void {
    this.#frame = undefined;
    // `-` is the wrapper speaking for the action that was running when the script was stopped
    const tracked = id === '-' ? this.#current : this.#track(id);
    if (!tracked || tracked.emitted) {
      if (FIELDS.has(what)) this.#frame = { target: undefined, started: false };
      return;
    }
    if (what === 'begin') {
      tracked.begun = true;
      tracked.beganAt = this.now();
      this.#current = tracked;
    } else if (FIELDS.has(what)) {
      const field = what as Field;
      tracked.fields[field] ??= new Capped(this.#limit);
      this.#frame = { target: tracked.fields[field], started: false };
    } else if (what.startsWith('exit:')) {
      const code = Number(what.slice(5));
      tracked.exitCode = Number.isInteger(code) ? code : 1;
    } else if (STATUSES.has(what)) {
      if (!tracked.begun) {
        tracked.begun = true;
        tracked.beganAt = this.now();
      }
      tracked.status = what as ActionStatus;
      tracked.endedAt = this.now();
      if (this.#current === tracked) this.#current = undefined;
      this.#deliver();
    }
  }

  #outcome(tracked: Tracked): ActionOutcome {
    const status = tracked.status ?? 'skipped';
    const truncated = (['stdout', 'stderr', 'diff'] as const).filter((field) => (tracked.fields[field]?.dropped ?? 0) > 0);
    return {
      id: tracked.plan.id,
      action: tracked.plan.action,
      label: tracked.plan.label,
      status,
      exitCode: tracked.exitCode ?? (status === 'failed' ? 1 : 0),
      stdout: tracked.fields.stdout?.text() ?? '',
      stderr: tracked.fields.stderr?.text() ?? '',
      ...(tracked.fields.diff !== undefined ? { diff: tracked.fields.diff.text() } : {}),
      durationMs: tracked.begun ? Math.max(0, Math.round((tracked.endedAt ?? this.now()) - tracked.beganAt)) : 0,
      ...(truncated.length > 0 ? { truncated } : {}),
    };
  }

  #deliver(force = false): void {
    while (this.#next < this.#order.length) {
      const tracked = this.#order[this.#next]!;
      if (!force && !tracked.status) return;
      if (!tracked.emitted) {
        tracked.emitted = true;
        this.onOutcome(this.#outcome(tracked));
      }
      this.#next += 1;
    }
  }

  /**
   * The script ended (exit code, or null when killed): report an action left open as failed with `why`,
   * and every action never reached as skipped.
   * @example parser.finish(result.exitCode, 'interrupted by SIGINT')
   */
  finish(exitCode: number | null, why?: string): void {
    if (this.#mode === 'marker' && this.#heldBytes > 0) this.#markerLine(Buffer.concat(this.#held, this.#heldBytes));
    this.#held = [];
    this.#heldBytes = 0;
    this.#mode = 'start';
    this.stray.stdout += this.#stray.text();
    this.stray.stderr += this.#strayStderr.text();
    this.#stray = new Capped(STRAY_LIMIT_BYTES);
    this.#strayStderr = new Capped(STRAY_LIMIT_BYTES);
    for (const tracked of this.#order) {
      if (tracked.emitted) continue;
      if (tracked.begun && !tracked.status) {
        tracked.status = 'failed';
        tracked.exitCode = exitCode ?? -1;
        tracked.endedAt = this.now();
        const reason = why ?? (exitCode === null ? 'the script was killed' : `the script exited with ${exitCode}`);
        tracked.fields.stderr ??= new Capped(this.#limit);
        const before = tracked.fields.stderr.text();
        tracked.fields.stderr.append(`${before && !before.endsWith('\n') ? '\n' : ''}forklift: ${reason} before this action finished\n`);
      }
    }
    this.#deliver(true);
  }
}

const NEWLINE = Buffer.from('\n');

/**
 * The outcomes a finished script's whole output holds, in order: what MarkerParser streams, at once
 * (tests that ran a plan script themselves read its markers with run-actions' own parser this way).
 * Ids the plan did not list are reported too, with action `unknown`.
 * @example decodeMarkers('n0nce', run.stdout, run.stderr).map((o) => [o.id, o.status])
 */
export function decodeMarkers(
  nonce: string,
  stdout: string | Buffer,
  stderr: string | Buffer,
  actions: readonly PlanAction[] = [],
  exitCode: number | null = 0,
): ActionOutcome[] {
  const outcomes: ActionOutcome[] = [];
  const parser = new MarkerParser(
    nonce,
    actions,
    (outcome) => outcomes.push(outcome),
    () => 0,
  );
  parser.pushStdout(Buffer.from(stdout));
  parser.pushStderr(Buffer.from(stderr));
  parser.finish(exitCode);
  return outcomes;
}
