// How the suite's one line (`N passed, N failed, N skipped`) is counted from tap's TAP output. Per file:
// its top-level t.test blocks and assertions count one each. A test that passed while every assertion
// inside it (at any depth) was skipped or todo counts as skipped, not passed: nothing ran. A file tap
// skipped as a whole (`1..0 # reason`) counts as one skipped. A file whose own result is `not ok`
// (crash, timeout, bail-out, no tests, non-zero exit) with no failing test inside counts as one failure.

/** Counts of one run, and the names of what failed. */
export function emptyCount() {
  return { passed: 0, failed: 0, skipped: 0, failures: [] };
}

/** Every assertion below a parser (its subtests' too): how many there were, how many were skip or todo. */
function watchDepth(parser, tally) {
  parser.on('assert', (result) => {
    tally.total += 1;
    if (result.skip || result.todo) tally.skipped += 1;
  });
  parser.on('child', (child) => watchDepth(child, tally));
}

/**
 * Count a tap-parser Parser's results into `count` as they arrive (attach before writing to it).
 * @example const count = emptyCount(); countTap(parser, count); parser.end(tapText)
 */
export function countTap(parser, count = emptyCount()) {
  const failuresInFile = new Map();
  parser.on('child', (file) => {
    failuresInFile.set(file.name, 0);
    const inside = new Map();
    file.on('child', (test) => {
      const tally = { total: 0, skipped: 0 };
      inside.set(test.name, tally);
      watchDepth(test, tally);
    });
    file.on('assert', (result) => {
      const tally = inside.get(result.name);
      inside.delete(result.name);
      const nothingRan = result.ok && tally !== undefined && tally.total > 0 && tally.skipped === tally.total;
      if (result.skip || result.todo || nothingRan) count.skipped += 1;
      else if (result.ok) count.passed += 1;
      else {
        count.failed += 1;
        failuresInFile.set(file.name, failuresInFile.get(file.name) + 1);
        count.failures.push(`${file.name} > ${result.name}`);
      }
    });
  });
  parser.on('assert', (file) => {
    if (file.ok) {
      if (file.skip) count.skipped += 1;
      return;
    }
    if (failuresInFile.get(file.name)) return;
    count.failed += 1;
    count.failures.push(`${file.name} (crashed, timed out, had no tests or exited non-zero)`);
  });
  return count;
}
