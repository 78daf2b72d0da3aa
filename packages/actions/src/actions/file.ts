import { InputError } from '@forklift/contract/lite';
import { z } from 'zod';
import { renderMetadata } from '../meta.js';
import { defineAction } from '../define.js';
import { absolutePath, fileMode, httpUrl, noNul, normalizeMode, parentDir, principal, sha256Hex } from '../schemas.js';
import { sh } from '../sh.js';
import { renderTemplate, type TemplateValues } from '../template.js';
import type { RenderContext } from '../types.js';

const SOURCES = ['content', 'template', 'local', 'contentFrom', 'upload', 'url'] as const;

/** Largest `local` file carried inside a plan script; bigger files go through `upload`. */
export const LOCAL_FILE_LIMIT_BYTES = 1024 * 1024;

const templateValue: z.ZodType<TemplateValues[string]> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.record(z.string(), templateValue)]));

/** Arguments of the `file` action. */
export const fileSchema = z
  .strictObject({
    path: absolutePath.describe('absolute path of the file on the node'),
    ensure: z.enum(['present', 'absent']).default('present').describe('present (default) or absent'),
    content: noNul.optional().describe('the exact content (UTF-8)'),
    template: noNul.optional().describe('content with {{ name }} placeholders filled from values at render time'),
    values: z.record(z.string(), templateValue).optional().describe('values for template'),
    local: z
      .string()
      .min(1)
      .optional()
      .describe("a small file on the controller (relative to the spec's project, at most 1 MiB), read by render-crate and carried inside the plan script"),
    contentFrom: z
      .string()
      .min(1)
      .optional()
      .describe("a secret file on the controller (relative to the spec's project): delivered out of band per run, never in a record; implies sensitive"),
    upload: z
      .string()
      .min(1)
      .optional()
      .describe(
        "a large non-secret file on the controller (relative to the spec's project): delivered out of band through the node's sha256 cache, compared by content",
      ),
    sensitive: z
      .boolean()
      .optional()
      .describe('the content is a secret: its diff shows *** (contentFrom implies it; inline content and template cannot be sensitive)'),
    url: httpUrl.optional().describe('fetch the content on the node from this http(s) URL (curl or wget)'),
    sha256: sha256Hex.optional().describe('required with url: the content is checked on the node'),
    owner: principal.optional().describe('user name or uid'),
    group: principal.optional().describe('group name or gid'),
    mode: fileMode.optional().describe('octal mode, e.g. "0644"'),
    replaceSymlink: z
      .boolean()
      .optional()
      .describe('a symbolic link at path is replaced by the file (default: the action fails naming the link; a link is never written through)'),
    backups: z
      .number()
      .int()
      .min(0)
      .max(100)
      .optional()
      .describe('how many previous versions to keep under /var/lib/forklift/backup (default 5; 0 with contentFrom: old secrets are not kept)'),
  })
  .superRefine((args, ctx) => {
    const sources = SOURCES.filter((key) => args[key] !== undefined);
    if (sources.length > 1) ctx.addIssue({ code: 'custom', message: `give only one of ${SOURCES.join(', ')} (got ${sources.join(', ')})` });
    if (
      args.ensure === 'absent' &&
      (sources.length > 0 || args.owner !== undefined || args.group !== undefined || args.mode !== undefined || args.sensitive !== undefined)
    ) {
      ctx.addIssue({ code: 'custom', message: 'ensure "absent" takes no content, owner, group, mode or sensitive' });
    }
    if (args.ensure === 'absent' && args.replaceSymlink !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['replaceSymlink'], message: 'not valid with ensure "absent" (a link at the path is removed, never followed)' });
    }
    if (args.sensitive === true && (args.content !== undefined || args.template !== undefined || args.local !== undefined || args.url !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['sensitive'],
        message: `a secret must not travel inside the plan: put it in a controller file and use contentFrom instead of ${sources.join(', ')}`,
      });
    }
    if (args.sensitive === false && args.contentFrom !== undefined)
      ctx.addIssue({ code: 'custom', path: ['sensitive'], message: 'contentFrom is always sensitive (use upload for a non-secret file)' });
    if (args.url !== undefined && args.sha256 === undefined)
      ctx.addIssue({ code: 'custom', path: ['sha256'], message: 'missing (url needs the sha256 of the content)' });
    if (args.sha256 !== undefined && args.url === undefined) ctx.addIssue({ code: 'custom', path: ['sha256'], message: 'only valid with url' });
    if (args.values !== undefined && args.template === undefined) ctx.addIssue({ code: 'custom', path: ['values'], message: 'only valid with template' });
    if (args.path === '/') ctx.addIssue({ code: 'custom', path: ['path'], message: 'must name a file, not /' });
  });

/** Parsed arguments of the `file` action. */
export type FileArgs = z.output<typeof fileSchema>;

const NEW = '"$fl_tmp/file.new"';
const utf8 = new TextDecoder('utf-8', { fatal: true });

function textOf(bytes: Uint8Array): string | undefined {
  try {
    const text = utf8.decode(bytes);
    return text.includes('\0') ? undefined : text;
  } catch {
    return undefined;
  }
}

/** Largest text compared with shell builtins (`read`, byte by byte) instead of `cmp` when its size is known. */
const BUILTIN_COMPARE_BYTES = 4096;

/** The wanted content: text (no NUL, valid UTF-8) or bytes. */
function wantedContent(args: FileArgs, ctx: RenderContext): { text: string } | { bytes: Uint8Array } {
  if (args.local !== undefined) {
    const bytes = ctx.files.get(args.local);
    if (!bytes)
      throw new InputError(`file ${args.path}: local file ${JSON.stringify(args.local)} was not read (render-crate passes local files in)`, {
        code: 'local-file-missing',
      });
    if (bytes.length > LOCAL_FILE_LIMIT_BYTES) throw localTooBig(args.path, args.local, bytes.length);
    const text = textOf(bytes);
    return text !== undefined ? { text } : { bytes };
  }
  return { text: args.template !== undefined ? renderTemplate(args.template, args.values ?? {}, `file ${args.path}: template`) : (args.content ?? '') };
}

/** sh writing the wanted content into the temp file `$fl_tmp/file.new` (the value of "$fl_want" when `inVariable`). */
function writeNew(wanted: { text: string } | { bytes: Uint8Array }, inVariable = false): string {
  if ('bytes' in wanted) return sh`printf '%s' ${Buffer.from(wanted.bytes).toString('base64')} | base64 -d >` + `${NEW}\n`;
  if (inVariable) return sh`fl_want=${wanted.text}\n` + `printf '%s' "$fl_want" >${NEW}\n`;
  return sh`printf '%s' ${wanted.text} >` + `${NEW}\n`;
}

/** The InputError for a `local` file too big to travel inside a plan. */
export function localTooBig(where: string, local: string, bytes: number): InputError {
  return new InputError(
    `${where}: local file ${JSON.stringify(local)} is ${bytes} bytes, more than the ${LOCAL_FILE_LIMIT_BYTES} bytes a plan may carry: use upload: ${JSON.stringify(local)} (delivered out of band, cached on the node by sha256)`,
    { code: 'local-file-too-big' },
  );
}

function backupCall(args: FileArgs, ctx: RenderContext): string {
  const base = `${ctx.stateDir}/backup${args.path}`;
  return sh`fl_backup ${args.path} ${base} ${parentDir(base)} ${args.backups ?? (args.contentFrom !== undefined ? 0 : 5)}`;
}

/** sh writing the bytes at `source` (a raw sh word) to the path: a temp file beside it, owner and mode set, renamed over it. */
function writeCall(args: FileArgs, source: string): string {
  const mode = args.mode === undefined ? '' : normalizeMode(args.mode);
  return `fl_write ${source} ` + sh`${args.path} ${args.owner ?? ''} ${args.group ?? ''} ${mode} ${args.replaceSymlink ? 1 : 0}`;
}

function renderAbsent(args: FileArgs, ctx: RenderContext): string {
  const p = args.path;
  return (
    sh`if [ -d ${p} ] && [ ! -L ${p} ]; then fl_fail ${`${p} is a directory, not a file`}; fi\n` +
    sh`if [ -e ${p} ] || [ -L ${p} ]; then\n` +
    '  fl_changed\n' +
    sh`  if [ -L ${p} ]; then fl_diff_value ${p} type 'symbolic link' absent; elif [ -f ${p} ]; then fl_diff_files ${p} /dev/null ${p}; fi\n` +
    `  if fl_apply; then\n` +
    `    ${backupCall(args, ctx)}\n` +
    sh`    fl_run_at ${p} rm -f -- ${p}\n` +
    '  fi\n' +
    'fi\n'
  );
}

/**
 * sh ending in the changed branch (its body given) unless the path holds exactly the bytes of `source`; `same`
 * replaces the `cmp` test (a check with builtins only).
 */
function unlessSame(p: string, source: string, changed: string, same?: string): string {
  const test = same ?? `cmp -s ${source} ` + sh`${p}`;
  return sh`if [ ! -L ${p} ] && [ -f ${p} ] && ` + `${test}; then\n` + '  :\n' + 'else\n' + '  fl_changed\n' + changed + 'fi\n';
}

/** The diff of content changes (a link being replaced shows as a type change). */
function contentDiff(p: string, source: string): string {
  return (
    sh`  if [ -L ${p} ]; then fl_diff_value ${p} type 'symbolic link' file; elif [ -f ${p} ]; then fl_diff_files ${p} ` +
    `${source} ` +
    sh`${p}; else fl_diff_files /dev/null ` +
    `${source} ` +
    sh`${p}; fi\n`
  );
}

function applyBlock(args: FileArgs, ctx: RenderContext, source: string, before = ''): string {
  return '  if fl_apply; then\n' + before + `    ${backupCall(args, ctx)}\n` + `    ${writeCall(args, source)}\n` + '  fi\n';
}

function renderUrl(args: FileArgs, ctx: RenderContext): string {
  const p = args.path;
  const want = args.sha256!;
  const fetch =
    sh`    fl_fetch ${args.url!} ` +
    `${NEW}\n` +
    `    fl_got=$(fl_sha256 ${NEW})\n` +
    sh`    if [ "$fl_got" != ${want} ]; then fl_fail ${`checksum mismatch for ${args.url!}: expected ${want}, got`} "$fl_got"; fi\n`;
  return (
    sh`if [ ! -L ${p} ] && [ -f ${p} ] && [ "$(fl_sha256 ${p})" = ${want} ]; then\n` +
    '  :\n' +
    'else\n' +
    '  fl_changed\n' +
    sh`  if [ ! -L ${p} ] && [ -f ${p} ]; then fl_have=$(fl_sha256 ${p}); else fl_have=''; fi\n` +
    sh`  fl_diff_value ${p} sha256 "$fl_have" ${want}\n` +
    applyBlock(args, ctx, NEW, fetch) +
    'fi\n'
  );
}

/**
 * Literal content (content, template, local). The unchanged check starts no process where it can: empty content is
 * `[ ! -s ]`; small text, when fl_meta's `stat` already gave the file's size (owner, group or mode given), is read
 * back with `read` and compared as a string — only after the byte size matched, so bytes `read` drops (NUL) cannot
 * make a different file look the same. Otherwise `cmp`.
 */
function renderContent(args: FileArgs, ctx: RenderContext, sizeKnown: boolean): string {
  const p = args.path;
  const wanted = wantedContent(args, ctx);
  const changed = contentDiff(p, NEW) + applyBlock(args, ctx, NEW);
  if ('text' in wanted && wanted.text === '') return writeNew(wanted) + unlessSame(p, NEW, changed, sh`[ ! -s ${p} ]`);
  const bytes = 'text' in wanted ? Buffer.byteLength(wanted.text) : Infinity;
  if (sizeKnown && bytes <= BUILTIN_COMPARE_BYTES) {
    return writeNew(wanted, true) + unlessSame(p, NEW, changed, `[ "$${''}{fl_size:-}" = ${bytes} ] && ` + sh`fl_same_text ${p} "$fl_want"`);
  }
  return writeNew(wanted) + unlessSame(p, NEW, changed);
}

/** contentFrom (sensitive, per run) or upload (sha256 cache): the wanted bytes are already a file on the node. */
function renderUploaded(args: FileArgs, ctx: RenderContext): string {
  const p = args.path;
  const sensitive = args.contentFrom !== undefined;
  const source = sensitive ? ctx.upload(args.contentFrom!, { sensitive: true }) : ctx.upload(args.upload!);
  const diff = sensitive
    ? sh`  fl_diff_masked ${p}\n`
    : sh`  if [ ! -L ${p} ] && [ -f ${p} ]; then fl_have=$(fl_sha256 ${p}); else fl_have=''; fi\n` +
      sh`  fl_diff_value ${p} sha256 "$fl_have" ` +
      `"$(fl_sha256 ${source})"\n`;
  return unlessSame(p, source, diff + applyBlock(args, ctx, source));
}

function renderTouch(args: FileArgs): string {
  const p = args.path;
  return (
    sh`if [ -L ${p} ] || [ ! -f ${p} ]; then\n` +
    '  fl_changed\n' +
    sh`  if [ -L ${p} ]; then fl_diff_value ${p} type 'symbolic link' file; else fl_diff_value ${p} file absent present; fi\n` +
    `  if fl_apply; then ${writeCall(args, '/dev/null')}; fi\n` +
    'fi\n'
  );
}

/** `file`: a file's content (literal, template, local file or url + sha256), owner, group and mode; previous versions backed up. */
export const fileAction = defineAction({
  name: 'file',
  summary:
    'a file with exact content (content | template + values | local | contentFrom (secret) | upload (large) | url + sha256), owner, group and mode; keeps the last 5 versions',
  doc:
    'Writes the content only when it differs (compared byte for byte with `cmp`), after backing up the old version to ' +
    '`/var/lib/forklift/backup<path>.1` (`.1` newest, up to `backups` versions). Shows a unified diff of the content and ' +
    'of owner/group/mode changes, in plan mode too. With `url` the node downloads (curl or wget) and checks the sha256 ' +
    'before anything is replaced; plan mode then shows the checksum change without downloading. The parent directory must ' +
    'exist (use `directory`). Without a content source the file is created empty when missing and its content is left alone. ' +
    '`local` (at most 1 MiB) travels inside the plan script; `contentFrom` (a secret: its diff shows `***`, it is sent per run into a ' +
    'private directory and removed at exit) and `upload` (a large file: cached on the node by sha256, sent only when missing, its diff ' +
    "shows the sha256 change) are delivered by run-actions over the node's SSH connection, never inside a record. Controller paths " +
    "resolve against the spec's project and may not leave it. " +
    'Writes never follow a symbolic link: the new content goes to a temporary file in the same directory (created 0600 by ' +
    "`mktemp`), gets its owner, group and mode (given, else the old file's, else root:root 0644), and is renamed over the path; a " +
    'symbolic link at the path fails the action unless `replaceSymlink: true` (then the link itself is replaced), a link owned by ' +
    'another user than root anywhere above the path always fails it, and below a directory other users can write the file is ' +
    'written by its (non-root) owner, never by root.',
  schema: fileSchema,
  label: (args) => `file ${args.path}${args.ensure === 'absent' ? ' (absent)' : ''}`,
  localFiles: (args) => (args.local === undefined ? [] : [args.local]),
  render(args, ctx) {
    const p = args.path;
    if (args.ensure === 'absent') return renderAbsent(args, ctx);
    const guard =
      sh`if [ -L ${p} ]; then\n` +
      (args.replaceSymlink
        ? '  :\n'
        : sh`  fl_fail ${`${p} is a symbolic link: refusing to write through it (replaceSymlink: true replaces the link itself)`}\n`) +
      sh`elif [ -d ${p} ]; then\n` +
      sh`  fl_fail ${`${p} is a directory, not a file`}\n` +
      'fi\n';
    // owner, group and mode first: a file that keeps its content is fixed in place, a new version is written with them
    const meta = renderMetadata(p, { owner: args.owner, group: args.group, mode: args.mode });
    const content =
      args.url !== undefined
        ? renderUrl(args, ctx)
        : args.contentFrom !== undefined || args.upload !== undefined
          ? renderUploaded(args, ctx)
          : args.content !== undefined || args.template !== undefined || args.local !== undefined
            ? renderContent(args, ctx, meta !== '')
            : renderTouch(args);
    return guard + (meta && args.replaceSymlink ? sh`if [ ! -L ${p} ]; then\n` + meta + 'fi\n' : meta) + content;
  },
});
