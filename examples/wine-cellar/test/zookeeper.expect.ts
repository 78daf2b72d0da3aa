// A change of the configuration znode is seen by every app server of the color within 2 s, without a
// restart; the greeting is put back afterwards.
import { expect, onFileEnd, test } from '@forklift/expect-run';
import zookeeper from 'node-zookeeper-client';
import { oneWith, withRole } from './system.js';

const CONFIG_NODE = '/wine-cellar/config';

function connect(): Promise<zookeeper.Client> {
  const zk = oneWith('zk');
  const client = zookeeper.createClient(`${zk.address}:2181`, { sessionTimeout: 10000, retries: 1 });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ZooKeeper on ${zk.address}:2181 did not answer in 10 s`)), 10000);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.connect();
  });
}

const call = <T>(fn: (cb: (error: unknown, value: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value))));

async function greetingOf(address: string): Promise<unknown> {
  const response = await fetch(`http://${address}:3000/api/config`);
  return ((await response.json()) as { greeting?: unknown }).greeting;
}

test('a ZooKeeper change is seen by every app server within 2 s', async () => {
  const client = await connect();
  onFileEnd(() => client.close());
  const before = await call<Buffer>((cb) => client.getData(CONFIG_NODE, (e, data) => cb(e, data)));
  const original = JSON.parse(before.toString('utf8')) as Record<string, unknown>;
  const greeting = `Changed at ${new Date().toISOString()}`;
  onFileEnd(() => call((cb) => client.setData(CONFIG_NODE, before, -1, (e) => cb(e, undefined))));
  await call((cb) => client.setData(CONFIG_NODE, Buffer.from(JSON.stringify({ ...original, greeting })), -1, (e) => cb(e, undefined)));
  const changedAt = Date.now();
  for (const app of withRole('app')) {
    let seen: unknown;
    while (Date.now() - changedAt < 2000) {
      seen = await greetingOf(app.address);
      if (seen === greeting) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(greeting, seen);
  }
  expect((ms: number) => ms <= 2000, Date.now() - changedAt);
  await call((cb) => client.setData(CONFIG_NODE, before, -1, (e) => cb(e, undefined)));
  for (const app of withRole('app')) {
    const restoredAt = Date.now();
    let seen: unknown;
    while (Date.now() - restoredAt < 2000 && (seen = await greetingOf(app.address)) !== original.greeting) await new Promise((r) => setTimeout(r, 50));
    expect(original.greeting, seen);
  }
});
