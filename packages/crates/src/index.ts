export { defineCrate, crateError, type Crate, type CrateDefinition } from './crate.js';
export { peers, type PeerSelector } from '@forklift/spec';
export { requirePeers, describeSelector } from './peers.js';
export { COLORS, colorSchema, colorNumber, colorOf, type Color } from './color.js';
export { crates, crateByName } from './registry.js';
export { nodeExporter, nodeExporterOptions } from './node-exporter.js';
export { appServer, appServerOptions, runtimeDir, systemdQuote, type AppServerOptions, type AppServerSettings } from './app-server.js';
export { nginx, nginxOptions, nginxSite, appUpstreams, NGINX_RELOAD_DROPIN, type NginxOptions } from './nginx.js';
export {
  haproxy,
  haproxyOptions,
  haproxyConfig,
  haproxyDropin,
  lbServers,
  initialWeights,
  SAVE_STATE_HELPER,
  SAVE_STATE_SCRIPT,
  HAPROXY_DROPIN,
  type HaproxyOptions,
  type LbServer,
} from './haproxy.js';
export { safePath } from './schemas.js';
export { zookeeper, zookeeperOptions, ZOOKEEPER_CONF_DIR, type ZookeeperOptions } from './zookeeper.js';
export { mariadb, mariadbOptions, MARIADB_SECRETS_DIR, type MariadbOptions } from './mariadb.js';
export { MARIADB_HELPER, MARIADB_ROLE_FILE } from './mariadb-helper.js';
export { nfsServer, nfsServerOptions, type NfsServerOptions } from './nfs-server.js';
export { nfsClient, nfsClientOptions, mountMethod, mountUnitName, NFS_CLIENT_DIR, type NfsClientOptions, type NfsClientMethod } from './nfs-client.js';
