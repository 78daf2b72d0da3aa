import { UsageError, type ToolDefinition } from '@forklift/contract/lite';
import { isAppName, isColorName } from './layout.js';
import { parseCount, parseDuration, parseRate, parseStages } from './options.js';
import type { PromoteReport, PromotionFields } from './promote.js';
import { USAGE } from './usage.js';
import { PROMOTE_COLOR_VERSION } from './version.js';

function text(flags: Record<string, unknown>, name: string): string | undefined {
  const value = flags[name];
  return value === undefined ? undefined : String(value);
}

/** The promote-color binary: node records in, promotion records out. */
export const promoteColorTool: ToolDefinition = {
  name: 'promote-color',
  version: PROMOTE_COLOR_VERSION,
  usage: USAGE,
  failure: 'a gate failed (rolled back, or nothing shifted) or an LB failed',
  argsName: 'APP',
  stdin: 'required',
  minArgs: 1,
  maxArgs: 1,
  flags: { string: ['to', 'stages', 'hold', 'max-error-rate', 'min-requests', 'lb'], boolean: ['status', 'rollback', 'dry-run'] },
  async run(ctx) {
    const app = ctx.args[0]!;
    const flags = ctx.flags;
    if (!isAppName(app)) throw new UsageError(`APP must be a name of letters, digits, "_", "." and "-" (got "${app}")`);
    const to = text(flags, 'to');
    if (to !== undefined && !isColorName(to)) throw new UsageError(`--to must name a color of lower-case letters and digits, like green (got "${to}")`);
    const modes = ['status', 'rollback', 'dry-run'].filter((name) => flags[name] === true);
    if (flags.status === true && modes.length > 1) throw new UsageError(`--status cannot be combined with --${modes.find((m) => m !== 'status')}`);
    if (flags.rollback === true && flags['dry-run'] === true) throw new UsageError('--rollback cannot be combined with --dry-run');
    const promoting = flags.status !== true && flags.rollback !== true;
    if (promoting && to === undefined) throw new UsageError('missing --to COLOR: the color that takes the traffic (see promote-color --help)');
    if (!promoting) {
      for (const name of ['stages', 'hold', 'max-error-rate', 'min-requests']) {
        if (flags[name] !== undefined) throw new UsageError(`--${name} only applies to a promotion, not to --${modes[0]}`);
      }
    }
    const stages = text(flags, 'stages');
    const hold = text(flags, 'hold');
    const rate = text(flags, 'max-error-rate');
    const min = text(flags, 'min-requests');
    const common = {
      app,
      nodes: ctx.nodes,
      lbGroup: text(flags, 'lb'),
      env: ctx.env,
      signal: ctx.signal,
      log: (line: string) => ctx.log(line),
      onRecord: (record: PromotionFields) => ctx.emit('promotion', { ...record }),
    };
    // loaded only for a run: SSH (ssh2) is most of the start-up time, --help and usage errors do without it
    const [{ promoteColor }, { promotionStatus, rollbackColor }] = await Promise.all([import('./promote.js'), import('./manage.js')]);
    let report: PromoteReport;
    if (flags.status === true) report = await promotionStatus(common);
    else if (flags.rollback === true) report = await rollbackColor({ ...common, to });
    else {
      report = await promoteColor({
        ...common,
        to: to!,
        stages: stages === undefined ? undefined : parseStages(stages),
        holdMs: hold === undefined ? undefined : parseDuration(hold, '--hold'),
        maxErrorRate: rate === undefined ? undefined : parseRate(rate, '--max-error-rate'),
        minRequests: min === undefined ? undefined : parseCount(min, '--min-requests'),
        dryRun: flags['dry-run'] === true,
      });
    }
    const rolledBack = report.records.filter((record) => record.status === 'rolled-back').length;
    return {
      ok: report.ok,
      counts: { lbs: report.lbs, stages: report.stages.length, rolledBack },
    };
  },
};
