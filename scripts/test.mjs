#!/usr/bin/env node
// The whole test suite: install the host packages the tests need, build every package, run tap over every package's tests (TAP output on
// stdout), and close with the one line CI reads: `N passed, N failed` (`, N skipped` when any).
// Counts are the tests of each file (its t.test blocks and top-level assertions), as scripts/tap-count.mjs
// says: a test in which everything was skipped counts as skipped, a file that crashed or timed out
// without a failing test inside counts as one failure.
import { spawn, spawnSync } from 'node:child_process';
import { Parser } from 'tap-parser';
import { ensurePrerequisites } from './prerequisites.mjs';
import { countTap } from './tap-count.mjs';

// The Debian packages the tests need (scripts/prerequisites.json): installed here when run as root,
// otherwise the run stops at once with the exact apt-get command.
if (ensurePrerequisites() !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(69);
}

const build = spawnSync('npx', ['tsc', '-b'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.log('build failed');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// tap compiles its plugin set (ours drops @tapjs/typescript for tsx) on first use; a fresh clone
// would otherwise run its first pass with the default set. Build it explicitly, once, up front.
const tapBuild = spawnSync('npx', ['tap', 'build'], { stdio: ['ignore', 'ignore', 'inherit'] });
if (tapBuild.status !== 0) {
  console.log('tap build failed');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const tapArgs = ['tap', '--reporter=tap', ...process.argv.slice(2)];
const child = spawn('npx', tapArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
const parser = new Parser();
const count = countTap(parser);
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  parser.write(chunk);
});
child.on('close', (code) => {
  parser.end();
  if (count.failures.length) {
    console.log('\nfailed:');
    for (const line of count.failures) console.log(`  ${line}`);
  }
  if (code !== 0 && count.failed === 0) {
    count.failed += 1;
    console.log(`tap exited with ${code}`);
  }
  console.log(`\n${count.passed} passed, ${count.failed} failed${count.skipped ? `, ${count.skipped} skipped` : ''}`);
  process.exit(count.failed === 0 && code === 0 ? 0 : 1);
});
