// The web tier of one color: nginx proxying to the wine-cellar app servers of the node's color, and
// serving /labels/ from the shared file store.
import { nginx } from '@forklift/crates';
import { serverSpec } from '@forklift/render-crate';

export default serverSpec({
  name: 'wine-cellar-web',
  extends: [nginx({ app: 'wine-cellar', appPort: 3000, labels: { path: '/labels/', dir: '/mnt/files/labels' } })],
});
