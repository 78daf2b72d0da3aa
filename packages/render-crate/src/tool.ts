import { resolve } from 'node:path';
import { packageVersion, parsePhaseFlags, UsageError, type RecordFields, type ToolDefinition } from '@forklift/contract/lite';
import { DEFAULT_GROUP, selectNodes, specGroup } from '@forklift/spec';
import { genericNode, genericOs } from './generic.js';
import { loadSpec } from './load.js';
import { phaseNotes } from './phase-notes.js';
import { projectFilesFor, renderPlans } from './render.js';
import { usageText } from './usage.js';

/** `--allow-files DIR` values as absolute folders (relative ones against the working directory). */
export function allowedFolders(value: unknown, cwd: string): string[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
  return list.map((dir) => {
    if (dir === '' || dir === 'true') throw new UsageError('--allow-files needs a folder');
    return resolve(cwd, dir);
  });
}

/** Version of render-crate (its package.json's). */
export const RENDER_CRATE_VERSION = packageVersion(import.meta.url);

/** render-crate: SPEC + node records -> one plan record per node per phase, then the summary. */
export const renderCrateTool: ToolDefinition = {
  name: 'render-crate',
  version: RENDER_CRATE_VERSION,
  stdin: 'optional',
  minArgs: 1,
  maxArgs: 1,
  argsName: 'SPEC argument',
  failure: 'never (a spec that does not render is exit 65)',
  flags: { boolean: ['plan'], multiple: ['phase', 'allow-files'], string: ['os'], default: { os: 'debian' } },
  usage: usageText(),
  async run(ctx) {
    const os = String(ctx.flags.os);
    const defaultOs = genericOs(os);
    const phases = parsePhaseFlags(ctx.flags.phase);
    const allowFiles = allowedFolders(ctx.flags['allow-files'], ctx.cwd);
    const spec = await loadSpec(ctx.args[0]!, { cwd: ctx.cwd });
    const notes = phaseNotes(spec, phases);
    for (const line of notes.warnings) ctx.warn(`render-crate: warning: ${line}`);
    for (const line of notes.notes) ctx.detail(`render-crate: ${line}`);
    const group = specGroup(spec);
    const selection = selectNodes(spec, ctx.nodes.length > 0 ? ctx.nodes : [genericNode(os, group)]);
    // nodes provisioned without a group flow on in the spec's group (with its color and roles)
    for (const id of selection.adopted) ctx.updateNode(selection.nodes.find((node) => node.id === id)!);
    if (selection.adopted.length > 0)
      ctx.log(`render-crate: ${selection.adopted.length} node(s) of group ${DEFAULT_GROUP} adopted into group ${group}: ${selection.adopted.join(' ')}`);
    const nodes = selection.nodes;
    const plans = await renderPlans(spec, nodes, {
      phases,
      plan: Boolean(ctx.flags.plan),
      // the edge reads the controller's files; rendering itself does no IO
      files: projectFilesFor(spec, { allowFiles }),
      defaultOs,
    });
    await ctx.flushInput();
    // the fields are checked against the plan schema when emitted (PlanUploadEntry is an interface, so TypeScript cannot match it to the record's open shape)
    for (const plan of plans) await ctx.emit('plan', { ...plan } as RecordFields<'plan'>);
    const rendered = new Set(plans.map((plan) => plan.node));
    const skipped = nodes.filter((node) => !rendered.has(node.id)).length;
    if (skipped > 0)
      ctx.log(`render-crate: ${skipped} node(s) not running${group === undefined ? '' : ` or not in group ${group}`} were passed through without plans`);
    return { ok: true, counts: { nodes: rendered.size, plans: plans.length, actions: plans.reduce((sum, plan) => sum + plan.actions.length, 0), skipped } };
  },
};
