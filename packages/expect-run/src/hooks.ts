// Module loader hooks (run in node's loader thread): every project file reached from a test file by
// a relative or absolute import gets the test run's `?forklift-run=N` query, so each run loads a
// fresh copy of the test files and their local imports, while packages (bare specifiers,
// node_modules) stay loaded once. Each such import edge is reported to the runner for --watch.
import type { MessagePort } from 'node:worker_threads';

const RUN_QUERY = /[?&]forklift-run=(\d+)/;
let port: MessagePort | undefined;

/** Receives the port to report import edges on; answers pings so the runner knows every edge arrived. */
export function initialize(data: { port: MessagePort }): void {
  port = data.port;
  port.on('message', (message: { ping?: number }) => port!.postMessage({ pong: message.ping }));
  port.unref();
}

interface ResolveContext {
  parentURL?: string;
  conditions: string[];
  importAttributes?: Record<string, string>;
}
interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<ResolveResult>;

/** Version local imports of a versioned test file with the same run number. */
export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<ResolveResult> {
  const result = await next(specifier, context);
  const run = context.parentURL ? RUN_QUERY.exec(context.parentURL) : null;
  const local = specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:');
  if (!run || !local || !result.url.startsWith('file:') || result.url.includes('/node_modules/')) return result;
  const url = new URL(result.url);
  url.search = `?forklift-run=${run[1]}`;
  port?.postMessage({ parent: context.parentURL, child: url.href });
  return { ...result, url: url.href };
}
