// promote-color's decisions against fake LB nodes (an in-memory HAProxy behind the transport
// interface, test/fake-lb.ts): stages and weights on every LB, the gates, rollback, Ctrl-C, resuming,
// several LBs kept in step, the lock. The same paths run against real HAProxy in system.test.ts.
import t from 'tap';
import { promoteColor, promotionStatus, rollbackColor, type PromotionFields } from '../src/index.js';
import { FakeLb } from './fake-lb.js';

function setup(lbs: FakeLb[]) {
  const records: PromotionFields[] = [];
  const lines: string[] = [];
  const byId = new Map(lbs.map((lb) => [lb.node.id, lb]));
  return {
    records,
    lines,
    options: {
      app: 'shop',
      nodes: lbs.map((lb) => lb.node),
      connect: async (node: { id: string }) => byId.get(node.id)!.transport(),
      onRecord: (record: PromotionFields) => void records.push(record),
      log: (line: string) => void lines.push(line),
      pollMs: 10,
    },
  };
}

t.test('logic - three stages on two LBs: weights set on both before each hold, state on both, staging moved at the end', async (t) => {
  const lbs = [new FakeLb('lb-1'), new FakeLb('lb-2', 'shop', { blue: 2, green: 1 })];
  const { records, options } = setup(lbs);
  const seen: Array<[number, number]> = [];
  lbs[0]!.onLook = (lb) => seen.push([lb.server('green-web-1').weight, lbs[1]!.server('green-web-1').weight]);
  const report = await promoteColor({ ...options, to: 'green', holdMs: 30 });
  t.ok(report.ok);
  t.same(
    records.map((r) => [r.stage, r.status, r.weights]),
    [
      [
        1,
        'shifted',
        [
          { color: 'blue', weight: 90 },
          { color: 'green', weight: 10 },
        ],
      ],
      [
        2,
        'shifted',
        [
          { color: 'blue', weight: 50 },
          { color: 'green', weight: 50 },
        ],
      ],
      [
        3,
        'done',
        [
          { color: 'blue', weight: 0 },
          { color: 'green', weight: 100 },
        ],
      ],
    ],
  );
  t.ok(
    records.every((r) => r.window.requests > 0 && r.window.errors === 0),
    'every window counted green requests on both LBs',
  );
  t.ok(
    seen.some(([a, b]) => a === 20 && b === 20),
    'both LBs held stage 1 together',
  );
  t.same(lbs[1]!.weights(), { 'blue-web-1': 0, 'blue-web-2': 0, 'green-web-1': 200 });
  t.same(lbs[0]!.weights(), { 'blue-web-1': 0, 'green-web-1': 200 });
  t.ok(lbs[1]!.commands.includes('set weight shop/blue-web-2 90'), 'two blue servers share 180 at 10 %');
  for (const lb of lbs) {
    const state = JSON.parse(lb.files.get('/var/lib/forklift/promote/shop.json')!);
    t.match(state, { live: 'green', staged: 'blue', promotion: { from: 'blue', to: 'green', stage: 3, status: 'done' } });
    t.same(
      state.history.map((h: { stage: number; status: string }) => `${h.stage} ${h.status}`),
      ['1 shifted', '1 shifted', '2 shifted', '2 shifted', '3 shifted', '3 done'],
    );
    t.equal(lb.files.get('/var/lib/forklift/promote/shop.map'), 'staged shop_blue\n');
    t.match(lb.files.get('/var/lib/forklift/promote/shop.haproxy.cfg'), /setenv FORKLIFT_shop_green_WEIGHT 200\n/);
    t.ok(lb.commands.includes('set map /var/lib/forklift/promote/shop.map staged shop_blue'));
    t.equal(lb.locked, false, 'lock released');
  }
});

t.test('logic - errors on green in a window roll back at once on every LB, exit not ok, the window in the record', async (t) => {
  const lbs = [new FakeLb('lb-1'), new FakeLb('lb-2')];
  const { records, options } = setup(lbs);
  lbs[1]!.onLook = (lb, looks) => {
    if (looks === 4) lb.server('green-web-1').failing = 0.5;
  };
  const report = await promoteColor({ ...options, to: 'green', holdMs: 10_000 });
  t.notOk(report.ok);
  t.ok(report.rollbackMs !== undefined && report.rollbackMs < 5000);
  t.equal(records.length, 1);
  t.match(records[0], {
    stage: 1,
    status: 'rolled-back',
    weights: [
      { color: 'blue', weight: 100 },
      { color: 'green', weight: 0 },
    ],
    reason: /^green error rate \d+(\.\d+)?% \(\d+ of \d+ requests\) is above --max-error-rate 0\.1%$/,
  });
  t.ok(records[0]!.window.errors > 0);
  for (const lb of lbs) {
    t.same(lb.weights(), { 'blue-web-1': 200, 'green-web-1': 0 });
    t.match(JSON.parse(lb.files.get('/var/lib/forklift/promote/shop.json')!), { live: 'blue', staged: 'green', promotion: { status: 'rolled-back' } });
  }
});

t.test('logic - the gate before the first stage: a green server not UP or not answering /healthz 200 holds, nothing shifts', async (t) => {
  const down = new FakeLb('lb-1');
  down.server('green-web-1').status = 'DOWN';
  const a = setup([down]);
  t.notOk((await promoteColor({ ...a.options, to: 'green', holdMs: 10 })).ok);
  t.match(a.records, [
    { stage: 0, status: 'held', reason: "gate before the first stage: green server green-web-1 is DOWN in HAProxy's checks on lb-1 (L7STS 500)" },
  ]);
  t.same(down.weights(), { 'blue-web-1': 200, 'green-web-1': 0 });
  t.equal(down.files.size, 0, 'nothing written');

  const sick = new FakeLb('lb-1');
  sick.server('green-web-1').health = 503;
  const b = setup([sick]);
  t.notOk((await promoteColor({ ...b.options, to: 'green', holdMs: 10 })).ok);
  t.match(b.records, [
    { stage: 0, status: 'held', reason: 'gate before the first stage: green server 10.0.0.11:80 answered /healthz with 503 (asked from lb-1)' },
  ]);
  t.same(sick.weights(), { 'blue-web-1': 200, 'green-web-1': 0 });
});

t.test('logic - --min-requests fails a quiet window at its end; a server going DOWN fails it at once', async (t) => {
  const quiet = new FakeLb('lb-1');
  quiet.requestsPerLook = 0;
  const a = setup([quiet]);
  t.notOk((await promoteColor({ ...a.options, to: 'green', holdMs: 30, minRequests: 100 })).ok);
  t.match(a.records, [{ stage: 1, status: 'rolled-back', reason: 'green saw 0 requests in the window, fewer than --min-requests 100' }]);

  const flaky = new FakeLb('lb-1');
  flaky.onLook = (lb, looks) => {
    if (looks === 5) lb.server('green-web-1').status = 'DOWN';
  };
  const b = setup([flaky]);
  const started = performance.now();
  t.notOk((await promoteColor({ ...b.options, to: 'green', holdMs: 60_000 })).ok);
  t.ok(performance.now() - started < 10_000, 'not after the whole hold');
  t.match(b.records, [{ status: 'rolled-back', reason: "green server green-web-1 is DOWN in HAProxy's checks on lb-1 (L7STS 500)" }]);
});

t.test('logic - an abort during a hold keeps that stage on every LB (held); the next run holds it again and goes on', async (t) => {
  const lbs = [new FakeLb('lb-1'), new FakeLb('lb-2')];
  const { records, options } = setup(lbs);
  const controller = new AbortController();
  // abort during stage 2's hold (green 50 %: weight 100 on both colors)
  lbs[0]!.onLook = (lb) => {
    if (lb.server('green-web-1').weight === 100) controller.abort('SIGINT');
  };
  const report = await promoteColor({ ...options, to: 'green', holdMs: 30, stages: [10, 50, 100], signal: controller.signal, pollMs: 10 });
  t.equal(report.interrupted, 'SIGINT');
  const last = records.at(-1)!;
  t.equal(last.status, 'held');
  t.equal(
    last.reason,
    'interrupted (SIGINT) during stage 2: weights held at green 50% / blue 50% on every LB; run promote-color again to go on, or --rollback',
  );
  t.same(
    lbs.map((lb) => lb.weights()),
    [
      { 'blue-web-1': 100, 'green-web-1': 100 },
      { 'blue-web-1': 100, 'green-web-1': 100 },
    ],
    'both LBs hold stage 2',
  );
  for (const lb of lbs) t.match(JSON.parse(lb.files.get('/var/lib/forklift/promote/shop.json')!).promotion, { status: 'held', stage: last.stage });

  lbs[0]!.onLook = undefined;
  const again = setup(lbs);
  const resumed = await promoteColor({ ...again.options, to: 'green', holdMs: 20 });
  t.ok(resumed.ok);
  t.equal(again.records[0]!.stage, last.stage, 'the held stage is held again first');
  t.equal(again.records.at(-1)!.status, 'done');
});

t.test('logic - status, rollback, already live, the lock, unknown color, no admin socket', async (t) => {
  const lb = new FakeLb('lb-1');
  const s = setup([lb]);
  await promoteColor({ ...s.options, to: 'green', holdMs: 10, stages: [100] });
  const status = setup([lb]);
  t.ok((await promotionStatus(status.options)).ok);
  t.match(status.records, [
    {
      from: 'blue',
      to: 'green',
      stage: 1,
      status: 'done',
      weights: [
        { color: 'blue', weight: 0 },
        { color: 'green', weight: 100 },
      ],
    },
  ]);

  const again = setup([lb]);
  t.ok((await promoteColor({ ...again.options, to: 'green', holdMs: 10 })).ok);
  t.match(again.records, [{ stage: 0, status: 'done', reason: 'green already takes all live traffic' }]);

  const back = setup([lb]);
  const rolled = await rollbackColor(back.options);
  t.ok(rolled.ok);
  t.match(back.records, [
    {
      status: 'rolled-back',
      reason: 'rolled back on request (--rollback)',
      weights: [
        { color: 'blue', weight: 100 },
        { color: 'green', weight: 0 },
      ],
    },
  ]);
  t.same(lb.weights(), { 'blue-web-1': 200, 'green-web-1': 0 });
  t.equal(lb.files.get('/var/lib/forklift/promote/shop.map'), 'staged shop_green\n');

  lb.locked = true;
  const busy = setup([lb]);
  await t.rejects(promoteColor({ ...busy.options, to: 'green', holdMs: 10 }), {
    exitCode: 69,
    message: /^lb-1: another promote-color run holds the lock for shop \(promote-color pid 1 on elsewhere since .*\): wait for it to end$/,
  });
  t.same(lb.weights(), { 'blue-web-1': 200, 'green-web-1': 0 }, 'nothing shifted');
  lb.locked = false;

  await t.rejects(promoteColor({ ...setup([lb]).options, to: 'purple', holdMs: 10 }), {
    exitCode: 65,
    message: 'unknown color "purple": lb-1 serves shop in blue, green',
  });
  lb.socket = false;
  await t.rejects(promoteColor({ ...setup([lb]).options, to: 'green', holdMs: 10 }), {
    exitCode: 69,
    message: /^lb-1: no HAProxy admin socket at \/run\/haproxy\/admin\.sock/,
  });
});

t.test('logic - LBs that disagree on the colors are refused before anything changes', async (t) => {
  const lbs = [new FakeLb('lb-1'), new FakeLb('lb-2', 'shop', { blue: 1, green: 1, red: 1 })];
  await t.rejects(promoteColor({ ...setup(lbs).options, to: 'green', holdMs: 10 }), {
    exitCode: 65,
    message: /^the LB nodes disagree on the colors of shop: lb-1 has blue,green, lb-2 has blue,green,red/,
  });
  t.same(
    lbs[0]!.commands.filter((c) => c.startsWith('set')),
    [],
  );
});
