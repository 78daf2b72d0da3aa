// Topology (a): the complete system on one node (every role, color blue) — the same server specs as
// topology (b), converged in dependency order in one run; nginx listens on 8081 since HAProxy holds 80.
import { groupSpec, nodeSpec } from '@forklift/render-crate';
import { dbServer } from '../servers/db.js';
import { lbServer } from '../servers/lb.js';
import { webServer } from '../servers/web.js';

export default groupSpec({
  group: 'wine-cellar',
  count: 1,
  color: 'blue',
  roles: ['lb', 'web', 'app', 'db', 'zk', 'files'],
  node: nodeSpec({ image: 'debian-12', hardware: { minCores: 1, minRamMiB: 1024 }, provider: { nspawn: { fuse: true, nfsExport: true } } }),
  extends: ['servers/zk', dbServer('blue'), 'servers/files', 'servers/files-client', 'servers/app', webServer(8081), lbServer(8081)],
});
