// ZooKeeper with the app's configuration znode; its greeting is what the page shows (and what the
// browser script expects).
import { zookeeper } from '@forklift/crates';
import { serverSpec } from '@forklift/render-crate';

export const GREETING = "Welcome to forklift's wine cellar";

export default serverSpec({
  name: 'wine-cellar-zk',
  extends: [zookeeper({ heapMiB: 128, znodes: { '/wine-cellar/config': { greeting: GREETING } } })],
});
