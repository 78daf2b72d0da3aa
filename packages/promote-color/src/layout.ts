// The HAProxy layout promote-color and the haproxy crate share (names, paths, the node-side state
// files). Pure: no IO, no dependencies, so the crate can import it (`@forklift/promote-color/layout`)
// without loading SSH.

/** Where promote-color keeps its state on an LB node (JSON state, HAProxy fragment, staging map, lock). */
export const PROMOTE_DIR = '/var/lib/forklift/promote';
/** HAProxy's admin socket (runtime API, level admin). */
export const ADMIN_SOCKET = '/run/haproxy/admin.sock';
/** HAProxy's server-state-file: runtime weights, check and admin state survive a reload. */
export const SERVER_STATE_FILE = '/var/lib/haproxy/server-state';
/** The sum of the per-server weights of a color at 100 % (HAProxy weights go up to 256). */
export const COLOR_WEIGHT_TOTAL = 200;

const APP_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const COLOR_NAME = /^[a-z][a-z0-9]{0,31}$/;

/** Whether a string can name an app (HAProxy proxy names, file names): letters, digits, `_ . -`. */
export function isAppName(name: string): boolean {
  return APP_NAME.test(name);
}

/** Whether a string can name a color: lower-case letters and digits, starting with a letter (`blue`, `green`). */
export function isColorName(name: string): boolean {
  return COLOR_NAME.test(name);
}

/** The live backend (and frontend) of an app: every server of every color, weighted. @example liveBackend('wine-cellar') // 'wine-cellar' */
export function liveBackend(app: string): string {
  return app;
}

/** A color's own backend, which owns the health checks. @example colorBackend('wine-cellar', 'green') // 'wine-cellar_green' */
export function colorBackend(app: string, color: string): string {
  return `${app}_${color}`;
}

/** The staging frontend (its own port) that reaches only the staged color. */
export function stagingFrontend(app: string): string {
  return `${app}_staging`;
}

/** promote-color's JSON state on the LB node. */
export function statePath(app: string): string {
  return `${PROMOTE_DIR}/${app}.json`;
}

/** The HAProxy configuration fragment holding the weights (loaded with `-f` before haproxy.cfg). */
export function fragmentPath(app: string): string {
  return `${PROMOTE_DIR}/${app}.haproxy.cfg`;
}

/** The map file naming the staged color's backend, read by the staging frontend (runtime: `set map`). */
export function stagingMapPath(app: string): string {
  return `${PROMOTE_DIR}/${app}.map`;
}

/** The lock file one promote-color run holds (flock) on each LB node. */
export function lockPath(app: string): string {
  return `${PROMOTE_DIR}/${app}.lock`;
}

/** The key of the staging map's one entry. */
export const STAGING_MAP_KEY = 'staged';

function envWord(text: string): string {
  return text.replace(/[^A-Za-z0-9]/g, '_');
}

/** The environment variable (set by the fragment) holding the per-server weight of a color. @example weightVariable('wine-cellar', 'blue') // 'FORKLIFT_wine_cellar_blue_WEIGHT' */
export function weightVariable(app: string, color: string): string {
  return `FORKLIFT_${envWord(app)}_${envWord(color)}_WEIGHT`;
}

/**
 * The HAProxy weight of each server of a color that takes `percent` of the traffic with `servers` servers:
 * the color's servers share COLOR_WEIGHT_TOTAL; at least 1 while the color takes any traffic.
 * @example serverWeight(10, 1) // 20
 */
export function serverWeight(percent: number, servers: number): number {
  if (percent <= 0 || servers <= 0) return 0;
  return Math.min(256, Math.max(1, Math.round((percent * COLOR_WEIGHT_TOTAL) / 100 / servers)));
}

/** The weights fragment: a global section setting one variable per color, read before haproxy.cfg. */
export function renderFragment(app: string, weights: Readonly<Record<string, number>>): string {
  const colors = Object.keys(weights).sort();
  let out = `# promote-color state for ${app}: per-server weights of each color (written atomically; do not edit)\nglobal\n`;
  for (const color of colors) out += `    setenv ${weightVariable(app, color)} ${weights[color]}\n`;
  return out;
}

/** The staging map: its one entry names the backend the staging frontend uses. */
export function renderStagingMap(app: string, staged: string): string {
  return `${STAGING_MAP_KEY} ${colorBackend(app, staged)}\n`;
}
