import { shellQuote, type NodeRecord } from '@forklift/contract';
import { LABEL_PATTERN, peers, serverSpec, type SpecContext } from '@forklift/spec';
import { z } from 'zod';
import { colorNumber, colorOf, colorSchema } from './color.js';
import { crateError, defineCrate } from './crate.js';
import { MARIADB_HELPER, MARIADB_HELPER_SCRIPT, MARIADB_ROLE_FILE } from './mariadb-helper.js';
import { describeSelector } from './peers.js';

const sqlName = z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'must be 1-64 letters, digits or _');
const accountName = z.string().regex(/^[A-Za-z0-9_.-]{1,80}$/, 'must be 1-80 letters, digits, _ . -');
const accountHost = z.string().regex(/^[A-Za-z0-9_.%:-]{1,255}$/, 'must be a host pattern of letters, digits, _ . % : -');
const controllerFile = z.string().min(1).describe("a file on the controller, relative to the spec's project; its first line is the password");
const privilege = z.enum([
  'ALL PRIVILEGES',
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'CREATE',
  'DROP',
  'INDEX',
  'ALTER',
  'REFERENCES',
  'CREATE TEMPORARY TABLES',
  'LOCK TABLES',
  'EXECUTE',
  'CREATE VIEW',
  'SHOW VIEW',
  'CREATE ROUTINE',
  'ALTER ROUTINE',
  'EVENT',
  'TRIGGER',
]);
const label = z.string().regex(LABEL_PATTERN, 'must be lowercase letters, digits, _ and - (at most 40)');

/** Which node a replica follows: a node id, or a selector matching exactly one node among the node records. */
const peerSchema = z.union([label, z.strictObject({ role: label.optional(), group: label.optional(), color: label.optional() })]);

/** Options of the mariadb crate. */
export const mariadbOptions = z.strictObject({
  bindAddress: z
    .string()
    .regex(/^(\d{1,3}\.){3}\d{1,3}$/, 'must be an IPv4 address')
    .optional()
    .describe("address the server listens on (default: the node record's address; Debian's default is 127.0.0.1)"),
  port: z.number().int().min(1).max(65535).default(3306).describe('TCP port'),
  color: colorSchema.optional().describe("the color whose numbers the server takes (default: the node record's color, else blue)"),
  serverId: z
    .number()
    .int()
    .min(1)
    .max(4294967295)
    .optional()
    .describe('server_id (default: 1 for blue, 2 for green): distinct on every server that replicates'),
  innodbBufferPoolMiB: z.number().int().min(8).max(1048576).default(64).describe('innodb_buffer_pool_size in MiB'),
  databases: z.array(sqlName).default([]).describe('databases that exist (created on every node, not replicated)'),
  users: z
    .array(
      z.strictObject({
        name: accountName,
        host: accountHost.default('%').describe("the account's host pattern (default %)"),
        passwordFrom: controllerFile,
        grants: z
          .array(z.strictObject({ database: z.union([sqlName, z.literal('*')]), privileges: z.array(privilege).min(1).default(['ALL PRIVILEGES']) }))
          .default([])
          .describe('privileges on a database (or * for all)'),
      }),
    )
    .default([])
    .describe('accounts with their password from a controller file (delivered out of band, never in a record) and grants'),
  replication: z
    .strictObject({
      role: z.enum(['primary', 'replica']).describe('what this node starts as (later changed only by the promote and demote phases)'),
      peer: peerSchema
        .optional()
        .describe("the other server: a replica's primary, and the node a primary follows when demoted; a node id or { role, group, color }"),
      user: accountName.default('replication').describe('the replication account (made on every node, so any node can become primary)'),
      passwordFrom: controllerFile,
    })
    .superRefine((replication, ctx) => {
      if (replication.role === 'replica' && replication.peer === undefined)
        ctx.addIssue({ code: 'custom', path: ['peer'], message: 'missing: a replica needs its primary (a node id or { role, group, color })' });
    })
    .optional()
    .describe('GTID replication between two servers'),
});

/** Parsed options of the mariadb crate. */
export type MariadbOptions = z.output<typeof mariadbOptions>;

/** Where account passwords live on the node (root only): the checks read them there. */
export const MARIADB_SECRETS_DIR = '/etc/mysql/forklift';

/** The one node a peer option names, or undefined (the caller says why). */
function findPeer(ctx: SpecContext, peer: z.output<typeof peerSchema>): NodeRecord[] {
  const running = peers(ctx.nodes).filter((node) => node.id !== ctx.node.id);
  return typeof peer === 'string' ? running.filter((node) => node.id === peer) : peers(running, peer);
}

function describePeer(peer: z.output<typeof peerSchema>): string {
  return typeof peer === 'string' ? `node ${peer}` : `node with ${describeSelector(peer)}`;
}

function serverCnf(options: MariadbOptions, ctx: SpecContext): string {
  const number = colorNumber(colorOf(ctx, options.color));
  return [
    '# managed by forklift (crate mariadb)',
    '[mysqld]',
    `bind-address = ${options.bindAddress ?? ctx.node.address}`,
    `port = ${options.port}`,
    'skip-name-resolve',
    `server_id = ${options.serverId ?? number}`,
    `gtid_domain_id = ${number}`,
    // in the data directory (Debian 12 has no /var/log/mysql)
    'log_bin = mysql-bin',
    'relay_log = relay-bin',
    'binlog_format = ROW',
    'log_slave_updates = ON',
    // blue and green allocate different ids: the staged color's replica can take test writes
    'auto_increment_increment = 2',
    `auto_increment_offset = ${number}`,
    `innodb_buffer_pool_size = ${options.innodbBufferPoolMiB}M`,
    '',
  ].join('\n');
}

type Entry = Record<string, unknown> & { action: string };

const helper = (...words: Array<string | number>): string => [MARIADB_HELPER, ...words.map((word) => shellQuote(word))].join(' ');
const passwordFile = (name: string, host: string): string => `${MARIADB_SECRETS_DIR}/${name}@${host}.password`;

function accountEntries(id: string, name: string, host: string, passwordFrom: string, grants: Array<{ database: string; privileges: string[] }>): Entry[] {
  const file = passwordFile(name, host);
  const entries: Entry[] = [
    { action: 'file', id: `${id}-password`, path: file, contentFrom: passwordFrom, owner: 'root', group: 'root', mode: '0600' },
    { action: 'exec', id: `${id}-account`, script: helper('user-set', name, host, file), unless: helper('user-ok', name, host, file) },
  ];
  grants.forEach((grant, index) => {
    const privileges = grant.privileges.join(',');
    entries.push({
      action: 'exec',
      id: `${id}-grant-${index + 1}`,
      script: helper('grant-set', grant.database, name, host, privileges),
      unless: helper('grant-ok', grant.database, name, host, privileges),
    });
  });
  return entries;
}

function configure(options: MariadbOptions, ctx: SpecContext): Entry[] {
  const entries: Entry[] = [
    { action: 'package', id: 'mariadb-package', name: 'mariadb-server' },
    { action: 'file', id: 'mariadb-cnf', path: '/etc/mysql/mariadb.conf.d/60-forklift.cnf', mode: '0644', content: serverCnf(options, ctx) },
    { action: 'service', id: 'mariadb-service', name: 'mariadb', state: 'started', enabled: true, restartOn: ['mariadb-cnf'] },
    { action: 'file', id: 'mariadb-helper', path: MARIADB_HELPER, mode: '0755', content: MARIADB_HELPER_SCRIPT },
    { action: 'exec', id: 'mariadb-ready', script: helper('ping'), unless: 'mariadb-admin ping' },
    { action: 'directory', id: 'mariadb-secrets-dir', path: MARIADB_SECRETS_DIR, owner: 'root', group: 'root', mode: '0700' },
  ];
  options.databases.forEach((database, index) => {
    entries.push({ action: 'exec', id: `mariadb-database-${index + 1}`, script: helper('db-set', database), unless: helper('db-ok', database) });
  });
  options.users.forEach((user, index) => entries.push(...accountEntries(`mariadb-user-${index + 1}`, user.name, user.host, user.passwordFrom, user.grants)));
  const replication = options.replication;
  if (replication) {
    entries.push(
      ...accountEntries('mariadb-replication', replication.user, '%', replication.passwordFrom, [
        { database: '*', privileges: ['REPLICATION SLAVE' as never] },
      ]),
    );
    if (replication.role === 'primary') {
      entries.push({ action: 'exec', id: 'mariadb-replication-init', script: helper('init-primary'), creates: MARIADB_ROLE_FILE });
    } else {
      const found = findPeer(ctx, replication.peer!);
      if (found.length !== 1)
        throw crateError(
          'replication.peer',
          `a replica needs exactly one ${describePeer(replication.peer!)} among the node records (found ${found.length}${found.length ? `: ${found.map((n) => n.id).join(', ')}` : ''})`,
        );
      const primary = found[0]!;
      // once: later the promote and demote phases decide whom this node follows
      entries.push({
        action: 'exec',
        id: 'mariadb-replication-init',
        script: helper('follow', primary.address, options.port, replication.user, passwordFile(replication.user, '%'), 'slave_pos'),
        creates: MARIADB_ROLE_FILE,
      });
    }
  }
  return entries;
}

function demote(options: MariadbOptions, ctx: SpecContext): Entry[] {
  const replication = options.replication;
  if (!replication) return [{ action: 'exec', id: 'mariadb-demote', script: "echo 'mariadb: demote needs the replication option' >&2; exit 1" }];
  const found = replication.peer === undefined ? [] : findPeer(ctx, replication.peer);
  if (found.length !== 1) {
    const what =
      replication.peer === undefined ? 'replication.peer is not set' : `found ${found.length} ${describePeer(replication.peer)} among the node records`;
    return [{ action: 'exec', id: 'mariadb-demote', script: `echo ${shellQuote(`mariadb: demote needs the one node to follow (${what})`)} >&2; exit 1` }];
  }
  const primary = found[0]!;
  // current_pos: the old primary's own transactions count as applied; it takes the rest from the new primary
  return [
    {
      action: 'exec',
      id: 'mariadb-demote',
      script: helper('follow', primary.address, options.port, replication.user, passwordFile(replication.user, '%'), 'current_pos'),
      unless: helper('follows', primary.address),
    },
  ];
}

/**
 * MariaDB from Debian bound to the node's address, with databases, accounts (passwords from controller files,
 * delivered out of band) and grants, per-color server_id / gtid_domain_id / auto_increment_offset, and GTID
 * replication: a `replica` follows its `peer` from the first converge on; the custom phases `promote`
 * (replica -> primary) and `demote` (primary -> replica of its peer) change the roles, which later converges keep.
 * @example mariadb({ databases: ['winecellar'], users: [{ name: 'winecellar', passwordFrom: 'secrets/db-password', grants: [{ database: 'winecellar' }] }] })
 */
export const mariadb = defineCrate({
  name: 'mariadb',
  summary:
    'MariaDB (Debian): bound to the node address, databases, users and grants (passwords out of band), per-color ids, GTID replication with promote/demote phases',
  schema: mariadbOptions,
  build: (options) =>
    serverSpec({
      settings: { mariadb: { port: options.port, databases: options.databases } },
      phases: {
        configure: (ctx) => configure(options, ctx),
        promote: () => [{ action: 'exec', id: 'mariadb-promote', script: helper('promote'), unless: helper('primary-ok') }],
        demote: (ctx) => demote(options, ctx),
      },
    }),
});
