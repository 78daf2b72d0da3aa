// A row posted through the load balancer is in MariaDB on the DB node of the color under test.
import { onNode, expect, test } from '@forklift/expect-run';
import { shellQuote } from '@forklift/contract';
import { addWine, oneWith, uniqueName } from './system.js';

test('the row is in MariaDB on the DB node', async () => {
  const name = uniqueName('Vouvray');
  const stored = await addWine(name, 'white', 2020);
  const sql = `SELECT id, name, kind, year FROM wines WHERE id = ${Number(stored.id)}`;
  const result = await onNode(oneWith('db')).run(`mysql --batch --skip-column-names winecellar -e ${shellQuote(sql)}`);
  expect(0, result.exitCode);
  expect(`${stored.id}\t${name}\twhite\t2020\n`, result.stdout);
});
