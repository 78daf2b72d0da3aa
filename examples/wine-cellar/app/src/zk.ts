// Live configuration from a ZooKeeper znode: read at start, re-read whenever a watch fires (data
// changed, node created or deleted), a new session made when the old one expired.
import zookeeper from 'node-zookeeper-client';
import type { ConfigSource } from './ports.js';
import { withTimeout } from './timeout.js';

export const DEFAULT_APP_CONFIG = Object.freeze({ greeting: 'Welcome to the wine cellar' });

export interface ZkOptions {
  connect: string;
  configNode: string;
  log?: (line: string) => void;
}

/** Parses a znode's bytes: a JSON object merged over the defaults, or an error message. */
export function parseAppConfig(data: Buffer | undefined | null): { config: Record<string, unknown> } | { error: string } {
  if (!data || data.length === 0) return { config: { ...DEFAULT_APP_CONFIG } };
  try {
    const parsed: unknown = JSON.parse(data.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { error: 'not a JSON object' };
    return { config: { ...DEFAULT_APP_CONFIG, ...(parsed as Record<string, unknown>) } };
  } catch (error) {
    return { error: `not JSON: ${(error as Error).message}` };
  }
}

/** A ZooKeeper-backed configuration source, plus `close()`. */
export function zookeeperConfig(options: ZkOptions): ConfigSource & { close(): void } {
  const log = options.log ?? (() => {});
  let current: Record<string, unknown> = { ...DEFAULT_APP_CONFIG };
  let client: zookeeper.Client;
  let closed = false;

  const apply = (data: Buffer | undefined | null): void => {
    const parsed = parseAppConfig(data);
    if ('error' in parsed) {
      log(`zookeeper: ${options.configNode}: ${parsed.error}; keeping the previous configuration`);
      return;
    }
    current = parsed.config;
  };

  const start = (): void => {
    const own = zookeeper.createClient(options.connect, { sessionTimeout: 10000, spinDelay: 500, retries: 2 });
    client = own;
    // one watcher function per session: the client keeps a function once per path, so repeated
    // reads never pile up watchers
    const watcher = (): void => read();
    const read = (): void => {
      if (closed || own !== client) return;
      own.getData(options.configNode, watcher, (error, data) => {
        if (!error) return apply(data);
        if ((error as zookeeper.Exception).getCode?.() === zookeeper.Exception.NO_NODE) {
          current = { ...DEFAULT_APP_CONFIG };
          // watch for its creation; if it appeared meanwhile, read it
          own.exists(options.configNode, watcher, (existsError, stat) => {
            if (!existsError && stat) read();
          });
          return;
        }
        log(`zookeeper: reading ${options.configNode}: ${String(error)}`);
        setTimeout(read, 1000).unref();
      });
    };
    own.on('state', (state) => {
      if (closed || own !== client) return;
      if (state === zookeeper.State.SYNC_CONNECTED) read();
      if (state === zookeeper.State.EXPIRED) {
        log('zookeeper: session expired, starting a new one');
        own.close();
        start();
      }
    });
    own.connect();
  };
  start();

  return {
    current: () => current,
    async ping() {
      const own = client;
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          own.exists('/', (error) => (error ? reject(error) : resolve()));
        }),
        1500,
        'ZooKeeper',
      );
    },
    close() {
      closed = true;
      client.close();
    },
  };
}
