// The HTTP interface (fixed by the typical-system issue): /healthz, /api/wines, /api/wines/:id/label,
// /api/config and the page at /. Everything outside is injected (ports.ts).
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { renderPage } from './page.js';
import type { ConfigSource, LabelStore, WineStore } from './ports.js';
import { LABEL_TYPES, MAX_LABEL_BYTES, validateWine } from './wines.js';

export interface AppDeps {
  store: WineStore;
  config: ConfigSource;
  labels: LabelStore;
  version: string;
  color: string;
  /** URL path prefix under which nginx serves the label files. */
  labelsUrl?: string;
  log?: (line: string) => void;
}

const MAX_JSON_BYTES = 64 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: string, type: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, `${JSON.stringify(value)}\n`, 'application/json; charset=utf-8', headers);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A request listener for node:http: `http.createServer(createApp(deps))`. */
export function createApp(deps: AppDeps): RequestListener {
  const labelsUrl = deps.labelsUrl ?? '/labels/';
  const log = deps.log ?? (() => {});

  const unavailable = (what: string, error: unknown): HttpError => {
    log(`${what}: ${message(error)}`);
    return new HttpError(503, `${what} is not available: ${message(error)}`);
  };

  async function health(res: ServerResponse): Promise<void> {
    const checks = { db: deps.store.ping(), zookeeper: deps.config.ping(), files: deps.labels.ping() };
    const settled = await Promise.allSettled(Object.values(checks));
    const failing: Record<string, string> = {};
    Object.keys(checks).forEach((name, i) => {
      const outcome = settled[i]!;
      if (outcome.status === 'rejected') failing[name] = message(outcome.reason);
    });
    const base = { version: deps.version, color: deps.color };
    if (Object.keys(failing).length === 0) return sendJson(res, 200, { status: 'ok', ...base });
    sendJson(res, 503, { status: 'unavailable', ...base, failing });
  }

  async function listWines() {
    try {
      return await deps.store.list();
    } catch (error) {
      throw unavailable('the wine list', error);
    }
  }

  async function addWine(body: unknown) {
    const checked = validateWine(body);
    if (!checked.ok) throw new HttpError(400, checked.message);
    try {
      return await deps.store.add(checked.wine);
    } catch (error) {
      throw unavailable('the wine list', error);
    }
  }

  async function putLabel(req: IncomingMessage, res: ServerResponse, id: number): Promise<void> {
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    const extension = LABEL_TYPES[type];
    if (!extension) throw new HttpError(415, `a label is an image: content-type one of ${Object.keys(LABEL_TYPES).join(', ')}`);
    const bytes = await readBody(req, MAX_LABEL_BYTES);
    if (bytes.length === 0) throw new HttpError(400, 'empty body: send the image bytes');
    let wine;
    try {
      wine = await deps.store.get(id);
    } catch (error) {
      throw unavailable('the wine list', error);
    }
    if (!wine) throw new HttpError(404, `no wine ${id}`);
    let file: string;
    try {
      file = await deps.labels.save(id, bytes, extension);
    } catch (error) {
      throw unavailable('the file store', error);
    }
    const label = `${labelsUrl}${file}`;
    try {
      if (!(await deps.store.setLabel(id, label))) throw new HttpError(404, `no wine ${id}`);
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw unavailable('the wine list', error);
    }
    sendJson(res, 200, { ...wine, label });
  }

  async function page(res: ServerResponse, status = 200, notice?: string): Promise<void> {
    let wines: Awaited<ReturnType<WineStore['list']>> = [];
    try {
      wines = await deps.store.list();
    } catch (error) {
      log(`the wine list: ${message(error)}`);
      status = 503;
      notice = 'The wine list is not available right now.';
    }
    const greeting = deps.config.current().greeting;
    const html = renderPage({
      wines,
      greeting: typeof greeting === 'string' ? greeting : '',
      version: deps.version,
      color: deps.color,
      notice,
    });
    send(res, status, html, 'text/html; charset=utf-8');
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://app');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const allow = (...methods: string[]): void => {
      const all = methods.includes('GET') ? [...methods, 'HEAD'] : methods;
      if (!all.includes(method)) throw new HttpError(405, `${method} not allowed on ${path}`, { allow: all.join(', ') });
    };

    if (path === '/healthz') {
      allow('GET');
      return health(res);
    }
    if (path === '/api/config') {
      allow('GET');
      return sendJson(res, 200, deps.config.current());
    }
    if (path === '/api/wines') {
      allow('GET', 'POST');
      if (method === 'POST') {
        const raw = (await readBody(req, MAX_JSON_BYTES)).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(raw);
        } catch {
          throw new HttpError(400, 'body: not JSON (expected {name, kind, year})');
        }
        const wine = await addWine(body);
        return sendJson(res, 201, wine, { location: `/api/wines/${wine.id}` });
      }
      return sendJson(res, 200, await listWines());
    }
    const one = /^\/api\/wines\/(\d{1,9})(\/label)?$/.exec(path);
    if (one) {
      const id = Number(one[1]);
      if (one[2]) {
        allow('PUT');
        return putLabel(req, res, id);
      }
      allow('GET');
      let wine;
      try {
        wine = await deps.store.get(id);
      } catch (error) {
        throw unavailable('the wine list', error);
      }
      if (!wine) throw new HttpError(404, `no wine ${id}`);
      return sendJson(res, 200, wine);
    }
    if (path === '/') {
      allow('GET', 'POST');
      if (method === 'POST') {
        const form = new URLSearchParams((await readBody(req, MAX_JSON_BYTES)).toString('utf8'));
        const checked = validateWine({ name: form.get('name') ?? '', kind: form.get('kind') ?? '', year: form.get('year') ?? '' });
        if (!checked.ok) return page(res, 400, checked.message);
        await addWine(checked.wine);
        res.writeHead(303, { location: '/', 'content-length': '0' });
        res.end();
        return;
      }
      return page(res);
    }
    throw new HttpError(404, `no route for ${path}`);
  }

  return (req, res) => {
    route(req, res).catch((error: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message }, error.headers);
      log(`internal error on ${req.method} ${req.url}: ${error instanceof Error ? error.stack : String(error)}`);
      sendJson(res, 500, { error: 'internal error' });
    });
  };
}
