// HAProxy's `show stat` CSV, reduced to what promote-color needs: per server of the live backend and of
// each color backend its weight, check state and the counters the window gates read.
import { colorBackend, liveBackend } from './layout.js';

/** One server line of `show stat`. */
export interface ServerStat {
  backend: string;
  server: string;
  /** UP, DOWN, MAINT, DRAIN, NOLB, `UP 1/2` ... as HAProxy prints it. */
  status: string;
  /** The weight HAProxy uses now (`uweight`, the user weight, when the column exists). */
  weight: number;
  /** Requests (streams) sent to the server, including those that failed to connect. */
  sessions: number;
  /** Failed requests: 5xx answers, connection and response errors, retries, redispatches, server aborts. */
  errors: number;
  /** Requests being served now. */
  current: number;
  /** The last health check's result (`L7OK`, `L4CON`, `L7STS` ...) and code. */
  checkStatus: string;
  checkCode: string;
  /** `ip:port` of the server. */
  address: string;
  /** The server this one tracks (`backend/server`), when it tracks one. */
  tracked: string;
}

/** `show stat` parsed: every server line by backend. */
export interface StatTable {
  servers: ServerStat[];
  backends: Set<string>;
}

function number(value: string | undefined): number {
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}

/**
 * Parse the CSV of `show stat`; anything before its `# pxname,...` header (the answers of commands sent in the
 * same line, e.g. errors of `set weight`) is returned as `preamble`.
 */
export function parseShowStat(text: string): { table: StatTable; preamble: string } {
  const start = text.indexOf('# pxname,');
  if (start < 0) throw new Error(`HAProxy did not answer "show stat" with its CSV: ${JSON.stringify(text.slice(0, 200))}`);
  const preamble = text.slice(0, start).trim();
  const lines = text.slice(start).split('\n');
  const header = lines[0]!.slice(2).split(',');
  const column = (name: string): number => header.indexOf(name);
  const at = {
    px: column('pxname'),
    sv: column('svname'),
    status: column('status'),
    weight: column('weight'),
    uweight: column('uweight'),
    stot: column('stot'),
    scur: column('scur'),
    econ: column('econ'),
    eresp: column('eresp'),
    wretr: column('wretr'),
    wredis: column('wredis'),
    hrsp5xx: column('hrsp_5xx'),
    srvAbrt: column('srv_abrt'),
    checkStatus: column('check_status'),
    checkCode: column('check_code'),
    addr: column('addr'),
    tracked: column('tracked'),
  };
  const servers: ServerStat[] = [];
  const backends = new Set<string>();
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const f = line.split(',');
    const server = f[at.sv] ?? '';
    const backend = f[at.px] ?? '';
    if (server === 'BACKEND') backends.add(backend);
    if (server === 'FRONTEND' || server === 'BACKEND') continue;
    const get = (index: number): string => (index >= 0 ? (f[index] ?? '') : '');
    servers.push({
      backend,
      server,
      status: get(at.status),
      weight: number(at.uweight >= 0 && get(at.uweight) !== '' ? get(at.uweight) : get(at.weight)),
      sessions: number(get(at.stot)),
      errors: number(get(at.econ)) + number(get(at.eresp)) + number(get(at.wretr)) + number(get(at.wredis)) + number(get(at.hrsp5xx)) + number(get(at.srvAbrt)),
      current: number(get(at.scur)),
      checkStatus: get(at.checkStatus),
      checkCode: get(at.checkCode),
      address: get(at.addr),
      tracked: get(at.tracked),
    });
  }
  return { table: { servers, backends }, preamble };
}

/** How an app is laid out on one LB, read from its stats: the colors and their servers. */
export interface AppLayout {
  app: string;
  /** color -> names of its servers (in its color backend, and in the live backend). */
  colors: Map<string, string[]>;
}

/** The colors of an app on one LB: every backend `APP_<color>` whose servers also sit in the live backend `APP`. */
export function appLayout(app: string, table: StatTable): AppLayout | undefined {
  const live = liveBackend(app);
  if (!table.backends.has(live)) return undefined;
  const liveServers = new Set(table.servers.filter((s) => s.backend === live).map((s) => s.server));
  const colors = new Map<string, string[]>();
  const prefix = `${app}_`;
  for (const backend of [...table.backends].sort()) {
    if (!backend.startsWith(prefix)) continue;
    const color = backend.slice(prefix.length);
    if (!/^[a-z][a-z0-9]*$/.test(color)) continue;
    const names = table.servers.filter((s) => s.backend === backend).map((s) => s.server);
    // a color backend with no server yet (its nodes not provisioned) still names a color
    if (names.length === 0 || names.some((name) => liveServers.has(name)))
      colors.set(
        color,
        names.filter((name) => liveServers.has(name)),
      );
  }
  return { app, colors };
}

/** The server lines of one color: in the live backend (traffic, weights) and in the color backend (checks). */
export function colorServers(table: StatTable, app: string, color: string): { live: ServerStat[]; checked: ServerStat[] } {
  const backend = colorBackend(app, color);
  const checked = table.servers.filter((s) => s.backend === backend);
  const names = new Set(checked.map((s) => s.server));
  const live = table.servers.filter((s) => s.backend === liveBackend(app) && names.has(s.server));
  return { live, checked };
}

/** Whether HAProxy's checks call a server fully UP (not `UP 1/2`, which is failing checks on its way down). */
export function isUp(stat: ServerStat): boolean {
  return stat.status === 'UP';
}

/** Whether a server is out of service for HAProxy: DOWN, in maintenance, or not taking load balanced traffic. */
export function isOut(stat: ServerStat): boolean {
  return !/^UP\b/.test(stat.status) && stat.status !== 'DRAIN';
}
