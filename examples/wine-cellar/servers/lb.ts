// The load balancer: HAProxy's live frontend (:80) over the web servers of both colors, the staging
// frontend (:8080) reaching only the staged color, health checks on /healthz; promote-color shifts
// the weights on the node.
import { haproxy } from '@forklift/crates';
import { serverSpec } from '@forklift/render-crate';

/** The LB for web servers listening on `serverPort` (80 in topology (b); 8081 when nginx shares the node with HAProxy). */
export const lbServer = (serverPort = 80) =>
  serverSpec({ name: 'wine-cellar-lb', extends: [haproxy({ app: 'wine-cellar', serverRole: 'web', serverPort, healthPath: '/healthz' })] });

export default lbServer();
