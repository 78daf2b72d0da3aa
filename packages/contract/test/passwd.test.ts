import t from 'tap';
import { readPasswd } from '../src/index.js';

t.test('readPasswd - the entries of a passwd file in order, fields as written, short lines passed over', async (t) => {
  const dir = t.testdir({
    passwd: [
      'root:x:0:0:root:/root:/bin/bash',
      '',
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
      'short:x:7',
      'nohome:x:12:34',
      'odd:x:0x1f:staff:a:b:c:extra',
      'root:x:1000:1000::/home/second:/bin/sh',
    ].join('\n'),
  });
  t.same(readPasswd(`${dir}/passwd`), [
    { name: 'root', uid: '0', gid: '0', gecos: 'root', home: '/root', shell: '/bin/bash' },
    { name: 'nobody', uid: '65534', gid: '65534', gecos: 'nobody', home: '/nonexistent', shell: '/usr/sbin/nologin' },
    { name: 'nohome', uid: '12', gid: '34', gecos: '', home: '', shell: '' },
    { name: 'odd', uid: '0x1f', gid: 'staff', gecos: 'a', home: 'b', shell: 'c' },
    { name: 'root', uid: '1000', gid: '1000', gecos: '', home: '/home/second', shell: '/bin/sh' },
  ]);
});

t.test("readPasswd - reads /etc/passwd by default: root's entry is there", async (t) => {
  t.match(
    readPasswd().find((entry) => entry.name === 'root'),
    { uid: '0', gid: '0', home: '/root' },
  );
});

t.test('readPasswd - a file that cannot be read throws', async (t) => {
  const dir = t.testdir({});
  t.throws(() => readPasswd(`${dir}/missing`), { code: 'ENOENT' });
});
