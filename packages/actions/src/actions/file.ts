import { InputError } from '@forklift/contract';
import { z } from 'zod';
import { renderMetadata } from '../meta.js';
import { defineAction } from '../registry.js';
import { absolutePath, fileMode, httpUrl, noNul, parentDir, principal, sha256Hex } from '../schemas.js';
import { sh } from '../sh.js';
import { renderTemplate, type TemplateValues } from '../template.js';
import type { RenderContext } from '../types.js';

const templateValue: z.ZodType<TemplateValues[string]> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.record(z.string(), templateValue)]));

/** Arguments of the `file` action. */
export const fileSchema = z
  .strictObject({
    path: absolutePath.describe('absolute path of the file on the node'),
    ensure: z.enum(['present', 'absent']).default('present').describe('present (default) or absent'),
    content: noNul.optional().describe('the exact content (UTF-8)'),
    template: noNul.optional().describe('content with {{ name }} placeholders filled from values at render time'),
    values: z.record(z.string(), templateValue).optional().describe('values for template'),
    local: z.string().min(1).optional().describe('a file on the controller (relative to the working directory), read by render-crate'),
    url: httpUrl.optional().describe('fetch the content on the node from this http(s) URL (curl or wget)'),
    sha256: sha256Hex.optional().describe('required with url: the content is checked on the node'),
    owner: principal.optional().describe('user name or uid'),
    group: principal.optional().describe('group name or gid'),
    mode: fileMode.optional().describe('octal mode, e.g. "0644"'),
    backups: z.number().int().min(0).max(100).default(5).describe('how many previous versions to keep under /var/lib/forklift/backup (default 5)'),
  })
  .superRefine((args, ctx) => {
    const sources = (['content', 'template', 'local', 'url'] as const).filter((key) => args[key] !== undefined);
    if (sources.length > 1) ctx.addIssue({ code: 'custom', message: `give only one of content, template, local, url (got ${sources.join(', ')})` });
    if (args.ensure === 'absent' && (sources.length > 0 || args.owner !== undefined || args.group !== undefined || args.mode !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'ensure "absent" takes no content, owner, group or mode' });
    }
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
    const text = textOf(bytes);
    if (text !== undefined) return sh`printf '%s' ${text} >` + `${NEW}\n`;
    return sh`printf '%s' ${Buffer.from(bytes).toString('base64')} | base64 -d >` + `${NEW}\n`;
  }
  const text = args.template !== undefined ? renderTemplate(args.template, args.values ?? {}, `file ${args.path}: template`) : (args.content ?? '');
  return sh`printf '%s' ${text} >` + `${NEW}\n`;
}

function backupCall(args: FileArgs, ctx: RenderContext): string {
  const base = `${ctx.stateDir}/backup${args.path}`;
  return sh`fl_backup ${args.path} ${base} ${parentDir(base)} ${args.backups}`;
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

function renderTouch(args: FileArgs): string {
  const p = args.path;
  return sh`if [ ! -f ${p} ]; then\n` + '  fl_changed\n' + sh`  fl_diff_value ${p} file absent present\n` + sh`  if fl_apply; then : >${p}; fi\n` + 'fi\n';
}

/** `file`: a file's content (literal, template, local file or url + sha256), owner, group and mode; previous versions backed up. */
export const fileAction = defineAction({
  name: 'file',
  summary: 'a file with exact content (content | template + values | local | url + sha256), owner, group and mode; keeps the last 5 versions',
  doc:
    'Writes the content only when it differs (compared byte for byte with `cmp`), after backing up the old version to ' +
    '`/var/lib/forklift/backup<path>.1` (`.1` newest, up to `backups` versions). Shows a unified diff of the content and ' +
    'of owner/group/mode changes, in plan mode too. With `url` the node downloads (curl or wget) and checks the sha256 ' +
    'before anything is replaced; plan mode then shows the checksum change without downloading. The parent directory must ' +
    'exist (use `directory`). Without a content source the file is created empty when missing and its content is left alone.',
  schema: fileSchema,
  label: (args) => `file ${args.path}${args.ensure === 'absent' ? ' (absent)' : ''}`,
  localFiles: (args) => (args.local === undefined ? [] : [args.local]),
  render(args, ctx) {
    const p = args.path;
    if (args.ensure === 'absent') return renderAbsent(args, ctx);
    const guard = sh`if [ -d ${p} ]; then fl_fail ${`${p} is a directory, not a file`}; fi\n`;
    const content = args.url !== undefined ? renderUrl(args, ctx) : args.content !== undefined || args.template !== undefined || args.local !== undefined ? renderContent(args, ctx) : renderTouch(args);
    return guard + content + renderMetadata(p, { owner: args.owner, group: args.group, mode: args.mode });
  },
});
