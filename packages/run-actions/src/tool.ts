import { RECORD_VERSION, UsageError, type NodeRecord, type PlanRecord, type ToolDefinition } from '@forklift/contract/lite';
import { parseRunFlags } from './flags.js';
import { progressLine, RunNarrator } from './recap.js';
import { assertPlanMode, runActions, type RunActionsOptions } from './run-actions.js';
import { RUN_ACTIONS_VERSION } from './version.js';
import { USAGE } from './usage.js';

function asPlanRecord(fields: object): PlanRecord {
  return { v: RECORD_VERSION, kind: 'plan', ...fields } as PlanRecord;
}

/** The run-actions binary: node records (+ plan records, or a SPEC) in, result/phase/error records out. */
export const runActionsTool: ToolDefinition = {
  name: 'run-actions',
  version: RUN_ACTIONS_VERSION,
  usage: USAGE,
  stdin: 'required',
  consumes: ['plan'],
  maxArgs: 1,
  failure: 'an action failed or a node was unreachable',
  detailedExitcode: true,
  flags: { string: ['concurrency', 'batch', 'max-fail', 'timeout'], multiple: ['phase', 'allow-files'], boolean: ['plan', 'diff'] },
  async run(ctx) {
    const flags = parseRunFlags(ctx.flags);
    const inputPlans = ctx.consumed.map((item) => item.record as PlanRecord);
    const specRef = ctx.args[0];
    let nodes: NodeRecord[] = ctx.nodes.filter((node) => node.state === 'running');
    let render: RunActionsOptions['render'];
    if (specRef !== undefined) {
      if (inputPlans.length) throw new UsageError('got both a SPEC argument and plan records on stdin: give one or the other');
      // loaded only for SPEC: the actions registry and zod schemas cost start-up time for saved plans
      const { loadSpec, selectNodes, specGroup, renderPlans, allowedFolders, projectFilesFor, DEFAULT_GROUP, phaseNotes } =
        await import('@forklift/render-crate');
      const spec = await loadSpec(specRef, { cwd: ctx.cwd });
      const notes = phaseNotes(spec, flags.phases);
      for (const line of notes.warnings) ctx.warn(`run-actions: warning: ${line}`);
      for (const line of notes.notes) ctx.detail(`run-actions: ${line}`);
      // a group spec runs on its group's nodes, or adopts nodes provisioned without a group (re-emitted in its
      // group); nodes of other groups only are exit 65 naming them
      const selection = selectNodes(spec, ctx.nodes);
      for (const id of selection.adopted) ctx.updateNode(selection.nodes.find((node) => node.id === id)!);
      if (selection.adopted.length > 0)
        ctx.log(
          `run-actions: ${selection.adopted.length} node(s) of group ${DEFAULT_GROUP} adopted into group ${specGroup(spec)}: ${selection.adopted.join(' ')}`,
        );
      nodes = selection.targets;
      const peers = selection.nodes;
      // every node of the input is a peer the spec may look at (ctx.nodes), not only those it renders for;
      // local files resolve against the spec's own project, never against this working directory
      // the controller's files are read here, at the edge (one ProjectFiles for both renders)
      const files = projectFilesFor(spec, { allowFiles: allowedFolders(ctx.flags['allow-files'], ctx.cwd) });
      const renderOptions = { phases: flags.phases, plan: flags.plan, allNodes: peers, files };
      // render once with the facts at hand, so a bad spec stops the run before any connection
      await renderPlans(spec, nodes, renderOptions);
      render = async (withFacts) => {
        const updated = new Map(withFacts.map((node) => [node.id, node]));
        const allNodes = peers.map((node) => updated.get(node.id) ?? node);
        return (await renderPlans(spec, withFacts, { ...renderOptions, allNodes })).map(asPlanRecord);
      };
    } else {
      assertPlanMode(inputPlans, flags.plan);
      if (inputPlans.length === 0) ctx.log('run-actions: no plan records on stdin and no SPEC argument: nothing to run (see run-actions --help)');
    }
    const tty = Boolean(ctx.stderr.isTTY);
    let shown = false;
    const say = (text: string): void => {
      if (shown) ctx.stderr.write('\r\u001b[K');
      shown = false;
      ctx.stderr.write(text);
    };
    // diffs: asked for with --diff, or a check run on a terminal (a person is reading)
    const narrator = new RunNarrator({
      colors: ctx.colors,
      verbosity: ctx.verbosity,
      diffs: Boolean(ctx.flags.diff) || (flags.plan && tty),
      plan: flags.plan,
      write: say,
    });
    const report = await runActions({
      nodes,
      plans: specRef === undefined ? inputPlans : undefined,
      render,
      phases: flags.phases,
      concurrency: flags.concurrency,
      batch: flags.batch,
      maxFailPercent: flags.maxFailPercent,
      timeoutMs: flags.timeoutMs,
      signal: ctx.signal,
      ssh: { env: ctx.env },
      onNode: (node) => ctx.updateNode(node),
      onRecord: async (record) => {
        await ctx.emit(record.kind, record.fields as never);
        narrator.record(record);
      },
      onProgress:
        tty && ctx.verbosity !== 'quiet'
          ? (progress) => {
              shown = true;
              ctx.stderr.write(`\r\u001b[K${progressLine(progress)}`);
            }
          : undefined,
    });
    say(narrator.recap(report.tallies, report.interrupted));
    if (flags.plan && ctx.verbosity !== 'quiet') say(narrator.planSummary(report.tallies));
    return { ok: report.ok, changed: report.changed, counts: report.counts, exitCode: report.interrupted ? undefined : report.exitCode };
  },
};
