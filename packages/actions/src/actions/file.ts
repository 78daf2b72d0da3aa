import { InputError } from '@forklift/contract';
import { z } from 'zod';
import { renderMetadata } from '../meta.js';
import { defineAction } from '../define.js';
import { absolutePath, fileMode, httpUrl, noNul, parentDir, principal, sha256Hex } from '../schemas.js';
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
    local: z.string().min(1).optional().describe('a small file on the controller (relative to the spec\'s project, at most 1 MiB), read by render-crate and carried inside the plan script'),
    contentFrom: z.string().min(1).optional().describe('a secret file on the controller (relative to the spec\'s project): delivered out of band per run, never in a record; implies sensitive'),
    upload: z.string().min(1).optional().describe('a large non-secret file on the controller (relative to the spec\'s project): delivered out of band through the node\'s sha256 cache, compared by content'),
    sensitive: z.boolean().optional().describe('the content is a secret: its diff shows *** (contentFrom implies it; inline content and template cannot be sensitive)'),
    url: httpUrl.optional().describe('fetch the content on the node from this http(s) URL (curl or wget)'),
    sha256: sha256Hex.optional().describe('required with url: the content is checked on the node'),
    owner: principal.optional().describe('user name or uid'),
    group: principal.optional().describe('group name or gid'),
    mode: fileMode.optional().describe('octal mode, e.g. "0644"'),
    backups: z.number().int().min(0).max(100).optional().describe('how many previous versions to keep under /var/lib/forklift/backup (default 5; 0 with contentFrom: old secrets are not kept)'),
  })
  .superRefine((args, ctx) => {
    const sources = SOURCES.filter((key) => args[key] !== undefined);
    if (sources.length > 1) ctx.addIssue({ code: 'custom', message: `give only one of ${SOURCES.join(', ')} (got ${sources.join(', ')})` });
    if (args.ensure === 'absent' && (sources.length > 0 || args.owner !== undefined || args.group !== undefined || args.mode !== undefined || args.sensitive !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'ensure "absent" takes no content, owner, group, mode or sensitive' });
    }
    if (args.sensitive === true && (args.content !== undefined || args.template !== undefined || args.local !== undefined || args.url !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['sensitive'], message: `a secret must not travel inside the plan: put it in a controller file and use contentFrom instead of ${sources.join(', ')}` });
    }
    if (args.sensitive === false && args.contentFrom !== undefined) ctx.addIssue({ code: 'custom', path: ['sensitive'], message: 'contentFrom is always sensitive (use upload for a non-secret file)' });
    if (args.url !== undefined && args.sha256 === undefined) ctx.addIssue({ code: 'custom', path: ['sha256'], message: 'missing (url needs the sha256 of the content)' });
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

/** sh writing the wanted content into the temp file `$fl_tmp/file.new`. */
function writeNew(args: FileArgs, ctx: RenderContext): string {
  if (args.local !== undefined) {
    const bytes = ctx.files.get(args.local);
    if (!bytes) throw new InputError(`file ${args.path}: local file ${JSON.stringify(args.local)} was not read (render-crate passes local files in)`, { code: 'local-file-missing' });
    if (bytes.length > LOCAL_FILE_LIMIT_BYTES) throw localTooBig(args.path, args.local, bytes.length);
    const text = textOf(bytes);
    if (text !== undefined) return sh`printf '%s' ${text} >` + `${NEW}\n`;
    return sh`printf '%s' ${Buffer.from(bytes).toString('base64')} | base64 -d >` + `${NEW}\n`;
  }
  const text = args.template !== undefined ? renderTemplate(args.template, args.values ?? {}, `file ${args.path}: template`) : (args.content ?? '');
  return sh`printf '%s' ${text} >` + `${NEW}\n`;
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

function renderAbsent(args: FileArgs, ctx: RenderContext): string {
  const p = args.path;
  return (
    sh`if [ -d ${p} ] && [ ! -L ${p} ]; then fl_fail ${`${p} is a directory, not a file`}; fi\n` +
    sh`if [ -e ${p} ] || [ -L ${p} ]; then\n` +
    '  fl_changed\n' +
    sh`  if [ -f ${p} ]; then fl_diff_files ${p} /dev/null ${p}; fi\n` +
    `  if fl_apply; then\n` +
    `    ${backupCall(args, ctx)}\n` +
    sh`    rm -f ${p}\n` +
    '  fi\n' +
    'fi\n'
  );
}

function renderUrl(args: FileArgs, ctx: RenderContext): string {
  const p = args.path;
  const want = args.sha256!;
  return (
    sh`if [ -f ${p} ] && [ "$(fl_sha256 ${p})" = ${want} ]; then\n` +
    '  :\n' +
    'else\n' +
    '  fl_changed\n' +
    '  if fl_apply; then\n' +
    sh`    fl_fetch ${args.url!} ` + `${NEW}\n` +
    `    fl_got=$(fl_sha256 ${NEW})\n` +
    sh`    if [ "$fl_got" != ${want} ]; then fl_fail ${`checksum mismatch for ${args.url!}: expected ${want}, got`} "$fl_got"; fi\n` +
    sh`    if [ -f ${p} ]; then fl_diff_files ${p} ` + `${NEW} ` + sh`${p}; else fl_diff_files /dev/null ` + `${NEW} ` + sh`${p}; fi\n` +
    `    ${backupCall(args, ctx)}\n` +
    `    cat ${NEW} >` + sh`${p}\n` +
    `    rm -f ${NEW}\n` +
    '  else\n' +
    sh`    if [ -f ${p} ]; then fl_have=$(fl_sha256 ${p}); else fl_have=''; fi\n` +
    sh`    fl_diff_value ${p} sha256 "$fl_have" ${want}\n` +
    '  fi\n' +
    'fi\n'
  );
}

function renderContent(args: FileArgs, ctx: RenderContext): string {
  const p = args.path;
  return (
    writeNew(args, ctx) +
    sh`if [ -f ${p} ] && cmp -s ` + `${NEW} ` + sh`${p}; then\n` +
    '  :\n' +
    'else\n' +
    '  fl_changed\n' +
    sh`  if [ -f ${p} ]; then fl_diff_files ${p} ` + `${NEW} ` + sh`${p}; else fl_diff_files /dev/null ` + `${NEW} ` + sh`${p}; fi\n` +
    '  if fl_apply; then\n' +
    `    ${backupCall(args, ctx)}\n` +
    `    cat ${NEW} >` + sh`${p}\n` +
    '  fi\n' +
    'fi\n' +
    `rm -f ${NEW}\n`
  );
}

/** contentFrom (sensitive, per run) or upload (sha256 cache): the wanted bytes are already a file on the node. */
function renderUploaded(args: FileArgs, ctx: RenderContext): string {
  const p = args.path;
  const sensitive = args.contentFrom !== undefined;
  const source = sensitive ? ctx.upload(args.contentFrom!, { sensitive: true }) : ctx.upload(args.upload!);
  const diff = sensitive
    ? sh`  fl_diff_masked ${p}\n`
    : sh`  if [ -f ${p} ]; then fl_have=$(fl_sha256 ${p}); else fl_have=''; fi\n` + sh`  fl_diff_value ${p} sha256 "$fl_have" ` + `"$(fl_sha256 ${source})"\n`;
  return (
    sh`if [ -f ${p} ] && cmp -s ` + `${source} ` + sh`${p}; then\n` +
    '  :\n' +
    'else\n' +
    '  fl_changed\n' +
    diff +
    '  if fl_apply; then\n' +
    `    ${backupCall(args, ctx)}\n` +
    `    cat ${source} >` + sh`${p}\n` +
    '  fi\n' +
    'fi\n'
  );
}

function renderTouch(args: FileArgs): string {
  const p = args.path;
  return sh`if [ ! -f ${p} ]; then\n` + '  fl_changed\n' + sh`  fl_diff_value ${p} file absent present\n` + sh`  if fl_apply; then : >${p}; fi\n` + 'fi\n';
}

/** `file`: a file's content (literal, template, local file or url + sha256), owner, group and mode; previous versions backed up. */
export const fileAction = defineAction({
  name: 'file',
  summary: 'a file with exact content (content | template + values | local | contentFrom (secret) | upload (large) | url + sha256), owner, group and mode; keeps the last 5 versions',
  doc:
    'Writes the content only when it differs (compared byte for byte with `cmp`), after backing up the old version to ' +
    '`/var/lib/forklift/backup<path>.1` (`.1` newest, up to `backups` versions). Shows a unified diff of the content and ' +
    'of owner/group/mode changes, in plan mode too. With `url` the node downloads (curl or wget) and checks the sha256 ' +
    'before anything is replaced; plan mode then shows the checksum change without downloading. The parent directory must ' +
    'exist (use `directory`). Without a content source the file is created empty when missing and its content is left alone. ' +
    '`local` (at most 1 MiB) travels inside the plan script; `contentFrom` (a secret: its diff shows `***`, it is sent per run into a ' +
    'private directory and removed at exit) and `upload` (a large file: cached on the node by sha256, sent only when missing, its diff ' +
    'shows the sha256 change) are delivered by run-actions over the node\'s SSH connection, never inside a record. Controller paths ' +
    'resolve against the spec\'s project and may not leave it.',
  schema: fileSchema,
  label: (args) => `file ${args.path}${args.ensure === 'absent' ? ' (absent)' : ''}`,
  localFiles: (args) => (args.local === undefined ? [] : [args.local]),
  render(args, ctx) {
    const p = args.path;
    if (args.ensure === 'absent') return renderAbsent(args, ctx);
    const guard = sh`if [ -d ${p} ]; then fl_fail ${`${p} is a directory, not a file`}; fi\n`;
    const content =
      args.url !== undefined
        ? renderUrl(args, ctx)
        : args.contentFrom !== undefined || args.upload !== undefined
          ? renderUploaded(args, ctx)
          : args.content !== undefined || args.template !== undefined || args.local !== undefined
            ? renderContent(args, ctx)
            : renderTouch(args);
    return guard + content + renderMetadata(p, { owner: args.owner, group: args.group, mode: args.mode });
  },
});
