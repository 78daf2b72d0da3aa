// A minimal HTTP app for promote-color's tests: GET / and /healthz answer 200 with the color,
// /slow?ms=N after N ms; while the file FAIL_FILE exists every request answers 500.
import { createServer } from 'node:http';
import { statSync } from 'node:fs';

const color = process.env.COLOR ?? 'blue';
const port = Number(process.env.PORT ?? 80);
const failFile = process.env.FAIL_FILE ?? '/run/color-app/fail';
let failing = false;
const poll = () => {
  try {
    statSync(failFile);
    failing = true;
  } catch {
    failing = false;
  }
};
poll();
setInterval(poll, 200).unref();

const server = createServer((req, res) => {
  const answer = () => {
    const status = failing ? 500 : 200;
    const body = JSON.stringify(req.url === '/healthz' ? { status: failing ? 'failing' : 'ok', color } : { color, path: req.url }) + '\n';
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  // /slow?ms=N answers after N ms (at most 30 s): a request in flight while weights change
  const slow = /^\/slow\?ms=(\d+)$/.exec(req.url ?? '');
  if (slow) setTimeout(answer, Math.min(Number(slow[1]), 30_000));
  else answer();
});
server.keepAliveTimeout = 65_000;
server.listen(port, '0.0.0.0');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
