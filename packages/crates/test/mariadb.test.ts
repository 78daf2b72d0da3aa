// The mariadb crate on real local nodes: a blue primary and a green replica. Converge, converge again -> 0
// changed, --plan -> 0 changes; SQL answers on the node's address with the password from the controller file;
// a row written on the primary appears on the replica; promote/demote swap the roles, the old primary follows
// the new one, and a later converge keeps the swapped roles; and back again, as the next release does.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeRecord } from '@forklift/contract';
import { converge, describeRun, onNode, packageTimes, testNodes } from './helpers/nodes.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const PASSWORD = readFileSync(join(FIXTURES, 'secrets', 'db-password'), 'utf8').split('\n')[0]!;

t.setTimeout(25 * 60_000);

let blue: NodeRecord;
let green: NodeRecord;
let all: NodeRecord[] = [];

t.before(async () => {
  const [b, g] = await Promise.all([
    testNodes(t, { group: 'crate-db-blue', count: 1, roles: ['db'], color: 'blue' }),
    testNodes(t, { group: 'crate-db-green', count: 1, roles: ['db'], color: 'green' }),
  ]);
  blue = b![0]!;
  green = g![0]!;
  all = [blue, green];
});

/** SQL as the winecellar account over TCP from `from` to `to`'s address (the password from the crate's root-only file, never on argv). */
const sqlAs = (from: NodeRecord, to: NodeRecord, query: string) =>
  onNode(
    from,
    `MYSQL_PWD="$(head -n 1 '/etc/mysql/forklift/winecellar@%.password')" mariadb -h ${to.address} -u winecellar --batch --skip-column-names winecellar -e "${query}"`,
  );
const slaveStatus = async (node: NodeRecord, field: string) =>
  /: (.*)$/.exec((await onNode(node, `mariadb -e 'SHOW SLAVE STATUS\\G' | grep -E '^ *${field}:' || true`)).trim())?.[1] ?? '';
const waitFor = async (check: () => Promise<boolean>, ms = 30_000) => {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 500))) if (await check()) return true;
  return false;
};

t.test('mariadb - blue primary and green replica converge; SQL answers on the node address with the controller password', async (t) => {
  // every node record goes in: the replica finds its primary among them
  const first = await converge('groups/db-blue', all, { cwd: FIXTURES });
  t.comment(`apt: ${packageTimes(first)}`);
  t.equal(first.exitCode, 0, describeRun(first));
  const second = await converge('groups/db-green', all, { cwd: FIXTURES });
  t.comment(`apt: ${packageTimes(second)}`);
  t.equal(second.exitCode, 0, describeRun(second));
  t.notOk(JSON.stringify([first.records, second.records, first.stderr, second.stderr]).includes(PASSWORD), 'the password is in no record and no log line');
  t.equal((await sqlAs(green, blue, 'SELECT 1')).trim(), '1', 'the account answers on the primary address');
  t.equal((await onNode(blue, `ss -ltn 'sport = :3306' | tail -n +2 | awk '{print $4}'`)).trim(), `${blue.address}:3306`, 'bound to the node address only');
  t.match(
    await onNode(blue, 'mariadb -N -e "SELECT @@server_id, @@gtid_domain_id, @@auto_increment_offset, @@auto_increment_increment"'),
    /^1\t1\t1\t2$/m,
    'blue numbers',
  );
  t.match(
    await onNode(green, 'mariadb -N -e "SELECT @@server_id, @@gtid_domain_id, @@auto_increment_offset, @@auto_increment_increment"'),
    /^2\t2\t2\t2$/m,
    'green numbers',
  );
  t.equal(await slaveStatus(green, 'Master_Host'), blue.address, 'green replicates from blue');
});

t.test('mariadb - a row written on the primary appears on the replica', async (t) => {
  await sqlAs(
    blue,
    blue,
    "CREATE TABLE IF NOT EXISTS wines (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(80)); INSERT INTO wines (name) VALUES ('Barolo on blue')",
  );
  t.ok(await waitFor(async () => (await sqlAs(green, green, 'SELECT name FROM wines')).includes('Barolo on blue')), 'the row is on green');
});

t.test('mariadb - converge again: 0 changed; --plan: 0 changes (both nodes)', async (t) => {
  for (const spec of ['groups/db-blue', 'groups/db-green']) {
    const again = await converge(spec, all, { cwd: FIXTURES });
    t.equal(again.exitCode, 0, describeRun(again));
    t.same(
      again.changed.map((r) => r.label),
      [],
      `${spec}: nothing changed`,
    );
    const plan = await converge(spec, all, { cwd: FIXTURES, args: ['--plan'] });
    t.equal(plan.exitCode, 0, describeRun(plan));
    t.same(
      plan.changed.map((r) => r.label),
      [],
      `${spec}: the plan has no change`,
    );
  }
});

t.test('mariadb - promote green, demote blue: blue follows green, a row written on green reaches blue, converge keeps the roles', async (t) => {
  const promote = await converge('groups/db-green', all, { cwd: FIXTURES, args: ['--phase', 'promote'] });
  t.equal(promote.exitCode, 0, describeRun(promote));
  t.same(
    promote.changed.map((r) => r.id),
    ['mariadb-promote'],
  );
  const demote = await converge('groups/db-blue', all, { cwd: FIXTURES, args: ['--phase', 'demote'] });
  t.equal(demote.exitCode, 0, describeRun(demote));
  t.same(
    demote.changed.map((r) => r.id),
    ['mariadb-demote'],
  );
  t.equal(await slaveStatus(green, 'Master_Host'), '', 'green follows nobody');
  t.equal(await slaveStatus(blue, 'Master_Host'), green.address, 'blue follows green');
  t.equal(await slaveStatus(blue, 'Slave_SQL_Running'), 'Yes');
  await sqlAs(green, green, "INSERT INTO wines (name) VALUES ('Rioja on green')");
  t.ok(
    await waitFor(async () => (await sqlAs(blue, blue, 'SELECT name FROM wines ORDER BY id')).includes('Rioja on green')),
    'the row written on the new primary is on the old one',
  );
  t.same(
    (await sqlAs(blue, blue, 'SELECT id FROM wines ORDER BY id'))
      .trim()
      .split('\n')
      .map(Number)
      .map((id) => id % 2),
    [1, 0],
    'blue ids odd, green ids even',
  );
  for (const [spec, phase] of [
    ['groups/db-green', 'promote'],
    ['groups/db-blue', 'demote'],
    ['groups/db-blue', 'configure'],
    ['groups/db-green', 'configure'],
  ] as const) {
    const again = await converge(spec, all, { cwd: FIXTURES, args: ['--phase', phase] });
    t.equal(again.exitCode, 0, describeRun(again));
    t.same(
      again.changed.map((r) => r.label),
      [],
      `${spec} ${phase} again: nothing changed`,
    );
  }
  t.equal(await slaveStatus(blue, 'Master_Host'), green.address, 'blue still follows green after configure');
});

t.test('mariadb - and back (the next release): promote blue, which was a primary before, demote green: green follows blue again', async (t) => {
  // blue's own transactions (domain 1) are in what it received from green, but it never applies them as
  // a replica: promote must not wait for them (it would time out, and it fails when it times out)
  const promote = await converge('groups/db-blue', all, { cwd: FIXTURES, args: ['--phase', 'promote'] });
  t.equal(promote.exitCode, 0, describeRun(promote));
  t.same(
    promote.changed.map((r) => r.id),
    ['mariadb-promote'],
  );
  const demote = await converge('groups/db-green', all, { cwd: FIXTURES, args: ['--phase', 'demote'] });
  t.equal(demote.exitCode, 0, describeRun(demote));
  t.same(
    demote.changed.map((r) => r.id),
    ['mariadb-demote'],
  );
  t.equal(await slaveStatus(blue, 'Master_Host'), '', 'blue follows nobody');
  t.equal(await slaveStatus(green, 'Master_Host'), blue.address, 'green follows blue');
  await sqlAs(blue, blue, "INSERT INTO wines (name) VALUES ('Chinon on blue again')");
  t.ok(
    await waitFor(async () => (await sqlAs(green, green, 'SELECT name FROM wines')).includes('Chinon on blue again')),
    'the row written on blue is on green',
  );
  t.same(
    (await sqlAs(green, green, 'SELECT name FROM wines ORDER BY id')).trim().split('\n'),
    ['Barolo on blue', 'Rioja on green', 'Chinon on blue again'],
    'every row on both',
  );
});
