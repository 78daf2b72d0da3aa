// Acceptance tests of the monitoring group, run at the end of the main job:
//   provision-node local 2 --group monitoring | run-actions groups/monitoring | expect-run test/monitoring
// They get the node records from stdin (nodes('monitoring')) and check each node over SSH and HTTP.
import { expect, http, nodes, onNode, test } from '@forklift/expect-run';

const group = nodes('monitoring');

expect((count: number) => count >= 1, group.length);

for (const node of group) {
  test(`${node.id}: the node exporter answers on :9100 with node_* series`, async () => {
    const response = await http(node, 9100, '/metrics');
    expect(200, response.status);
    expect(/^node_uname_info\{/m, response.body);
    expect(/^node_cpu_seconds_total\{/m, response.body);
  });

  test(`${node.id}: the monitoring service user exists, a system user without a login shell`, async () => {
    const { exitCode, stdout } = await onNode(node).run('getent passwd monitoring');
    expect(0, exitCode);
    expect(/^monitoring:x:\d+:\d+:forklift monitoring:[^:]*:\/usr\/sbin\/nologin$/m, stdout);
    const uid = Number(stdout.split(':')[2]);
    expect((id: number) => id < 1000, uid);
  });

  test(
    `${node.id}: the heartbeat of the monitoring user's cron job shows up in the exporter's metrics`,
    async ({ signal }) => {
      // the cron job runs every minute; the exporter reads its textfile collector directory per scrape
      let body = '';
      while (!signal.aborted) {
        body = (await http(node, 9100, '/metrics')).body;
        if (/^forklift_heartbeat_timestamp_seconds /m.test(body)) break;
        await new Promise((resolve) => setTimeout(resolve, 3000));
      }
      expect(/^forklift_heartbeat_timestamp_seconds \d+(\.\d+)?(e\+\d+)?$/m, body);
      const { stdout } = await onNode(node).run('stat -c %U /var/lib/node-exporter-textfile/heartbeat.prom');
      expect('monitoring\n', stdout);
    },
    { timeoutMs: 150_000 },
  );
}
