import t from 'tap';
import { Readable } from 'node:stream';
import { InputError, readAllRecords, parseRecordLine } from '../src/index.js';
import { nodeLine, runCat } from './helpers.js';

async function read(input: Buffer | string, maxLineBytes?: number) {
  return readAllRecords(Readable.from([typeof input === 'string' ? Buffer.from(input) : input]), { maxLineBytes });
}

t.test('reader - nesting up to 128 levels is fine, and brackets inside strings do not count', async (t) => {
  const deep = `{"v":1,"kind":"zeta","x":${'['.repeat(127)}"]]]]\\\\\\"[[[{{{"${']'.repeat(127)}}\n`;
  const [record] = await read(deep);
  t.equal(record!.kind, 'zeta');
});

async function rejection(input: Buffer | string, maxLineBytes?: number): Promise<InputError> {
  try {
    await read(input, maxLineBytes);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected the reader to reject');
}

// Each bad-input case: the reader's message, and the real binary's exit code and single stderr line.
const badCases: Array<{ name: string; input: Buffer | string; line: number; message: RegExp; maxLineBytes?: number }> = [
  { name: 'a non-JSON line', input: `${nodeLine}\nnot json\n`, line: 2, message: /^stdin line 2: not JSON/ },
  {
    name: 'a 10 KB record nested 5,000 deep (was a stack overflow, exit 70)',
    input: `${nodeLine}\n{"v":1,"kind":"node","x":${'['.repeat(5000)}${']'.repeat(5000)}}\n`,
    line: 2,
    message: /^stdin line 2: nested deeper than 128 levels of arrays and objects$/,
  },
  {
    name: 'an unknown kind nested 5,000 deep in objects',
    input: `{"v":1,"kind":"zeta","x":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}\n`,
    line: 1,
    message: /^stdin line 1: nested deeper than 128 levels/,
  },
  { name: 'a JSON array instead of an object', input: '[1,2]\n', line: 1, message: /^stdin line 1: expected a JSON object, got an array$/ },
  { name: 'a JSON scalar instead of an object', input: '42\n', line: 1, message: /^stdin line 1: expected a JSON object, got a number$/ },
  { name: 'a JSON string instead of an object', input: '"node"\n', line: 1, message: /^stdin line 1: expected a JSON object, got a string$/ },
  { name: 'a v other than 1', input: '{"v":2,"kind":"node"}\n', line: 1, message: /^stdin line 1: field "v": unsupported record version 2/ },
  { name: 'a missing v', input: '{"kind":"node"}\n', line: 1, message: /^stdin line 1: missing field "v"/ },
  { name: 'a missing kind', input: '{"v":1}\n', line: 1, message: /^stdin line 1: field "kind": missing$/ },
  {
    name: 'a known kind missing a required field',
    input: `${nodeLine}\n${nodeLine.replace('"address":"10.0.0.2",', '')}\n`,
    line: 2,
    message: /^stdin line 2: node record field "address": missing$/,
  },
  {
    name: 'a known kind with a wrong type',
    input: nodeLine.replace('"port":22', '"port":"22"') + '\n',
    line: 1,
    message: /^stdin line 1: node record field "port": .*number/,
  },
  {
    name: 'a nested field of the wrong type',
    input: nodeLine.replace('"state":"running"', '"state":"running","os":{"family":"debian","release":12}') + '\n',
    line: 1,
    message: /^stdin line 1: node record field "os\.release": /,
  },
  {
    name: 'invalid UTF-8',
    input: Buffer.concat([Buffer.from(`${nodeLine}\n{"v":1,"kind":"x","s":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]),
    line: 2,
    message: /^stdin line 2: not valid UTF-8$/,
  },
  {
    name: 'a line over the limit',
    input: `${nodeLine}\n{"v":1,"kind":"x","pad":"${'a'.repeat(2000)}"}\n`,
    line: 2,
    message: /^stdin line 2: longer than the limit of 1024 bytes$/,
    maxLineBytes: 1024,
  },
];

for (const c of badCases) {
  t.test(`reader - ${c.name} is rejected naming line ${c.line}`, async (t) => {
    const error = await rejection(c.input, c.maxLineBytes);
    t.match(error.message, c.message);
    t.equal(error.line, c.line);
    t.equal(error.exitCode, 65);
  });
  t.test(`forklift-cat - ${c.name} exits 65 with one stderr line`, async (t) => {
    const args = c.maxLineBytes ? ['--max-line-bytes', String(c.maxLineBytes)] : [];
    const { code, stdout, stderr } = await runCat(c.input, args);
    t.equal(code, 65);
    t.equal(stdout, '', 'nothing written to stdout');
    const lines = stderr.trimEnd().split('\n');
    t.equal(lines.length, 1, 'one stderr line');
    t.match(lines[0], new RegExp(`^forklift-cat: stdin line ${c.line}: `));
  });
}

t.test('reader - the default line bound is 16 MiB and a line just under it is accepted', async (t) => {
  const pad = 'b'.repeat(16 * 1024 * 1024 - 40);
  const records = await read(`{"v":1,"kind":"x","p":"${pad}"}\n`);
  t.equal(records.length, 1);
  const error = await rejection(`{"v":1,"kind":"x","p":"${pad}${'c'.repeat(100)}"}\n`);
  t.match(error.message, /longer than the limit of 16777216 bytes/);
});

t.test('reader - a long line split across many chunks is bounded without buffering it whole', async (t) => {
  const chunks = [Buffer.from('{"v":1,"kind":"x","p":"')];
  for (let i = 0; i < 100; i += 1) chunks.push(Buffer.alloc(1000, 0x61));
  chunks.push(Buffer.from('"}\n{"v":1,"kind":"y"}\n'));
  await t.rejects(readAllRecords(Readable.from(chunks), { maxLineBytes: 50_000 }), { message: /stdin line 1: longer than the limit/ });
  const ok = await readAllRecords(Readable.from(chunks), { maxLineBytes: 200_000 });
  t.same(
    ok.map((r) => r.kind),
    ['x', 'y'],
  );
});

t.test('reader - a multi-byte character split across chunks decodes', async (t) => {
  const bytes = Buffer.from('{"v":1,"kind":"x","s":"héllo ✓"}\n');
  const chunks = Array.from(bytes).map((b) => Buffer.from([b]));
  const records = await readAllRecords(Readable.from(chunks));
  t.equal(records[0].record.s, 'héllo ✓');
});

t.test('reader - empty stdin gives no records', async (t) => {
  t.same(await read(''), []);
});

t.test('reader - CRLF endings are tolerated and a last line without newline is read', async (t) => {
  const records = await read(`${nodeLine}\r\n{"v":1,"kind":"x"}\r\n{"v":1,"kind":"y"}`);
  t.same(
    records.map((r) => [r.kind, r.line, r.known]),
    [
      ['node', 1, true],
      ['x', 2, false],
      ['y', 3, false],
    ],
  );
  t.equal(records[1].raw, '{"v":1,"kind":"x"}', 'raw text keeps no CR');
});

t.test('reader - blank lines are skipped but still counted for line numbers', async (t) => {
  const error = await rejection(`${nodeLine}\n\n   \n{"v":3}\n`);
  t.match(error.message, /^stdin line 4: /);
});

t.test('reader - unknown kinds are handed back with their raw text', async (t) => {
  const raw = '{"v":1,  "kind":"custom", "z":[1, 2], "a":{"b":null}}';
  const [item] = await read(raw + '\n');
  t.equal(item.known, false);
  t.equal(item.kind, 'custom');
  t.equal(item.raw, raw);
});

t.test('reader - known records keep extra fields', async (t) => {
  const [item] = await read(nodeLine.replace('"state":"running"', '"state":"running","rack":"r7"') + '\n');
  t.equal(item.known, true);
  t.equal((item.record as Record<string, unknown>).rack, 'r7');
});

t.test('parseRecordLine - names the source given', async (t) => {
  t.throws(() => parseRecordLine('{', 9, 'plans.ndjson'), { message: /^plans\.ndjson line 9: not JSON/ });
});
