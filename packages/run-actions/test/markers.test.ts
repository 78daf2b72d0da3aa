import t from 'tap';
import { MarkerParser, type ActionOutcome } from '../src/index.js';

const nonce = 'n0nce';
const actions = [
  { id: 'a', action: 'exec', label: 'first' },
  { id: 'b', action: 'file', label: 'second' },
  { id: 'c', action: 'exec', label: 'third' },
];
const m = (id: string, what: string): string => `::forklift:${nonce}:${id}:${what}\n`;

function feedInPieces(parser: MarkerParser, stdout: string, stderr: string, size: number): void {
  const out = Buffer.from(stdout);
  const err = Buffer.from(stderr);
  for (let index = 0; index < Math.max(out.length, err.length); index += size) {
    if (index < out.length) parser.pushStdout(out.subarray(index, index + size));
    if (index < err.length) parser.pushStderr(err.subarray(index, index + size));
  }
}

t.test('marker parser - outcomes with own output, diff and status, whatever the chunking', async (t) => {
  const stdout = `pre\n${m('a', 'begin')}hello\n${m('a', 'exit:0')}${m('a', 'ok')}${m('b', 'begin')}no newline${m('b', 'diff')}--- f\n+++ f\n${m('b', 'enddiff')}${m('b', 'exit:0')}${m('b', 'changed')}`;
  const stderr = `${m('a', 'begin')}warn a\n${m('a', 'ok')}${m('b', 'begin')}${m('b', 'changed')}`;
  for (const size of [1, 3, 7, 4096]) {
    const seen: ActionOutcome[] = [];
    const parser = new MarkerParser(nonce, actions, (outcome) => seen.push(outcome));
    feedInPieces(parser, stdout, stderr, size);
    t.same(seen.map((o) => [o.id, o.status]), [['a', 'ok'], ['b', 'changed']], `delivered while running (chunks of ${size})`);
    parser.finish(0);
    t.same(seen.map((o) => [o.id, o.status]), [['a', 'ok'], ['b', 'changed'], ['c', 'skipped']]);
    t.equal(seen[0]!.stdout, 'hello\n');
    t.equal(seen[0]!.stderr, 'warn a\n');
    t.equal(seen[0]!.label, 'first');
    t.equal(seen[1]!.stdout, 'no newline', 'text before a mid-line marker stays the action output');
    t.equal(seen[1]!.diff, '--- f\n+++ f\n');
    t.equal(parser.stray.stdout, 'pre\n');
  }
});

t.test('marker parser - markers with another nonce are plain output', async (t) => {
  const seen: ActionOutcome[] = [];
  const parser = new MarkerParser(nonce, actions.slice(0, 1), (outcome) => seen.push(outcome));
  parser.pushStdout(Buffer.from(`${m('a', 'begin')}::forklift:forged:a:changed\n${m('a', 'exit:0')}${m('a', 'ok')}`));
  parser.pushStderr(Buffer.from(`${m('a', 'begin')}${m('a', 'ok')}`));
  t.equal(seen.length, 1);
  t.equal(seen[0]!.status, 'ok');
  t.equal(seen[0]!.stdout, '::forklift:forged:a:changed\n');
});

t.test('marker parser - an action left open when the script ends fails with the reason', async (t) => {
  const seen: ActionOutcome[] = [];
  const parser = new MarkerParser(nonce, actions, (outcome) => seen.push(outcome));
  parser.pushStdout(Buffer.from(`${m('a', 'begin')}${m('a', 'exit:0')}${m('a', 'ok')}${m('b', 'begin')}half`));
  parser.pushStderr(Buffer.from(`${m('a', 'begin')}${m('a', 'ok')}${m('b', 'begin')}`));
  t.equal(parser.running, 'b');
  parser.finish(null, 'interrupted (SIGINT)');
  t.same(seen.map((o) => [o.id, o.status]), [['a', 'ok'], ['b', 'failed'], ['c', 'skipped']]);
  t.equal(seen[1]!.stdout, 'half');
  t.match(seen[1]!.stderr, /interrupted \(SIGINT\) before this action finished/);
  t.equal(seen[1]!.exitCode, -1);
});

t.test('marker parser - a failed action carries its exit code', async (t) => {
  const seen: ActionOutcome[] = [];
  const parser = new MarkerParser(nonce, actions, (outcome) => seen.push(outcome));
  parser.pushStdout(Buffer.from(`${m('a', 'begin')}${m('a', 'exit:3')}${m('a', 'failed')}`));
  parser.pushStderr(Buffer.from(`${m('a', 'begin')}boom\n${m('a', 'failed')}`));
  parser.finish(3);
  t.same(seen.map((o) => [o.id, o.status, o.exitCode]), [['a', 'failed', 3], ['b', 'skipped', 0], ['c', 'skipped', 0]]);
  t.equal(seen[0]!.stderr, 'boom\n');
});
