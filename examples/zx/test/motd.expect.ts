// What converge.mjs checks on every node it converged.
import { expect, nodes, onNode, test } from '@forklift/expect-run';

const group = nodes('motd-zx');
expect(2, group.length);

for (const node of group) {
  test(`${node.id}: the message of the day is in place`, async () => {
    const on = onNode(node);
    expect('Converged by a zx script.\n', (await on.run('cat /srv/motd/today')).stdout);
    expect('755 644\n', (await on.run('stat -c %a /srv/motd; stat -c %a /srv/motd/today')).stdout.replace('\n', ' '));
    expect(/^See \/srv\/motd\/today\.$/m, (await on.run('cat /etc/motd')).stdout);
  });
}
