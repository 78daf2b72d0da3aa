// An OS family of `constructor` or `__proto__` was looked up through the prototype chain and crashed the render
// (exit 70); only the table's own entries are families (issue 12 item 11): one line, exit 65.
import t from 'tap';
import { factsFromOs } from '@forklift/actions';
import { InputError } from '@forklift/contract';
import { runCli } from './helpers.js';

t.test('OS family - constructor, __proto__, hasOwnProperty are unsupported families (InputError), not crashes', async (t) => {
  for (const family of ['constructor', '__proto__', 'hasOwnProperty', 'toString', 'valueOf']) {
    t.throws(() => factsFromOs({ family, release: '1' }), InputError, `factsFromOs: ${family}`);
    const node = {
      v: 1,
      kind: 'node',
      id: 'n1',
      group: 'web',
      service: 's',
      provider: 'p',
      address: '10.0.0.2',
      port: 22,
      user: 'root',
      state: 'running',
      os: { family, release: '1' },
    };
    const run = await runCli(['groups/web'], `${JSON.stringify(node)}\n`);
    t.equal(run.code, 65, `render-crate with a node of family ${family}: exit 65`);
    t.equal(run.stderr.trim().split('\n').length, 1, 'one line');
    t.match(run.stderr, `unsupported OS family "${family}"`);
  }
  for (const os of ['constructor', '__proto__']) {
    const run = await runCli(['groups/web', '--os', os]);
    t.equal(run.code, 64, `--os ${os}: a usage error`);
  }
});
