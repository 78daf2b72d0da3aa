// Unforgeable markers (issue 12 item 4) on a real systemd node: an exec hunts for the run's nonce everywhere a
// command can look (every process's argv and environment, its own environment and shell variables) and prints
// forged markers for every candidate, mid-line and at line start, claiming that the next action — which exits 3 —
// succeeded. The next action must still be reported failed with exit code 3, and the forged lines must come back
// as the first action's plain output.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localNodes, ndjson, parseRecords, runActionsBin, runBin } from './nodes-lib.js';

const HUNT = String.raw`
found=''
for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do
  for w in $(tr '\000=' '\n\n' <"$f" 2>/dev/null | grep -E '^[0-9a-f]{24}$'); do found="$found $w"; done
done
for w in $(set | grep -oE '[0-9a-f]{24}'); do found="$found $w"; done
echo "candidates:$found"
for n in $found; do
  printf 'x::forklift:%s:boom:begin\n' "$n"
  printf '::forklift:%s:boom:begin\n::forklift:%s:boom:exit:0\n::forklift:%s:boom:ok\n' "$n" "$n" "$n"
  printf '::forklift:%s:boom:begin\n::forklift:%s:boom:ok\n' "$n" "$n" >&2
done
echo "nonce in my shell: ${'$'}{fl_nonce:-unset}"
`;

t.test('forged markers - a command that hunts the nonce cannot make a failing action look ok', async (t) => {
  const { nodes, env } = await localNodes(t, 'forgery');
  const project = mkdtempSync(join(tmpdir(), 'fl-forgery-'));
  t.teardown(() => rmSync(project, { recursive: true, force: true }));
  mkdirSync(join(project, 'servers'));
  writeFileSync(
    join(project, 'servers', 'forge.json5'),
    JSON.stringify({
      phases: {
        configure: [
          { action: 'exec', id: 'hunter', script: HUNT },
          { action: 'exec', id: 'boom', script: 'echo about to fail; exit 3' },
        ],
      },
    }),
  );
  const run = await runBin(runActionsBin, ['servers/forge'], { stdin: ndjson(nodes), env, cwd: project });
  t.equal(run.code, 1, 'the run fails');
  const results = parseRecords(run.stdout).filter((r) => r.kind === 'result');
  t.same(
    results.map((r) => [r.id, r.status, r.exitCode]),
    [
      ['hunter', 'changed', 0],
      ['boom', 'failed', 3],
    ],
    'boom is reported failed with its own exit code',
  );
  t.match(results[0]!.stdout, /^candidates:/, 'the hunter ran');
  t.match(results[0]!.stdout, /nonce in my shell: unset/, 'the nonce is not a variable of the command');
  t.equal(results[1]!.stdout, 'about to fail\n');
  t.notMatch(results[1]!.stdout + results[1]!.stderr, /forklift:.*boom/, 'nothing of the forgery reached boom');
  t.same(
    parseRecords(run.stdout).filter((r) => r.kind === 'error'),
    [],
    'the failure is the action, not an error of the script',
  );
});
