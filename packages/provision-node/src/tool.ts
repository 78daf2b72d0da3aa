import { ExitCode, ForkliftError, UsageError, type ToolDefinition, type ToolOutcome } from '@forklift/contract';
import { loadGroupSpec } from './group-spec.js';
import { convergeNodes, listNodes, DEFAULT_GROUP } from './provision.js';

const VERSION = '0.1.0';

/** provision-node: converge a group of a service to COUNT nodes and write their node records. */
export const provisionNodeTool: ToolDefinition = {
  name: 'provision-node',
  version: VERSION,
  stdin: 'none',
  minArgs: 1,
  maxArgs: 2,
  flags: { string: ['group', 'spec'], boolean: ['list'] },
  usage: `provision-node — create or destroy nodes of a service and write their node records

Usage:
  provision-node SERVICE COUNT [--group NAME] [--spec groups/x]
  provision-node SERVICE --list [--group NAME]

Converges the group (default "${DEFAULT_GROUP}", or the spec's group) on SERVICE to COUNT running
nodes: half-made nodes are cleaned, the newest surplus nodes destroyed, missing ones created and
waited for over SSH. Writes one node record per running node of the group, then a summary.
COUNT 0 tears the group down. --list only writes the existing nodes.

Services: services/NAME.json5 of the project or of $FORKLIFT_HOME/services (default ~/.forklift);
built in: local (nspawn), vmfest (qemu), netns, localhost (node-list).

Exit codes: 0 ok, 64 usage, 65 bad service/spec file, 69 prerequisite missing, 70 internal.`,
  async run(ctx): Promise<ToolOutcome> {
    const [service, countText] = ctx.args as [string, string | undefined];
    const spec = typeof ctx.flags.spec === 'string' ? await loadGroupSpec(ctx.flags.spec, ctx.cwd) : undefined;
    const group = typeof ctx.flags.group === 'string' ? ctx.flags.group : spec?.group;
    const common = {
      service,
      group,
      cwd: ctx.cwd,
      env: ctx.env,
      signal: ctx.signal,
      log: (line: string) => ctx.log(`provision-node: ${line}`),
    };
    if (ctx.flags.list) {
      if (countText !== undefined) throw new UsageError('--list takes no COUNT');
      const nodes = await listNodes(common);
      for (const node of nodes) await ctx.emit('node', node);
      return { ok: true, counts: { nodes: nodes.length } };
    }
    let count = spec?.count;
    if (countText !== undefined) {
      if (!/^\d+$/.test(countText)) throw new UsageError(`COUNT must be a whole number, got "${countText}"`);
      count = Number(countText);
    }
    if (count === undefined) throw new UsageError('missing COUNT (or a --spec with a count)');
    let report;
    try {
      report = await convergeNodes({ ...common, count, spec: spec?.nodeSpec });
    } catch (error) {
      const reason = ctx.signal.aborted ? ctx.signal.reason : undefined;
      if (reason !== 'SIGINT' && reason !== 'SIGTERM') throw error;
      // half-made nodes were destroyed on the way out; finished ones stay and show in --list
      throw new ForkliftError('interrupted', `interrupted by ${reason} while converging; run it again to converge`, {
        exitCode: reason === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm,
        cause: error,
      });
    }
    for (const node of report.nodes) await ctx.emit('node', node);
    return {
      ok: true,
      changed: report.created + report.destroyed > 0,
      counts: { nodes: report.nodes.length, created: report.created, destroyed: report.destroyed },
    };
  },
};
