// The HTTP interface through the load balancer.
import { expect, inObj, test } from '@forklift/expect-run';
import { addWine, COLOR, lbUrl, uniqueName } from './system.js';

const get = async (path: string) => {
  const response = await fetch(`${lbUrl()}${path}`);
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
};

test('healthz answers 200 with the version and the color under test', async () => {
  const health = await get('/healthz');
  expect(200, health.status);
  expect(inObj({ status: 'ok', color: COLOR }), JSON.parse(health.body));
});

test('a wine posted through the load balancer is listed', async () => {
  const name = uniqueName('Chinon');
  const stored = await addWine(name, 'red', 2019);
  expect(inObj({ name, kind: 'red', year: 2019 }), stored);
  const list = JSON.parse((await get('/api/wines')).body) as Array<{ id: number }>;
  expect(
    inObj({ id: stored.id, name }),
    list.find((wine) => wine.id === stored.id),
  );
});

test('invalid input is 400 with a message', async () => {
  const response = await fetch(`${lbUrl()}/api/wines`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"name":"x","kind":"blue","year":2000}',
  });
  expect(400, response.status);
  expect(/^kind: one of red, white/, ((await response.json()) as { error: string }).error);
});

test('the page has the list, the form, the greeting and the version', async () => {
  const page = await get('/');
  expect(200, page.status);
  expect(/^text\/html/, page.type);
  for (const id of ['name', 'kind', 'year', 'add', 'greeting', 'version']) expect(new RegExp(`id="${id}"`), page.body);
  expect(new RegExp(`<p id="version">wine-cellar [^ ]+ \\(${COLOR}\\)</p>`), page.body);
});
