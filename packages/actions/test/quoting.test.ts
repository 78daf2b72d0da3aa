// Quoting property test: >= 10,000 generated hostile strings as file content, file path, symlink target,
// exec arguments, user comment and cron command. The rendered scripts run under dash and bash against a
// scratch root (and a private overlay of /etc for useradd and /etc/cron.d, so the host is untouched);
// every value must land byte for byte and no injected command may run (a canary file must not appear).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellQuote } from '@forklift/contract';
import { decodeMarkers } from '@forklift/run-actions';
import { factsFromOs, renderPhaseScript, scriptPreamble, validateArgs, type ActionInstance } from '../src/index.js';
import { runScript } from './run-lib.js';

const scratch = mkdtempSync(join(tmpdir(), 'forklift-quoting-'));
t.teardown(() => rmSync(scratch, { recursive: true, force: true }));
const CANARY = join(scratch, 'CANARY');

// mulberry32: a seeded generator, so a failure reproduces
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(Number(process.env.FORKLIFT_QUOTING_SEED ?? 20261125));
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const FRAGMENTS = [
  "'",
  '"',
  `$(touch ${CANARY})`,
  '`touch ' + CANARY + '`',
  `; touch ${CANARY};`,
  ` && touch ${CANARY}`,
  `| touch ${CANARY}`,
  '\n',
  '\n\n',
  '*',
  '?',
  '[ab]',
  '[!x]',
  '-rf ',
  '--',
  '-',
  'é',
  '€',
  '😀',
  '\u200b',
  'ß',
  '中文',
  '\\',
  '\\n',
  '\\0',
  '$HOME',
  '${IFS}',
  '$1',
  '$@',
  '$$',
  '%s',
  '%',
  '%%',
  '\t',
  '\r',
  '|',
  '&',
  '>',
  '<',
  '>>',
  '~',
  '!',
  '#',
  ' ',
  '  ',
  'a',
  'Z',
  '0',
  '$',
  '{',
  '}',
  '(',
  ')',
  "'\\''",
  'EOF',
  '\u0001',
  '\u007f',
  '=',
  ':',
  ',',
  '.',
  '/',
  '../',
  'x'.repeat(64),
];

/** A hostile string: fragments, sometimes a leading dash, sometimes very long. */
function hostile(): string {
  let out = random() < 0.15 ? '-' : '';
  const count = 1 + Math.floor(random() * 12);
  for (let i = 0; i < count; i += 1) out += pick(FRAGMENTS);
  if (random() < 0.01) out = out.repeat(Math.ceil(20_000 / out.length)).slice(0, 20_000 + Math.floor(random() * 5000));
  return out;
}
/** Generate `count` values the action's schema accepts (rejections must be clean InputErrors). */
function accepted(count: number, accept: (value: string) => boolean): string[] {
  const out: string[] = [];
  while (out.length < count) {
    const value = hostile();
    if (accept(value)) out.push(value);
  }
  return out;
}
const validates =
  (action: string, args: (value: string) => unknown) =>
  (value: string): boolean => {
    try {
      validateArgs(action, args(value));
      return true;
    } catch (error) {
      if ((error as Error).name !== 'InputError') throw error;
      return false;
    }
  };
const utf8Cut = (text: string, maxBytes: number): string => {
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > maxBytes) break;
    out += ch;
  }
  return out;
};

const scale = Number(process.env.FORKLIFT_QUOTING_SCALE ?? 1);
const n = (count: number): number => Math.max(1, Math.round(count * scale));
const contents = accepted(n(150), () => true);
const names = accepted(n(80), () => true).map((value, i) => `${i}-${utf8Cut(value.replace(/\//g, '_'), 200)}`);
const targets = accepted(n(80), () => true).map((value) => utf8Cut(value, 4000));
const args = accepted(n(9740), () => true);
const comments = accepted(
  n(20),
  validates('user', (value) => ({ name: 'flq', comment: value })),
);
const commands = accepted(
  n(30),
  validates('cron', (value) => ({ name: 'q', schedule: '@daily', command: value })),
);
const total = contents.length + names.length + targets.length + args.length + comments.length + commands.length;

function instancesFor(root: string): ActionInstance[] {
  const steps: Array<{ action: string; args: unknown }> = [];
  contents.forEach((content, i) => steps.push({ action: 'file', args: { path: `${root}/c/${i}`, content } }));
  names.forEach((name, i) => steps.push({ action: 'file', args: { path: `${root}/p/${name}`, content: `${i}\n` } }));
  targets.forEach((target, i) => steps.push({ action: 'symlink', args: { path: `${root}/s/${i}`, target } }));
  for (let batch = 0; batch * 100 < args.length; batch += 1) {
    const words = args.slice(batch * 100, batch * 100 + 100);
    steps.push({ action: 'exec', args: { command: ['sh', '-c', 'printf "%s\\0" "$@" >"$0"', `${root}/e/${batch}`, ...words] } });
  }
  comments.forEach((comment, i) => steps.push({ action: 'user', args: { name: `flq${i}`, comment, createHome: false } }));
  commands.forEach((command, i) => steps.push({ action: 'cron', args: { name: `q${i}`, schedule: '@daily', command, file: 'forklift' } }));
  return steps.map((step, i) => ({ id: `a${i}`, action: step.action, args: validateArgs(step.action, step.args) }));
}

t.test(`quoting - ${total} generated strings are rejected cleanly or land byte for byte`, async (t) => {
  t.ok(scale < 1 || total >= 10_000, `${total} strings`);
  const probe = spawnSync('unshare', ['--version']);
  if (probe.error || probe.status !== 0) throw new Error('unshare (util-linux) is required to give useradd and cron a private /etc');
  // dash and bash run at the same time (one per core), then each result is checked
  const shells = ['dash', 'bash'] as const;
  const started = shells.map((shell) => {
    const root = join(scratch, shell);
    const upper = join(scratch, `${shell}-etc-upper`);
    const work = join(scratch, `${shell}-etc-work`);
    for (const dir of ['c', 'p', 's', 'e']) mkdirSync(join(root, dir), { recursive: true });
    mkdirSync(upper);
    mkdirSync(work);
    const script = renderPhaseScript(instancesFor(root), {
      phase: 'configure',
      facts: factsFromOs({ family: 'debian', release: '12' }),
      stateDir: join(root, 'state'),
    }).script;
    // run inside a private mount namespace whose /etc is an overlay: useradd and cron.d write into `upper`
    const wrapper =
      `mount --make-rprivate / && mount -t overlay overlay -o ${shellQuote(`lowerdir=/etc,upperdir=${upper},workdir=${work}`)} /etc && ` + `exec ${shell} -s`;
    const result = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('unshare', ['-m', 'sh', '-c', wrapper], { env: { PATH: process.env.PATH, TMPDIR: tmpdir() } });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout, stderr }));
      child.stdin.end(scriptPreamble({ nonce: 'n0nce' }) + script);
    });
    return { shell, root, upper, result };
  });
  for (const { shell, root, upper, result: pending } of started) {
    const result = await pending;
    t.test(`under ${shell}`, async (t) => {
      t.equal(result.status, 0, `script exits 0 (${result.stderr.slice(-300)})`);
      const changed = decodeMarkers('n0nce', result.stdout, result.stderr).filter((outcome) => outcome.status === 'changed').length;
      t.equal(changed, instancesFor(root).length, 'every block reported changed');
      t.notOk(existsSync(CANARY), 'no injected command ran (canary absent)');

      let bad = 0;
      contents.forEach((content, i) => {
        if (readFileSync(join(root, 'c', String(i)), 'utf8') !== content) bad += 1;
      });
      t.equal(bad, 0, `${contents.length} file contents exact`);
      t.same(readdirSync(join(root, 'p')).sort(), [...names].sort(), `${names.length} file names exact`);
      bad = 0;
      targets.forEach((target, i) => {
        if (!readlinkSync(join(root, 's', String(i)), 'buffer').equals(Buffer.from(target))) bad += 1;
      });
      t.equal(bad, 0, `${targets.length} symlink targets exact`);
      const got: string[] = [];
      for (let batch = 0; batch * 100 < args.length; batch += 1)
        got.push(
          ...readFileSync(join(root, 'e', String(batch)), 'utf8')
            .split('\0')
            .slice(0, -1),
        );
      t.same(got, args, `${args.length} exec arguments exact`);
      const passwd = readFileSync(join(upper, 'passwd'), 'utf8').split('\n');
      bad = 0;
      comments.forEach((comment, i) => {
        const line = passwd.find((entry) => entry.startsWith(`flq${i}:`));
        if (!line || line.split(':')[4] !== comment) bad += 1;
      });
      t.equal(bad, 0, `${comments.length} user comments exact`);
      const cron = readFileSync(join(upper, 'cron.d', 'forklift'), 'utf8').split('\n');
      bad = 0;
      commands.forEach((command, i) => {
        const at = cron.indexOf(`# forklift:q${i}`);
        if (at < 0 || !cron[at + 1]!.endsWith(` ${command}`)) bad += 1;
      });
      t.equal(bad, 0, `${commands.length} cron commands exact`);

      const again = runScript(
        renderPhaseScript(
          instancesFor(root).filter((item) => item.action === 'symlink'),
          { phase: 'configure', facts: factsFromOs({ family: 'debian', release: '12' }), stateDir: join(root, 'state'), plan: true },
        ).script,
        shell,
      );
      t.equal(again.code, 0, 'plan over the links exits 0');
      t.equal((again.stdout.match(/:changed$/gm) ?? []).length, 0, 'plan over the links reports zero changes: link comparisons are exact too');
      t.notOk(existsSync(CANARY), 'still no canary');
    });
  }
});

t.test('quoting - a NUL byte is a clear InputError, never a truncated value', async (t) => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['file', { path: '/tmp/x', content: 'a\0b' }, /content: contains a NUL byte/],
    ['file', { path: '/tmp/a\0b', content: 'x' }, /path: contains a NUL byte/],
    ['symlink', { path: '/tmp/l', target: 'a\0b' }, /target: contains a NUL byte/],
    ['exec', { command: ['echo', '\0'] }, /command\[1\]: contains a NUL byte/],
    ['cron', { name: 'n', schedule: '@daily', command: 'a\0b' }, /command/],
    ['user', { name: 'u', comment: 'a\0b' }, /comment/],
  ];
  for (const [action, input, message] of cases) {
    t.throws(() => validateArgs(action, input), { name: 'InputError', message }, `${action}: NUL rejected`);
  }
  t.throws(() => shellQuote('a\0b'), { name: 'InputError', message: /NUL/ }, 'shellQuote itself refuses NUL');
});
