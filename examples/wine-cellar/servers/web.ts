// The web tier of one color: nginx proxying to the wine-cellar app servers of the node's color, and
// serving /labels/ from the shared file store.
import { nginx } from '@forklift/crates';
import { serverSpec } from '@forklift/render-crate';

/** nginx on `port` (80 in topology (b); 8081 in topology (a), where HAProxy holds 80). */
export const webServer = (port = 80) =>
  serverSpec({
    name: 'wine-cellar-web',
    extends: [nginx({ app: 'wine-cellar', port, appPort: 3000, labels: { path: '/labels/', dir: '/mnt/files/labels' } })],
  });

export default webServer();
