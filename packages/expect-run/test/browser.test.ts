// browser() in a test file: a real headless chromium (browser-drive) opens a page served by this
// suite on loopback; the session a file leaves open is closed when that file is done.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { REPO_ROOT, runBinary } from '@forklift/testkit';

t.test('browser - a page checked in chromium, and the session closed at the end of its file', async (t) => {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>Wine cellar</title><p id="stock">3 bottles left</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  // chromium may take long to start on a loaded machine: a generous --timeout
  const result = await runBinary('expect-run', ['packages/expect-run/test/fixtures/browser', '--timeout', '120'], {
    cwd: REPO_ROOT,
    env: { EXPECT_RUN_TEST_HTTP_PORT: String(port), NODE_OPTIONS: '' },
    timeoutMs: 300_000,
  });
  t.equal(result.exitCode, 0, result.stderr);
  t.same(
    result.records.filter((record) => record.kind === 'test').map((record) => [record.name, record.status]),
    [
      ['a page in a real browser, left open on purpose', 'passed'],
      ['line 14: expect([], descendantPids(process.pid).map(commandOf).filter((name) => /chrom/.test(name)))', 'passed'],
    ],
  );
});
