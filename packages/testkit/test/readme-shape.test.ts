// Every package README has the same sections in the same order, keeps machine-specific timings out
// (they belong to bench/README.md, with the machine and load they were measured at), and nothing in
// the repository points to documents outside it.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../src/index.js';

/** The sections of a package README, in this order (topics of a package go in ### under them). */
export const README_SECTIONS = ['CLI', 'Library', 'Records', 'Exit codes', 'Examples', 'Decisions and departures', 'Tests'];

function headings(markdown: string, level: string): string[] {
  const out: string[] = [];
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    else if (!fence && line.startsWith(`${level} `)) out.push(line.slice(level.length + 1).trim());
  }
  return out;
}

const readmes = readdirSync(join(REPO_ROOT, 'packages'))
  .filter((dir) => existsSync(join(REPO_ROOT, 'packages', dir, 'package.json')))
  .map((dir) => ({
    dir,
    name: (JSON.parse(readFileSync(join(REPO_ROOT, 'packages', dir, 'package.json'), 'utf8')) as { name: string }).name,
    path: join(REPO_ROOT, 'packages', dir, 'README.md'),
  }));

for (const { dir, name, path } of readmes) {
  t.test(`${name} - README: the shared sections in the shared order, no machine timings`, async (t) => {
    t.ok(existsSync(path), `packages/${dir}/README.md exists`);
    const text = readFileSync(path, 'utf8');
    t.ok(text.startsWith(`# ${name}`), 'titled with the package name');
    t.match(text.split('\n## ')[0], /^# .+\n\n\S[\s\S]*\S/, 'what it does, before the first section');
    t.same(headings(text, '##'), README_SECTIONS);
    const timings = text.split('\n').filter((line) => /\bat load\b|load average|\bload ~?\d|~\d+(\.\d+)? ?(ms|s|min)\b/i.test(line));
    t.same(timings, [], 'machine-specific timings are in bench/README.md');
  });
}

t.test('nothing in the repository points to documents outside it', async (t) => {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\n')
    .filter((file) => file && /\.(md|ts|mts|mjs|js|json|json5|sh|yml|yaml)$|(^|\/)(Makefile|run)$/.test(file) && !file.endsWith('package-lock.json'));
  const outside = /DESIGN\.md|DESIGN §|\/work\/(shared|team)\b|\.\.\/shared\//;
  const found: string[] = [];
  for (const file of files) {
    if (!existsSync(join(REPO_ROOT, file))) continue;
    const lines = readFileSync(join(REPO_ROOT, file), 'utf8').split('\n');
    lines.forEach((line, index) => {
      if (outside.test(line) && !line.includes('outside = /')) found.push(`${file}:${index + 1}: ${line.trim().slice(0, 120)}`);
    });
  }
  t.same(found, [], 'the repository stands alone (docs/records.md, docs/cli.md and the READMEs say it)');
});
