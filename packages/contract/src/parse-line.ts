import { isKnownKind } from './kinds.js';
import { parseEnvelope, type InputRecord } from './ndjson.js';
import * as records from './records.js';
import { validateWith } from './validate.js';

/**
 * Parse and validate one NDJSON line (without its line terminator), synchronously (zod is loaded
 * with this module). Throws InputError naming the line number and the field.
 * @example parseRecordLine('{"v":1,"kind":"x"}', 1) // { known: false, kind: 'x', ... }
 */
export function parseRecordLine(text: string, line: number, source = 'stdin'): InputRecord {
  const { kind, object, where } = parseEnvelope(text, line, source);
  if (!isKnownKind(kind)) return { known: false, kind, record: object, raw: text, line };
  return { known: true, kind, record: validateWith(records, kind, object, where, line), raw: text, line };
}
