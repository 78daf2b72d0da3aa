import { ExitCode, ForkliftError, InputError, packageVersion, UsageError, type ToolDefinition, type ToolOutcome } from '@forklift/contract';
import { isGroupSpec, loadSpec, type GroupSpec } from '@forklift/spec';
import { convergeNodes, listReport, DEFAULT_GROUP, type UnreachableNode } from './provision.js';

/** Version of provision-node (its package.json's). */
export const PROVISION_NODE_VERSION = packageVersion(import.meta.url);

/** The group spec `--spec` names; InputError when the spec names no group. */
async function loadGroupSpec(ref: string, cwd: string): Promise<GroupSpec> {
  // only the group's own fields matter here: extends (and crates by name) are render-crate's
  const spec = await loadSpec(ref, { cwd, shallow: true });
  if (!isGroupSpec(spec))
    throw new InputError(`${spec.source ?? ref}: not a group spec: --spec needs a spec that names its group with "group"`, { code: 'bad-spec' });
  return spec;
}

/** provision-node: converge a group of a service to COUNT nodes and write their node records. */
export const provisionNodeTool: ToolDefinition = {
  name: 'provision-node',
  version: PROVISION_NODE_VERSION,
  stdin: 'none',
  minArgs: 1,
  maxArgs: 2,
  flags: { string: ['group', 'spec'], boolean: ['list'] },
  usage: `provision-node — create or destroy nodes of a service and write their node records

Usage:
  provision-node SERVICE COUNT [--group NAME] [--spec groups/x]
  provision-node SERVICE --list [--group NAME]

Converges the group (the spec's group, else --group, else "${DEFAULT_GROUP}") on SERVICE to COUNT
running nodes: half-made nodes are cleaned, the newest surplus nodes destroyed, missing ones created
and waited for over SSH. Writes one node record per running node of the group, then a summary.
COUNT 0 tears the group down. --list only writes the existing nodes.

--spec groups/x reads a group spec: its group, count (when COUNT is not given), node spec, color and
roles (written into the node records).

Services: services/NAME.json5 of the spec's project, of the working directory or of
$FORKLIFT_HOME/services (default ~/.forklift); built in: local (nspawn), vmfest (qemu), netns,
localhost (node-list). Providers for service files: nspawn, netns, qemu, podman, lxd (an LXD or
Incus cluster), node-list.`,
  failure: 'a node exists but cannot be reached (its LXD cluster member is offline; an error record names it instead of a node record)',
  argsName: 'SERVICE argument',
  async run(ctx): Promise<ToolOutcome> {
    const [service, countText] = ctx.args as [string, string | undefined];
    const spec = typeof ctx.flags.spec === 'string' ? await loadGroupSpec(ctx.flags.spec, ctx.cwd) : undefined;
    const groupFlag = typeof ctx.flags.group === 'string' ? ctx.flags.group : undefined;
    if (spec && groupFlag !== undefined && groupFlag !== spec.group) {
      throw new UsageError(`--group ${groupFlag} but ${spec.source ?? 'the spec'} is group ${spec.group}: give one of them`);
    }
    const group = spec?.group ?? groupFlag;
    // nodes that exist but cannot be reached now (an offline cluster member): an error record each, exit 1
    const reportUnreachable = async (unreachable: UnreachableNode[]): Promise<void> => {
      for (const node of unreachable) {
        ctx.log(`provision-node: ${node.message}`);
        await ctx.emit('error', { code: 'unreachable', message: node.message, node: node.id });
      }
    };
    const common = {
      service,
      group,
      cwd: ctx.cwd,
      // the spec's project holds its services/, whatever the working directory
      projectDir: spec?.cwd,
      env: ctx.env,
      signal: ctx.signal,
      log: (line: string) => ctx.log(`provision-node: ${line}`),
    };
    if (ctx.flags.list) {
      if (countText !== undefined) throw new UsageError('--list takes no COUNT');
      const { nodes, unreachable } = await listReport(common);
      for (const node of nodes) await ctx.emit('node', node);
      await reportUnreachable(unreachable);
      return { ok: unreachable.length === 0, counts: { nodes: nodes.length, ...(unreachable.length ? { unreachable: unreachable.length } : {}) } };
    }
    let count = spec?.count;
    if (countText !== undefined) {
      if (/^-\d+$/.test(countText)) throw new UsageError(`COUNT must be 0 or more, got "${countText}"`);
      if (!/^\d+$/.test(countText)) throw new UsageError(`COUNT must be a whole number, got "${countText}"`);
      count = Number(countText);
    }
    if (count === undefined) throw new UsageError('missing COUNT (or a --spec with a count)');
    let report;
    try {
      report = await convergeNodes({ ...common, count, nodeSpec: spec?.node, color: spec?.color, roles: spec?.roles });
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
    await reportUnreachable(report.unreachable);
    return {
      ok: report.unreachable.length === 0,
      changed: report.created + report.destroyed > 0,
      counts: {
        nodes: report.nodes.length,
        created: report.created,
        destroyed: report.destroyed,
        ...(report.unreachable.length ? { unreachable: report.unreachable.length } : {}),
      },
    };
  },
};
