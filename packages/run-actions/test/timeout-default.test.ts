// No default --timeout let one hung node hold the phase barrier forever (issue 12 item 11): the default is 30 min.
import t from 'tap';
import type { NodeRecord } from '@forklift/contract';
import { DEFAULT_TIMEOUT_SECONDS, parseRunFlags, runActions, type ExecOptions } from '../src/index.js';
import { testPlan } from './helpers.js';

t.test('--timeout - defaults to 1800 s; --timeout S overrides it', async (t) => {
  t.equal(DEFAULT_TIMEOUT_SECONDS, 1800);
  t.equal(parseRunFlags({}).timeoutMs, 1_800_000, 'without --timeout');
  t.equal(parseRunFlags({ timeout: '5' }).timeoutMs, 5000);
});

/** The first line written to a command's stdin (its string or its stream). */
function firstLine(options: ExecOptions): Promise<string> {
  let text = Buffer.from(options.stdin ?? '').toString();
  if (text.includes('\n') || !options.stdinStream) return Promise.resolve(text.split('\n')[0]!);
  return new Promise((resolve) => {
    options.stdinStream!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(text.split('\n')[0]!);
    });
  });
}

t.test('runActions - a node whose script never ends is stopped by the timeout and the others finish', async (t) => {
  const node = (id: string): NodeRecord => ({
    v: 1,
    kind: 'node',
    id,
    group: 'g',
    service: 's',
    provider: 'p',
    address: `${id}.invalid`,
    port: 22,
    user: 'root',
    state: 'running',
    os: { family: 'debian', release: '12' },
  });
  const hung = new Set(['stuck']);
  const records: Array<{ kind: string; fields: Record<string, unknown> }> = [];
  const report = await runActions({
    nodes: [node('stuck'), node('fine')],
    plans: [testPlan('stuck', 'configure', [{ id: 'a', body: 'true' }]), testPlan('fine', 'configure', [{ id: 'a', body: 'true' }])],
    timeoutMs: parseRunFlags({ timeout: '0.5' }).timeoutMs,
    transport: async (target) => ({
      async exec(command: string, options: ExecOptions = {}) {
        if (!command.includes('forklift-run')) return { exitCode: 0 };
        // the wrapper's protocol: facts first when asked, then a header line NONCE SCRIPT_BYTES BLOB_DIR on stdin
        if (command.endsWith(' facts')) options.onStdout?.(Buffer.from('id=debian\nversion_id=12\nend-of-facts\n'));
        const header = await firstLine(options);
        const nonce = header.split(' ')[0]!;
        if (header.split(' ')[1] === '0') return { exitCode: 0 };
        options.onStdout?.(Buffer.from(`::forklift:${nonce}:a:begin\n`));
        if (!hung.has(target.id)) {
          options.onStdout?.(Buffer.from(`::forklift:${nonce}:a:exit:0\n::forklift:${nonce}:a:ok\n`));
          return { exitCode: 0 };
        }
        // never ends on its own: only the abort (the timeout) ends it
        await new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve(), { once: true }));
        return { exitCode: null, signal: 'ABORTED' };
      },
      async put() {},
      async close() {},
    }),
    onRecord: (record) => void records.push(record as never),
  });
  t.notOk(report.ok);
  t.match(records.find((r) => r.kind === 'result' && r.fields.node === 'stuck')?.fields, { status: 'failed', stderr: /timed out after/ });
  t.match(records.find((r) => r.kind === 'result' && r.fields.node === 'fine')?.fields, { status: 'ok' });
});
