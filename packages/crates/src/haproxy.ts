import { shellQuote, type NodeRecord } from '@forklift/contract';
import {
  ADMIN_SOCKET,
  colorBackend,
  fragmentPath,
  liveBackend,
  PROMOTE_DIR,
  renderFragment,
  renderStagingMap,
  SERVER_STATE_FILE,
  serverWeight,
  stagingFrontend,
  stagingMapPath,
  STAGING_MAP_KEY,
  weightVariable,
} from '@forklift/promote-color/layout';
import { LABEL_PATTERN, peers, serverSpec, type ActionEntry, type SpecContext } from '@forklift/spec';
import { z } from 'zod';
import { COLORS, colorSchema, type Color } from './color.js';
import { defineCrate } from './crate.js';
import { daemonReload } from './systemd.js';

/** Options of the haproxy crate. */
export const haproxyOptions = z.strictObject({
  app: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be 1-32 lower-case letters, digits or dashes')
    .describe('the app served: names the frontend, the live backend APP and the color backends APP_blue, APP_green'),
  live: colorSchema.default('blue').describe('the live color of an LB that has no promote-color state yet (later, the state on the node decides)'),
  port: z.number().int().min(1).max(65535).default(80).describe("the live frontend's port"),
  stagingPort: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .default(8080)
    .describe("the staging frontend's port: reaches only the staged color (the one that is not live)"),
  serverRole: z
    .string()
    .regex(LABEL_PATTERN, 'must be a role: lowercase letters, digits, _ and -')
    .default('web')
    .describe('the role of the servers behind the LB in the node records (each colored blue or green)'),
  serverPort: z.number().int().min(1).max(65535).default(80).describe("the servers' port"),
  healthPath: z
    .string()
    .regex(/^\/[A-Za-z0-9._~/-]*$/, 'must be a URL path like /healthz')
    .default('/healthz')
    .describe('the path HAProxy checks on every server (200 = healthy)'),
  checkIntervalMs: z.number().int().min(100).max(60_000).default(1000).describe('time between two health checks of a server'),
  fall: z.number().int().min(1).max(10).default(2).describe('failed checks before a server is DOWN'),
  rise: z.number().int().min(1).max(10).default(2).describe('passed checks before a server is UP again'),
  timeouts: z
    .strictObject({
      connectMs: z.number().int().min(1).default(5000),
      clientMs: z.number().int().min(1).default(50_000),
      serverMs: z.number().int().min(1).default(50_000),
    })
    .prefault({})
    .describe('connect, client and server timeouts'),
});

/** Options of the haproxy crate as a spec writes them. */
export type HaproxyOptions = z.input<typeof haproxyOptions>;
type Options = z.output<typeof haproxyOptions>;

/** Where the crate installs its helper that saves HAProxy's server state before a reload or stop. */
export const SAVE_STATE_HELPER = '/usr/local/lib/forklift/haproxy-save-state';
/** The systemd drop-in that loads the weights fragment first, checks before reloads and saves server state. */
export const HAPROXY_DROPIN = '/etc/systemd/system/haproxy.service.d/forklift.conf';

/** One server behind the LB. */
export interface LbServer {
  name: string;
  address: string;
  color: Color;
}

/** The servers of each color: running nodes with the server role, by color (uncolored nodes count as blue). */
export function lbServers(nodes: readonly NodeRecord[], role: string, port: number): LbServer[] {
  return peers(nodes, { role })
    .filter((node) => (node.color ?? 'blue') === 'blue' || node.color === 'green')
    .map((node) => ({ name: node.id, address: `${node.address}:${port}`, color: (node.color ?? 'blue') as Color }));
}

/** The other color. */
function otherColor(color: Color): Color {
  return color === 'blue' ? 'green' : 'blue';
}

/** The per-server weights of an LB with no state yet: all traffic on `live`. */
export function initialWeights(servers: readonly LbServer[], live: Color): Record<string, number> {
  const out: Record<string, number> = {};
  for (const color of COLORS) out[color] = serverWeight(color === live ? 100 : 0, servers.filter((s) => s.color === color).length || 1);
  return out;
}

/** haproxy.cfg for the app: live frontend and backend, color backends with checks, staging frontend. */
export function haproxyConfig(o: Options, servers: readonly LbServer[]): string {
  const app = o.app;
  const lines = [
    `# managed by forklift (crate haproxy): ${app}`,
    `# Loaded after ${fragmentPath(app)}, which sets the per-color server weights (promote-color keeps it):`,
    '# converging this file never moves traffic between the colors.',
    ...COLORS.flatMap((color) => [
      `.if !defined(${weightVariable(app, color)})`,
      `    .alert "${fragmentPath(app)} must be loaded first (-f): it sets ${weightVariable(app, color)} (the crate's systemd drop-in does)"`,
      '.endif',
    ]),
    'global',
    '    log /dev/log local0',
    '    chroot /var/lib/haproxy',
    `    stats socket ${ADMIN_SOCKET} mode 660 level admin expose-fd listeners`,
    '    stats timeout 30s',
    '    user haproxy',
    '    group haproxy',
    '    daemon',
    `    server-state-file ${SERVER_STATE_FILE}`,
    '',
    'defaults',
    '    log global',
    '    mode http',
    '    option dontlognull',
    '    load-server-state-from-file global',
    `    timeout connect ${o.timeouts.connectMs}ms`,
    `    timeout client ${o.timeouts.clientMs}ms`,
    `    timeout server ${o.timeouts.serverMs}ms`,
    '    timeout http-request 10s',
    '    # a request that could not reach a server goes to another one; only GET/HEAD are replayed after',
    '    # a server closed without answering',
    '    retries 3',
    '    option redispatch 1',
    '    retry-on conn-failure empty-response',
    `    default-server inter ${o.checkIntervalMs}ms fall ${o.fall} rise ${o.rise}`,
    '',
    `frontend ${app}`,
    `    bind :${o.port}`,
    `    default_backend ${liveBackend(app)}`,
    '',
    `frontend ${stagingFrontend(app)}`,
    `    bind :${o.stagingPort}`,
    '    # the staged color (the one that is not live) comes from the map promote-color keeps',
    `    use_backend %[str(${STAGING_MAP_KEY}),map(${stagingMapPath(app)})]`,
    `    default_backend ${colorBackend(app, otherColor(o.live))}`,
    '',
    `backend ${liveBackend(app)}`,
    '    balance roundrobin',
    '    http-request disable-l7-retry unless METH_GET',
    ...servers.map((s) => `    server ${s.name} ${s.address} weight "\${${weightVariable(app, s.color)}}" track ${colorBackend(app, s.color)}/${s.name}`),
    '',
  ];
  for (const color of COLORS) {
    lines.push(
      `backend ${colorBackend(app, color)}`,
      '    balance roundrobin',
      '    http-request disable-l7-retry unless METH_GET',
      '    option httpchk',
      `    http-check send meth GET uri ${o.healthPath} ver HTTP/1.1 hdr Host ${app}`,
      '    http-check expect status 200',
      ...servers.filter((s) => s.color === color).map((s) => `    server ${s.name} ${s.address} check`),
      '',
    );
  }
  return lines.join('\n');
}

/** The drop-in: fragment first on every start, check and reload; server state saved before a reload or stop. */
export function haproxyDropin(app: string): string {
  return [
    `# managed by forklift (crate haproxy): ${app}'s weights fragment loads first; haproxy -c before every`,
    '# start and reload; the runtime server state (weights, checks) is saved before a reload or stop',
    '[Service]',
    `Environment="FORKLIFT_WEIGHTS=${fragmentPath(app)}"`,
    'ExecStartPre=/usr/sbin/haproxy -f ${FORKLIFT_WEIGHTS} -f $CONFIG -c',
    'ExecStart=',
    'ExecStart=/usr/sbin/haproxy -Ws -f ${FORKLIFT_WEIGHTS} -f $CONFIG -p $PIDFILE $EXTRAOPTS',
    'ExecReload=',
    'ExecReload=/usr/sbin/haproxy -Ws -f ${FORKLIFT_WEIGHTS} -f $CONFIG -c $EXTRAOPTS',
    `ExecReload=${SAVE_STATE_HELPER}`,
    'ExecReload=/bin/kill -USR2 $MAINPID',
    `ExecStop=-${SAVE_STATE_HELPER}`,
    '',
  ].join('\n');
}

/** The helper that writes `show servers state` to the server-state-file (through a temporary file). */
export const SAVE_STATE_SCRIPT = `#!/bin/sh
# managed by forklift (crate haproxy): save HAProxy's runtime server state (weights, check and admin
# state) to its server-state-file, so a reload or restart keeps it
set -eu
state=${SERVER_STATE_FILE}
[ -S ${ADMIN_SOCKET} ] || exit 0
tmp=$(mktemp "$state.XXXXXX")
if echo "show servers state" | socat -t 10 stdio unix-connect:${ADMIN_SOCKET} > "$tmp" && [ -s "$tmp" ]; then
  chmod 0644 "$tmp"
  mv -f "$tmp" "$state"
else
  rm -f "$tmp"
  exit 1
fi
`;

/** sh writing CONTENT to PATH only when PATH does not exist yet (temporary file, no clobber). */
function createOnce(path: string, content: string): string {
  return [
    'set -eu',
    `if [ -L ${shellQuote(PROMOTE_DIR)} ]; then echo ${shellQuote(`${PROMOTE_DIR} is a symlink`)} >&2; exit 1; fi`,
    `tmp=$(mktemp ${shellQuote(`${path}.XXXXXX`)})`,
    `printf '%s' ${shellQuote(content)} > "$tmp"`,
    'chmod 0644 "$tmp"',
    `mv -n "$tmp" ${shellQuote(path)}`,
    'rm -f "$tmp"',
  ].join('\n');
}

/**
 * HAProxy as the blue/green load balancer of an app (CONTRACTS §5): frontend APP on `port` to the live backend
 * APP (every server of both colors, weighted; health tracked from its color backend), backends APP_blue and
 * APP_green with HTTP checks on `healthPath`, a staging frontend on `stagingPort` reaching only the staged
 * color, the admin socket for promote-color, a server-state-file, `haproxy -c` before every reload. Weights
 * and the staged color live on the node (promote-color's files); `live` only seeds an LB without them.
 * @example haproxy({ app: 'wine-cellar' })   // servers: ctx.nodes with role web, by color
 */
export const haproxy = defineCrate({
  name: 'haproxy',
  summary:
    'HAProxy blue/green LB: live frontend and weighted backend, per-color backends with health checks, staging frontend, admin socket, server-state-file; weights kept on the node by promote-color',
  schema: haproxyOptions,
  build: (o) => {
    const configure = (ctx: SpecContext): ActionEntry[] => {
      const servers = lbServers(ctx.nodes, o.serverRole, o.serverPort);
      const config = haproxyConfig(o, servers);
      const fragment = fragmentPath(o.app);
      return [
        { action: 'package', id: 'haproxy-package', name: 'haproxy' },
        { action: 'package', id: 'haproxy-socat', name: 'socat' },
        { action: 'directory', id: 'haproxy-promote-dir', path: PROMOTE_DIR, owner: 'root', group: 'root', mode: '0755' },
        // the node-side state: seeded once from `live`, then promote-color's (never overwritten here)
        { action: 'exec', id: 'haproxy-weights-seed', script: createOnce(fragment, renderFragment(o.app, initialWeights(servers, o.live))), creates: fragment },
        {
          action: 'exec',
          id: 'haproxy-staging-seed',
          script: createOnce(stagingMapPath(o.app), renderStagingMap(o.app, otherColor(o.live))),
          creates: stagingMapPath(o.app),
        },
        { action: 'directory', id: 'haproxy-helper-dir', path: '/usr/local/lib/forklift', owner: 'root', group: 'root', mode: '0755' },
        { action: 'file', id: 'haproxy-save-state', path: SAVE_STATE_HELPER, content: SAVE_STATE_SCRIPT, owner: 'root', group: 'root', mode: '0755' },
        { action: 'directory', id: 'haproxy-dropin-dir', path: '/etc/systemd/system/haproxy.service.d', owner: 'root', group: 'root', mode: '0755' },
        { action: 'file', id: 'haproxy-dropin', path: HAPROXY_DROPIN, content: haproxyDropin(o.app), owner: 'root', group: 'root', mode: '0644' },
        daemonReload('haproxy-daemon-reload', 'haproxy.service', [HAPROXY_DROPIN]),
        {
          // the new configuration is checked with the weights fragment before it replaces the old one
          action: 'exec',
          id: 'haproxy-check',
          script: `set -eu\ntmp=$(mktemp)\ntrap 'rm -f "$tmp"' EXIT\nprintf '%s' ${shellQuote(config)} > "$tmp"\nhaproxy -c -f ${shellQuote(fragment)} -f "$tmp"`,
          unless: `printf '%s' ${shellQuote(config)} | cmp -s - /etc/haproxy/haproxy.cfg`,
        },
        { action: 'file', id: 'haproxy-config', path: '/etc/haproxy/haproxy.cfg', content: config, owner: 'root', group: 'root', mode: '0644' },
        // a changed drop-in needs a restart (new command line); a changed configuration a reload (checked, state saved)
        { action: 'service', id: 'haproxy-service', name: 'haproxy', state: 'started', enabled: true, restartOn: ['haproxy-dropin'] },
        { action: 'service', id: 'haproxy-reload', name: 'haproxy', restartOn: ['haproxy-config', 'haproxy-save-state'], onChange: 'reload' },
      ];
    };
    return serverSpec({
      settings: { haproxy: { app: o.app, port: o.port, stagingPort: o.stagingPort, adminSocket: ADMIN_SOCKET } },
      phases: { configure },
    });
  },
});
