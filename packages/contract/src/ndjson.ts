import type { Readable, Writable } from 'node:stream';
import { InputError } from './errors.js';
import { isKnownKind, RECORD_VERSION, type KnownKind } from './kinds.js';
import type { KnownRecord } from './records.js';
import { validateInput } from './validate.js';

/** Default bound on the length of one input line: 16 MiB. */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;

/** A record read from an NDJSON stream: validated when its kind is known, raw text kept for pass-through. */
export type InputRecord =
  | { known: true; kind: KnownKind; record: KnownRecord; raw: string; line: number }
  | { known: false; kind: string; record: Record<string, unknown>; raw: string; line: number };

/** Options of the NDJSON reader. */
export interface ReadOptions {
  /** Longest accepted line in bytes (default 16 MiB). */
  maxLineBytes?: number;
  /** Name of the source in error messages (default `stdin`). */
  source?: string;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Deepest nesting of arrays and objects a record may have (validators and pass-through walk records recursively). */
export const MAX_RECORD_DEPTH = 128;

/** Whether JSON text nests arrays/objects deeper than `limit` (one pass, strings skipped); parse errors are left to JSON.parse. */
function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 0x5c /* \\ */) index += 1;
      else if (code === 0x22 /* " */) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x5b /* [ */ || code === 0x7b /* { */) {
      depth += 1;
      if (depth > limit) return true;
    } else if (code === 0x5d /* ] */ || code === 0x7d /* } */) depth -= 1;
  }
  return false;
}

/** One NDJSON line parsed and its envelope (`v`, `kind`) checked; the fields of known kinds not yet validated. */
export interface RecordEnvelope {
  kind: string;
  object: Record<string, unknown>;
  where: string;
}

/**
 * Parse one NDJSON line and check its envelope: a JSON object with `v` 1 and a non-empty `kind`.
 * Throws InputError naming the line number and the field.
 */
export function parseEnvelope(text: string, line: number, source = 'stdin'): RecordEnvelope {
  const where = `${source} line ${line}`;
  if (nestsDeeperThan(text, MAX_RECORD_DEPTH)) throw new InputError(`${where}: nested deeper than ${MAX_RECORD_DEPTH} levels of arrays and objects`, { line });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InputError(`${where}: not JSON (${(error as Error).message})`, { line, cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const what = Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
    throw new InputError(`${where}: expected a JSON object, got ${what}`, { line });
  }
  const object = value as Record<string, unknown>;
  if (!('v' in object)) throw new InputError(`${where}: missing field "v" (record version, must be ${RECORD_VERSION})`, { line });
  if (object.v !== RECORD_VERSION) {
    throw new InputError(`${where}: field "v": unsupported record version ${JSON.stringify(object.v)} (this forklift reads v ${RECORD_VERSION})`, { line });
  }
  if (typeof object.kind !== 'string' || object.kind === '') {
    throw new InputError(`${where}: field "kind": ${'kind' in object ? 'must be a non-empty string' : 'missing'}`, { line });
  }
  return { kind: object.kind, object, where };
}

async function parseLine(text: string, line: number, source: string): Promise<InputRecord> {
  const { kind, object, where } = parseEnvelope(text, line, source);
  if (!isKnownKind(kind)) return { known: false, kind, record: object, raw: text, line };
  return { known: true, kind, record: await validateInput(kind, object, where, line), raw: text, line };
}

/**
 * Read validated records from an NDJSON byte stream, one at a time.
 * Lines may end in LF or CRLF; the last line needs no newline; blank lines are skipped.
 * @example for await (const item of readRecords(process.stdin)) console.error(item.kind)
 */
export async function* readRecords(input: AsyncIterable<Buffer | string> | Readable, options: ReadOptions = {}): AsyncGenerator<InputRecord> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const source = options.source ?? 'stdin';
  let chunks: Buffer[] = [];
  let pending = 0;
  let line = 0;
  let overLong = false;

  function finish(bytes: Buffer): Promise<InputRecord> | undefined {
    line += 1;
    if (overLong) throw new InputError(`${source} line ${line}: longer than the limit of ${maxLineBytes} bytes`, { line });
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end -= 1;
    let text: string;
    try {
      text = decoder.decode(bytes.subarray(0, end));
    } catch (error) {
      throw new InputError(`${source} line ${line}: not valid UTF-8`, { line, cause: error });
    }
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') return undefined;
    return parseLine(text, line, source);
  }

  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    let buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let newline = buffer.indexOf(0x0a);
    while (newline !== -1) {
      const head = buffer.subarray(0, newline);
      if (!overLong && pending + head.length > maxLineBytes) overLong = true;
      const whole = overLong ? Buffer.alloc(0) : chunks.length ? Buffer.concat([...chunks, head]) : head;
      chunks = [];
      pending = 0;
      const item = finish(whole);
      overLong = false;
      if (item) yield await item;
      buffer = buffer.subarray(newline + 1);
      newline = buffer.indexOf(0x0a);
    }
    if (buffer.length) {
      if (!overLong && pending + buffer.length > maxLineBytes + 1) {
        overLong = true;
        chunks = [];
      }
      if (!overLong) {
        chunks.push(Buffer.from(buffer));
        pending += buffer.length;
      }
    }
  }
  if (overLong || pending > 0) {
    const tail = overLong ? Buffer.alloc(0) : Buffer.concat(chunks);
    if (!overLong && tail.length > maxLineBytes) overLong = true;
    const item = finish(tail);
    if (item) yield await item;
  }
}

/** Read a whole NDJSON stream into memory, validating every line before returning. */
export async function readAllRecords(input: AsyncIterable<Buffer | string> | Readable, options: ReadOptions = {}): Promise<InputRecord[]> {
  const out: InputRecord[] = [];
  for await (const item of readRecords(input, options)) out.push(item);
  return out;
}

function sortValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortValue);
  if (value !== null && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(source).sort()) if (source[key] !== undefined) out[key] = sortValue(source[key]);
    return out;
  }
  return value;
}

/**
 * Serialize a record as one NDJSON line (with `\n`): `v` and `kind` first, every other key sorted, so output is byte-stable.
 * @example formatRecord({ kind: 'summary', v: 1, ok: true }) // '{"v":1,"kind":"summary","ok":true}\n'
 */
export function formatRecord(record: Record<string, unknown>): string {
  const { v, kind, ...rest } = record;
  const sorted = sortValue(rest) as Record<string, unknown>;
  return JSON.stringify({ v, kind, ...sorted }) + '\n';
}

/** Writes NDJSON to a stream, waiting for drain, and ending quietly on a write error (EPIPE: the reader went away). */
export class RecordWriter {
  #stream: Writable;
  #closed = false;
  #onClose: (() => void) | undefined;

  constructor(stream: Writable, options: { onBrokenPipe?: () => void } = {}) {
    this.#stream = stream;
    this.#onClose = options.onBrokenPipe;
    // any write error ends the writer quietly: EPIPE (the reader went away), a destroyed or ended stream
    stream.on('error', () => this.#markClosed());
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose?.();
  }

  /** True once the reading end went away; later writes are dropped. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Write a record object (formatted byte-stably). */
  write(record: Record<string, unknown>): Promise<void> {
    return this.writeLine(formatRecord(record));
  }

  /** Write an already-serialized line (a pass-through record); adds the newline when missing. */
  writeLine(line: string): Promise<void> {
    if (this.#closed || this.#stream.destroyed || this.#stream.writableEnded) return Promise.resolve();
    const text = line.endsWith('\n') ? line : line + '\n';
    return new Promise((resolve) => {
      let ok: boolean;
      try {
        ok = this.#stream.write(text);
      } catch {
        this.#markClosed();
        resolve();
        return;
      }
      if (ok) return resolve();
      const done = (): void => {
        this.#stream.off('drain', done);
        this.#stream.off('close', done);
        this.#stream.off('error', done);
        resolve();
      };
      this.#stream.on('drain', done);
      this.#stream.on('close', done);
      this.#stream.on('error', done);
    });
  }
}
