import { createHash } from 'node:crypto';
import { factsFromOs, getAction, notifyMap, renderPhaseScript, validateArgs, type ActionInstance, type Facts, type PlanUploadEntry } from '@forklift/actions';
import { InputError, issueLine, phaseNameProblem, type NodeRecord, type PlanAction } from '@forklift/contract/lite';
import { actionEntrySchema, selectNodes, type Spec } from '@forklift/spec';
import { definedPhases, evaluateSettings, flattenSpec, phaseEntries } from './compose.js';
import { ProjectFiles, type ControllerFiles } from './project-files.js';

/** Options of renderPlans. */
export interface RenderPlansOptions {
  /** Phases to render, in order (default: bootstrap when the spec has one, then configure). */
  phases?: readonly string[];
  /** Plan mode: checks and diffs only; records get `mode: "plan"`. */
  plan?: boolean;
  /**
   * The project controller files (`local`, `contentFrom`, `upload`, `passwordFrom`, `envFrom`) resolve against and
   * must stay inside, symlinks resolved, when the spec has no project folder (loadSpec sets one; default process.cwd()).
   */
  cwd?: string;
  /** More folders whose files specs may name (`--allow-files DIR`), e.g. a secrets folder kept out of the repository. */
  allowFiles?: readonly string[];
  /**
   * The controller files the render reads (local contents, upload sizes and hashes): the edge builds them
   * (projectFilesFor) and rendering itself does no IO. Default: projectFilesFor(spec, { cwd, allowFiles }).
   */
  files?: ControllerFiles;
  /** Every node record of the run, what spec functions see as `ctx.nodes` (running ones; default: `nodes`). */
  allNodes?: readonly NodeRecord[];
  /** OS facts for nodes whose record has no `os` (default debian 12). */
  defaultOs?: { family: string; release: string };
  /** State directory on the nodes (default /var/lib/forklift). */
  stateDir?: string;
}

/** The fields of one plan record (what render-crate writes, without v and kind). */
export interface PlanFields {
  node: string;
  phase: string;
  script: string;
  actions: PlanAction[];
  sha256: string;
  mode: 'apply' | 'plan';
  /** Controller files run-actions delivers out of band (only present when the script needs some). */
  uploads?: PlanUploadEntry[];
}

interface NodeActions {
  facts: Facts;
  byPhase: Map<string, ActionInstance[]>;
  files: Map<string, Uint8Array>;
  notify: Map<string, string[]>;
}

/** Default phases: bootstrap (if defined) then configure. */
export function defaultPhases(spec: Spec): string[] {
  const defined = definedPhases(flattenSpec(spec));
  return defined.includes('bootstrap') ? ['bootstrap', 'configure'] : ['configure'];
}

/** Caches shared by the nodes of one renderPlans call: validated entries and local files. */
interface RenderCaches {
  entries: WeakMap<object, ValidatedEntry>;
  files: Map<string, Uint8Array>;
  serial: WeakMap<object, number>;
  scripts: Map<string, { script: string; actions: PlanAction[]; sha256: string; uploads: PlanUploadEntry[] }>;
  /** The controller files of this render. */
  project: ControllerFiles;
}

type ValidatedEntry = { action: string; id?: string; args: unknown };

/** An action entry's shape, action name and arguments checked; static entries (the same object for every node) only once. */
function validatedEntry(entry: unknown, at: string, caches: RenderCaches): ValidatedEntry {
  let known = entry !== null && typeof entry === 'object' ? caches.entries.get(entry) : undefined;
  if (!known) {
    const shape = actionEntrySchema.safeParse(entry);
    if (!shape.success) throw new InputError(issueLine(shape.error, { where: at, input: entry }), { code: 'bad-spec' });
    const { action: name, id: entryId, ...rest } = shape.data as { action: string; id?: string } & Record<string, unknown>;
    getAction(name, `${at}.action`);
    known = { action: name, id: entryId, args: validateArgs(name, rest, at) };
    caches.entries.set(entry as object, known);
  }
  return known;
}

/** Action ids of one node: the given one, else `ACTION-N` (Nth of that action); a second use of an id is an InputError. */
class ActionIds {
  readonly #counters = new Map<string, number>();
  /** id -> where in the spec it was given. */
  readonly where = new Map<string, string>();

  assign(action: string, givenId: string | undefined, at: string): string {
    const count = (this.#counters.get(action) ?? 0) + 1;
    this.#counters.set(action, count);
    const id = givenId ?? `${action}-${count}`;
    if (this.where.has(id)) throw new InputError(`${at}: id "${id}" is already used by ${this.where.get(id)}`, { code: 'duplicate-action-id' });
    this.where.set(id, at);
    return id;
  }
}

/** Read the local files an action names into `files` (once per render: the render's cache has them after the first node). */
function readLocalFiles(locals: readonly string[], at: string, files: Map<string, Uint8Array>, caches: RenderCaches): void {
  for (const local of locals) {
    if (files.has(local)) continue;
    const cached = caches.files.get(local);
    if (cached) {
      files.set(local, cached);
      continue;
    }
    files.set(local, caches.project.read(local, at));
    caches.files.set(local, files.get(local)!);
  }
}

/** Every `watches` names an action of this node. */
function checkWatches(notify: ReadonlyMap<string, readonly string[]>, ids: ActionIds): void {
  for (const [watched, watchers] of notify) {
    if (!ids.where.has(watched))
      throw new InputError(`${ids.where.get(watchers[0]!)}: watches unknown action id "${watched}" (ids: ${[...ids.where.keys()].join(', ')})`, {
        code: 'unknown-action-id',
      });
  }
}

/** One node's actions by phase (validated, with ids), the local files they read, and who watches whom. */
function collect(spec: Spec, node: NodeRecord, running: readonly NodeRecord[], options: RenderPlansOptions, caches: RenderCaches): NodeActions {
  const facts = factsFromOs(node.os ?? options.defaultOs ?? { family: 'debian', release: '12' });
  const specs = flattenSpec(spec);
  const base = { node, facts, nodes: running };
  const settings = evaluateSettings(specs, base);
  const ctx = { ...base, settings };
  const ids = new ActionIds();
  const byPhase = new Map<string, ActionInstance[]>();
  const files = new Map<string, Uint8Array>();
  const phases = [...new Set([...definedPhases(specs), ...(options.phases ?? [])])];
  for (const phase of phases) {
    const instances: ActionInstance[] = [];
    for (const { entry, where: at } of phaseEntries(specs, phase, ctx)) {
      const { action, id: givenId, args } = validatedEntry(entry, at, caches);
      const definition = getAction(action);
      const id = ids.assign(action, givenId, at);
      readLocalFiles(definition.localFiles?.(args) ?? [], at, files, caches);
      instances.push({ id, action, args });
    }
    byPhase.set(phase, instances);
  }
  const notify = notifyMap([...byPhase.values()].flat());
  checkWatches(notify, ids);
  return { facts, byPhase, files, notify };
}

/**
 * The nodes a spec renders for (@forklift/spec's selectNodes): running nodes; for a group spec those of
 * its group, else the adopted nodes of group `default`; nodes of other groups only are an InputError.
 */
export function nodesForSpec(spec: Spec, nodes: readonly NodeRecord[]): NodeRecord[] {
  return selectNodes(spec, nodes).targets;
}

/**
 * The controller files of a spec's render, read from disk and confined to its project (the spec's own
 * project wins over `cwd`: a CLI's working directory must not move where its controller files are).
 * @example renderPlans(spec, nodes, { files: projectFilesFor(spec, { allowFiles: ['/etc/secrets'] }) })
 */
export function projectFilesFor(spec: Spec, options: Pick<RenderPlansOptions, 'cwd' | 'allowFiles'> = {}): ProjectFiles {
  return new ProjectFiles({ project: spec.cwd ?? options.cwd ?? process.cwd(), allowed: options.allowFiles });
}

/**
 * Render a spec for nodes (those nodesForSpec selects; a group spec adopts nodes of group `default`): one plan record's fields per node per phase, in node then phase order.
 * Everything is validated for every node before anything is returned; errors are InputError (exit 65)
 * naming the spec file and the path inside it. Pure when given `files`: the default reads the project's files.
 * @example const plans = await renderPlans(await loadSpec('groups/web'), nodes, { phases: ['configure'], plan: true })
 */
export async function renderPlans(spec: Spec, nodes: readonly NodeRecord[], options: RenderPlansOptions = {}): Promise<PlanFields[]> {
  const plan = options.plan ?? false;
  const phases = options.phases && options.phases.length > 0 ? [...options.phases] : defaultPhases(spec);
  for (const phase of phases) {
    const problem = phaseNameProblem(phase);
    if (problem) throw new InputError(`phase ${JSON.stringify(phase)}: ${problem}`, { code: 'bad-phase' });
  }
  const selection = selectNodes(spec, nodes);
  const targets = selection.targets;
  const running = (options.allNodes ?? selection.nodes).filter((node) => node.state === 'running');
  const project = options.files ?? projectFilesFor(spec, options);
  const caches: RenderCaches = { entries: new WeakMap(), files: new Map(), serial: new WeakMap(), scripts: new Map(), project };
  const collected = targets.map((node) => collect(spec, node, running, options, caches));
  let nextSerial = 1;
  const serialOf = (value: unknown): string => {
    if (value === null || typeof value !== 'object') return JSON.stringify(value);
    let serial = caches.serial.get(value);
    if (serial === undefined) caches.serial.set(value, (serial = nextSerial++));
    return `#${serial}`;
  };
  const out: PlanFields[] = [];
  targets.forEach((node, index) => {
    const { facts, byPhase, files, notify } = collected[index]!;
    for (const phase of phases) {
      const instances = byPhase.get(phase) ?? [];
      // nodes with the same facts and the same (cached) action objects share one rendering
      const key = [JSON.stringify(facts), phase, ...instances.map((i) => `${i.id}|${i.action}|${serialOf(i.args)}|${(notify.get(i.id) ?? []).join(' ')}`)].join(
        '\n',
      );
      let rendered = caches.scripts.get(key);
      if (!rendered) {
        const resolveUpload = project.resolver(`${spec.source ?? 'spec'}: phase ${phase}`);
        const script = renderPhaseScript(instances, {
          phase,
          facts,
          plan,
          once: phase === 'bootstrap',
          files,
          notify,
          stateDir: options.stateDir,
          resolveUpload,
        });
        rendered = { ...script, sha256: createHash('sha256').update(script.script).digest('hex') };
        caches.scripts.set(key, rendered);
      }
      out.push({
        node: node.id,
        phase,
        script: rendered.script,
        actions: rendered.actions.map((action) => ({ ...action })),
        sha256: rendered.sha256,
        mode: plan ? 'plan' : 'apply',
        ...(rendered.uploads.length > 0 ? { uploads: rendered.uploads.map((upload) => ({ ...upload })) } : {}),
      });
    }
  });
  return out;
}
