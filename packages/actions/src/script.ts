import { InputError, type PlanAction } from '@forklift/contract/lite';
import { assertActionId, commentText, renderBlock } from './block.js';
import { PRELUDE } from './prelude.js';
import { getAction } from './registry.js';
import { sh } from './sh.js';
import { uploadRegistry } from './uploads.js';
import type { ActionInstance, AnyActionDefinition, Facts, PlanUploadEntry, RenderContext, UploadResolver } from './types.js';

/** Default directory of forklift's state on a node. */
export const DEFAULT_STATE_DIR = '/var/lib/forklift';

/** Options of one phase script. */
export interface PhaseScriptOptions {
  /** The phase name (goes into comments and the once-flag name). */
  phase: string;
  facts: Facts;
  /** Plan mode: checks and diffs only. */
  plan?: boolean;
  /** Run the phase once per node (bootstrap): a flag under the state dir remembers it ran. */
  once?: boolean;
  /** State directory on the node (default /var/lib/forklift; tests point it into a scratch dir). */
  stateDir?: string;
  /** Local file contents, keyed as the actions name them. */
  files?: ReadonlyMap<string, Uint8Array>;
  /** Watched id -> ids of the actions watching it; computed from this phase's `watches` when omitted. */
  notify?: ReadonlyMap<string, readonly string[]>;
  /** Resolves the controller files actions ask for with `ctx.upload` (render-crate: confined to the spec's project). */
  resolveUpload?: UploadResolver;
}

/** A rendered phase: the whole sh script and the actions in marker order. */
export interface PhaseScript {
  script: string;
  actions: PlanAction[];
  /** Controller files the script needs on the node (the plan record's `uploads`; empty when none). */
  uploads: PlanUploadEntry[];
}

/**
 * Watched id -> watcher ids over some instances (for `restartOn`). A watched name that is no instance's id but the
 * label of instances (e.g. `file /etc/nginx/nginx.conf`) stands for those instances; anything else is kept as given.
 */
export function notifyMap(instances: readonly ActionInstance[]): Map<string, string[]> {
  const ids = new Set(instances.map((instance) => instance.id));
  const byLabel = new Map<string, string[]>();
  for (const instance of instances) {
    const label = getAction(instance.action).label(instance.args as never);
    byLabel.set(label, [...(byLabel.get(label) ?? []), instance.id]);
  }
  const map = new Map<string, string[]>();
  for (const instance of instances) {
    const definition = getAction(instance.action);
    for (const name of definition.watches?.(instance.args as never) ?? []) {
      for (const watched of ids.has(name) ? [name] : (byLabel.get(name) ?? [name])) {
        const list = map.get(watched) ?? [];
        if (!list.includes(instance.id)) list.push(instance.id);
        map.set(watched, list);
      }
    }
  }
  return map;
}

/** Order instances for rendering: instances of an aggregated action move to the position of the first one. */
function groupInstances(instances: readonly ActionInstance[]): ActionInstance[][] {
  const groups: ActionInstance[][] = [];
  const aggregated = new Map<string, ActionInstance[]>();
  for (const instance of instances) {
    const definition = getAction(instance.action);
    if (!definition.aggregate) {
      groups.push([instance]);
      continue;
    }
    const group = aggregated.get(instance.action);
    if (group) group.push(instance);
    else {
      const fresh = [instance];
      aggregated.set(instance.action, fresh);
      groups.push(fresh);
    }
  }
  return groups;
}

/**
 * Render one phase of validated action instances into a complete POSIX sh script (`set -eu`, prelude,
 * one checked block per action, markers per DEVELOPING.md). Pure and byte-stable.
 * @example renderPhaseScript([{ id: 'motd', action: 'file', args }], { phase: 'configure', facts }).script
 */
export function renderPhaseScript(instances: readonly ActionInstance[], options: PhaseScriptOptions): PhaseScript {
  const plan = options.plan ?? false;
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const files = options.files ?? new Map<string, Uint8Array>();
  const notify = options.notify ?? notifyMap(instances);
  const seen = new Set<string>();
  for (const instance of instances) {
    assertActionId(instance.id, `phase ${options.phase}`);
    if (seen.has(instance.id)) throw new InputError(`phase ${options.phase}: duplicate action id "${instance.id}"`, { code: 'duplicate-action-id' });
    seen.add(instance.id);
  }
  const uploads = uploadRegistry(options.resolveUpload);
  const contextFor = (id: string): RenderContext => ({ facts: options.facts, id, phase: options.phase, plan, stateDir, files, ...uploads.forAction(id) });

  const blocks: string[] = [];
  const actions: PlanAction[] = [];
  for (const group of groupInstances(instances)) {
    const definition: AnyActionDefinition = getAction(group[0]!.action);
    const head = definition.aggregate
      ? definition.aggregate(
          group.map(({ id, args }) => ({ id, args, notify: notify.get(id) ?? [] })),
          contextFor(group[0]!.id),
        )
      : '';
    group.forEach((instance, index) => {
      const ctx = contextFor(instance.id);
      const label = definition.label(instance.args);
      const own = definition.render(instance.args, ctx);
      const body = index === 0 && head ? `${head.endsWith('\n') ? head : `${head}\n`}${own}` : own;
      blocks.push(renderBlock({ id: instance.id, action: instance.action, label, body, notify: notify.get(instance.id) ?? [] }));
      actions.push({ id: instance.id, action: instance.action, label });
    });
  }

  const onceFlag = `${stateDir}/once/${options.phase}.done`;
  const header =
    'set -eu\n' +
    '# shellcheck shell=sh disable=SC2016,SC2030,SC2031,SC2317 # quoted data is literal on purpose; fl_id/fl_notify are per block; unused helpers look unreachable\n' +
    `# forklift ${plan ? 'plan' : 'apply'} script: phase ${commentText(options.phase)}` +
    `, ${options.facts.family} ${commentText(options.facts.release)} (rendered by forklift; do not edit)\n` +
    '# usage: { echo fl_nonce=NONCE; cat SCRIPT; } | sh -s   (the nonce comes before the script on stdin, never on argv;\n' +
    '# run-actions also sets fl_tmp (its private run directory), and fl_up and fl_blobs when the plan has uploads;\n' +
    '# the script is one { } group: a truncated script never runs)\n' +
    '{\n' +
    'case ${fl_nonce:-} in \'\' | *[!A-Za-z0-9_-]*) echo "forklift: no valid fl_nonce=NONCE line before the script on stdin" >&2; exit 64 ;; esac\n' +
    uploads.checks() +
    `fl_plan=${plan ? 1 : 0}\n` +
    'fl_id=\n' +
    'fl_notify=\n' +
    sh`fl_state=${stateDir}\n` +
    sh`fl_once_flag=${options.once ? onceFlag : ''}\n` +
    // run-actions' wrapper gives the run's private directory (removed when it exits); by hand, make one
    'if [ -z "${fl_tmp:-}" ]; then\n' +
    '  fl_tmp=$(mktemp -d "${TMPDIR:-/tmp}/forklift.XXXXXX")\n' +
    '  trap \'rm -rf "$fl_tmp"\' EXIT\n' +
    'fi\n' +
    "trap 'exit 130' INT\n" +
    "trap 'exit 143' TERM\n" +
    'umask 022\n' +
    'export LC_ALL=C\n' +
    PRELUDE;
  let main = blocks.join('');
  if (options.once && actions.length > 0) {
    main =
      'if [ -e "$fl_once_flag" ]; then\n' +
      sh`fl_done_already ${actions.map((action) => action.id)}\n` +
      'else\n' +
      main +
      'if fl_apply; then mkdir -p "$fl_state/once" && : >"$fl_once_flag"; fi\n' +
      'fi\n';
  }
  return { script: `${header}${main}exit 0\n}\n`, actions, uploads: uploads.entries() };
}
