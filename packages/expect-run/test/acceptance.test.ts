// Acceptance: expect-run reads the node record of a real node (an OpenSSH server this suite starts
// on loopback), runs commands on it over SSH through run-actions' transport, and fetches from it
// over HTTP (a server this suite starts on the node's address).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { REPO_ROOT, runBinary, startSshd, toNdjson } from '@forklift/testkit';

const FIXTURE = 'packages/expect-run/test/fixtures/acceptance/node.expect.ts';

t.test('acceptance - tests see the piped node record and check command output on the real node', async (t) => {
  const sshd = await startSshd();
  t.teardown(() => sshd.stop());
  const server = createServer((request, response) => {
    response.writeHead(request.url === '/health' ? 200 : 404, { 'content-type': 'text/plain' });
    response.end(`ok from ${request.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, sshd.node.address, resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;

  const result = await runBinary('expect-run', [FIXTURE, '--timeout', '90'], {
    cwd: REPO_ROOT,
    stdin: toNdjson([sshd.node]),
    env: { EXPECT_RUN_TEST_HTTP_PORT: String(port), NODE_OPTIONS: '' },
    timeoutMs: 90_000,
  });
  t.equal(result.exitCode, 1, result.stderr);
  t.match(result.records[0], { kind: 'node', id: sshd.node.id, port: sshd.node.port }, 'the node record passes through');
  const tests = result.records.filter((record) => record.kind === 'test');
  t.same(
    tests.map((record) => [record.name, record.status]),
    [
      ["line 6: expect(1, nodes('testkit').length)", 'passed'],
      ["line 7: expect(inObj({ exitCode: 3, stdout: 'a\\n' }), onNode(node!).run('echo a; exit 3'))", 'passed'],
      ['a command on the node gives its exit code, stdout and stderr', 'passed'],
      ['an argv is quoted for the shell', 'passed'],
      ['the node answers over HTTP', 'passed'],
      ['a wrong expectation on command output fails with the focused diff', 'failed'],
    ],
    result.stderr,
  );
  t.match(tests[5], {
    failure: { message: 'strings differ from the start: expected "stopped\\n" was "running\\n"', location: `${FIXTURE}:25:3`, actual: 'running\n' },
  });
  t.match(result.stderr, /^Ran 6 tests containing 6 assertions in \d+ ms: 1 failure, 0 errors$/m);
});
