// The floor for bench/run-actions.mjs: a bare parallel ssh2 fan-out that connects to every node
// (TCP_NODELAY, pinned host key, the same algorithms as run-actions) and pipes each node's rendered script,
// after the one line the script needs (fl_nonce=NONCE), into `sh -s`, nothing else: no wrapper, no facts, no
// marker parsing. Per node it notes the connect (TCP + key exchange + auth) and script (exec to close) times.
// With `{ wrapper: true }` it runs the script the way run-actions does on the node instead — under run-actions'
// remote wrapper (private directory, the nonce on stdin, its own session, the watchdog that ends the script when
// the caller goes away), stdin held open until the script exits — and still nothing else: no facts round trip,
// no render, no marker parsing. The difference between the two is the price of the wrapper's guarantees.
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'packages', 'run-actions', 'package.json'));
const { Client } = require('ssh2');
const { SSH_ALGORITHMS } = await import(join(root, 'packages/run-actions/dist/ssh-connect.js'));
const { remoteCommand, wrapperInput, newNonce } = await import(join(root, 'packages/run-actions/dist/remote-command.js'));

/** Connect to one node (pinned host key); resolves with the ready client and the connect ms. */
export function connectBare(node, algorithms = SSH_ALGORITHMS) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = new Socket();
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.connect({ host: node.address, port: node.port }, () => {
      const client = new Client();
      const [type, base64] = node.hostKey.split(' ');
      const pinned = Buffer.from(base64, 'base64');
      client.once('error', reject);
      client.once('ready', () => resolve({ client, connectMs: performance.now() - started }));
      client.connect({
        sock: socket,
        username: node.user,
        privateKey: readFileSync(node.privateKey),
        hostVerifier: (key) => key.equals(pinned),
        algorithms: { ...algorithms, serverHostKey: [type] },
      });
    });
  });
}

function runOne(node, script, wrapper) {
  return connectBare(node).then(
    ({ client, connectMs }) =>
      new Promise((resolve, reject) => {
        const execStarted = performance.now();
        client.exec(wrapper ? remoteCommand({ sudo: node.user !== 'root' }) : 'sh -s', (error, channel) => {
          if (error) return reject(error);
          let code = null;
          channel.on('data', () => undefined);
          channel.stderr.on('data', () => undefined);
          channel.on('exit', (exitCode) => {
            code = exitCode;
            // the wrapper's watchdog reads stdin until it ends: held open until the script is done
            if (wrapper) channel.end();
          });
          channel.on('close', () => {
            client.end();
            code === 0 ? resolve({ node: node.id, connectMs, scriptMs: performance.now() - execStarted }) : reject(new Error(`${node.id}: exit ${code}`));
          });
          if (wrapper) channel.write(wrapperInput(newNonce(), Buffer.from(script)));
          else channel.end(`fl_nonce=benchnonce\n${script}`);
        });
      }),
  );
}

/** Run every node's plan script at once: wall ms and per-node { connectMs, scriptMs }. */
export async function bareFanOut(nodes, plans, { wrapper = false } = {}) {
  const started = performance.now();
  const perNode = await Promise.all(nodes.map((node) => runOne(node, plans.find((plan) => plan.node === node.id).script, wrapper)));
  return { ms: performance.now() - started, perNode };
}

// As a process of its own (the floor for the run-actions binary, which pays its own process start too):
//   node bench/run-actions-bare.mjs JOB.json   (JOB: { nodes, plans }); prints { ms, perNode } as JSON
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {
  const { nodes, plans } = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  process.stdout.write(JSON.stringify(await bareFanOut(nodes, plans)) + '\n');
}
