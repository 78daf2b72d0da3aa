import { UsageError, type ToolDefinition } from '@forklift/contract';
import { specGroup } from '@forklift/spec';
import { GENERIC_RELEASES, genericNode } from './generic.js';
import { loadSpec } from './load.js';
import { renderPlans } from './render.js';
import { usageText } from './usage.js';

/** Version of render-crate. */
export const RENDER_CRATE_VERSION = '0.1.0';

/** render-crate: SPEC + node records -> one plan record per node per phase, then the summary. */
export const renderCrateTool: ToolDefinition = {
  name: 'render-crate',
  version: RENDER_CRATE_VERSION,
  stdin: 'optional',
  minArgs: 1,
  maxArgs: 1,
  argsName: 'SPEC argument',
  failure: 'never (a spec that does not render is exit 65)',
  flags: { boolean: ['plan'], multiple: ['phase'], string: ['os'], default: { os: 'debian' } },
  usage: usageText(),
  async run(ctx) {
    const os = String(ctx.flags.os);
    if (!(os in GENERIC_RELEASES)) {
      throw new UsageError(`--os ${JSON.stringify(os)}: expected one of ${Object.keys(GENERIC_RELEASES).join(', ')}`);
    }
    const spec = await loadSpec(ctx.args[0]!, { cwd: ctx.cwd });
    const group = specGroup(spec);
    const nodes = ctx.nodes.length > 0 ? ctx.nodes : [genericNode(os, group)];
    const plans = await renderPlans(spec, nodes, {
      phases: ctx.flags.phase as string[],
      plan: Boolean(ctx.flags.plan),
      defaultOs: { family: os, release: GENERIC_RELEASES[os]! },
    });
    await ctx.flushInput();
    for (const plan of plans) await ctx.emit('plan', { ...plan });
    const rendered = new Set(plans.map((plan) => plan.node));
    const skipped = nodes.filter((node) => !rendered.has(node.id)).length;
    if (skipped > 0) ctx.log(`render-crate: ${skipped} node(s) not running${group === undefined ? '' : ` or not in group ${group}`} were passed through without plans`);
    return { ok: true, counts: { nodes: rendered.size, plans: plans.length, actions: plans.reduce((sum, plan) => sum + plan.actions.length, 0), skipped } };
  },
};
