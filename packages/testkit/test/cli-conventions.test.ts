// The command-line conventions, checked on every binary of every package (a new package's bin is
// picked up from its package.json): -h is --help, every help lists --version and the same exit
// codes, mistakes are exit 64 with one line on stderr and nothing on stdout, negative numbers are
// values, unknown options name the closest one.
import t from 'tap';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runBinary } from '../src/index.js';

interface Bin {
  name: string;
  path: string;
  version: string;
}

function allBins(): Bin[] {
  const bins: Bin[] = [];
  for (const dir of readdirSync(join(REPO_ROOT, 'packages'))) {
    const manifest = join(REPO_ROOT, 'packages', dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string; bin?: Record<string, string> };
    for (const [name, path] of Object.entries(pkg.bin ?? {})) bins.push({ name, path: join(REPO_ROOT, 'packages', dir, path), version: pkg.version });
  }
  return bins.sort((a, b) => a.name.localeCompare(b.name));
}

const bins = allBins();
const EXIT_CODES = ['0', '1', '2', '64', '65', '69', '70', '130', '143'];

t.test('every package bin is found', async (t) => {
  t.ok(bins.length >= 6, bins.map((bin) => bin.name).join(', '));
  for (const expected of ['forklift-cat', 'render-crate', 'run-actions', 'provision-node', 'expect-run', 'browser-drive']) {
    t.ok(
      bins.some((bin) => bin.name === expected),
      expected,
    );
  }
});

for (const bin of bins) {
  t.test(`${bin.name} - -h is --help, and the help lists --version, -q, -v and every exit code`, async (t) => {
    const long = await runBinary(bin.path, ['--help'], { text: true });
    const short = await runBinary(bin.path, ['-h'], { text: true });
    t.equal(long.exitCode, 0, long.stderr);
    t.equal(short.exitCode, 0);
    t.equal(short.stdout, long.stdout);
    t.equal(long.stderr, '');
    t.match(long.stdout, /Usage:/);
    for (const flag of ['-h, --help', '--version', '-q, --quiet', '-v, --verbose']) t.match(long.stdout, flag, `lists ${flag}`);
    const exitSection = long.stdout.slice(long.stdout.indexOf('Exit codes'));
    for (const code of EXIT_CODES) t.match(exitSection, new RegExp(`\\n  ${code} +\\S`), `lists exit code ${code}`);
  });

  t.test(`${bin.name} - --version prints the package version`, async (t) => {
    const r = await runBinary(bin.path, ['--version'], { text: true });
    t.equal(r.exitCode, 0);
    t.equal(r.stdout, `${bin.name} ${bin.version}\n`);
  });

  t.test(`${bin.name} - an unknown option is exit 64, one line naming the closest option, nothing on stdout`, async (t) => {
    const r = await runBinary(bin.path, ['--verbos']);
    t.equal(r.exitCode, 64);
    t.equal(r.stdout, '', 'no records');
    t.equal(r.stderr, `${bin.name}: unknown option --verbos (did you mean --verbose?) (see ${bin.name} --help)\n`);
  });

  t.test(`${bin.name} - -q and -v together are a usage error`, async (t) => {
    const r = await runBinary(bin.path, ['-q', '-v', 'x']);
    t.equal(r.exitCode, 64);
    t.equal(r.stdout, '');
    t.equal(r.stderr.split('\n').length, 2, 'one line');
  });

  t.test(`${bin.name} - a negative number is a value: --timeout -1 says "must be positive"`, async (t) => {
    const help = (await runBinary(bin.path, ['--help'], { text: true })).stdout;
    if (!/--timeout /.test(help)) {
      // no --timeout: the same parser still takes a negative number as a value of another option
      const r = await runBinary(bin.path, ['--max-line-bytes', '-1']);
      const reads = /--max-line-bytes/.test(help);
      t.equal(r.exitCode, 64);
      t.equal(r.stdout, '');
      t.equal(
        r.stderr,
        reads
          ? `${bin.name}: --max-line-bytes must be positive (a whole number), got "-1" (see ${bin.name} --help)\n`
          : `${bin.name}: unknown option --max-line-bytes (see ${bin.name} --help)\n`,
      );
      return;
    }
    const r = await runBinary(bin.path, ['x', '--timeout', '-1'], { stdin: '' });
    t.equal(r.exitCode, 64);
    t.equal(r.stdout, '', 'no records');
    t.equal(r.stderr, `${bin.name}: --timeout must be positive (seconds), got "-1" (see ${bin.name} --help)\n`);
  });

  t.test(`${bin.name} - an option without its value is exit 64 with nothing on stdout`, async (t) => {
    const help = (await runBinary(bin.path, ['--help'], { text: true })).stdout;
    const option =
      /\n {2}(--[a-z-]+) [A-Z]/.exec(help.slice(0, help.indexOf('Common options')))?.[1] ?? (/--max-line-bytes/.test(help) ? '--max-line-bytes' : undefined);
    if (!option) {
      t.pass('no option takes a value');
      return;
    }
    const r = await runBinary(bin.path, ['x', option]);
    t.equal(r.exitCode, 64, `${option} without a value`);
    t.equal(r.stdout, '');
    t.equal(r.stderr, `${bin.name}: option ${option} needs a value (see ${bin.name} --help)\n`);
  });
}
