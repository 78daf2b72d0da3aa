// scripts/tap-count.mjs, the counting behind the suite's `N passed, N failed, N skipped` line, on TAP that
// tap 21 wrote for three sample files (fixtures/suite-sample.tap): one whose first test had only skipped
// assertions, one tap skipped as a whole (`1..0 # reason`), one that exited non-zero mid-test.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from 'tap-parser';
import { countTap } from '../../../scripts/tap-count.mjs';

interface Count {
  passed: number;
  failed: number;
  skipped: number;
  failures: string[];
}

async function count(tap: string): Promise<Count> {
  const parser = new Parser();
  const counted = countTap(parser) as Count;
  await new Promise<void>((resolve) => {
    parser.on('complete', () => resolve());
    parser.end(tap);
  });
  return counted;
}

t.test('tap-count - a test where everything was skipped is skipped, a wholly skipped file is one skipped, a crash is one failure', async (t) => {
  const counted = await count(readFileSync(join(import.meta.dirname, 'fixtures', 'suite-sample.tap'), 'utf8'));
  t.same(counted, {
    passed: 2, // zz-sample: 'real' (one assertion ran, one skipped) and 'top assert'
    failed: 1, // zz-fail: its test never finished (the process exited)
    skipped: 2, // zz-sample: 'all children skipped'; zz-skip: the whole file
    failures: ['packages/testkit/test/zz-fail.test.mjs > passes'],
  });
});

t.test('tap-count - a file that crashed with no failing test inside counts as one failure', async (t) => {
  const tap = 'TAP version 14\n1..1\n# Subtest: a.test.ts\n    ok 1 - fine\n    1..1\nnot ok 1 - a.test.ts\n';
  t.same(await count(tap), { passed: 1, failed: 1, skipped: 0, failures: ['a.test.ts (crashed, timed out, had no tests or exited non-zero)'] });
});
