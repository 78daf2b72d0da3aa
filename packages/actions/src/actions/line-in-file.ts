import { z } from 'zod';
import { defineAction } from '../define.js';
import { absolutePath, noNul, parentDir } from '../schemas.js';
import { sh } from '../sh.js';

/** Arguments of the `line-in-file` action. */
export const lineInFileSchema = z
  .strictObject({
    path: absolutePath.describe('absolute path of the file'),
    line: noNul
      .refine((value) => !/[\n\r]/.test(value), { message: 'must be one line (no newline)' })
      .optional()
      .describe('the whole line'),
    match: noNul
      .min(1)
      .refine((value) => !/[\n\r]/.test(value), { message: 'must be one line' })
      .optional()
      .describe('an extended regular expression (awk): the last matching line is replaced by line; with absent, matching lines are removed'),
    ensure: z.enum(['present', 'absent']).default('present').describe('present (default) or absent'),
    create: z.boolean().default(false).describe('create the file when missing (otherwise a missing file is an error)'),
    backups: z.number().int().min(0).max(100).default(5).describe('versions kept under /var/lib/forklift/backup (default 5)'),
    replaceSymlink: z
      .boolean()
      .optional()
      .describe('a symbolic link at path is replaced by a file with the line (default: the action fails naming the link; a link is never written through)'),
  })
  .superRefine((args, ctx) => {
    if (args.ensure === 'present' && args.line === undefined) ctx.addIssue({ code: 'custom', path: ['line'], message: 'missing (present needs the line)' });
    if (args.ensure === 'absent' && args.line === undefined && args.match === undefined)
      ctx.addIssue({ code: 'custom', message: 'absent needs line or match' });
    if (args.path === '/') ctx.addIssue({ code: 'custom', path: ['path'], message: 'must name a file' });
  });

/** Parsed arguments of the `line-in-file` action. */
export type LineInFileArgs = z.output<typeof lineInFileSchema>;

// Values reach awk through ENVIRON (never -v, which would interpret backslashes).
const PRESENT_AWK = `BEGIN { line = ENVIRON["FL_LINE"]; re = ENVIRON["FL_MATCH"]; hit = 0 }
{ all[NR] = $0; if ((re == "" && $0 == line) || (re != "" && $0 ~ re)) hit = NR }
END { for (i = 1; i <= NR; i++) print (i == hit ? line : all[i]); if (!hit) print line }`;
const ABSENT_AWK = `BEGIN { line = ENVIRON["FL_LINE"]; re = ENVIRON["FL_MATCH"] }
!((re == "" && $0 == line) || (re != "" && $0 ~ re)) { print }`;

/** `line-in-file`: one line present in (or absent from) a file, like Ansible's lineinfile. */
export const lineInFileAction = defineAction({
  name: 'line-in-file',
  summary: 'a line present in a file (optionally replacing the last line matching a regex), or lines removed',
  doc:
    'Exact line comparison; `match` is an awk extended regex. A file whose last line lacks a newline gets one. ' +
    'The old version is backed up like `file` does, and the new one is written like `file` writes (a temporary file in the same ' +
    'directory with the old owner and mode, renamed over it; never through a symbolic link — a link at the path fails the action ' +
    'unless `replaceSymlink: true`).',
  schema: lineInFileSchema,
  label: (args) => `line-in-file ${args.path}${args.ensure === 'absent' ? ' (absent)' : ''}`,
  render(args, ctx) {
    const p = args.path;
    const base = `${ctx.stateDir}/backup${p}`;
    const link = args.replaceSymlink
      ? sh`if [ -L ${p} ]; then fl_link=1; else fl_link=0; fi\n`
      : sh`if [ -L ${p} ]; then fl_fail ${`${p} is a symbolic link: refusing to write through it (replaceSymlink: true replaces the link itself)`}; fi\n` +
        'fl_link=0\n';
    const missing =
      args.ensure === 'absent'
        ? sh`if [ "$fl_link" = 0 ] && [ ! -e ${p} ]; then exit 0; fi\n`
        : args.create
          ? ''
          : sh`if [ "$fl_link" = 0 ] && [ ! -e ${p} ]; then fl_fail ${`${p} does not exist (set create to make it)`}; fi\n`;
    const awk = (from: string): string =>
      sh`FL_LINE=${args.line ?? ''} FL_MATCH=${args.match ?? ''} awk ${args.ensure === 'absent' ? ABSENT_AWK : PRESENT_AWK} ` + `${from} >"$fl_tmp/lif.new"\n`;
    return (
      link +
      sh`if [ "$fl_link" = 0 ] && [ -e ${p} ] && [ ! -f ${p} ]; then fl_fail ${`${p} is not a regular file`}; fi\n` +
      missing +
      sh`if [ "$fl_link" = 0 ] && [ -e ${p} ]; then fl_old=${p}; else fl_old=/dev/null; fi\n` +
      awk('"$fl_old"') +
      sh`if [ "$fl_link" = 0 ] && [ -f ${p} ] && cmp -s "$fl_tmp/lif.new" ${p}; then\n` +
      '  :\n' +
      'else\n' +
      '  fl_changed\n' +
      sh`  if [ "$fl_link" = 1 ]; then fl_diff_value ${p} type 'symbolic link' file; else fl_diff_files "$fl_old" "$fl_tmp/lif.new" ${p}; fi\n` +
      '  if fl_apply; then\n' +
      // what is written is computed again from the file as its owner reads it when others than root can change the
      // directories above it (root's read could have followed a link swapped in meanwhile)
      sh`    if [ "$fl_old" != /dev/null ]; then fl_read ${p} >"$fl_tmp/lif.old"; ` +
      awk('"$fl_tmp/lif.old"').trimEnd() +
      '; fi\n' +
      sh`    fl_backup ${p} ${base} ${parentDir(base)} ${args.backups}\n` +
      sh`    fl_write "$fl_tmp/lif.new" ${p} '' '' '' ${args.replaceSymlink ? 1 : 0}\n` +
      '  fi\n' +
      'fi\n'
    );
  },
});
