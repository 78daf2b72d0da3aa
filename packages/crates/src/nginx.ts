import { LABEL_PATTERN, peers, serverSpec, type ActionEntry, type SpecContext } from '@forklift/spec';
import { z } from 'zod';
import { colorOf, colorSchema } from './color.js';
import { crateError, defineCrate } from './crate.js';
import { requirePeers } from './peers.js';
import { daemonReload } from './systemd.js';

const NGINX_RELOAD_DROPIN_PATH = '/etc/systemd/system/nginx.service.d/forklift-reload.conf';

const safeAbsolute = z
  .string()
  .regex(/^\/[A-Za-z0-9._/-]*$/, 'must be an absolute path of letters, digits, . _ / -')
  .refine((p) => !p.split('/').includes('..'), 'must not contain ..');

/** Options of the nginx crate. */
export const nginxOptions = z.strictObject({
  app: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be 1-32 lower-case letters, digits or dashes')
    .describe('the app proxied (names the upstream and the site file)'),
  port: z.number().int().min(1).max(65535).default(80).describe('the port nginx listens on'),
  appPort: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .describe("the app servers' port (default: the app-server crate's setting for this app on this node, else 3000)"),
  appRole: z
    .string()
    .regex(LABEL_PATTERN, 'must be a role: lowercase letters, digits, _ and -')
    .default('app')
    .describe('the role of the app server nodes in the node records'),
  color: colorSchema.optional().describe("proxy to the app servers of this color (default: the node's own color, else blue)"),
  labels: z
    .strictObject({
      path: z
        .string()
        .regex(/^\/[A-Za-z0-9._-]+\/$/, 'must be one URL path segment between slashes, e.g. /labels/')
        .default('/labels/'),
      dir: safeAbsolute.default('/mnt/files/labels'),
    })
    .nullable()
    .default({ path: '/labels/', dir: '/mnt/files/labels' })
    .describe('a URL path served from a directory of the shared file store (null: none)'),
  keepalive: z.number().int().min(1).max(1024).default(32).describe('idle keep-alive connections kept open to the app servers, per worker'),
  maxBodyMiB: z.number().int().min(1).max(1024).default(8).describe('largest request body (label uploads)'),
  gzipTypes: z
    .array(z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/, 'must be a MIME type'))
    .default(['application/json', 'application/javascript', 'text/css', 'text/plain', 'image/svg+xml'])
    .describe('MIME types compressed besides text/html'),
});

/** Options of the nginx crate as a spec writes them. */
export type NginxOptions = z.input<typeof nginxOptions>;

/** The upstream servers for the app: every running app node of the color, by address, sorted by node id. */
export function appUpstreams(ctx: SpecContext, options: { role: string; color: string }): string[] {
  return requirePeers(ctx, { role: options.role, color: options.color }, { field: 'upstreams' }).map((node) => node.address);
}

/** The site configuration (conf.d/APP.conf). */
export function nginxSite(o: z.output<typeof nginxOptions>, color: string, upstreams: string[], appPort: number): string {
  const upstream = `${o.app.replace(/-/g, '_')}_${color}`;
  const lines = [
    `# managed by forklift (crate nginx): ${o.app}, color ${color}`,
    `upstream ${upstream} {`,
    ...upstreams.map((address) => `    server ${address}:${appPort} max_fails=2 fail_timeout=5s;`),
    `    keepalive ${o.keepalive};`,
    '    keepalive_timeout 60s;',
    '}',
    '',
    'server {',
    `    listen ${o.port} default_server;`,
    '    server_name _;',
    `    client_max_body_size ${o.maxBodyMiB}m;`,
    '',
    '    gzip on;',
    '    gzip_proxied any;',
    '    gzip_vary on;',
    '    gzip_min_length 256;',
    `    gzip_types ${o.gzipTypes.join(' ')};`,
    '',
  ];
  if (o.labels) {
    lines.push(`    location ${o.labels.path} {`, `        alias ${o.labels.dir}/;`, '        try_files $uri =404;', '        expires 1h;', '    }', '');
  }
  lines.push(
    '    location / {',
    `        proxy_pass http://${upstream};`,
    '        proxy_http_version 1.1;',
    '        proxy_set_header Connection "";',
    '        proxy_set_header Host $host;',
    '        proxy_set_header X-Real-IP $remote_addr;',
    '        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '        proxy_set_header X-Forwarded-Proto $scheme;',
    '        proxy_connect_timeout 2s;',
    '        proxy_read_timeout 30s;',
    '        proxy_next_upstream error timeout;',
    '        proxy_next_upstream_tries 2;',
    '    }',
    '}',
    '',
  );
  return lines.join('\n');
}

/** A drop-in making every `systemctl reload nginx` run `nginx -t` first (Debian's unit reloads without it). */
export const NGINX_RELOAD_DROPIN = [
  '# managed by forklift (crate nginx): test the configuration before every reload',
  '[Service]',
  'ExecReload=',
  "ExecReload=/usr/sbin/nginx -t -q -g 'daemon on; master_process on;'",
  "ExecReload=/usr/sbin/nginx -g 'daemon on; master_process on;' -s reload",
  '',
].join('\n');

/**
 * nginx as the web tier of one color: a reverse proxy to the app servers of its own color found in the
 * node records (keep-alive upstreams, gzip), `/labels/` served from the shared file store, `nginx -t`
 * before every reload (a failing test stops the run before the reload and keeps the reload pending).
 * @example nginx({ app: 'wine-cellar' })   // upstreams: ctx.nodes with role app and this node's color
 */
export const nginx = defineCrate({
  name: 'nginx',
  summary: 'nginx reverse proxy to the app servers of its color (keep-alive upstreams, gzip), /labels/ from the shared store, nginx -t before every reload',
  schema: nginxOptions,
  build: (o) => {
    const site = `/etc/nginx/conf.d/${o.app}.conf`;
    const configure = (ctx: SpecContext): ActionEntry[] => {
      const color = colorOf(ctx, o.color);
      const appSettings = (ctx.settings as { appServer?: Record<string, { port?: number }> }).appServer?.[o.app];
      const appPort = o.appPort ?? appSettings?.port ?? 3000;
      if (peers(ctx.nodes, { role: o.appRole }).length === 0) {
        throw crateError('upstreams', `needs a node with role ${o.appRole} among the node records (found 0)`);
      }
      const upstreams = appUpstreams(ctx, { role: o.appRole, color });
      const actions: ActionEntry[] = [
        { action: 'package', id: 'nginx-package', name: 'nginx' },
        // Debian's default site also claims default_server on port 80
        { action: 'symlink', id: 'nginx-default-site', path: '/etc/nginx/sites-enabled/default', ensure: 'absent' },
        { action: 'directory', id: 'nginx-dropin-dir', path: '/etc/systemd/system/nginx.service.d', owner: 'root', group: 'root', mode: '0755' },
        { action: 'file', id: 'nginx-reload-dropin', path: NGINX_RELOAD_DROPIN_PATH, content: NGINX_RELOAD_DROPIN, owner: 'root', group: 'root', mode: '0644' },
        daemonReload('nginx-daemon-reload', 'nginx.service', [NGINX_RELOAD_DROPIN_PATH]),
        { action: 'file', id: 'nginx-site', path: site, content: nginxSite(o, color, upstreams, appPort), owner: 'root', group: 'root', mode: '0644' },
        {
          // only while a reload is pending (a watched file changed in this run or a run that died): a bad
          // configuration fails here with nginx's own message, before the reload, and stays pending
          action: 'exec',
          id: 'nginx-test',
          script: 'nginx -t',
          onlyIf: '[ -e /var/lib/forklift/pending/nginx-service ]',
        },
        {
          action: 'service',
          id: 'nginx-service',
          name: 'nginx',
          state: 'started',
          enabled: true,
          restartOn: ['nginx-default-site', 'nginx-site'],
          onChange: 'reload',
        },
      ];
      return actions;
    };
    return serverSpec({ settings: { nginx: { port: o.port, app: o.app } }, phases: { configure } });
  },
});
