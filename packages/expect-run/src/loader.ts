import { register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { registerTypeScript } from './typescript.js';

/** Loads test files; for --watch, with a fresh module graph per run, knowing which local files each one imports. */
export interface TestLoader {
  /** Import a test file as run number `run` (for --watch, its local imports are loaded fresh for that run). */
  load(file: string, run: number): Promise<unknown>;
  /** The local files `file` imported (transitively) when it was last loaded, itself included (for --watch). */
  dependencies(file: string): Set<string>;
}

/** What the loader must be able to do. */
export interface TestLoaderOptions {
  /** Runs after the first one will follow (--watch): version local imports and record the import edges. */
  watch: boolean;
  /** TypeScript is known to be needed (a test file is .ts, .mts, .cts or .tsx). */
  typescript: boolean;
}

/** A file name node cannot load without tsx. */
export const TYPESCRIPT_FILE = /\.(?:[cm]?ts|tsx)$/;

interface Versioning {
  port: MessagePort;
  edges: Map<string, Set<string>>;
  pongs: Map<number, () => void>;
}

let typescript = false;
let versioning: Versioning | undefined;

function installTypeScript(): void {
  if (typescript) return;
  typescript = true;
  registerTypeScript();
}

/** forklift's own hook (hooks.ts): versions local imports per run and reports the import edges. */
function installVersioning(): Versioning {
  if (versioning) return versioning;
  // registered after tsx, so it runs first and sees every import tsx resolves
  installTypeScript();
  const { port1, port2 } = new MessageChannel();
  const edges = new Map<string, Set<string>>();
  const pongs = new Map<number, () => void>();
  port1.on('message', (message: { parent?: string; child?: string; pong?: number }) => {
    if (message.pong !== undefined) {
      pongs.get(message.pong)?.();
      pongs.delete(message.pong);
      return;
    }
    if (!message.parent || !message.child) return;
    let children = edges.get(message.parent);
    if (!children) edges.set(message.parent, (children = new Set()));
    children.add(message.child);
  });
  port1.unref();
  register(new URL('./hooks.js', import.meta.url), { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });
  versioning = { port: port1, edges, pongs };
  return versioning;
}

let pingCounter = 0;

/** Wait until the loader thread has delivered every edge it reported so far. */
function drain(state: Versioning): Promise<void> {
  const id = ++pingCounter;
  return new Promise<void>((resolve) => {
    state.pongs.set(id, () => resolve());
    state.port.ref();
    state.port.postMessage({ ping: id });
  }).finally(() => state.port.unref());
}

/** A load failed before any of its code ran because node met a TypeScript file it cannot load alone. */
function isTypeScriptRefusal(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'ERR_UNKNOWN_FILE_EXTENSION' && typeof message === 'string' && /"\.(?:[cm]?ts|tsx)"/.test(message);
}

/**
 * The loader of this process. Module loader hooks run in a thread of their own, which costs start-up
 * time, so they are registered only when needed: tsx when TypeScript is to be loaded, forklift's
 * versioning hook for --watch. A single run of plain JavaScript test files needs neither; if one of
 * them imports a TypeScript file after all, node refuses it before any of the file's code ran, and
 * the file is loaded again with tsx (and fresh local imports).
 * @example const loader = await testLoader({ watch: false, typescript: true }); await loader.load('/abs/web.expect.ts', 1)
 */
export async function testLoader(options: TestLoaderOptions): Promise<TestLoader> {
  if (options.watch) installVersioning();
  else if (options.typescript) installTypeScript();
  else process.setSourceMapsEnabled(true); // as tsx would: stack traces of source-mapped JavaScript
  const lastUrl = new Map<string, string>();
  const loadVersioned = async (file: string, run: number, state: Versioning): Promise<unknown> => {
    const url = `${pathToFileURL(file).href}?forklift-run=${run}`;
    lastUrl.set(file, url);
    try {
      return await import(url);
    } finally {
      await drain(state);
    }
  };
  return {
    async load(file, run) {
      if (versioning) return loadVersioned(file, run, versioning);
      // one run only: each file and its imports load once, as they are
      const url = pathToFileURL(file).href;
      lastUrl.set(file, url);
      try {
        return await import(url);
      } catch (error) {
        if (typescript || !isTypeScriptRefusal(error)) throw error;
        // node cached the refused modules: load the file again under fresh URLs, through tsx
        return loadVersioned(file, run, installVersioning());
      }
    },
    dependencies(file) {
      const out = new Set<string>([file]);
      const start = lastUrl.get(file);
      if (!start) return out;
      const seen = new Set<string>([start]);
      const queue = [start];
      while (queue.length) {
        const url = queue.pop()!;
        for (const child of versioning?.edges.get(url) ?? []) {
          if (seen.has(child)) continue;
          seen.add(child);
          queue.push(child);
          out.add(fileURLToPath(child.replace(/\?.*$/, '')));
        }
      }
      return out;
    },
  };
}
