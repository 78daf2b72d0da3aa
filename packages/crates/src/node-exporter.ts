import { serverSpec } from '@forklift/spec';
import { z } from 'zod';
import { defineCrate } from './crate.js';
import { safePath } from './schemas.js';

/** Options of the node-exporter crate. */
export const nodeExporterOptions = z.strictObject({
  port: z.number().int().min(1).max(65535).default(9100).describe('TCP port the exporter listens on'),
  textfileDir: safePath.default('/var/lib/node-exporter-textfile').describe('directory of the textfile collector (*.prom files other jobs write)'),
});

/**
 * Prometheus' node exporter from Debian on a port of your choice, with a textfile collector directory;
 * a changed configuration restarts it. The smallest complete crate: copy it to start a new one.
 * @example groupSpec({ group: 'monitoring', extends: [nodeExporter({ port: 9100 })] })
 */
export const nodeExporter = defineCrate({
  name: 'node-exporter',
  summary: "Prometheus' node exporter (Debian's prometheus-node-exporter) on a port, with a textfile collector",
  schema: nodeExporterOptions,
  build: (options) =>
    serverSpec({
      // other crates and phases read these (ctx.settings.nodeExporter.port)
      settings: { nodeExporter: { port: options.port, textfileDir: options.textfileDir } },
      phases: {
        configure: [
          { action: 'package', id: 'node-exporter-package', name: 'prometheus-node-exporter' },
          { action: 'directory', id: 'node-exporter-textfile-dir', path: options.textfileDir, mode: '0755' },
          {
            action: 'file',
            id: 'node-exporter-defaults',
            path: '/etc/default/prometheus-node-exporter',
            mode: '0644',
            content: `# managed by forklift (crate node-exporter)\nARGS="--web.listen-address=:${options.port} --collector.textfile.directory=${options.textfileDir}"\n`,
          },
          {
            action: 'service',
            id: 'node-exporter-service',
            name: 'prometheus-node-exporter',
            state: 'started',
            enabled: true,
            restartOn: ['node-exporter-defaults'],
          },
        ],
      },
    }),
});
