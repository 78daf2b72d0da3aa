// The lxd provider's service options, without a cluster: bad options are one stderr line naming the
// service file and the field (exit 65) before anything is contacted; a local endpoint with no daemon
// is 69 with what to do.
import t from 'tap';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLxdOptions, resolveEndpoint } from '../src/providers/lxd-options.js';
import { runTool } from './helpers.js';

const project = await mkdtemp(join(tmpdir(), 'fl-lxdopt-'));
const home = join(project, 'home');
t.teardown(() => rm(project, { recursive: true, force: true }));

const cases: Array<[string, Record<string, unknown>, RegExp]> = [
  ['unknown', { endpont: 'unix:' }, /service field "options\.endpont": unknown field/],
  [
    'scheme',
    { endpoint: 'http://10.0.0.1:8443' },
    /service field "options\.endpoint": must be "unix:", "unix:\/path\/to\/unix\.socket" or "https:\/\/HOST\[:PORT\]"/,
  ],
  [
    'nocert',
    { endpoint: 'https://10.0.0.1:8443', clientKey: 'k.pem', serverCert: 's.pem' },
    /service field "options\.clientCert": missing \(an https endpoint needs clientCert, clientKey and serverCert\)/,
  ],
  ['unixcert', { endpoint: 'unix:', clientCert: 'c.pem' }, /service field "options\.clientCert": only for an https:\/\/ endpoint/],
  ['type', { type: 'vm' }, /service field "options\.type": /],
  ['memory', { limits: { memory: '512' } }, /service field "options\.limits\.memory": size like "512MiB", "1GiB" or "50%"/],
  ['cpu', { limits: { cpu: 0 } }, /service field "options\.limits\.cpu"/],
  ['profiles', { profile: 'a', profiles: ['b'] }, /service field "options\.profile": give "profile" or "profiles", not both/],
  ['reserved', { config: { 'user.forklift.owner': 'x' } }, /service field "options\.config\.user\.forklift\.owner"|service field "options\.config"/],
  ['imageinclude', { image: 'debian/12', include: ['curl'] }, /service field "options\.include": only for forklift's own image/],
  ['pool', { storagePool: 'bad name' }, /service field "options\.storagePool": not a valid storage pool name/],
];

t.test('lxd options - each bad option is exit 65 with one line naming the file and the field', async (t) => {
  await mkdir(join(project, 'services'), { recursive: true });
  for (const [name, options, expected] of cases) {
    await writeFile(join(project, 'services', `${name}.json5`), JSON.stringify({ provider: 'lxd', options }));
    for (const args of [
      [name, '1'],
      [name, '--list'],
    ]) {
      const result = await runTool(args, { cwd: project, env: { FORKLIFT_HOME: home } });
      t.equal(result.exitCode, 65, `${args.join(' ')}: exit 65`);
      const lines = result.stderr.trim().split('\n');
      t.equal(lines.length, 1, `${args.join(' ')}: one line`);
      t.match(
        lines[0],
        new RegExp(`${join(project, 'services', `${name}.json5`).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ${expected.source}`),
        `${name}: names the file and the field`,
      );
    }
  }
});

t.test('lxd options - certificate files: missing is 65 naming the field, not PEM is 65, relative to the service file', async (t) => {
  const service = { name: 'c', provider: 'lxd', file: join(project, 'services', 'c.json5') };
  const options = parseLxdOptions({
    ...service,
    options: { endpoint: 'https://10.0.0.1', clientCert: '../c.pem', clientKey: '../k.pem', serverCert: '../s.pem' },
  });
  await t.rejects(resolveEndpoint({ ...service, options: {} }, options), {
    exitCode: 65,
    message: /c\.json5: service field "options\.clientCert": .*\/c\.pem: file not found/,
  });
  await writeFile(join(project, 'c.pem'), 'not a certificate\n');
  await writeFile(join(project, 'k.pem'), '-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n');
  await writeFile(join(project, 's.pem'), '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n');
  await t.rejects(resolveEndpoint({ ...service, options: {} }, options), {
    exitCode: 65,
    message: /service field "options\.clientCert": .*c\.pem is not a PEM certificate/,
  });
  await writeFile(join(project, 'c.pem'), '-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n');
  const endpoint = await resolveEndpoint({ ...service, options: {} }, options);
  t.match(
    endpoint,
    { kind: 'https', host: '10.0.0.1', port: 8443, url: 'https://10.0.0.1', certPath: join(project, 'c.pem') },
    'port 8443 by default; paths relative to the service file',
  );
  t.same(
    await resolveEndpoint({ ...service, options: {} }, parseLxdOptions({ ...service, options: {} })),
    { kind: 'unix', socketPath: '/var/lib/lxd/unix.socket' },
    "Debian's socket by default",
  );
  t.same(await resolveEndpoint({ ...service, options: {} }, parseLxdOptions({ ...service, options: { endpoint: 'unix:/run/incus/unix.socket' } })), {
    kind: 'unix',
    socketPath: '/run/incus/unix.socket',
  });
});

t.test('lxd local endpoint without a daemon - exit 69 saying how to start one', async (t) => {
  await writeFile(
    join(project, 'services', 'nodaemon.json5'),
    JSON.stringify({ provider: 'lxd', options: { endpoint: `unix:${join(project, 'no', 'unix.socket')}` } }),
  );
  const result = await runTool(['nodaemon', '--list'], { cwd: project, env: { FORKLIFT_HOME: home } });
  t.equal(result.exitCode, 69);
  t.match(result.stderr, /no LXD daemon listens on .*\/no\/unix\.socket: start it .*lxd init/);
});
