import type { Crate } from './crate.js';
import { appServer } from './app-server.js';
import { nginx } from './nginx.js';
import { haproxy } from './haproxy.js';
import { mariadb } from './mariadb.js';
import { nfsClient } from './nfs-client.js';
import { nfsServer } from './nfs-server.js';
import { nodeExporter } from './node-exporter.js';
import { zookeeper } from './zookeeper.js';

/**
 * Every crate of this package by its JSON5 name: `extends: [{ crate: 'node-exporter', options: { port: 9100 } }]`.
 * Add a crate here (one line) when you add its file.
 */
export const crates: Readonly<Record<string, Crate>> = {
  [mariadb.crateName]: mariadb,
  [nfsClient.crateName]: nfsClient,
  [nfsServer.crateName]: nfsServer,
  [nodeExporter.crateName]: nodeExporter,
  [appServer.crateName]: appServer,
  [nginx.crateName]: nginx,
  [haproxy.crateName]: haproxy,
  [zookeeper.crateName]: zookeeper,
};

/** The crate of a JSON5 name, or undefined. @example crateByName('node-exporter') */
export function crateByName(name: string): Crate | undefined {
  return Object.hasOwn(crates, name) ? crates[name] : undefined;
}
