export { defineCrate, crateError, type Crate, type CrateDefinition } from './crate.js';
export { peers, requirePeers, nodesOf, describeQuery, type PeerQuery } from './peers.js';
export { COLORS, colorSchema, colorNumber, colorOf, type Color } from './color.js';
export { crates, crateByName } from './registry.js';
export { nodeExporter, nodeExporterOptions } from './node-exporter.js';
export { appServer, appServerOptions, runtimeDir, systemdQuote, type AppServerOptions, type AppServerSettings } from './app-server.js';
export { nginx, nginxOptions, nginxSite, appUpstreams, NGINX_RELOAD_DROPIN, type NginxOptions } from './nginx.js';
export { haproxy, haproxyOptions, haproxyConfig, haproxyDropin, lbServers, initialWeights, SAVE_STATE_HELPER, SAVE_STATE_SCRIPT, HAPROXY_DROPIN, type HaproxyOptions, type LbServer } from './haproxy.js';
