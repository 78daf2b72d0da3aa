// The wine-cellar app server: the bundle from build/ with this controller's Node.js, as user
// wine-cellar in group apps, configured with the MariaDB of its own color, every ZooKeeper node and
// the shared label directory — all found in the node records, never by a hard-coded address.
import { appServer, colorOf, requirePeers } from '@forklift/crates';
import { serverSpec, type SpecContext } from '@forklift/render-crate';
import { readRelease } from './release.js';

const release = readRelease();

/**
 * How long a converge waits for an app server's /healthz to answer 200 (default 180 s: a first
 * converge on a busy machine); WINE_CELLAR_READY_TIMEOUT_S changes it (a release candidate whose
 * /healthz fails is stopped sooner).
 */
export function readyTimeoutS(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.WINE_CELLAR_READY_TIMEOUT_S;
  if (text === undefined || text === '') return 180;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`WINE_CELLAR_READY_TIMEOUT_S must be a whole number of seconds, got ${JSON.stringify(text)}`);
  return value;
}

/** The app's configuration file (CONTRACTS §4) for one app node. */
export function wineCellarConfig(ctx: SpecContext): Record<string, unknown> {
  const color = colorOf(ctx);
  const [db] = requirePeers(ctx, { role: 'db', color }, { field: 'db' });
  const zk = requirePeers(ctx, { role: 'zk' }, { field: 'zookeeper' });
  return {
    port: 3000,
    host: '0.0.0.0',
    color,
    db: { host: db!.address, port: 3306, user: 'winecellar', database: 'winecellar', passwordFile: '/etc/wine-cellar/db-password' },
    zookeeper: { connect: zk.map((node) => `${node.address}:2181`).join(','), configNode: '/wine-cellar/config' },
    labels: { dir: '/mnt/files/labels' },
  };
}

export default serverSpec({
  name: 'wine-cellar-app',
  extends: [
    appServer({
      name: 'wine-cellar',
      version: release.version,
      bundle: 'build/wine-cellar.mjs',
      runtime: { path: 'build/node', version: release.runtime },
      port: 3000,
      // fixed ids: label files on the shared store belong to the same user on every node
      uid: 2001,
      gid: 2000,
      configEnv: 'WINE_CELLAR_CONFIG',
      config: wineCellarConfig,
      secrets: [{ path: '/etc/wine-cellar/db-password', from: 'secrets/db-password' }],
      readiness: { path: '/healthz', status: 200, timeoutS: readyTimeoutS() },
    }),
  ],
});
