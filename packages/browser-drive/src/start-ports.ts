import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The port chromedriver reports on stdout once it listens (its exit is watched by exitedEarly). */
export function waitForDriverPort(stdout: NodeJS.ReadableStream, timeoutMs: number, signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => finish(new Error(`chromedriver did not report its port within ${timeoutMs} ms: ${output.trim()}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = /started successfully on port (\d+)/.exec(output);
      if (match) finish(undefined, Number(match[1]));
    };
    const onAbort = (): void => finish(new Error('start abandoned'));
    function finish(error?: Error, port?: number): void {
      clearTimeout(timer);
      stdout.off('data', onData);
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(port!);
    }
    stdout.on('data', onData);
    signal.addEventListener('abort', onAbort);
  });
}

/** Wait for chromium to write its DevTools port into the profile (it listens on 127.0.0.1 only). */
export async function waitForDevToolsPort(userDataDir: string, timeoutMs: number, signal: AbortSignal): Promise<number> {
  const file = join(userDataDir, 'DevToolsActivePort');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal.aborted) throw new Error('start abandoned');
    if (existsSync(file)) {
      // the file is written whole, but may be seen between creation and write: retry until it has a port
      const port = Number(readFileSync(file, 'utf8').split('\n')[0]);
      if (Number.isInteger(port) && port > 0) return port;
    }
    if (Date.now() >= deadline) throw new Error(`chromium did not open its DevTools port within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
