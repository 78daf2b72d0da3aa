#!/usr/bin/env node
// forklift from a zx script: provision, check, converge, test and tear down, reading the records each
// binary writes. Run it as root from the repository root after `npm ci`:
//   node examples/zx/converge.mjs [--service netns|local] [--keep]
// (zx is a dev dependency of the repository; `npx zx examples/zx/converge.mjs` works the same.)
import { $, argv, cd, path } from 'zx';

const here = path.dirname(new URL(import.meta.url).pathname);
const service = argv.service ?? 'netns';
const group = 'motd-zx';
$.env.PATH = `${path.resolve(here, '../../node_modules/.bin')}:${$.env.PATH}`;
$.verbose = false;
cd(here);

/** The records of a binary's stdout (NDJSON: one JSON object per line). */
const records = (output) =>
  output.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
// a binary's own summary is the last record: summaries before it were passed through from upstream
const summaryOf = (output) => records(output).findLast((record) => record.kind === 'summary');

try {
  // 1. two nodes; their records are the input of everything that follows
  const nodes = await $`provision-node ${service} 2 --group ${group}`;
  console.log(
    `nodes: ${records(nodes)
      .filter((r) => r.kind === 'node')
      .map((r) => `${r.id} (${r.address})`)
      .join(', ')}`,
  );

  // 2. what would change (the diffs go to stderr; nothing is changed)
  const check = await $({ input: nodes.stdout })`run-actions groups/motd --plan`;
  const wouldChange = records(check).filter((r) => r.kind === 'result' && r.status === 'changed');
  console.log(`check: ${wouldChange.length} actions would change`);

  // 3. converge, piping one binary into the next as a shell would
  const converged = await $`provision-node ${service} --list --group ${group}`.pipe($`run-actions groups/motd`);
  const counts = summaryOf(converged).counts;
  console.log(`converge: changed=${counts.changed} ok=${counts.ok} failed=${counts.failed}`);

  // 4. converge again: nothing left to change (--detailed-exitcode: exit 2 would mean it changed something)
  const again = await $({ input: nodes.stdout, nothrow: true })`run-actions groups/motd --detailed-exitcode`;
  console.log(`again: exit ${again.exitCode}, changed=${summaryOf(again).counts.changed}`);
  if (again.exitCode !== 0) throw new Error('the second converge changed something');

  // 5. the acceptance tests get the node records through the converge's output
  const tested = await $({ input: converged.stdout })`expect-run test`;
  const result = summaryOf(tested).counts;
  console.log(`tests: ${result.passed} passed, ${result.failed} failed, ${result.errors} errors`);
} finally {
  if (!argv.keep) await $`provision-node ${service} 0 --group ${group}`;
}
