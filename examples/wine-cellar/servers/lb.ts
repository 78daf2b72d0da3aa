// The load balancer: HAProxy's live frontend (:80) over the web servers of both colors, the staging
// frontend (:8080) reaching only the staged color, health checks on /healthz; promote-color shifts
// the weights on the node. A converge ends when the live frontend has a healthy server behind it, so
// it may run side by side with the web tier and tests may start as soon as it is done.
import { haproxy } from '@forklift/crates';
import { serverSpec } from '@forklift/render-crate';

/** How long a converge waits for a healthy server behind the live frontend. */
export const READY_TIMEOUT_S = 240;

/** sh: succeeds when HAProxy's admin socket shows a server of backend wine-cellar UP. */
const liveServerUp =
  'echo \'show stat\' | socat -t 5 stdio unix-connect:/run/haproxy/admin.sock | awk -F, \'$1 == "wine-cellar" && $2 != "BACKEND" && $18 == "UP" { up = 1 } END { exit !up }\'';

/** The LB for web servers listening on `serverPort` (80 in topology (b); 8081 when nginx shares the node with HAProxy). */
export const lbServer = (serverPort = 80) =>
  serverSpec({
    name: 'wine-cellar-lb',
    extends: [haproxy({ app: 'wine-cellar', serverRole: 'web', serverPort, healthPath: '/healthz' })],
    phases: {
      configure: [
        {
          action: 'exec',
          id: 'lb-live-ready',
          script: `for i in $(seq 1 ${READY_TIMEOUT_S}); do if ${liveServerUp}; then exit 0; fi; sleep 1; done; echo 'no healthy web server behind the live frontend after ${READY_TIMEOUT_S} s' >&2; exit 1`,
          unless: liveServerUp,
        },
      ],
    },
  });

export default lbServer();
