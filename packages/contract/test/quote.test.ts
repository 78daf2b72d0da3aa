import t from 'tap';
import { execFileSync } from 'node:child_process';
import { shellQuote } from '../src/index.js';

t.test('shellQuote - values survive sh and bash byte-for-byte', async (t) => {
  const values = ["it's", '"$(touch /tmp/x)"', '`id`', 'a;b', 'line1\nline2', '*', '-rf', '', 'é✓', "'", '\\', '$HOME'];
  for (const shell of ['dash', 'bash']) {
    for (const value of values) {
      const out = execFileSync(shell, ['-c', `printf %s ${shellQuote(value)}`], { encoding: 'utf8' });
      t.equal(out, value, `${shell}: ${JSON.stringify(value)}`);
    }
  }
});

t.test('shellQuote - safe words stay bare, NUL is rejected', async (t) => {
  t.equal(shellQuote('nginx'), 'nginx');
  t.equal(shellQuote('/etc/nginx/nginx.conf'), '/etc/nginx/nginx.conf');
  t.equal(shellQuote(8080), '8080');
  t.throws(() => shellQuote('a\0b'), { code: 'nul-byte', exitCode: 65 });
});
