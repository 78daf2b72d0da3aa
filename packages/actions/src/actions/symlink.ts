import { z } from 'zod';
import { defineAction } from '../define.js';
import { absolutePath, noNul } from '../schemas.js';
import { sh } from '../sh.js';

/** Arguments of the `symlink` action. */
export const symlinkSchema = z
  .strictObject({
    path: absolutePath.describe('absolute path of the link'),
    target: noNul.min(1).optional().describe('what the link points to (absolute or relative, stored as given)'),
    ensure: z.enum(['present', 'absent']).default('present').describe('present (default) or absent'),
    force: z.boolean().default(false).describe('replace a regular file in the way (never a directory)'),
  })
  .superRefine((args, ctx) => {
    if (args.ensure === 'present' && args.target === undefined) ctx.addIssue({ code: 'custom', path: ['target'], message: 'missing (a link needs a target)' });
    if (args.ensure === 'absent' && args.target !== undefined) ctx.addIssue({ code: 'custom', path: ['target'], message: 'not valid with ensure "absent"' });
    if (args.path === '/') ctx.addIssue({ code: 'custom', path: ['path'], message: 'must name a link, not /' });
  });

/** Parsed arguments of the `symlink` action. */
export type SymlinkArgs = z.output<typeof symlinkSchema>;

/** `symlink`: a symbolic link points at a target, or is gone. */
export const symlinkAction = defineAction({
  name: 'symlink',
  summary: 'a symbolic link to a target (exact bytes compared), or removed',
  doc: 'An existing link with another target is replaced. A regular file in the way is an error unless `force`; a directory always is.',
  schema: symlinkSchema,
  label: (args) => (args.ensure === 'absent' ? `symlink ${args.path} (absent)` : `symlink ${args.path} -> ${args.target}`),
  render(args) {
    const p = args.path;
    if (args.ensure === 'absent') {
      return (
        sh`if [ -e ${p} ] && [ ! -L ${p} ]; then fl_fail ${`${p} is not a symbolic link`}; fi\n` +
        sh`if [ -L ${p} ]; then\n` +
        sh`  fl_readlink ${p}\n` +
        '  fl_changed\n' +
        sh`  fl_diff_value ${p} target "$fl_link" ''\n` +
        sh`  if fl_apply; then rm -f ${p}; fi\n` +
        'fi\n'
      );
    }
    const target = args.target!;
    const blocker = args.force
      ? sh`if [ -d ${p} ] && [ ! -L ${p} ]; then fl_fail ${`${p} is a directory, not a link`}; fi\n`
      : sh`if [ -e ${p} ] && [ ! -L ${p} ]; then fl_fail ${`${p} exists and is not a symbolic link (force replaces a file)`}; fi\n`;
    return (
      blocker +
      'fl_link=\n' +
      sh`if [ -L ${p} ]; then fl_readlink ${p}; fi\n` +
      sh`if [ ! -L ${p} ] || [ "$fl_link" != ${target} ]; then\n` +
      '  fl_changed\n' +
      sh`  fl_diff_value ${p} target "$fl_link" ${target}\n` +
      '  if fl_apply; then\n' +
      sh`    rm -f ${p}\n` +
      sh`    ln -s -- ${target} ${p}\n` +
      '  fi\n' +
      'fi\n'
    );
  },
});
