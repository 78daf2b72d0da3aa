// A label uploaded through the load balancer lands on the file server's export and nginx serves it
// back from the shared store.
import { createHash, randomBytes } from 'node:crypto';
import { expect, onNode, test } from '@forklift/expect-run';
import { shellQuote } from '@forklift/contract';
import { addWine, lbUrl, oneWith, uniqueName } from './system.js';

const EXPORT_DIR = '/srv/files';

test('a label file is on the file server and served at /labels/', async () => {
  const wine = await addWine(uniqueName('Sancerre'), 'white', 2022);
  // a PNG signature and random bytes: a file no earlier run wrote
  const bytes = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(2048)]);
  const response = await fetch(`${lbUrl()}/api/wines/${wine.id}/label`, { method: 'PUT', headers: { 'content-type': 'image/png' }, body: bytes });
  expect(200, response.status);
  const { label } = (await response.json()) as { label: string };
  expect(/^\/labels\/wine-\d+-[0-9a-f]{16}\.png$/, label);

  const served = await fetch(`${lbUrl()}${label}`);
  expect(200, served.status);
  expect(bytes.toString('hex'), Buffer.from(await served.arrayBuffer()).toString('hex'));

  const onServer = await onNode(oneWith('files')).run(`sha256sum ${shellQuote(`${EXPORT_DIR}${label}`)}`);
  expect(0, onServer.exitCode);
  expect(createHash('sha256').update(bytes).digest('hex'), onServer.stdout.split(' ')[0]);
});
