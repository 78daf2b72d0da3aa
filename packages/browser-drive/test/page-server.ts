import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's test pages. */
export const PAGES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'fixtures', 'pages');

/** A page server on 127.0.0.1: static files from fixtures/pages, and POST /login answering with a welcome page. */
export interface PageServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Start the page server on a port the OS picks. */
export async function startPageServer(): Promise<PageServer> {
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.method === 'POST' && url.pathname === '/login') {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        const form = new URLSearchParams(body);
        const fields = ['email', 'remember', 'newsletter'].map((name) => `<li>${name}=${escapeHtml(form.get(name) ?? '-')}</li>`).join('');
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'set-cookie': 'session=s-1234; Path=/' });
        response.end(`<!doctype html><title>Welcome</title><h1>Welcome, ${escapeHtml(form.get('email') ?? '')}</h1><ul id="fields">${fields}</ul>`);
      });
      return;
    }
    const path = normalize(url.pathname === '/' ? '/index.html' : url.pathname);
    readFile(join(PAGES_DIR, path)).then(
      (content) => {
        response.writeHead(200, { 'content-type': path.endsWith('.html') ? 'text/html; charset=utf-8' : 'application/octet-stream' });
        response.end(content);
      },
      () => {
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('not found');
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
