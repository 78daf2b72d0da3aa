// Address leases and the bridge's derived values, without touching the host's network.
import t from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeBridge, macFor } from '../src/bridge.js';
import { aptProxyUrl } from '../src/apt-proxy.js';
import { findLease, leaseAddresses, readLeases, releaseLeases } from '../src/leases.js';

const network = describeBridge({ bridge: 'flbrtest01', prefix: '10.99.1' }, aptProxyUrl('10.99.1.1'));

t.test('bridge - the network a config stands for, deterministic MACs', async (t) => {
  t.same(network, { bridge: 'flbrtest01', gateway: '10.99.1.1', prefixLength: 24, subnet: '10.99.1.0/24', aptProxy: 'http://10.99.1.1:3142' });
  t.equal(macFor('flbrtest01', '10.99.1.2'), macFor('flbrtest01', '10.99.1.2'), 'the same address gets the same MAC (no stale ARP after a re-create)');
  t.match(macFor('flbrtest01', '10.99.1.2'), /^02(:[0-9a-f]{2}){5}$/, 'locally administered');
  t.not(macFor('flbrtest01', '10.99.1.2'), macFor('flbrtest01', '10.99.1.3'));
});

t.test('leases - lowest free address from .2, an owner keeps its lease, a released address is taken again', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fl-leases-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const leases = join(dir, 'leases');
  const first = await leaseAddresses(leases, ['local/web-1', 'local/web-2', 'local/web-3'], network);
  t.same(
    first.map((lease) => lease.address),
    ['10.99.1.2', '10.99.1.3', '10.99.1.4'],
  );
  t.equal(await readFile(join(leases, '10.99.1.3'), 'utf8'), 'local/web-2\n', 'one file per address, holding its owner');
  await releaseLeases(leases, 'local/web-2');
  const again = await leaseAddresses(leases, ['local/web-1', 'local/db-1'], network);
  t.same(
    again.map((lease) => lease.address),
    ['10.99.1.2', '10.99.1.3'],
    'web-1 keeps .2; db-1 gets the freed .3',
  );
  t.same((await findLease(leases, 'local/db-1', network))?.address, '10.99.1.3');
  t.equal(await findLease(leases, 'local/none', network), undefined);
  t.same([...(await readLeases(leases)).values()].sort(), ['local/db-1', 'local/web-1', 'local/web-3']);
});
