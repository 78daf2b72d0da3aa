import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { InputError, UnavailableError } from '@forklift/contract';
import type { Service } from '../provider.js';
import { parseServiceOptions } from '../service-options.js';
import type { LxdEndpoint } from './lxd-api.js';

/** The socket Debian's `lxd` package listens on (`$LXD_DIR/unix.socket`). */
export const DEFAULT_LXD_SOCKET = '/var/lib/lxd/unix.socket';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const name = (what: string) => z.string().regex(NAME, `not a valid ${what} name`);

/** Options of an `lxd` service file (`{ provider: 'lxd', options: {...} }`), all optional. */
export const LxdServiceOptionsSchema = z
  .strictObject({
    /** `unix:` (Debian's socket), `unix:/path/unix.socket`, or `https://HOST[:8443]`. */
    endpoint: z
      .string()
      .regex(/^(unix:.*|https:\/\/[^/\s]+\/?)$/, 'must be "unix:", "unix:/path/to/unix.socket" or "https://HOST[:PORT]"')
      .optional(),
    /** HTTPS: the client certificate the cluster trusts (PEM file, relative to the service file). */
    clientCert: z.string().min(1).optional(),
    /** HTTPS: its private key (PEM file). */
    clientKey: z.string().min(1).optional(),
    /** HTTPS: the server's (cluster's) certificate, pinned: no other is accepted. */
    serverCert: z.string().min(1).optional(),
    /** LXD project (default `default`). */
    project: name('project').optional(),
    /** One profile (shorthand for `profiles: [NAME]`). */
    profile: name('profile').optional(),
    /** Profiles applied to each instance, in order (default `['default']`). */
    profiles: z.array(name('profile')).optional(),
    /** Storage pool of the instance's root disk (default: the profiles'). */
    storagePool: name('storage pool').optional(),
    /** Network the instance's eth0 joins (default: the profiles'). Nodes must be reachable from this machine on it. */
    network: name('network').optional(),
    /** An image of the cluster (alias or fingerprint) instead of forklift's own Debian image. */
    image: z.string().min(1).optional(),
    /** `container` (default) or `virtual-machine` (passed through; needs KVM on the members). */
    type: z.enum(['container', 'virtual-machine']).optional(),
    /** Cluster member to place every node on; omitted: the cluster chooses. */
    target: name('member').optional(),
    /** Resource limits of each instance (`limits.cpu`, `limits.memory`); a group spec's hardware raises them. */
    limits: z
      .strictObject({
        cpu: z.union([z.number().int().positive(), z.string().regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, 'CPU count or CPU set like "0-1"')]).optional(),
        memory: z
          .string()
          .regex(/^\d+(\.\d+)?(kB|MB|GB|TB|KiB|MiB|GiB|TiB|%)$/, 'size like "512MiB", "1GiB" or "50%"')
          .optional(),
      })
      .optional(),
    /** Extra instance config keys (e.g. `security.nesting`); `user.forklift.*` is reserved. */
    config: z.record(z.string().regex(/^(?!user\.forklift\.)[a-z][a-z0-9._-]*$/, 'a config key (user.forklift.* is reserved)'), z.string()).optional(),
    /** `Acquire::http::Proxy` for apt inside the nodes (e.g. an apt-cacher-ng the nodes can reach). */
    aptProxy: z
      .string()
      .regex(/^https?:\/\/\S+$/, 'an http:// URL')
      .optional(),
    /** Debian suite of forklift's image (default bookworm). */
    suite: z.string().min(1).optional(),
    /** Extra Debian packages baked into forklift's image. */
    include: z.array(z.string().min(1)).optional(),
    /** Keep forklift's image in the cluster when the service's last node goes (default: remove it). */
    keepImage: z.boolean().optional(),
    /** How long to wait for a node's address and SSH (default 120 s). */
    bootTimeoutMs: z.number().int().positive().optional(),
    /** Bound on one API request (default 30 s): a member that stops answering never hangs provision-node. */
    requestTimeoutMs: z.number().int().positive().optional(),
  })
  .superRefine((value, ctx) => {
    const https = value.endpoint?.startsWith('https://') ?? false;
    for (const key of ['clientCert', 'clientKey', 'serverCert'] as const) {
      if (https && !value[key])
        ctx.addIssue({ code: 'custom', path: [key], message: 'missing (an https endpoint needs clientCert, clientKey and serverCert)' });
      if (!https && value[key]) ctx.addIssue({ code: 'custom', path: [key], message: 'only for an https:// endpoint' });
    }
    if (value.profile !== undefined && value.profiles !== undefined)
      ctx.addIssue({ code: 'custom', path: ['profile'], message: 'give "profile" or "profiles", not both' });
    if (value.image !== undefined && (value.suite !== undefined || value.include !== undefined)) {
      ctx.addIssue({ code: 'custom', path: [value.suite !== undefined ? 'suite' : 'include'], message: 'only for forklift\'s own image (not with "image")' });
    }
  });

/** Parsed options of an lxd service. */
export type LxdServiceOptions = z.infer<typeof LxdServiceOptionsSchema>;

function where(service: Service): string {
  return service.file ?? `built-in service ${service.name}`;
}

/** Validate an lxd service's options; errors name the service file and the field (exit 65). */
export function parseLxdOptions(service: Service): LxdServiceOptions {
  return parseServiceOptions(LxdServiceOptionsSchema, service);
}

/** The profiles an instance gets. */
export function profilesOf(options: LxdServiceOptions): string[] {
  return options.profiles ?? [options.profile ?? 'default'];
}

/**
 * The endpoint of a service, with certificate files read (paths relative to the service file).
 * A file that cannot be read is bad service data (65); one that is not PEM too.
 */
export async function resolveEndpoint(service: Service, options: LxdServiceOptions): Promise<LxdEndpoint> {
  const endpoint = options.endpoint ?? 'unix:';
  if (endpoint.startsWith('unix:')) {
    const path = endpoint.slice('unix:'.length).replace(/^\/\/(?=\/)/, '');
    return { kind: 'unix', socketPath: path || DEFAULT_LXD_SOCKET };
  }
  const url = new URL(endpoint);
  const base = service.file ? dirname(service.file) : process.cwd();
  const read = async (key: 'clientCert' | 'clientKey' | 'serverCert'): Promise<{ path: string; text: string }> => {
    const path = isAbsolute(options[key]!) ? options[key]! : resolve(base, options[key]!);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES') throw new UnavailableError(`${where(service)}: service field "options.${key}": ${path}: permission denied`);
      throw new InputError(`${where(service)}: service field "options.${key}": ${path}: ${code === 'ENOENT' ? 'file not found' : (error as Error).message}`);
    }
    const kind = key === 'clientKey' ? /-----BEGIN [A-Z ]*PRIVATE KEY-----/ : /-----BEGIN CERTIFICATE-----/;
    if (!kind.test(text))
      throw new InputError(`${where(service)}: service field "options.${key}": ${path} is not a PEM ${key === 'clientKey' ? 'private key' : 'certificate'}`);
    return { path, text };
  };
  const [cert, key, serverCert] = await Promise.all([read('clientCert'), read('clientKey'), read('serverCert')]);
  return {
    kind: 'https',
    url: `https://${url.host}`,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 8443,
    cert: cert.text,
    key: key.text,
    serverCert: serverCert.text,
    certPath: cert.path,
    serverCertPath: serverCert.path,
  };
}
