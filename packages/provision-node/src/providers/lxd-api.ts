import { createHash, X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { UnavailableError } from '@forklift/contract';

/** Where an LXD (or Incus) REST API answers: its unix socket, or HTTPS with a client certificate and a pinned server certificate. */
export type LxdEndpoint =
  | { kind: 'unix'; socketPath: string }
  | {
      kind: 'https';
      url: string;
      host: string;
      port: number;
      /** PEM of the client certificate the server trusts. */
      cert: string;
      /** PEM of its private key. */
      key: string;
      /** PEM of the server's (the cluster's) certificate: the only one accepted. */
      serverCert: string;
      /** Paths, for messages. */
      certPath: string;
      serverCertPath: string;
    };

/** An error answer of the LXD API: its HTTP status and the API's own message. */
export class LxdApiError extends Error {
  readonly status: number;
  readonly apiMessage: string;
  constructor(what: string, status: number, apiMessage: string) {
    super(`LXD ${what}: ${apiMessage} (HTTP ${status})`);
    this.name = 'LxdApiError';
    this.status = status;
    this.apiMessage = apiMessage;
  }
}

/** One LXD response: sync metadata, or the operation of an async one. */
interface LxdResponse {
  type: 'sync' | 'async' | 'error';
  status_code: number;
  error_code?: number;
  error?: string;
  operation?: string;
  metadata: unknown;
}

/** An operation as `/wait` returns it. */
interface LxdOperation {
  id: string;
  status: string;
  status_code: number;
  err: string;
  metadata: Record<string, unknown> | null;
}

/** Options of one request. */
export interface LxdRequest {
  query?: Record<string, string | undefined>;
  /** JSON body (object) or raw bytes/stream (with headers saying what they are). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Client-side bound on the whole request (default: the client's). */
  timeoutMs?: number;
  /** Project to act in (default: the client's; `null` for server-wide endpoints). */
  project?: string | null;
}

/** sha256 fingerprint of a PEM certificate, lowercase hex (as `lxc config trust list` shows it). */
export function certificateFingerprint(pem: string): string {
  return createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');
}

const CERT_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
]);

/**
 * A small client of the LXD REST API (`/1.0`), shared with Incus: JSON over a unix socket or over
 * HTTPS with mutual TLS; async operations are awaited with `/wait`; errors carry the API's message.
 * @example const api = new LxdClient({ kind: 'unix', socketPath: '/var/lib/lxd/unix.socket' }); await api.get('/1.0')
 */
export class LxdClient {
  readonly endpoint: LxdEndpoint;
  readonly project: string;
  readonly timeoutMs: number;
  private readonly agent: http.Agent;
  private readonly pinnedFingerprint?: string;
  private readonly trace?: (line: string) => void;

  constructor(endpoint: LxdEndpoint, options: { project?: string; timeoutMs?: number; trace?: (line: string) => void } = {}) {
    this.endpoint = endpoint;
    this.trace = options.trace;
    this.project = options.project ?? 'default';
    this.timeoutMs = options.timeoutMs ?? 30_000;
    if (endpoint.kind === 'unix') {
      this.agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    } else {
      const pinned = certificateFingerprint(endpoint.serverCert);
      this.pinnedFingerprint = pinned;
      this.agent = new https.Agent({
        keepAlive: true,
        maxSockets: 16,
        cert: endpoint.cert,
        key: endpoint.key,
        // the pinned certificate is the only trust anchor, and the server must present exactly it:
        // LXD's certificates are self-signed and name no address, so the host name is not what is checked
        ca: endpoint.serverCert,
        checkServerIdentity: (_host, cert) =>
          cert.fingerprint256.replaceAll(':', '').toLowerCase() === pinned
            ? undefined
            : new Error(`server certificate ${cert.fingerprint256} is not the pinned one`),
      });
    }
  }

  /** Where the API is, for messages: the socket path or the URL. */
  get where(): string {
    return this.endpoint.kind === 'unix' ? this.endpoint.socketPath : this.endpoint.url;
  }

  /** Close idle connections (so the process can exit). */
  close(): void {
    this.agent.destroy();
  }

  /** GET and return the metadata. */
  async get<T>(path: string, options: LxdRequest = {}): Promise<T> {
    return (await this.request('GET', path, options)).metadata as T;
  }

  /**
   * Run a request; when the API answers with an operation, wait for it and return the operation's
   * metadata. Failed operations throw LxdApiError with the operation's error text.
   */
  async call<T = unknown>(method: string, path: string, options: LxdRequest & { signal?: AbortSignal } = {}): Promise<T> {
    const response = await this.request(method, path, options);
    if (response.type !== 'async' || !response.operation) return response.metadata as T;
    const operation = await this.wait(response.operation, { timeoutMs: options.timeoutMs ?? 600_000, signal: options.signal });
    return (operation.metadata ?? {}) as T;
  }

  /**
   * Wait for an operation with `GET <operation>/wait?timeout=…` (on a cluster its URL carries
   * `?project=…`: the query goes after `/wait`). Throws when it failed or did not end in time.
   */
  async wait(operationUrl: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<LxdOperation> {
    const [path, query = ''] = operationUrl.split('?', 2) as [string, string?];
    const params = Object.fromEntries(new URLSearchParams(query)) as Record<string, string>;
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    for (;;) {
      if (options.signal?.aborted) throw new Error(`waiting for LXD operation ${path}: aborted`);
      // short server-side waits, so an abort or the deadline is noticed in time
      const seconds = Math.max(1, Math.min(5, Math.ceil((deadline - Date.now()) / 1000)));
      const operation = (
        await this.request('GET', `${path}/wait`, { query: { ...params, timeout: String(seconds) }, project: null, timeoutMs: seconds * 1000 + this.timeoutMs })
      ).metadata as LxdOperation;
      if (operation.status_code === 200) return operation;
      if (operation.status_code >= 400) throw new LxdApiError(`operation ${operation.id ?? path}`, operation.status_code, operation.err || operation.status);
      if (Date.now() >= deadline)
        throw new Error(`LXD operation ${path} did not end within ${Math.round((options.timeoutMs ?? 600_000) / 1000)} s (status ${operation.status})`);
    }
  }

  /** Push one file (or make a directory) into an instance through the files API, with owner and mode set by the server. */
  async pushFile(instance: string, path: string, content: string | Buffer | null, options: { uid?: number; gid?: number; mode: number }): Promise<void> {
    await this.request('POST', `/1.0/instances/${encodeURIComponent(instance)}/files`, {
      query: { path },
      body: content === null ? Buffer.alloc(0) : Buffer.from(content),
      headers: {
        'Content-Type': 'application/octet-stream',
        'X-LXD-uid': String(options.uid ?? 0),
        'X-LXD-gid': String(options.gid ?? 0),
        'X-LXD-mode': options.mode.toString(8).padStart(4, '0'),
        'X-LXD-type': content === null ? 'directory' : 'file',
        'X-LXD-write': 'overwrite',
      },
    });
  }

  /** GET a raw (non-JSON) resource, such as an instance's log file; undefined when it cannot be had. */
  async text(path: string): Promise<string | undefined> {
    const query = new URLSearchParams({ project: this.project }).toString();
    const base = this.endpoint.kind === 'unix' ? { socketPath: this.endpoint.socketPath, host: 'lxd' } : { host: this.endpoint.host, port: this.endpoint.port };
    const transport = this.endpoint.kind === 'unix' ? http : https;
    return new Promise((resolve) => {
      const request = transport.request({ ...base, method: 'GET', path: `${path}?${query}`, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', () => resolve(undefined));
        response.on('end', () => resolve((response.statusCode ?? 500) < 300 ? Buffer.concat(chunks).toString('utf8') : undefined));
      });
      request.setTimeout(this.timeoutMs, () => request.destroy());
      request.on('error', () => resolve(undefined));
      request.end();
    });
  }

  /** One HTTP request to the API; the JSON answer, or LxdApiError with the API's message. */
  request(method: string, path: string, options: LxdRequest = {}): Promise<LxdResponse> {
    const project = options.project === undefined ? this.project : options.project;
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) query.set(key, value);
    if (project !== null && !query.has('project')) query.set('project', project);
    const target = `${path}${query.size ? `?${query.toString()}` : ''}`;
    const what = `${method} ${path}`;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    let payload: Buffer | Readable | undefined;
    if (options.body instanceof Buffer || isReadable(options.body)) {
      payload = options.body as Buffer | Readable;
    } else if (options.body !== undefined) {
      payload = Buffer.from(JSON.stringify(options.body));
      headers['Content-Type'] ??= 'application/json';
    }
    if (payload instanceof Buffer) headers['Content-Length'] = String(payload.length);
    const base =
      this.endpoint.kind === 'unix'
        ? { socketPath: this.endpoint.socketPath, host: 'lxd' }
        : { host: this.endpoint.host, port: this.endpoint.port, servername: isIp(this.endpoint.host) ? undefined : this.endpoint.host };
    const transport = this.endpoint.kind === 'unix' ? http : https;
    const started = performance.now();
    const answered = new Promise<LxdResponse>((resolve, reject) => {
      const request = transport.request({ ...base, method, path: target, headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => reject(this.describe(error, what)));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: LxdResponse;
          try {
            body = JSON.parse(text) as LxdResponse;
          } catch {
            reject(new LxdApiError(what, response.statusCode ?? 0, `not a JSON answer: ${text.slice(0, 200).trim() || '(empty)'}`));
            return;
          }
          if (body.type === 'error' || (response.statusCode ?? 500) >= 400) {
            reject(new LxdApiError(what, body.error_code || response.statusCode || 0, body.error || 'unknown error'));
            return;
          }
          resolve(body);
        });
      });
      request.setTimeout(timeoutMs, () =>
        request.destroy(Object.assign(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`), { code: 'ETIMEDOUT' })),
      );
      request.on('error', (error) => {
        this.describeAsync(error, what).then(reject, reject);
      });
      const body = payload;
      if (body === undefined) request.end();
      else if (Buffer.isBuffer(body)) request.end(body);
      else {
        body.on('error', (error: Error) => request.destroy(error));
        body.pipe(request);
      }
    });
    if (!this.trace) return answered;
    // FORKLIFT_TRACE=1: every API request with its duration, like the host commands
    const trace = this.trace;
    const done = (outcome: string) => trace(`trace: ${Math.round(performance.now() - started)} ms LXD ${method} ${target} ${outcome}`);
    return answered.then(
      (response) => (done(String(response.status_code)), response),
      (error: unknown) => {
        done(`failed: ${(error as Error).message}`);
        throw error;
      },
    );
  }

  /** A transport error as a one-line message naming the endpoint (certificate problems: exit 69 with both fingerprints). */
  private async describeAsync(error: Error & { code?: string }, what: string): Promise<Error> {
    if (this.endpoint.kind === 'https' && (CERT_ERRORS.has(error.code ?? '') || /pinned one/.test(error.message))) {
      const presented = await presentedFingerprint(this.endpoint.host, this.endpoint.port).catch(() => 'unknown');
      return new UnavailableError(
        `${this.endpoint.url}: the server's certificate (sha256 ${presented}) is not the pinned serverCert ${this.endpoint.serverCertPath} (sha256 ${this.pinnedFingerprint}): refusing to talk to it; pin the cluster's certificate (cluster.crt of a member, or \`lxc info\`'s certificate)`,
        { cause: error },
      );
    }
    return this.describe(error, what);
  }

  private describe(error: Error & { code?: string }, what: string): Error {
    const where = this.where;
    if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
      return new UnavailableError(
        `no LXD daemon answers at ${where} (${error.code}): start it and initialise it (lxd init), or point the service's endpoint at a running one`,
        { cause: error },
      );
    }
    if (error.code === 'EACCES') return new UnavailableError(`${where}: permission denied: run as root or as a member of the lxd group`, { cause: error });
    return new Error(`LXD ${what} at ${where}: ${error.message}`, { cause: error });
  }
}

function isReadable(value: unknown): value is Readable {
  return typeof value === 'object' && value !== null && typeof (value as Readable).pipe === 'function';
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** The sha256 fingerprint of the certificate a TLS server presents (no client certificate is sent, nothing else is). */
function presentedFingerprint(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, rejectUnauthorized: false, servername: isIp(host) ? undefined : host }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve(cert.fingerprint256 ? cert.fingerprint256.replaceAll(':', '').toLowerCase() : 'unknown');
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.once('error', reject);
  });
}
