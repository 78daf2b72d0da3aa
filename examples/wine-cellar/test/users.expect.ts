// Each app server process runs as its own unix user (wine-cellar) in the common group (apps).
import { expect, onNode, test } from '@forklift/expect-run';
import { withRole } from './system.js';

for (const app of withRole('app')) {
  test(`the app process on ${app.id} runs as wine-cellar in group apps`, async () => {
    const result = await onNode(app).run('ps -o user:32=,group:32= -p "$(systemctl show -p MainPID --value wine-cellar)"');
    expect(0, result.exitCode);
    expect('wine-cellar apps', result.stdout.trim().replace(/\s+/g, ' '));
    const id = await onNode(app).run('id -nG wine-cellar');
    expect('apps', id.stdout.trim());
  });
}
