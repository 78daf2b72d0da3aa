import { register } from 'node:module';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { InitializationOptions } from 'tsx/esm/api';

/** This side of the channel tsx's loader listens on (kept: it lives as long as the process). */
let tsxPort: MessagePort | undefined;

/**
 * Register tsx's module loader hooks (TypeScript for test files and what they import) the way
 * `tsx/esm/api`'s register() does, without loading tsx on this thread: register() imports tsx's
 * whole main-thread side (its CommonJS hooks and esbuild's API, ~50 ms at start-up) only to hand the
 * loader thread `tsx/esm` with these initialization options. expect-run needs neither a namespace
 * nor unregistering, so it registers `tsx/esm` itself; the loader thread loads tsx either way.
 */
export function registerTypeScript(): void {
  if (tsxPort) return;
  // as tsx's register(): stack traces point into the TypeScript source
  process.setSourceMapsEnabled(true);
  // as tsx's register(): a port tsx listens on. It also keeps the loader thread's event loop
  // referenced, which measurably shortens each load (~30 ms for the first test file here)
  const { port1, port2 } = new MessageChannel();
  port1.unref();
  tsxPort = port1;
  const data: InitializationOptions = { port: port2 };
  register('tsx/esm', { parentURL: import.meta.url, data, transferList: [port2] });
}
