import { format } from 'node:util';
import type { Writable } from 'node:stream';

/**
 * Send console.log/info/debug/dir of test code to stderr while tests run, so stdout keeps carrying
 * records only; returns the function that puts them back.
 * @example const restore = consoleToStderr(ctx.stderr); try { ... } finally { restore() }
 */
export function consoleToStderr(stderr: Writable): () => void {
  const saved = { log: console.log, info: console.info, debug: console.debug, dir: console.dir };
  const write = (...args: unknown[]): void => {
    stderr.write(format(...args) + '\n');
  };
  console.log = write;
  console.info = write;
  console.debug = write;
  console.dir = (item: unknown) => write(item);
  return () => Object.assign(console, saved);
}
