import { shellQuote } from '@forklift/contract';
import { peers, serverSpec, type SpecContext } from '@forklift/spec';
import { z } from 'zod';
import { crateError, defineCrate } from './crate.js';
import { safePath } from './schemas.js';

/** A znode path: `/a/b`, no trailing slash, no empty or dot segments. */
const znodePath = z
  .string()
  .regex(/^(\/[A-Za-z0-9_.:-]+)+$/, 'must be a znode path like /app/config (letters, digits, _ . : -)')
  .refine((path) => !/\/\.\.?(\/|$)/.test(path), 'no . or .. segments');

/** Options of the zookeeper crate. */
export const zookeeperOptions = z.strictObject({
  heapMiB: z.number().int().min(32).max(65536).default(256).describe("JVM heap (-Xms and -Xmx) in MiB; Debian's default is a quarter of the host's memory"),
  dataDir: safePath.default('/var/lib/zookeeper').describe("data directory (snapshots, transaction log, myid); Debian's default is /tmp/zookeeper"),
  clientPort: z.number().int().min(1).max(65535).default(2181).describe('client port'),
  role: z
    .string()
    .min(1)
    .default('zk')
    .describe(
      'the ensemble: the running nodes with this role, sorted by id (myid = position + 1); 1, 3, 5 or 7 of them. A node without the role renders standalone',
    ),
  znodes: z
    .record(
      znodePath,
      z.union([
        z
          .string()
          .min(1)
          .refine((value) => !value.includes('\n'), 'no newline'),
        z.record(z.string(), z.unknown()),
      ]),
    )
    .default({})
    .describe('configuration znodes set from the spec, path -> value (a string, or an object stored as JSON); set from the first member of the ensemble'),
});

/** Parsed options of the zookeeper crate. */
export type ZookeeperOptions = z.output<typeof zookeeperOptions>;

/** Where this crate keeps ZooKeeper's configuration: its own Debian alternative for /etc/zookeeper/conf. */
export const ZOOKEEPER_CONF_DIR = '/etc/zookeeper/conf_forklift';

const CHECK_SCRIPT = `#!/bin/bash
# managed by forklift (crate zookeeper): forklift-zk-ok [PORT] exits 0 when the ZooKeeper server on this node
# answers ruok with imok and serves (srvr reports a Mode: standalone, leader or follower).
port=\${1:-2181}
ask() {
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf '%s' "$1" >&3
  timeout 5 cat <&3
  exec 3<&-
}
[ "$(ask ruok 2>/dev/null)" = imok ] || exit 1
ask srvr 2>/dev/null | grep -Eq '^Mode: (standalone|leader|follower)$'
`;

const SET_SCRIPT = `#!/bin/sh
# managed by forklift (crate zookeeper): forklift-zk-set PORT PATH VALUE makes the znode PATH hold VALUE,
# creating missing parents empty; forklift-zk-get PORT PATH prints its value (nothing when it cannot tell);
# forklift-zk-get PORT PATH VALUE prints nothing and exits 0 when the znode holds VALUE (one line), 1 otherwise.
# zkCli's JVM is kept small; a call that never got a session (a slow start on a busy node) is tried again.
# zkCli prints its watcher's connection event from another thread than the data: the event can come before or
# after the value, so the value is never found by its position in the output. A check looks for VALUE as a
# whole line; a read drops the lines zkCli prints around it.
set -eu
port=$1 path=$2
zk() {
  for attempt in 1 2 3 4 5; do
    out=$(JVMFLAGS=-Xmx64m /usr/share/zookeeper/bin/zkCli.sh -server "127.0.0.1:$port" "$@" 2>&1) || true
    case "$out" in *"WatchedEvent state:SyncConnected"*) printf '%s\\n' "$out"; return 0 ;; esac
    sleep "$attempt"
  done
  echo "zkCli $1 $path: no session with 127.0.0.1:$port" >&2
  return 1
}
noise='^(WATCHER::|WatchedEvent state:.*|Connecting to .*|Node does not exist: .*|SLF4J: .*|log4j:.*|.*VM warning: .*|[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:.*)$'
case "$0" in
*get)
  if [ "$#" -ge 3 ]; then
    zk get "$path" | grep -qxF -- "$3"
    exit $?
  fi
  zk get "$path" | grep -Ev -e "$noise" -e '^$' || true
  exit 0 ;;
esac
value=$3
parent=
rest=\${path#/}
while [ "\${rest#*/}" != "$rest" ]; do
  parent="$parent/\${rest%%/*}"
  rest=\${rest#*/}
  zk create "$parent" >/dev/null
done
if zk create "$path" "$value" | grep -q 'Node already exists'; then zk set "$path" "$value" >/dev/null; fi
zk get "$path" | grep -qxF -- "$value" || { echo "znode $path does not hold the value after setting it" >&2; exit 1; }
`;

/** The ensemble this node belongs to: the running nodes with the role, sorted by id; [] renders standalone. */
function ensembleOf(ctx: SpecContext, role: string): string[] {
  const members = peers(ctx.nodes, { role });
  if (members.length === 0) return [];
  if (!members.some((member) => member.id === ctx.node.id))
    throw crateError('role', `node ${ctx.node.id} is not among the nodes with role ${role} (${members.map((m) => m.id).join(', ')}): give it the role`);
  if (![1, 3, 5, 7].includes(members.length))
    throw crateError('role', `an ensemble needs 1, 3, 5 or 7 nodes with role ${role} (found ${members.length}: ${members.map((m) => m.id).join(', ')})`);
  return members.map((member) => member.address);
}

function zooCfg(options: ZookeeperOptions, ensemble: string[]): string {
  const lines = [
    '# managed by forklift (crate zookeeper)',
    'tickTime=2000',
    'initLimit=10',
    'syncLimit=5',
    `dataDir=${options.dataDir}`,
    `clientPort=${options.clientPort}`,
    'maxClientCnxns=60',
    // the AdminServer would take port 8080 (HAProxy's staging port on a one-node system)
    'admin.enableServer=false',
    '4lw.commands.whitelist=ruok,srvr,mntr,stat',
  ];
  if (ensemble.length > 1) {
    lines.push('quorumListenOnAllIPs=true');
    ensemble.forEach((address, index) => lines.push(`server.${index + 1}=${address}:2888:3888`));
  }
  return lines.join('\n') + '\n';
}

function environment(options: ZookeeperOptions): string {
  return [
    '# managed by forklift (crate zookeeper): read by /etc/init.d/zookeeper',
    'NAME=zookeeper',
    'ZOOCFGDIR=/etc/zookeeper/conf',
    'CLASSPATH="$ZOOCFGDIR:/usr/share/java/zookeeper.jar"',
    'ZOOCFG="$ZOOCFGDIR/zoo.cfg"',
    'ZOO_LOG_DIR=/var/log/zookeeper',
    'USER=$NAME',
    'GROUP=$NAME',
    'PIDDIR=/run/$NAME',
    'PIDFILE=$PIDDIR/$NAME.pid',
    'SCRIPTNAME=/etc/init.d/$NAME',
    'JAVA=/usr/bin/java',
    'ZOOMAIN="org.apache.zookeeper.server.quorum.QuorumPeerMain"',
    'ZOO_LOG4J_PROP="INFO,ROLLINGFILE"',
    'JMXLOCALONLY=true',
    `JAVA_OPTS="-Xms${options.heapMiB}m -Xmx${options.heapMiB}m"`,
    '',
  ].join('\n');
}

/** The package that stands in for `default-jre` on a ZooKeeper node (see JRE_SHIM_SCRIPT). */
const JRE_SHIM_PACKAGE = 'forklift-zookeeper-jre';

/**
 * Debian's `zookeeper` depends on `default-jre`, the desktop JRE, which brings GTK, X11, Mesa and LLVM to a server.
 * ZooKeeper needs the headless JRE only. This script builds and installs a small package that provides
 * `default-jre` (the equivs way), so apt then installs zookeeperd next to `default-jre-headless` without the desktop
 * JRE. It has no dependencies of its own, so it installs before any package of the phase: the phase's packages
 * are installed together where the first package action stands (a crate composed before this one on the same node
 * may put them ahead of it, and then Debian's default-jre comes too; nothing is removed). It works in a directory of
 * its own (mktemp, removed on exit); nothing is fetched.
 */
const JRE_SHIM_SCRIPT = [
  'set -e',
  'd=$(mktemp -d)',
  'trap \'rm -rf "$d"\' EXIT',
  'mkdir -m 0755 "$d/p" "$d/p/DEBIAN"',
  'cat >"$d/p/DEBIAN/control" <<\'EOF\'',
  `Package: ${JRE_SHIM_PACKAGE}`,
  'Version: 1.0',
  'Architecture: all',
  'Maintainer: forklift <root@localhost>',
  'Provides: default-jre',
  "Description: the headless JRE for Debian's zookeeper (forklift zookeeper crate)",
  " Debian's zookeeper depends on default-jre, which brings GTK, X11 and Mesa to a",
  ' server. This package provides default-jre: the zookeeper crate installs default-jre-headless.',
  'EOF',
  'dpkg-deb --root-owner-group --build "$d/p" "$d/shim.deb" >/dev/null',
  'dpkg -i "$d/shim.deb"',
].join('\n');

/**
 * Apache ZooKeeper from Debian (zookeeperd) on the headless JRE, with its heap and data directory set, myid and the
 * ensemble from the nodes with role `zk` (1, 3, 5 or 7), a health check (`ruok` answered `imok` and a serving Mode) that the
 * converge waits for, and configuration znodes set from the spec.
 * @example zookeeper({ heapMiB: 256, znodes: { '/wine-cellar/config': { greeting: 'hello' } } })
 */
export const zookeeper = defineCrate({
  name: 'zookeeper',
  summary:
    "Apache ZooKeeper (Debian's zookeeperd on the headless JRE): heap, data dir, myid and ensemble (1 or 3 nodes with role zk), a ruok health check, znodes from the spec",
  schema: zookeeperOptions,
  build: (options) =>
    serverSpec({
      settings: { zookeeper: { clientPort: options.clientPort, role: options.role } },
      phases: {
        configure: (ctx) => {
          const ensemble = ensembleOf(ctx, options.role);
          const myid = ensemble.length === 0 ? 1 : ensemble.indexOf(ctx.node.address) + 1;
          const conf = (name: string) => `${ZOOKEEPER_CONF_DIR}/${name}`;
          const watched = ['zookeeper-cfg', 'zookeeper-environment', 'zookeeper-myid', 'zookeeper-alternative'];
          const entries: Array<Record<string, unknown> & { action: string }> = [
            // a package standing in for the desktop JRE Debian's zookeeper depends on, then the headless JRE
            {
              action: 'exec',
              id: 'zookeeper-jre-shim',
              script: JRE_SHIM_SCRIPT,
              unless: `[ "$(dpkg-query -W -f='\${Status}' ${JRE_SHIM_PACKAGE} 2>/dev/null)" = 'install ok installed' ]`,
            },
            { action: 'package', id: 'zookeeper-jre', name: 'default-jre-headless' },
            { action: 'package', id: 'zookeeper-package', name: 'zookeeperd' },
            { action: 'directory', id: 'zookeeper-conf-dir', path: ZOOKEEPER_CONF_DIR, mode: '0755' },
            // log4j settings stay Debian's: copied once from the package's example configuration
            {
              action: 'exec',
              id: 'zookeeper-log4j',
              command: ['cp', '/etc/zookeeper/conf_example/log4j.properties', conf('log4j.properties')],
              creates: conf('log4j.properties'),
            },
            { action: 'file', id: 'zookeeper-cfg', path: conf('zoo.cfg'), mode: '0644', content: zooCfg(options, ensemble) },
            { action: 'file', id: 'zookeeper-environment', path: conf('environment'), mode: '0644', content: environment(options) },
            { action: 'file', id: 'zookeeper-myid', path: conf('myid'), mode: '0644', content: `${myid}\n` },
            { action: 'directory', id: 'zookeeper-data-dir', path: options.dataDir, owner: 'zookeeper', group: 'zookeeper', mode: '0750' },
            // ZooKeeper reads myid from its data dir; Debian links it to the configuration's
            { action: 'symlink', id: 'zookeeper-myid-link', path: `${options.dataDir}/myid`, target: '/etc/zookeeper/conf/myid' },
            {
              action: 'exec',
              id: 'zookeeper-alternative',
              script: `update-alternatives --quiet --install /etc/zookeeper/conf zookeeper-conf ${ZOOKEEPER_CONF_DIR} 100 && update-alternatives --quiet --set zookeeper-conf ${ZOOKEEPER_CONF_DIR}`,
              unless: `[ "$(readlink /etc/alternatives/zookeeper-conf)" = ${ZOOKEEPER_CONF_DIR} ]`,
            },
            { action: 'file', id: 'zookeeper-check-script', path: '/usr/local/sbin/forklift-zk-ok', mode: '0755', content: CHECK_SCRIPT },
            { action: 'service', id: 'zookeeper-service', name: 'zookeeper', state: 'started', enabled: true, restartOn: watched },
            {
              action: 'exec',
              id: 'zookeeper-health',
              // runs (and reports changed) only while the server does not answer yet: a converged node reports ok
              script: `for i in $(seq 1 120); do /usr/local/sbin/forklift-zk-ok ${options.clientPort} && exit 0; sleep 1; done; echo "ZooKeeper on port ${options.clientPort} did not answer ruok/imok with a serving Mode in 120 s" >&2; exit 1`,
              unless: `/usr/local/sbin/forklift-zk-ok ${options.clientPort}`,
            },
          ];
          const znodes = Object.entries(options.znodes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
          entries.push({ action: 'file', id: 'zookeeper-set-script', path: '/usr/local/sbin/forklift-zk-set', mode: '0755', content: SET_SCRIPT });
          entries.push({ action: 'symlink', id: 'zookeeper-get-script', path: '/usr/local/sbin/forklift-zk-get', target: 'forklift-zk-set' });
          // set once for the ensemble: from its first member
          if (myid === 1) {
            znodes.forEach(([path, raw], index) => {
              const value = typeof raw === 'string' ? raw : JSON.stringify(raw);
              const args = `${options.clientPort} ${shellQuote(path)}`;
              entries.push({
                action: 'exec',
                id: `zookeeper-znode-${index + 1}`,
                script: `/usr/local/sbin/forklift-zk-set ${args} ${shellQuote(value)}`,
                unless: `/usr/local/sbin/forklift-zk-get ${args} ${shellQuote(value)}`,
              });
            });
          }
          return entries;
        },
      },
    }),
});
