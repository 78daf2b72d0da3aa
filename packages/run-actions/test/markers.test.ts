import t from 'tap';
import { decodeMarkers, FIELD_LIMIT_BYTES, MarkerParser, type ActionOutcome } from '../src/index.js';

const nonce = 'n0nce';
const actions = [
  { id: 'a', action: 'exec', label: 'first' },
  { id: 'b', action: 'file', label: 'second' },
  { id: 'c', action: 'exec', label: 'third' },
];
const m = (id: string, what: string): string => `::forklift:${nonce}:${id}:${what}\n`;
/** A block's output as fl_end frames it: each line prefixed with `|`, then an empty line. */
const frame = (id: string, what: string, text: string): string =>
  text === ''
    ? ''
    : `${m(id, what)}${text
        .replace(/\n$/, '')
        .split('\n')
        .map((line) => `|${line}`)
        .join('\n')}\n${text.endsWith('\n') ? '\n' : ''}`;

function feedInPieces(parser: MarkerParser, stdout: string, size: number): void {
  const out = Buffer.from(stdout);
  for (let index = 0; index < out.length; index += size) parser.pushStdout(out.subarray(index, index + size));
}

t.test('marker parser - outcomes with own framed output, diff and status, whatever the chunking', async (t) => {
  const stdout =
    m('a', 'begin') +
    frame('a', 'stdout', 'hello\n') +
    frame('a', 'stderr', 'warn a\n') +
    m('a', 'exit:0') +
    m('a', 'ok') +
    m('b', 'begin') +
    frame('b', 'stdout', 'no newline') +
    frame('b', 'diff', '--- f\n+++ f\n') +
    m('b', 'exit:0') +
    m('b', 'changed');
  for (const size of [1, 2, 3, 7, 4096]) {
    const seen: ActionOutcome[] = [];
    const parser = new MarkerParser(nonce, actions, (outcome) => seen.push(outcome));
    feedInPieces(parser, stdout, size);
    t.same(
      seen.map((o) => [o.id, o.status]),
      [
        ['a', 'ok'],
        ['b', 'changed'],
      ],
      `delivered while running (chunks of ${size})`,
    );
    parser.finish(0);
    t.same(
      seen.map((o) => [o.id, o.status]),
      [
        ['a', 'ok'],
        ['b', 'changed'],
        ['c', 'skipped'],
      ],
    );
    t.equal(seen[0]!.stdout, 'hello\n');
    t.equal(seen[0]!.stderr, 'warn a\n');
    t.equal(seen[0]!.label, 'first');
    t.equal(seen[1]!.stdout, 'no newline', 'output without a final newline keeps it that way');
    t.equal(seen[1]!.diff, '--- f\n+++ f\n');
  }
});

t.test('marker parser - framed text is data: blank lines, lines starting with | or ::forklift, NUL and UTF-8 split anywhere', async (t) => {
  const text = `\n|pipe\n${m('a', 'changed')}::forklift:${nonce}:b:failed\n\u0000bin ü 💡\n\n`;
  const stdout = m('a', 'begin') + frame('a', 'stdout', text) + m('a', 'exit:0') + m('a', 'ok');
  for (const size of [1, 5, 4096]) {
    const seen: ActionOutcome[] = [];
    const parser = new MarkerParser(nonce, actions.slice(0, 2), (outcome) => seen.push(outcome));
    feedInPieces(parser, stdout, size);
    parser.finish(0);
    t.same(
      seen.map((o) => [o.id, o.status]),
      [
        ['a', 'ok'],
        ['b', 'skipped'],
      ],
      `no forged status (chunks of ${size})`,
    );
    t.equal(seen[0]!.stdout, text, 'the text comes back byte for byte');
  }
});

t.test('marker parser - a marker is only a marker at the start of a line, with this nonce', async (t) => {
  const stdout = `${m('a', 'begin')}stray ${m('a', 'failed').trimEnd()}\n::forklift:forged:a:failed\n ${m('a', 'failed')}${m('a', 'exit:0')}${m('a', 'ok')}`;
  const [outcome] = decodeMarkers(nonce, stdout, '', actions.slice(0, 1));
  t.same([outcome!.status, outcome!.exitCode], ['ok', 0]);
});

t.test('marker parser - the wrapper speaks for the running action (id -) after stopping a script', async (t) => {
  const seen: ActionOutcome[] = [];
  const parser = new MarkerParser(nonce, actions, (outcome) => seen.push(outcome));
  parser.pushStdout(
    Buffer.from(
      `${m('a', 'begin')}${m('a', 'exit:0')}${m('a', 'ok')}${m('b', 'begin')}${frame('-', 'stdout', 'half way\n')}${frame('-', 'stderr', 'E: lock')}`,
    ),
  );
  t.equal(parser.running, 'b');
  parser.finish(null, 'interrupted (SIGINT)');
  t.same(
    seen.map((o) => [o.id, o.status]),
    [
      ['a', 'ok'],
      ['b', 'failed'],
      ['c', 'skipped'],
    ],
  );
  t.equal(seen[1]!.stdout, 'half way\n');
  t.equal(seen[1]!.stderr, 'E: lock\nforklift: interrupted (SIGINT) before this action finished\n');
  t.equal(seen[1]!.exitCode, -1);
});

t.test('marker parser - a failed action carries its exit code', async (t) => {
  const outcomes = decodeMarkers(nonce, `${m('a', 'begin')}${frame('a', 'stderr', 'boom\n')}${m('a', 'exit:3')}${m('a', 'failed')}`, '', actions, 3);
  t.same(
    outcomes.map((o) => [o.id, o.status, o.exitCode]),
    [
      ['a', 'failed', 3],
      ['b', 'skipped', 0],
      ['c', 'skipped', 0],
    ],
  );
  t.equal(outcomes[0]!.stderr, 'boom\n');
});

t.test('marker parser - each field keeps at most 1 MiB and says it was cut', async (t) => {
  const big = 'x'.repeat(FIELD_LIMIT_BYTES + 12345);
  const [outcome] = decodeMarkers(
    nonce,
    `${m('a', 'begin')}${frame('a', 'stdout', big)}${frame('a', 'diff', 'small\n')}${m('a', 'exit:0')}${m('a', 'ok')}`,
    '',
    actions.slice(0, 1),
  );
  t.same(outcome!.truncated, ['stdout']);
  t.ok(outcome!.stdout.startsWith('x'.repeat(FIELD_LIMIT_BYTES)));
  t.match(outcome!.stdout, /\[forklift: 12345 more bytes not kept: the field is limited to 1048576 bytes\]\n$/);
  t.equal(outcome!.diff, 'small\n');
});

t.test('marker parser - bytes are scanned once: 8 MiB lines full of "::" are looked at once per byte, not once per chunk', async (t) => {
  // the old parser held a partial line after "::" and scanned it again on every chunk (quadratic). Counted, not timed:
  // every byte the parser searches (Buffer#indexOf from its start offset to the match or the end) and copies
  // (Buffer.from, Buffer.concat) is added up while it parses, and must stay within a small constant of the input.
  const line = '::before '.repeat(Math.ceil((8 * 1024 * 1024) / 9));
  const stray = Buffer.from(`${line}\n`);
  const framed = Buffer.from(`${m('a', 'begin')}${frame('a', 'stdout', line)}`);
  const parser = new MarkerParser(nonce, actions.slice(0, 1), () => undefined);
  const proto = Buffer.prototype as unknown as { indexOf: (this: Buffer, value: unknown, from?: number) => number };
  const originalIndexOf = proto.indexOf;
  const originalFrom = Buffer.from;
  const originalConcat = Buffer.concat;
  let touched = 0;
  proto.indexOf = function (this: Buffer, value: unknown, from = 0) {
    const found = originalIndexOf.call(this, value, from);
    touched += (found === -1 ? this.length : found + 1) - from;
    return found;
  };
  (Buffer as unknown as { from: unknown }).from = function (...args: unknown[]) {
    const made = (originalFrom as (...a: unknown[]) => Buffer).apply(Buffer, args);
    touched += made.length;
    return made;
  };
  (Buffer as unknown as { concat: unknown }).concat = function (list: readonly Uint8Array[], length?: number) {
    const made = originalConcat.call(Buffer, list, length);
    touched += made.length;
    return made;
  };
  const input = stray.length + framed.length;
  try {
    for (const data of [stray, framed]) for (let at = 0; at < data.length; at += 16384) parser.pushStdout(data.subarray(at, at + 16384));
    parser.finish(0);
  } finally {
    proto.indexOf = originalIndexOf;
    (Buffer as unknown as { from: unknown }).from = originalFrom;
    (Buffer as unknown as { concat: unknown }).concat = originalConcat;
  }
  t.ok(touched > 0, 'the count sees the parser at work');
  t.ok(
    touched <= input * 3,
    `bytes searched or copied while parsing: ${touched} for ${input} bytes of input (at most 3 per byte; a re-scan per 16 KiB chunk would be ~256 per byte)`,
  );
});

t.test('marker parser - stray text outside blocks and the script stderr are kept (bounded) for error messages', async (t) => {
  const seen: ActionOutcome[] = [];
  const parser = new MarkerParser(nonce, actions.slice(0, 1), (outcome) => seen.push(outcome));
  parser.pushStdout(Buffer.from(`pre\n${'y'.repeat(200_000)}\n`));
  parser.pushStderr(Buffer.from('sh: 1: syntax error\n'));
  parser.finish(2);
  t.match(parser.stray.stdout, /^pre\ny+\n\[forklift: \d+ more bytes not kept/);
  t.ok(parser.stray.stdout.length < 70_000);
  t.equal(parser.stray.stderr, 'sh: 1: syntax error\n');
  t.same(
    seen.map((o) => o.status),
    ['skipped'],
  );
});
