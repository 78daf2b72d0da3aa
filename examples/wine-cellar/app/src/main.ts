// Entry point of the bundle (wine-cellar.mjs): reads the configuration, wires MariaDB, ZooKeeper and
// the label directory into the HTTP app, serves until SIGTERM/SIGINT, then closes cleanly.
import { createServer } from 'node:http';
import { createApp } from './app.js';
import { ConfigError, DEFAULT_CONFIG_PATH, loadConfig, readPassword } from './config.js';
import { mariadbStore } from './db.js';
import { directoryLabelStore } from './labels.js';
import { zookeeperConfig } from './zk.js';

declare const __WINE_CELLAR_VERSION__: string | undefined;

/** The version baked in by build.mjs (esbuild `define`); `dev` when run from source. */
export const VERSION: string = typeof __WINE_CELLAR_VERSION__ === 'string' ? __WINE_CELLAR_VERSION__ : 'dev';

const HELP = `usage: wine-cellar [--version] [--help]

Serves the wine cellar on the configured host and port. Configuration: the JSON file named by
$WINE_CELLAR_CONFIG (default ${DEFAULT_CONFIG_PATH}).
Exit codes: 0 stopped by SIGTERM/SIGINT; 64 usage; 78 unusable configuration; 1 could not listen.
`;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (argv.includes('--version')) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (argv.length > 0) {
    log(`wine-cellar: unknown argument ${JSON.stringify(argv[0])} (see --help)`);
    return 64;
  }
  const file = process.env.WINE_CELLAR_CONFIG || DEFAULT_CONFIG_PATH;
  let config;
  let password;
  try {
    config = await loadConfig(file);
    password = await readPassword(config.db.passwordFile);
  } catch (error) {
    if (error instanceof ConfigError) {
      log(`wine-cellar: ${error.message}`);
      return 78;
    }
    throw error;
  }

  const store = mariadbStore({ ...config.db, password });
  const zk = zookeeperConfig({ ...config.zookeeper, log });
  const labels = directoryLabelStore(config.labels.dir);
  const server = createServer(createApp({ store, config: zk, labels, version: VERSION, color: config.color, log }));
  // longer than nginx's upstream keep-alive (60 s), so the proxy never reuses a connection we just closed
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  // create the schema as soon as the database answers; requests retry it too
  const schema = (): void => {
    store.ensureSchema().then(
      () => log('wine-cellar: schema ready'),
      (error: Error) => {
        log(`wine-cellar: schema not created yet (${error.message}); retrying in 2 s`);
        setTimeout(schema, 2000).unref();
      },
    );
  };
  schema();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  }).catch((error: Error) => {
    log(`wine-cellar: cannot listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  });
  log(`wine-cellar ${VERSION} (${config.color}) listening on ${config.host}:${config.port}`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  log(`wine-cellar: ${signal}, closing`);
  server.close();
  server.closeIdleConnections();
  zk.close();
  await store.close().catch(() => {});
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    log(`wine-cellar: internal error: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(70);
  },
);
