import { serverSpec, type ActionEntry, type SpecContext } from '@forklift/spec';
import { shellQuote } from '@forklift/contract';
import { z } from 'zod';
import { defineCrate } from './crate.js';
import { daemonReload } from './systemd.js';

/** Names the crate puts into paths, unit names and user names: lower-case letters, digits and dashes. */
const appName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be 1-32 lower-case letters, digits or dashes, starting with a letter');
const principalName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'must be a user/group name (lower-case letters, digits, _ and -)');
const safeAbsolute = z
  .string()
  .regex(/^\/[A-Za-z0-9._/-]*$/, 'must be an absolute path of letters, digits, . _ / -')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ..');
const controllerFile = z
  .string()
  .min(1)
  .refine((p) => !p.includes('\0'), 'contains a NUL byte')
  .describe('a file on the controller, relative to the spec project');
const noNewline = z.string().refine((v) => !/[\0\n\r]/.test(v), 'must be one line (no newline or NUL)');
/** A JSON object (what the app's configuration file holds). */
const jsonObject = z.record(z.string(), z.unknown());
/** A function of the render context returning the configuration (TypeScript specs: peers come from ctx.nodes). */
type ConfigFunction = (ctx: SpecContext) => Record<string, unknown>;
const configFunction = z.custom<ConfigFunction>((value) => typeof value === 'function', 'must be a JSON object or a function of the render context');

/** Options of the app-server crate. */
export const appServerOptions = z.strictObject({
  name: appName.describe('the app: systemd unit, directories /srv/NAME and /etc/NAME, default user'),
  version: z
    .string()
    .regex(/^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/, 'must be a version of letters, digits and . + _ - (e.g. 1.2.0)')
    .describe('the release: installed under BASE/NAME/releases/VERSION, which the current symlink points to'),
  bundle: controllerFile.describe('the app bundle on the controller (one file, e.g. build/wine-cellar.mjs), relative to the spec project; uploaded by sha256'),
  runtime: z
    .strictObject({
      path: controllerFile.describe('the Node.js binary on the controller, relative to the spec project'),
      version: z
        .string()
        .regex(/^v?\d+\.\d+\.\d+$/, 'must be a Node.js version like v20.20.2')
        .describe('its version (names the install directory)'),
    })
    .describe('the Node.js runtime shipped with the app, installed as /opt/forklift/node/VERSION/bin/node'),
  port: z.number().int().min(1).max(65535).default(3000).describe('the TCP port the app listens on (readiness check, and what nginx reads)'),
  user: principalName.optional().describe('the unix user the app runs as (default: the app name)'),
  uid: z.number().int().min(100).max(65000).optional().describe('its uid (give one so files on a shared store match across nodes)'),
  group: principalName.default('apps').describe('the common group every app server runs in (its primary group)'),
  gid: z.number().int().min(100).max(65000).optional().describe('its gid'),
  baseDir: safeAbsolute.default('/srv').describe('where BASE/NAME/releases/VERSION and BASE/NAME/current live'),
  config: z
    .union([jsonObject, configFunction])
    .optional()
    .describe('the app configuration (JSON), or a function of the render context returning it; written to configPath'),
  configPath: safeAbsolute.optional().describe('where the configuration file goes (default /etc/NAME/config.json)'),
  configEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name')
    .optional()
    .describe('an environment variable that names configPath for the app (e.g. WINE_CELLAR_CONFIG)'),
  env: z
    .record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'environment names are upper-case letters, digits and _'), noNewline)
    .default({})
    .describe('extra environment of the service (not secret: it is in the unit file)'),
  secrets: z
    .array(
      z.strictObject({
        path: safeAbsolute.describe('where the secret goes on the node (readable only by the app user)'),
        from: controllerFile.describe('the controller file holding it, relative to the spec project; sent out of band, never in a record'),
      }),
    )
    .default([])
    .describe('secret files (passwords, keys) sent out of band'),
  readiness: z
    .strictObject({
      path: z
        .string()
        .regex(/^\/[A-Za-z0-9._~/?=&%-]*$/, 'must be a URL path starting with /')
        .default('/healthz')
        .describe('the URL path checked on 127.0.0.1:PORT'),
      status: z
        .union([z.literal('any'), z.number().int().min(100).max(599)])
        .default('any')
        .describe('the HTTP status that means ready, or any answer'),
      timeoutS: z.number().int().min(1).max(3600).default(60).describe('how long to wait after a start or restart'),
    })
    .default({ path: '/healthz', status: 'any', timeoutS: 60 })
    .describe('the readiness check run after every converge'),
  keepReleases: z.number().int().min(1).max(100).default(3).describe('releases kept on the node, the current one included'),
});

/** Options of the app-server crate as a spec writes them. */
export type AppServerOptions = z.input<typeof appServerOptions>;

/** What other crates (nginx) read: `ctx.settings.appServer[name]`. */
export interface AppServerSettings {
  port: number;
  version: string;
  user: string;
  group: string;
  current: string;
}

/** Where a runtime version is installed on the node. */
export function runtimeDir(version: string): string {
  return `/opt/forklift/node/${version.startsWith('v') ? version : `v${version}`}`;
}

/** A value in a systemd unit's `Environment=` line: double-quoted, `\` and `"` escaped, `%` doubled (a specifier otherwise). */
export function systemdQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

/** The node-side readiness probe: Node's own fetch, so the node needs no curl. argv: url, status|any, seconds. */
const PROBE = [
  'const [url, want, limit] = process.argv.slice(1);',
  'const deadline = Date.now() + Number(limit) * 1000;',
  "let last = 'no answer';",
  'for (;;) {',
  '  try {',
  '    const res = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: "manual" });',
  "    if (want === 'any' || res.status === Number(want)) process.exit(0);",
  "    last = 'HTTP ' + res.status;",
  '  } catch (error) { last = error.cause?.code ?? error.message; }',
  '  if (Date.now() >= deadline) { console.error(url + ": not ready after " + limit + " s (" + last + ")"); process.exit(1); }',
  '  await new Promise((resolve) => setTimeout(resolve, 250));',
  '}',
].join('\n');

function unitFile(o: z.output<typeof appServerOptions>, user: string, node: string, configPath: string): string {
  const home = `${o.baseDir}/${o.name}`;
  const env: Record<string, string> = { NODE_ENV: 'production', PORT: String(o.port), ...(o.configEnv ? { [o.configEnv]: configPath } : {}), ...o.env };
  return [
    `# managed by forklift (crate app-server): ${o.name}`,
    '[Unit]',
    `Description=${o.name} (forklift app-server)`,
    'After=network-online.target remote-fs.target',
    'Wants=network-online.target',
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    'Type=simple',
    `User=${user}`,
    `Group=${o.group}`,
    ...Object.entries(env).map(([key, value]) => `Environment=${systemdQuote(`${key}=${value}`)}`),
    `WorkingDirectory=${home}/current`,
    `ExecStart=${node} ${home}/current/${bundleName(o.bundle)}`,
    'Restart=on-failure',
    'RestartSec=1',
    'KillSignal=SIGTERM',
    'TimeoutStopSec=15',
    'NoNewPrivileges=yes',
    'PrivateTmp=yes',
    'ProtectSystem=full',
    `SyslogIdentifier=${o.name}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** The bundle's file name on the node: the controller file's base name. */
function bundleName(path: string): string {
  const base = path.split('/').pop() ?? '';
  if (!/^[A-Za-z0-9._-]+$/.test(base) || base === '.' || base === '..') return 'app.mjs';
  return base;
}

/**
 * An app shipped as one bundle file with the Node.js runtime it needs (both uploaded out of band by
 * sha256, never inside the plan), installed under BASE/NAME/releases/VERSION with a `current` symlink,
 * run by a systemd unit (restart on failure) as its own unix user in a common group, checked for
 * readiness after every converge. A new version, configuration, secret or runtime restarts it.
 * @example appServer({ name: 'wine-cellar', version: '1.0.0', bundle: 'build/wine-cellar.mjs', runtime: { path: 'build/node', version: 'v20.20.2' }, configEnv: 'WINE_CELLAR_CONFIG', config: (ctx) => ({ port: 3000 }) })
 */
export const appServer = defineCrate({
  name: 'app-server',
  summary: 'an app bundle + its Node.js runtime (uploaded by sha256), releases/<version> + current symlink, a systemd unit as its own user, a readiness check',
  schema: appServerOptions,
  build: (o) => {
    const user = o.user ?? o.name;
    const home = `${o.baseDir}/${o.name}`;
    const releases = `${home}/releases`;
    const release = `${releases}/${o.version}`;
    const runtime = runtimeDir(o.runtime.version);
    const node = `${runtime}/bin/node`;
    const configPath = o.configPath ?? `/etc/${o.name}/config.json`;
    const configDir = configPath.slice(0, configPath.lastIndexOf('/')) || '/';
    const unit = `/etc/systemd/system/${o.name}.service`;
    const id = (part: string): string => `app-${o.name}-${part}`;
    const settings: AppServerSettings = { port: o.port, version: o.version, user, group: o.group, current: `${home}/current` };
    const q = shellQuote;
    const url = `http://127.0.0.1:${o.port}${o.readiness.path}`;
    const probe = (seconds: number): string => `${q(node)} --input-type=module -e ${q(PROBE)} ${q(url)} ${q(String(o.readiness.status))} ${seconds}`;

    const configure = (ctx: SpecContext): ActionEntry[] => {
      const config = typeof o.config === 'function' ? o.config(ctx) : o.config;
      const watched = [id('bundle'), id('current'), id('unit')];
      const actions: ActionEntry[] = [
        { action: 'package', id: id('runtime-libs'), name: ['libstdc++6', 'ca-certificates'] },
        { action: 'group', id: id('group'), name: o.group, system: true, ...(o.gid !== undefined ? { gid: o.gid } : {}) },
        {
          action: 'user',
          id: id('user'),
          name: user,
          group: o.group,
          system: true,
          home,
          createHome: false,
          shell: '/usr/sbin/nologin',
          comment: `${o.name} app server (forklift)`,
          ...(o.uid !== undefined ? { uid: o.uid } : {}),
        },
        // the runtime: one directory per Node.js version, so a new one never overwrites a running binary
        { action: 'directory', id: id('runtime-dir'), path: `${runtime}/bin`, owner: 'root', group: 'root', mode: '0755' },
        { action: 'file', id: id('runtime'), path: node, upload: o.runtime.path, owner: 'root', group: 'root', mode: '0755' },
        // code is root's: the app cannot change what it runs
        { action: 'directory', id: id('home'), path: home, owner: 'root', group: 'root', mode: '0755' },
        { action: 'directory', id: id('release-dir'), path: release, owner: 'root', group: 'root', mode: '0755' },
        { action: 'file', id: id('bundle'), path: `${release}/${bundleName(o.bundle)}`, upload: o.bundle, owner: 'root', group: 'root', mode: '0644' },
        { action: 'symlink', id: id('current'), path: `${home}/current`, target: `releases/${o.version}` },
      ];
      if (config !== undefined || o.secrets.length > 0) {
        actions.push({ action: 'directory', id: id('config-dir'), path: configDir, owner: 'root', group: 'root', mode: '0755' });
      }
      if (config !== undefined) {
        watched.push(id('config'));
        actions.push({
          action: 'file',
          id: id('config'),
          path: configPath,
          content: `${JSON.stringify(config, null, 2)}\n`,
          owner: 'root',
          group: o.group,
          mode: '0640',
        });
      }
      o.secrets.forEach((secret, index) => {
        const secretId = id(`secret-${index + 1}`);
        watched.push(secretId);
        actions.push({ action: 'file', id: secretId, path: secret.path, contentFrom: secret.from, sensitive: true, owner: user, group: 'root', mode: '0400' });
      });
      actions.push(
        { action: 'file', id: id('unit'), path: unit, content: unitFile(o, user, node, configPath), owner: 'root', group: 'root', mode: '0644' },
        daemonReload(id('daemon-reload'), `${o.name}.service`),
        { action: 'service', id: id('service'), name: o.name, state: 'started', enabled: true, restartOn: watched },
        {
          action: 'exec',
          id: id('ready'),
          script: `${probe(o.readiness.timeoutS)} || { journalctl -u ${q(`${o.name}.service`)} -n 30 --no-pager >&2 || true; exit 1; }`,
          unless: `${probe(0)} 2>/dev/null`,
        },
        {
          action: 'exec',
          id: id('prune'),
          // releases other than the current one, newest first; keep keepReleases - 1 of them
          script: `cd ${q(releases)} && ls -1t | grep -vxF -e ${q(o.version)} | tail -n +${o.keepReleases} | while read -r old; do rm -rf -- "./$old"; done`,
          onlyIf: `[ "$(ls -1 ${q(releases)} | grep -vxF -e ${q(o.version)} | wc -l)" -gt ${o.keepReleases - 1} ]`,
        },
      );
      return actions;
    };

    return serverSpec({
      settings: { appServer: { [o.name]: settings } },
      phases: { configure },
    });
  },
});
