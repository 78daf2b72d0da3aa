// promote-color on real nodes (nspawn): an LB converged with the haproxy crate, one web node per color
// running a real HTTP app, wrk as the load generator. Cases share the system and run in order.
import t from 'tap';
import { spawnBinary, runBinary } from '@forklift/testkit';
import { APP, haproxyApi, liveWeights, sh, socketErrors, startLoad, startSystem, stopSystem, waitUp, type System } from './system.js';

t.setTimeout(30 * 60 * 1000);
let system: System | undefined;
let home: { home: string; env: Record<string, string> } | undefined;

t.before(async () => {
  system = await startSystem('promote-color-system', (line) => t.comment(line));
  home = system;
});
t.teardown(() => stopSystem(home));

type Rec = Record<string, unknown> & { kind: string };
const promotions = (records: Array<Record<string, unknown>>) => records.filter((r) => r.kind === 'promotion') as Rec[];
const promote = (args: string[], stdin = system!.stdin, timeoutMs = 300_000) => runBinary('promote-color', [APP, ...args], { stdin, timeoutMs });
const oneLine = (stderr: string) => stderr.trim().split('\n').length === 1;
const state = async () => JSON.parse(await sh(system!.lb, `cat /var/lib/forklift/promote/${APP}.json`)) as Record<string, any>;

t.test('promote-color - unknown color, unknown app, no admin socket, no socat: exit 65/69 with one line, nothing shifts', async (t) => {
  const s = system!;
  const before = await liveWeights(s);
  t.same(before, { blue: 200, green: 0 }, 'the crate started with all traffic on blue');

  const purple = await promote(['--to', 'purple']);
  t.equal(purple.exitCode, 65);
  t.equal(purple.stderr, 'promote-color: unknown color "purple": the node records on stdin have colors blue, green\n');
  const lbOnly = JSON.stringify(s.lb) + '\n';
  const purpleOnLb = await promote(['--to', 'purple'], lbOnly);
  t.equal(purpleOnLb.exitCode, 65, purpleOnLb.stderr);
  t.equal(purpleOnLb.stderr, `promote-color: unknown color "purple": ${s.lb.id} serves ${APP} in blue, green\n`);
  const noApp = await runBinary('promote-color', ['nosuch', '--to', 'green'], { stdin: s.stdin });
  t.equal(noApp.exitCode, 65);
  t.match(noApp.stderr, /HAProxy has no backend "nosuch" \(backends: shop\)/);
  t.ok(oneLine(noApp.stderr));

  const noLb = await promote(['--to', 'green'], JSON.stringify(s.blue) + '\n');
  t.equal(noLb.exitCode, 65);
  t.match(noLb.stderr, /^promote-color: no LB node on stdin/);

  // a node without HAProxy (a web node named as the LB group): no socat, no admin socket
  const webAsLb = await promote(['--to', 'green', '--lb', 'blue-web']);
  t.equal(webAsLb.exitCode, 69);
  t.equal(webAsLb.stderr, `promote-color: ${s.blue.id}: socat is not installed on the LB node (apt-get install socat; the haproxy crate installs it)\n`);
  await sh(s.green, 'apt-get install -y -q socat >/dev/null 2>&1');
  const noSocket = await promote(['--to', 'green', '--lb', 'green-web']);
  t.equal(noSocket.exitCode, 69);
  t.equal(
    noSocket.stderr,
    `promote-color: ${s.green.id}: no HAProxy admin socket at /run/haproxy/admin.sock (is HAProxy running with "stats socket /run/haproxy/admin.sock level admin"? converge the LB with the haproxy crate)\n`,
  );

  // the LB itself with HAProxy stopped
  await sh(s.lb, 'systemctl stop haproxy');
  try {
    const stopped = await promote(['--to', 'green']);
    t.equal(stopped.exitCode, 69);
    t.ok(oneLine(stopped.stderr), stopped.stderr);
    t.match(stopped.stderr, /admin socket .*(does not answer|no HAProxy admin socket)|no HAProxy admin socket/);
    t.same(promotions(stopped.records), [], 'no promotion record');
  } finally {
    await sh(s.lb, 'systemctl start haproxy');
  }
  await waitUp(s);
  t.same(await liveWeights(s), before, 'nothing shifted');
});

t.test('promote-color - --status before any promotion, --dry-run changes nothing', async (t) => {
  const s = system!;
  const status = await promote(['--status']);
  t.equal(status.exitCode, 0, status.stderr);
  t.match(promotions(status.records), [
    {
      app: APP,
      from: 'blue',
      to: 'blue',
      stage: 0,
      status: 'done',
      weights: [
        { color: 'blue', weight: 100 },
        { color: 'green', weight: 0 },
      ],
    },
  ]);
  t.match(status.stderr, /live blue; weights now blue 100%, green 0% \(no promote-color state on this LB yet\)/);
  const dry = await promote(['--to', 'green', '--dry-run']);
  t.equal(dry.exitCode, 0, dry.stderr);
  t.match(dry.stderr, /gate before the first stage: every green server UP in HAProxy's checks and \/healthz 200: passes now/);
  t.match(dry.stderr, /stage 1\/3: green 10% \/ blue 90%, hold 10 s/);
  t.match(dry.stderr, /stage 3\/3: green 100% \/ blue 0%/);
  t.same(promotions(dry.records), []);
  t.same(await liveWeights(s), { blue: 200, green: 0 });
  t.equal(await sh(s.lb, `test -e /var/lib/forklift/promote/${APP}.json && echo yes || echo no`), 'no\n', 'no state written');
});

t.test('promote-color - a full blue -> green shift in 3 stages under load: 0 non-2xx, 0 socket errors, each window counted', async (t) => {
  const s = system!;
  const load = startLoad(`http://${s.lb.address}/`, { connections: 200, seconds: 30 });
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const run = await promote(['--to', 'green', '--stages', '10,50,100', '--hold', '6s']);
  const totals = await load.result;
  t.comment(
    `wrk: ${totals.requests} requests in ${(totals.durationUs / 1e6).toFixed(1)} s over 200 connections, non-2xx ${totals.non2xx}, socket errors ${socketErrors(totals)}, p99 ${(totals.p99Us / 1000).toFixed(1)} ms`,
  );
  t.comment(run.stderr.trim());
  t.equal(run.exitCode, 0, run.stderr);
  const records = promotions(run.records);
  t.same(
    records.map((r) => [r.stage, r.status]),
    [
      [1, 'shifted'],
      [2, 'shifted'],
      [3, 'done'],
    ],
  );
  t.same(
    records.map((r) => r.weights),
    [
      [
        { color: 'blue', weight: 90 },
        { color: 'green', weight: 10 },
      ],
      [
        { color: 'blue', weight: 50 },
        { color: 'green', weight: 50 },
      ],
      [
        { color: 'blue', weight: 0 },
        { color: 'green', weight: 100 },
      ],
    ],
  );
  for (const record of records) {
    const window = record.window as { requests: number; errors: number; errorRate: number };
    t.ok(window.requests > 0, `stage ${String(record.stage)}: green saw ${window.requests} requests in its window`);
    t.equal(window.errors, 0);
  }
  t.ok(totals.requests >= 50_000, `at least 50,000 requests (${totals.requests})`);
  t.equal(totals.non2xx, 0, '0 non-2xx responses');
  t.equal(socketErrors(totals), 0, '0 socket errors');
  t.same(await liveWeights(s), { blue: 0, green: 200 });
  const body = await (await fetch(`http://${s.lb.address}/`)).text();
  t.match(body, /"color":"green"/);
  t.match(await (await fetch(`http://${s.lb.address}:8080/`)).text(), /"color":"blue"/, 'the staging frontend now reaches blue');
});

t.test('promote-color - --status after the promotion; --rollback returns to blue at once', async (t) => {
  const s = system!;
  const status = await promote(['--status']);
  t.equal(status.exitCode, 0);
  t.match(promotions(status.records), [
    {
      from: 'blue',
      to: 'green',
      stage: 3,
      status: 'done',
      weights: [
        { color: 'blue', weight: 0 },
        { color: 'green', weight: 100 },
      ],
    },
  ]);
  t.match(status.stderr, /live green, staged blue/);
  const stored = await state();
  t.equal(stored.live, 'green');
  t.ok(stored.history.length >= 6, 'history with timestamps');
  t.match(stored.history.at(-1), { status: 'done', at: /^\d{4}-\d\d-\d\dT/ });

  const back = await promote(['--rollback']);
  t.equal(back.exitCode, 0, back.stderr);
  t.match(promotions(back.records), [
    {
      from: 'blue',
      to: 'green',
      status: 'rolled-back',
      reason: 'rolled back on request (--rollback)',
      weights: [
        { color: 'blue', weight: 100 },
        { color: 'green', weight: 0 },
      ],
    },
  ]);
  t.same(await liveWeights(s), { blue: 200, green: 0 });
  t.match(await (await fetch(`http://${s.lb.address}:8080/`)).text(), /"color":"green"/, 'green is staged again');
});

t.test('promote-color - a second concurrent run refuses; Ctrl-C holds the current stage on the LB', async (t) => {
  const s = system!;
  const first = spawnBinary('promote-color', [APP, '--to', 'green', '--hold', '60s'], { stdin: s.stdin, timeoutMs: 120_000 });
  for (let i = 0; i < 300 && !/holding/.test(first.output().stderr); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  t.match(first.output().stderr, /stage 1\/3: green 10% \/ blue 90% .*holding 60 s/);
  const second = await promote(['--to', 'green']);
  t.equal(second.exitCode, 69);
  t.match(
    second.stderr,
    new RegExp(
      `^promote-color: ${s.lb.id}: another promote-color run holds the lock for ${APP} \\(promote-color pid ${first.child.pid} on .* since .*\\): wait for it to end\\n$`,
    ),
  );
  t.same(promotions(second.records), []);
  first.child.kill('SIGINT');
  const ended = await first.result;
  t.equal(ended.exitCode, 130);
  t.match(promotions(ended.records), [
    { stage: 1, status: 'held', reason: /^interrupted \(SIGINT\) during stage 1: weights held at green 10% \/ blue 90% on every LB/ },
  ]);
  t.same(await liveWeights(s), { blue: 180, green: 20 }, 'the stage-1 weights stay on the LB');
  t.match((await state()).promotion, { to: 'green', stage: 1, status: 'held' });
  const status = await promote(['--status']);
  t.match(promotions(status.records), [{ status: 'held', stage: 1 }]);
});

t.test('promote-color - weights survive an HAProxy reload and a restart in the middle of a shift', async (t) => {
  const s = system!;
  const run = spawnBinary('promote-color', [APP, '--to', 'green', '--hold', '8s'], { stdin: s.stdin, timeoutMs: 180_000 });
  for (let i = 0; i < 600 && !/stage 2\/3: .*holding/.test(run.output().stderr); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  t.match(run.output().stderr, /stage 1\/3: green 10%/, 'the held stage 1 is held again first');
  t.same(await liveWeights(s), { blue: 100, green: 100 }, 'stage 2: 50/50');
  await sh(s.lb, 'systemctl reload haproxy');
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.same(await liveWeights(s), { blue: 100, green: 100 }, 'after a reload');
  await sh(s.lb, 'systemctl restart haproxy');
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.same(await liveWeights(s), { blue: 100, green: 100 }, 'after a restart');
  const ended = await run.result;
  t.equal(ended.exitCode, 0, ended.stderr);
  t.same(
    promotions(ended.records).map((r) => [r.stage, r.status]),
    [
      [1, 'shifted'],
      [2, 'shifted'],
      [3, 'done'],
    ],
  );
  t.same(await liveWeights(s), { blue: 0, green: 200 });
  await sh(s.lb, 'systemctl restart haproxy');
  await waitUp(s);
  t.same(await liveWeights(s), { blue: 0, green: 200 }, 'and after a restart once done');
});

t.test('promote-color - a broken green after the first stage: automatic rollback under load, 0 failed requests, under 5 s', async (t) => {
  const s = system!;
  const back = await promote(['--rollback']);
  t.equal(back.exitCode, 0, back.stderr);
  const load = startLoad(`http://${s.lb.address}/`, { connections: 200, seconds: 20 });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const run = spawnBinary('promote-color', [APP, '--to', 'green', '--hold', '10s'], { stdin: s.stdin, timeoutMs: 120_000 });
  for (let i = 0; i < 300 && !/holding/.test(run.output().stderr); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const broken = performance.now();
  await sh(s.green, 'systemctl stop color-app');
  const ended = await run.result;
  const sinceBroken = performance.now() - broken;
  const totals = await load.result;
  t.comment(ended.stderr.trim());
  t.comment(`wrk: ${totals.requests} requests over 200 connections, non-2xx ${totals.non2xx}, socket errors ${socketErrors(totals)}`);
  t.equal(ended.exitCode, 1);
  const records = promotions(ended.records);
  t.match(records, [
    {
      stage: 1,
      status: 'rolled-back',
      from: 'blue',
      to: 'green',
      weights: [
        { color: 'blue', weight: 100 },
        { color: 'green', weight: 0 },
      ],
      reason: /green/,
    },
  ]);
  const rollbackMs = Number(/rolled back: all live traffic on blue in (\d+) ms after the failed gate/.exec(ended.stderr)?.[1]);
  t.comment(
    `rollback: ${rollbackMs} ms from the failed gate to all traffic on blue; ${Math.round(sinceBroken)} ms from stopping green's app to promote-color's exit`,
  );
  t.ok(rollbackMs < 5000, `from the failed gate to all traffic on blue in ${rollbackMs} ms (< 5 s)`);
  t.same(await liveWeights(s), { blue: 200, green: 0 });
  t.equal(totals.non2xx, 0, '0 non-2xx responses for clients');
  t.equal(socketErrors(totals), 0, '0 socket errors for clients');
  t.equal((await state()).live, 'blue');
  await sh(s.green, 'systemctl start color-app');
  await waitUp(s);
});

t.test('promote-color - a green answering 500: the gate before the first stage holds; after the first stage the error rate rolls back', async (t) => {
  const s = system!;
  await sh(s.green, 'touch /run/color-app/fail');
  const refused = await promote(['--to', 'green', '--hold', '2s']);
  t.equal(refused.exitCode, 1);
  t.match(promotions(refused.records), [
    { stage: 0, status: 'held', reason: /^gate before the first stage: green server green-web-1 is (DOWN|UP 1\/2)|answered \/healthz with 500/ },
  ]);
  t.same(await liveWeights(s), { blue: 200, green: 0 }, 'nothing shifted');
  await sh(s.green, 'rm -f /run/color-app/fail');
  await waitUp(s);

  const load = startLoad(`http://${s.lb.address}/`, { connections: 20, seconds: 12, threads: 1 });
  const run = spawnBinary('promote-color', [APP, '--to', 'green', '--hold', '8s'], { stdin: s.stdin, timeoutMs: 120_000 });
  for (let i = 0; i < 300 && !/holding/.test(run.output().stderr); i++) await new Promise((resolve) => setTimeout(resolve, 100));
  await sh(s.green, 'touch /run/color-app/fail');
  const ended = await run.result;
  await load.result;
  t.equal(ended.exitCode, 1, ended.stderr);
  t.match(promotions(ended.records), [
    {
      stage: 1,
      status: 'rolled-back',
      reason: /green error rate \d+(\.\d+)?% \(\d+ of \d+ requests\) is above --max-error-rate 0\.1%|green server green-web-1 is DOWN/,
    },
  ]);
  t.same(await liveWeights(s), { blue: 200, green: 0 });
  await sh(s.green, 'rm -f /run/color-app/fail');
  const stat = await haproxyApi(s.lb, 'show stat');
  t.match(stat, /shop,FRONTEND/);
  // green healthy again in HAProxy's checks (two good checks after the failures) before the next test promotes it
  await waitUp(s);
});

t.test('promote-color - a non-root login with passwordless sudo: socat and the state files through sudo -n', async (t) => {
  const s = system!;
  // sudo looks up the node's own host name: without it in /etc/hosts (nspawn nodes have no DNS) every
  // sudo waits for the resolver to time out (measured here: 40 s for one stage)
  await sh(
    s.lb,
    'grep -qw "$(hostname)" /etc/hosts || echo "127.0.1.1 $(hostname)" >> /etc/hosts; ' +
      'apt-get install -y -q sudo >/dev/null 2>&1 && id deploy >/dev/null 2>&1 || useradd -m -s /bin/sh deploy; ' +
      'install -d -o deploy -m 0700 /home/deploy/.ssh && install -o deploy -m 0600 /root/.ssh/authorized_keys /home/deploy/.ssh/authorized_keys && ' +
      "echo 'deploy ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/deploy && chmod 0440 /etc/sudoers.d/deploy",
  );
  const asDeploy = s.nodes.map((n) => JSON.stringify(n.id === s.lb.id ? { ...n, user: 'deploy' } : n)).join('\n') + '\n';
  const run = await promote(['--to', 'green', '--stages', '100', '--hold', '1s'], asDeploy);
  t.equal(run.exitCode, 0, run.stderr);
  t.match(promotions(run.records), [{ stage: 1, status: 'done', to: 'green' }]);
  t.same(await liveWeights(s), { blue: 0, green: 200 });
  t.equal(
    await sh(s.lb, `stat -c '%U %a' /var/lib/forklift/promote/${APP}.json /var/lib/forklift/promote/${APP}.haproxy.cfg`),
    'root 644\nroot 644\n',
    'state files owned by root, 0644',
  );
  const back = await promote(['--rollback'], asDeploy);
  t.equal(back.exitCode, 0, back.stderr);
  t.same(await liveWeights(s), { blue: 200, green: 0 });
  await sh(s.lb, 'rm -f /etc/sudoers.d/deploy');
  const noSudo = await promote(['--status'], asDeploy);
  t.equal(noSudo.exitCode, 69);
  t.match(noSudo.stderr, /^promote-color: lb-1: user deploy cannot run commands as root without a password \(sudo -n\)/);
});

t.test("promote-color - drain: a request in flight on blue finishes when blue's weight drops to 0", async (t) => {
  const s = system!;
  t.same(await liveWeights(s), { blue: 200, green: 0 });
  const inFlight = fetch(`http://${s.lb.address}/slow?ms=4000`, { signal: AbortSignal.timeout(20_000) }).then(async (r) => ({
    status: r.status,
    body: await r.text(),
  }));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const run = await promote(['--to', 'green', '--stages', '100', '--hold', '1s']);
  t.equal(run.exitCode, 0, run.stderr);
  t.same(await liveWeights(s), { blue: 0, green: 200 }, 'blue takes no new requests');
  const answered = await inFlight;
  t.same(answered, { status: 200, body: '{"color":"blue","path":"/slow?ms=4000"}\n' }, 'the request blue had in flight finished on blue');
  t.match(await (await fetch(`http://${s.lb.address}/`)).text(), /"color":"green"/);
});
