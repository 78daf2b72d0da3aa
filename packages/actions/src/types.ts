import type { Facts, OsFamily } from '@forklift/contract/lite';
import type { z } from 'zod';

/** OS families and facts are the contract's (shared with @forklift/spec). */
export type { Facts, OsFamily };

/**
 * Per-OS-family table (Pallet's defimpl): the one place where OS differences live.
 * @example const installCmd: OsTable<string> = { debian: 'apt-get install -y', fedora: 'dnf install -y', alpine: 'apk add' }
 */
export type OsTable<T> = Readonly<Record<OsFamily, T>>;

/** What `render` gets besides its arguments. */
export interface RenderContext {
  /** OS facts of the node being rendered for. */
  facts: Facts;
  /** The id of this action instance (used in markers, pending flags and temp names); matches `[A-Za-z0-9_.-]+`. */
  id: string;
  /** The phase being rendered. */
  phase: string;
  /** True when rendering a plan-only script (checks, diffs, no changes). The body may also test `fl_apply` at run time. */
  plan: boolean;
  /** Where forklift keeps state on the node (default `/var/lib/forklift`). */
  stateDir: string;
  /** Contents of local (controller-side) files the action asked for via `localFiles`, read by render-crate. */
  files: ReadonlyMap<string, Uint8Array>;
  /**
   * Ask for a controller-side file to be on the node while the script runs (delivered out of band over the
   * node's SSH connection, never inside the plan). Returns the shell word (raw sh, already quoted) naming where
   * the bytes are on the node during the run, e.g. `"$fl_up"/u1` (sensitive: per run, private, removed at exit)
   * or `"$fl_blobs"/<sha256>` (the node's content-addressed cache). render-crate resolves `path` against the
   * spec's project and confines it there; the plan record lists the file in `uploads`.
   * @example sh`cmp -s ${raw(ctx.upload('files/app.tar.gz'))} /opt/app.tar.gz`
   */
  upload(path: string, options?: UploadOptions): string;
  /** `upload` with what render-crate learned of the file: its shell word, size and (non-sensitive only) sha256. */
  uploadFile(path: string, options?: UploadOptions): UploadedFile;
}

/** An upload as an action sees it at render time. */
export interface UploadedFile {
  /** The shell word (raw sh) naming the bytes on the node during the run. */
  word: string;
  /** Size in bytes. */
  bytes: number;
  /** sha256 of the content (absent for sensitive files). */
  sha256?: string;
}

/** Options of RenderContext.upload. */
export interface UploadOptions {
  /** A secret: sent per run into a private directory, never cached, never hashed into a record (default false). */
  sensitive?: boolean;
}

/** What an upload resolver learns about a controller-side file (render-crate reads the disk; tests fake it). */
export interface ResolvedUpload {
  /** Absolute path on the controller. */
  source: string;
  /** Size in bytes. */
  bytes: number;
  /** sha256 (hex) of the content: required for non-sensitive files, never computed for sensitive ones. */
  sha256?: string;
}

/**
 * Resolves a path an action passed to `ctx.upload` (relative to the spec's project) to the controller file.
 * Throws InputError for a path outside the project or a file it cannot read.
 */
export type UploadResolver = (path: string, options: { sensitive: boolean; action?: string }) => ResolvedUpload;

/** One file of a plan's `uploads` (the plan record field). */
export interface PlanUploadEntry {
  name: string;
  source: string;
  bytes: number;
  sha256?: string;
  sensitive?: boolean;
}

/** One instance of an action handed to an aggregate hook. */
export interface AggregateItem<A> {
  id: string;
  args: A;
  /** Ids of the actions watching this instance (its block's `fl_notify`): an aggregate hook that changes things for it marks them pending first. */
  notify: readonly string[];
}

/**
 * An action: its name, docs and strict argument schema first, then its label and its sh body.
 * `render` returns the body of one block; it runs in a subshell under `set -e` with stdin from /dev/null,
 * calls `fl_changed` when it changes (or, in plan mode, would change) something, and may `exit 0` early.
 */
export interface ActionDefinition<S extends z.ZodType = z.ZodType> {
  /** Name used in specs (`action: 'file'`). */
  name: string;
  /** One line for --help and the README. */
  summary: string;
  /** Longer reference text (markdown) for the README. */
  doc?: string;
  /** Strict zod schema of the arguments: validation, --help and the README come from it. */
  schema: S;
  /** Short human label of an instance, e.g. `file /etc/motd`. */
  label(args: z.output<S>): string;
  /** The sh body of the block (pure: no IO, no clock, values only through `sh`/`shellQuote`). */
  render(args: z.output<S>, ctx: RenderContext): string;
  /** Ids of other actions whose change must trigger this one (service `restartOn`); kept pending on the node until handled. */
  watches?(args: z.output<S>): readonly string[];
  /** Local files (controller side) whose bytes render needs; render-crate reads them and passes them in `ctx.files`. */
  localFiles?(args: z.output<S>): readonly string[];
  /**
   * Aggregation per phase (the `package` action): when present, every instance of this action in a phase is
   * rendered together at the position of the first one, and this hook's sh runs once at the start of the
   * first instance's block (e.g. one index refresh and one package-manager call). Leave per-instance results
   * with `fl_note KEY`; each instance's own `render` body then reads them with `fl_noted KEY`.
   */
  aggregate?(items: ReadonlyArray<AggregateItem<z.output<S>>>, ctx: RenderContext): string;
}

/** Any registered action (arguments erased). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyActionDefinition = ActionDefinition<any>;

/** A validated action instance in a phase: id, action name and parsed arguments. */
export interface ActionInstance {
  id: string;
  action: string;
  args: unknown;
}
