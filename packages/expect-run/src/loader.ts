import { register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';

/** Loads test files with a fresh module graph per run and knows which local files each one imports. */
export interface TestLoader {
  /** Import a test file as run number `run` (its local imports are loaded fresh for that run). */
  load(file: string, run: number): Promise<unknown>;
  /** The local files `file` imported (transitively) when it was last loaded, itself included. */
  dependencies(file: string): Set<string>;
}

let installed: { port: MessagePort; edges: Map<string, Set<string>>; pongs: Map<number, () => void> } | undefined;

async function install(): Promise<NonNullable<typeof installed>> {
  if (installed) return installed;
  // tsx compiles TypeScript (and maps stack traces back to it); our hook runs first and versions URLs.
  // Loaded here, not at start-up: --help and usage errors do not pay for it.
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
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
  installed = { port: port1, edges, pongs };
  return installed;
}

let pingCounter = 0;

/** Wait until the loader thread has delivered every edge it reported so far. */
function drain(state: NonNullable<typeof installed>): Promise<void> {
  const id = ++pingCounter;
  return new Promise<void>((resolve) => {
    state.pongs.set(id, () => resolve());
    state.port.ref();
    state.port.postMessage({ ping: id });
  }).finally(() => state.port.unref());
}

/**
 * The loader of this process (tsx + forklift's versioning hook, registered once).
 * @example const loader = await testLoader(); await loader.load('/abs/web.expect.ts', 1); loader.dependencies('/abs/web.expect.ts')
 */
export async function testLoader(): Promise<TestLoader> {
  const state = await install();
  const lastUrl = new Map<string, string>();
  return {
    async load(file, run) {
      const url = `${pathToFileURL(file).href}?forklift-run=${run}`;
      lastUrl.set(file, url);
      try {
        return await import(url);
      } finally {
        await drain(state);
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
        for (const child of state.edges.get(url) ?? []) {
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
