// The floor for bench/run-actions.mjs: a bare parallel ssh2 fan-out that connects to every node
// (TCP_NODELAY, pinned host key) and pipes each node's rendered script into `sh -s -- NONCE`, nothing else.
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'run-actions', 'package.json'));
const { Client } = require('ssh2');

function runOne(node, script) {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    socket.setNoDelay(true);
    socket.once('error', reject);
    socket.connect({ host: node.address, port: node.port }, () => {
      const client = new Client();
      const pinned = Buffer.from(node.hostKey.split(' ')[1], 'base64');
      client.once('error', reject);
      client.once('ready', () => {
        client.exec('sh -s -- benchnonce', (error, channel) => {
          if (error) return reject(error);
          let code = null;
          channel.on('data', () => undefined);
          channel.stderr.on('data', () => undefined);
          channel.on('exit', (exitCode) => (code = exitCode));
          channel.on('close', () => {
            client.end();
            code === 0 ? resolve() : reject(new Error(`${node.id}: exit ${code}`));
          });
          channel.end(script);
        });
      });
      client.connect({ sock: socket, username: node.user, privateKey: readFileSync(node.privateKey), hostVerifier: (key) => key.equals(pinned), algorithms: { serverHostKey: [node.hostKey.split(' ')[0]] } });
    });
  });
}

/** Wall ms for running every node's plan script at once. */
export async function bareFanOut(nodes, plans) {
  const started = performance.now();
  await Promise.all(nodes.map((node) => runOne(node, plans.find((plan) => plan.node === node.id).script)));
  return performance.now() - started;
}
