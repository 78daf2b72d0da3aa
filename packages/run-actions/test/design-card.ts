// The design card's own usage, exactly as printed: `provision-node SERVICE 2 | run-actions groups/monitoring`
// (no --group) run from examples/monitoring with the binaries on PATH. The nodes come in group `default`,
// the group spec adopts them and they flow on in group monitoring; listing and teardown of group
// `default` hold together with it. Shared by design-card-local.test.ts and design-card-vmfest.test.ts.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const project = join(repo, 'examples', 'monitoring');

/** Run the design card's pipeline (and what follows it) for one service, in its own FORKLIFT_HOME. */
export function designCardTest(service: 'local' | 'vmfest', timeoutMinutes: number): void {
  const home = mkdtempSync(join(tmpdir(), `fl-card-${service}-`));
  const env = {
    ...process.env,
    // the binaries by name, as a user who installed them has them
    PATH: `${join(repo, 'node_modules', '.bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
    FORKLIFT_HOME: home,
    FORKLIFT_IMAGE_CACHE: process.env.FORKLIFT_IMAGE_CACHE || '/var/cache/forklift/images',
  };
  t.setTimeout(timeoutMinutes * 60 * 1000);
  t.teardown(async () => {
    await execFileAsync(process.execPath, [join(repo, 'packages/provision-node/bin/provision-node.js'), service, '0'], { env, cwd: project }).catch(
      () => undefined,
    );
    rmSync(home, { recursive: true, force: true });
  });

  const pipeline = (command: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
    new Promise((resolve, reject) => {
      const child = spawn('bash', ['-o', 'pipefail', '-c', command], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  const records = (stdout: string): Array<Record<string, unknown>> =>
    stdout
      .trimEnd()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  t.test(`design card - provision-node ${service} 2 | run-actions groups/monitoring, from examples/monitoring`, async (t) => {
    const first = await pipeline(`provision-node ${service} 2 | run-actions groups/monitoring`);
    t.equal(first.code, 0, first.stderr.slice(-3000));
    const out = records(first.stdout);
    const nodes = out.filter((r) => r.kind === 'node');
    t.same(
      nodes.map((n) => [n.id, n.group]),
      [
        ['default-1', 'monitoring'],
        ['default-2', 'monitoring'],
      ],
      'nodes provisioned without a group flow on in group monitoring',
    );
    t.match(first.stderr, 'run-actions: 2 node(s) of group default adopted into group monitoring: default-1 default-2');
    const results = out.filter((r) => r.kind === 'result');
    t.ok(results.length >= 10 && results.every((r) => r.status === 'changed'), `first run changes every action on both nodes (${results.length} results)`);
    t.same([...new Set(results.map((r) => r.node))].sort(), ['default-1', 'default-2']);
    t.match(out.at(-1), { kind: 'summary', tool: 'run-actions', ok: true });
    for (const node of nodes) {
      const response = await fetch(`http://${String(node.address)}:9100/metrics`, { signal: AbortSignal.timeout(30_000) });
      t.equal(response.status, 200, `the node exporter answers on ${String(node.id)}`);
      t.match(await response.text(), /node_uname_info/);
    }

    // listing holds together with it: the nodes are listed in group default, and adopted again downstream
    const lift = await pipeline(`provision-node ${service} --list | run-actions groups/monitoring`);
    t.equal(lift.code, 0, lift.stderr.slice(-3000));
    const again = records(lift.stdout).filter((r) => r.kind === 'result');
    t.equal(again.length, results.length);
    t.ok(
      again.every((r) => r.status === 'ok'),
      'a second run reports only ok',
    );

    // the safety: nodes of a named group and none of the spec's is bad input naming the groups seen
    const wrong = await pipeline(
      `provision-node ${service} --list | jq -c 'if .kind == "node" then .group = "web" else . end' | run-actions groups/monitoring`,
    );
    t.equal(wrong.code, 65, 'exit 65, not a silent success');
    t.match(wrong.stderr, /group monitoring: none of the 2 running node\(s\) on stdin is in this group \(groups seen: web\)/);

    // teardown of the group the nodes were provisioned in (default)
    const down = await pipeline(`provision-node ${service} 0`);
    t.equal(down.code, 0, down.stderr.slice(-2000));
    const listed = await pipeline(`provision-node ${service} --list`);
    t.same(
      records(listed.stdout).filter((r) => r.kind === 'node'),
      [],
      'no node left',
    );
  });
}
