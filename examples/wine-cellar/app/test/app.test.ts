import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { createApp } from '../src/app.js';
import { directoryLabelStore } from '../src/labels.js';
import { fixedConfig, failingLabels, memoryStore, type Switch } from './fakes.js';

/** A response body as JSON, typed loosely for matching. */
async function json(res: Response): Promise<Record<string, any>> {
  return (await res.json()) as Record<string, any>;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}

async function start(t: Test) {
  const db: Switch = {};
  const zk: Switch = {};
  const dir = await mkdtemp(join(tmpdir(), 'wine-cellar-labels-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const store = memoryStore(db);
  const config = fixedConfig({ greeting: 'Hello <cellar>' }, zk);
  const server = createServer(createApp({ store, config, labels: directoryLabelStore(dir), version: '1.2.3', color: 'green' }));
  const base = await listen(server);
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  t.teardown(() => server.closeAllConnections());
  return { base, db, zk, dir, store, config };
}

t.test('healthz - 200 with version and color while every dependency answers', async (t) => {
  const { base } = await start(t);
  const res = await fetch(`${base}/healthz`);
  t.equal(res.status, 200);
  t.same(await res.json(), { status: 'ok', version: '1.2.3', color: 'green' });
});

t.test('healthz - 503 naming each failing dependency', async (t) => {
  const { base, db, zk, dir } = await start(t);
  db.down = 'connection refused';
  let res = await fetch(`${base}/healthz`);
  t.equal(res.status, 503);
  t.same(await res.json(), { status: 'unavailable', version: '1.2.3', color: 'green', failing: { db: 'connection refused' } });
  db.down = undefined;
  zk.down = 'session expired';
  res = await fetch(`${base}/healthz`);
  t.equal(res.status, 503);
  t.match(await res.json(), { failing: { zookeeper: 'session expired' } });
  zk.down = undefined;
  await rm(dir, { recursive: true });
  res = await fetch(`${base}/healthz`);
  t.equal(res.status, 503);
  t.match(await res.json(), { failing: { files: /ENOENT/ } });
});

t.test('wines - POST stores a row (201 + Location), GET lists it', async (t) => {
  const { base } = await start(t);
  t.same(await (await fetch(`${base}/api/wines`)).json(), []);
  const res = await fetch(`${base}/api/wines`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: '  Chinon ', kind: 'red', year: 2019 }),
  });
  t.equal(res.status, 201);
  t.equal(res.headers.get('location'), '/api/wines/1');
  t.same(await res.json(), { id: 1, name: 'Chinon', kind: 'red', year: 2019 });
  const list = await fetch(`${base}/api/wines`);
  t.equal(list.status, 200);
  t.match(list.headers.get('content-type'), /^application\/json/);
  t.same(await list.json(), [{ id: 1, name: 'Chinon', kind: 'red', year: 2019 }]);
  t.same(await (await fetch(`${base}/api/wines/1`)).json(), { id: 1, name: 'Chinon', kind: 'red', year: 2019 });
  t.equal((await fetch(`${base}/api/wines/2`)).status, 404);
});

t.test('wines - invalid input is 400 with a message, nothing stored', async (t) => {
  const { base, store } = await start(t);
  const cases: [string, RegExp][] = [
    ['not json', /not JSON/],
    ['[]', /JSON object/],
    [JSON.stringify({ kind: 'red', year: 2000 }), /^name: required/],
    [JSON.stringify({ name: 'x', kind: 'blue', year: 2000 }), /^kind: one of red, white/],
    [JSON.stringify({ name: 'x', kind: 'red', year: 1700 }), /^year: a whole number from 1800 to 2100/],
    [JSON.stringify({ name: 'x', kind: 'red', year: 2000.5 }), /^year/],
    [JSON.stringify({ name: 'x', kind: 'red', year: 2000, price: 3 }), /unknown field "price"/],
    [JSON.stringify({ name: 'x'.repeat(201), kind: 'red', year: 2000 }), /at most 200/],
  ];
  for (const [body, message] of cases) {
    const res = await fetch(`${base}/api/wines`, { method: 'POST', body });
    t.equal(res.status, 400, body.slice(0, 40));
    t.match((await json(res)).error, message);
  }
  t.equal(store.rows.length, 0);
});

t.test('wines - a database that is down is 503, not 500', async (t) => {
  const { base, db } = await start(t);
  db.down = 'connect ECONNREFUSED';
  const res = await fetch(`${base}/api/wines`);
  t.equal(res.status, 503);
  t.match((await json(res)).error, /the wine list is not available: connect ECONNREFUSED/);
  const post = await fetch(`${base}/api/wines`, { method: 'POST', body: JSON.stringify({ name: 'x', kind: 'red', year: 2000 }) });
  t.equal(post.status, 503);
});

t.test('labels - PUT stores the image on the file store and the wine points at /labels/<file>', async (t) => {
  const { base, dir } = await start(t);
  await fetch(`${base}/api/wines`, { method: 'POST', body: JSON.stringify({ name: 'Vouvray', kind: 'white', year: 2020 }) });
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  const res = await fetch(`${base}/api/wines/1/label`, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: png });
  t.equal(res.status, 200);
  const wine = (await json(res)) as { label: string };
  t.match(wine, { id: 1, name: 'Vouvray', label: /^\/labels\/wine-1-[0-9a-f]{16}\.png$/ });
  const files = await readdir(dir);
  t.same(files, [wine.label.slice('/labels/'.length)], 'one file, no temporary left');
  t.same(await readFile(join(dir, files[0]!)), png);
  t.same(await (await fetch(`${base}/api/wines`)).json(), [wine]);
});

t.test('labels - wrong type 415, empty 400, unknown wine 404, too large 413, store down 503', async (t) => {
  const { base, dir } = await start(t);
  await fetch(`${base}/api/wines`, { method: 'POST', body: JSON.stringify({ name: 'x', kind: 'red', year: 2000 }) });
  const put = (path: string, type: string, body: Buffer) => fetch(`${base}${path}`, { method: 'PUT', headers: { 'content-type': type }, body });
  t.equal((await put('/api/wines/1/label', 'text/plain', Buffer.from('x'))).status, 415);
  t.equal((await put('/api/wines/1/label', 'image/png', Buffer.alloc(0))).status, 400);
  t.equal((await put('/api/wines/9/label', 'image/png', Buffer.from('x'))).status, 404);
  t.equal((await put('/api/wines/1/label', 'image/png', Buffer.alloc(5 * 1024 * 1024 + 1))).status, 413);
  t.same(await readdir(dir), []);
  const server = createServer(createApp({ store: memoryStore(), config: fixedConfig({}), labels: failingLabels('EIO'), version: '1', color: 'blue' }));
  const other = await listen(server);
  t.teardown(() => server.close());
  await fetch(`${other}/api/wines`, { method: 'POST', body: JSON.stringify({ name: 'x', kind: 'red', year: 2000 }) });
  const res = await fetch(`${other}/api/wines/1/label`, { method: 'PUT', headers: { 'content-type': 'image/jpeg' }, body: Buffer.from('x') });
  t.equal(res.status, 503);
  t.match((await json(res)).error, /file store is not available: EIO/);
});

t.test('config - /api/config is the current configuration, changes show at once', async (t) => {
  const { base, config } = await start(t);
  t.same(await (await fetch(`${base}/api/config`)).json(), { greeting: 'Hello <cellar>' });
  config.set({ greeting: 'Santé' });
  t.same(await (await fetch(`${base}/api/config`)).json(), { greeting: 'Santé' });
});

t.test('page - list, form, greeting and version, escaped', async (t) => {
  const { base } = await start(t);
  await fetch(`${base}/api/wines`, { method: 'POST', body: JSON.stringify({ name: '<b>Bad</b> & co', kind: 'rosé', year: 2021 }) });
  const res = await fetch(`${base}/`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^text\/html/);
  const html = await res.text();
  t.match(html, '<h1 id="greeting">Hello &lt;cellar&gt;</h1>');
  t.match(
    html,
    '<li class="wine" data-id="1"><span class="name">&lt;b&gt;Bad&lt;/b&gt; &amp; co</span> <span class="kind">rosé</span> <span class="year">2021</span></li>',
  );
  for (const id of ['name', 'kind', 'year', 'add']) t.match(html, `id="${id}"`);
  t.match(html, /<select id="kind" name="kind"><option value="red">red<\/option>/);
  t.match(html, '<p id="version">wine-cellar 1.2.3 (green)</p>');
});

t.test('page - the form posts without JavaScript: 303 back to /, invalid input 400 with the message', async (t) => {
  const { base, store } = await start(t);
  const ok = await fetch(`${base}/`, { method: 'POST', body: new URLSearchParams({ name: 'Cahors', kind: 'red', year: '2018' }), redirect: 'manual' });
  t.equal(ok.status, 303);
  t.equal(ok.headers.get('location'), '/');
  t.same(store.rows, [{ id: 1, name: 'Cahors', kind: 'red', year: 2018 }]);
  const bad = await fetch(`${base}/`, { method: 'POST', body: new URLSearchParams({ name: '', kind: 'red', year: '2018' }) });
  t.equal(bad.status, 400);
  t.match(await bad.text(), '<p id="notice">name: required, a non-empty string</p>');
});

t.test('routes - unknown path 404, wrong method 405 with Allow', async (t) => {
  const { base } = await start(t);
  t.equal((await fetch(`${base}/nope`)).status, 404);
  const res = await fetch(`${base}/healthz`, { method: 'DELETE' });
  t.equal(res.status, 405);
  t.equal(res.headers.get('allow'), 'GET, HEAD');
  t.equal((await fetch(`${base}/api/wines/1/label`)).status, 405);
});
