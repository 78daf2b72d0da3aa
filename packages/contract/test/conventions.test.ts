import t from 'tap';
import { PassThrough, Writable } from 'node:stream';
import {
  closest,
  colorDiff,
  colorEnabled,
  colorsFor,
  helpText,
  main,
  parseArgv,
  positiveIntegerFlag,
  secondsFlag,
  UsageError,
  type ToolDefinition,
} from '../src/index.js';

function capture() {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      text += chunk;
      cb();
    },
  });
  return { stream, text: () => text };
}

function demo(extra: Partial<ToolDefinition> = {}): ToolDefinition {
  return {
    name: 'demo',
    version: '1.2.3',
    usage: 'demo — a tool\n\nUsage:\n  demo THING [--timeout S]',
    stdin: 'optional',
    minArgs: 1,
    maxArgs: 1,
    argsName: 'THING argument',
    flags: { string: ['timeout'], multiple: ['phase'], boolean: ['plan'] },
    async run(ctx) {
      secondsFlag('timeout', ctx.flags.timeout);
      ctx.log('normal line');
      ctx.warn('warning line');
      ctx.detail('detail line');
      await ctx.emit('error', { code: 'x', message: 'y' });
      return { ok: true, counts: { args: ctx.args.length } };
    },
    ...extra,
  };
}

async function run(def: ToolDefinition, argv: string[], env: Record<string, string> = {}) {
  const out = capture();
  const err = capture();
  const stdin = new PassThrough();
  stdin.end('');
  const code = await main(def, argv, { stdin, stdout: out.stream, stderr: err.stream, env });
  return { code, stdout: out.text(), stderr: err.text() };
}

t.test('parseArgv - values, aliases, -- and negative numbers', async (t) => {
  const spec = { boolean: ['plan', 'quiet', 'verbose'], string: ['timeout'], multiple: ['phase'], alias: { q: 'quiet', v: 'verbose' } };
  t.same(parseArgv(['a', '--timeout', '5', '--phase=x', '--phase', 'y', '--plan'], spec), {
    args: ['a'],
    flags: { timeout: '5', phase: ['x', 'y'], plan: true },
  });
  t.same(parseArgv(['--timeout', '-1'], spec).flags.timeout, '-1', 'a negative number after a value option is its value');
  t.same(parseArgv(['--timeout=-0.5'], spec).flags.timeout, '-0.5');
  t.same(parseArgv(['-1', '-', 'x'], spec).args, ['-1', '-', 'x'], 'a negative number and - are positional');
  t.same(parseArgv(['-qv'], spec).flags, { quiet: true, verbose: true, phase: [] }, 'short flags combine');
  t.same(parseArgv(['--', '--plan', '-q'], spec).args, ['--plan', '-q'], '-- ends the options');
});

t.test('parseArgv - mistakes are usage errors with one clear line', async (t) => {
  const spec = { boolean: ['plan', 'help'], string: ['timeout', 'max-line-bytes'], multiple: ['phase'], alias: { h: 'help' } };
  const message = (argv: string[]): string => {
    try {
      parseArgv(argv, spec);
    } catch (error) {
      t.type(error, UsageError);
      return (error as Error).message;
    }
    return 'no error';
  };
  t.equal(message(['--tiemout', '5']), 'unknown option --tiemout (did you mean --timeout?)');
  t.equal(message(['--phaes', 'x']), 'unknown option --phaes (did you mean --phase?)');
  t.equal(message(['-timeout', '5']), 'unknown option -timeout (did you mean --timeout?)');
  t.equal(message(['--max-line', '5']), 'unknown option --max-line (did you mean --max-line-bytes?)');
  t.equal(message(['--zzz']), 'unknown option --zzz');
  t.equal(message(['-x']), 'unknown option -x');
  t.equal(message(['--timeout']), 'option --timeout needs a value');
  t.equal(message(['--timeout', '--plan']), 'option --timeout needs a value');
  t.equal(message(['--phase', '']), 'option --phase needs a value', 'an empty value is the same mistake as none');
  t.equal(message(['--timeout', '1', '--timeout', '2']), 'option --timeout given more than once');
  t.equal(message(['--plan=yes']), 'option --plan takes no value');
});

t.test('closest - suggests likely typos only', async (t) => {
  t.equal(closest('configur', ['bootstrap', 'configure', 'install']), 'configure');
  t.equal(closest('instal', ['bootstrap', 'configure', 'install']), 'install');
  t.equal(closest('bootstarp', ['bootstrap', 'configure', 'install']), 'bootstrap', 'a swap of two letters is one edit');
  t.equal(closest('deploy', ['bootstrap', 'configure', 'install']), undefined);
});

t.test('flag values - the same wording for the same mistake', async (t) => {
  t.equal(secondsFlag('timeout', '2.5'), 2500);
  t.equal(secondsFlag('timeout', undefined), undefined);
  t.throws(() => secondsFlag('timeout', '-1'), { message: '--timeout must be positive (seconds), got "-1"' });
  t.throws(() => secondsFlag('timeout', '0'), { message: '--timeout must be positive (seconds), got "0"' });
  t.throws(() => secondsFlag('timeout', 'soon'), { message: '--timeout must be a number of seconds, got "soon"' });
  t.equal(positiveIntegerFlag('concurrency', '4'), 4);
  t.throws(() => positiveIntegerFlag('concurrency', '-2'), { message: '--concurrency must be positive (a whole number), got "-2"' });
  t.throws(() => positiveIntegerFlag('concurrency', '1.5'), { message: '--concurrency must be a whole number, got "1.5"' });
});

t.test('main - -h is --help; the help lists --version, the common options and every exit code', async (t) => {
  const long = await run(demo(), ['--help']);
  const short = await run(demo(), ['-h']);
  t.equal(long.code, 0);
  t.equal(short.stdout, long.stdout, '-h prints the same help');
  t.equal(long.stdout, helpText(demo()) + '\n');
  for (const flag of ['-h, --help', '--version', '-q, --quiet', '-v, --verbose', '--debug', '--max-line-bytes N']) t.match(long.stdout, flag);
  for (const code of ['0', '1', '2', '64', '65', '69', '70', '130', '143']) t.match(long.stdout, new RegExp(`\\n  ${code} +\\S`), `exit code ${code} listed`);
  t.notMatch(helpText(demo({ stdin: 'none' })), '--max-line-bytes', 'no stdin option for a tool that reads none');
  t.match(
    helpText(demo({ detailedExitcode: true, failure: 'a thing failed' })),
    /--detailed-exitcode[\s\S]*1 +ran to the end but something failed: a thing failed/,
  );
});

t.test('main - usage errors: exit 64, one line naming --help, nothing on stdout', async (t) => {
  const cases: Array<[string[], string]> = [
    [[], 'demo: missing THING argument (see demo --help)'],
    [['a', 'b'], 'demo: unexpected argument "b" (see demo --help)'],
    [['a', '--tiemout', '1'], 'demo: unknown option --tiemout (did you mean --timeout?) (see demo --help)'],
    [['a', '--timeout', '-1'], 'demo: --timeout must be positive (seconds), got "-1" (see demo --help)'],
    [['a', '--phase', ''], 'demo: option --phase needs a value (see demo --help)'],
    [['a', '-q', '-v'], 'demo: -q/--quiet and -v/--verbose cannot be used together (see demo --help)'],
  ];
  for (const [argv, line] of cases) {
    const r = await run(demo(), argv);
    t.equal(r.code, 64, argv.join(' '));
    t.equal(r.stderr, line + '\n');
    t.equal(r.stdout, '', 'no records on stdout');
  }
});

t.test('main - -q keeps warnings only, -v adds details', async (t) => {
  t.equal((await run(demo(), ['a'])).stderr, 'normal line\nwarning line\n');
  t.equal((await run(demo(), ['a', '-q'])).stderr, 'warning line\n');
  t.equal((await run(demo(), ['a', '--quiet'])).stderr, 'warning line\n');
  t.equal((await run(demo(), ['a', '-v'])).stderr, 'normal line\nwarning line\ndetail line\n');
});

t.test('colours - only on a terminal, NO_COLOR and FORCE_COLOR honoured', async (t) => {
  t.equal(colorEnabled({ isTTY: true }, {}), true);
  t.equal(colorEnabled({ isTTY: false }, {}), false);
  t.equal(colorEnabled({}, {}), false);
  t.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
  t.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '' }), true, 'an empty NO_COLOR is unset');
  t.equal(colorEnabled({ isTTY: true }, { TERM: 'dumb' }), false);
  t.equal(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' }), true);
  t.equal(colorEnabled({ isTTY: true }, { FORCE_COLOR: '0' }), false);
  const diff = '--- a\n+++ b\n@@ -1 +1 @@\n-old\n+new\n same';
  t.equal(colorDiff(diff, colorsFor({ isTTY: false }, {})), diff, 'no escape codes off a terminal');
  t.equal(
    colorDiff(diff, colorsFor({ isTTY: true }, {})),
    '\u001b[1m--- a\u001b[22m\n\u001b[1m+++ b\u001b[22m\n\u001b[36m@@ -1 +1 @@\u001b[39m\n\u001b[31m-old\u001b[39m\n\u001b[32m+new\u001b[39m\n same',
  );
});
