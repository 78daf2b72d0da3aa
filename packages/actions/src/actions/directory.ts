import { z } from 'zod';
import { renderMetadata } from '../meta.js';
import { defineAction } from '../define.js';
import { absolutePath, fileMode, principal } from '../schemas.js';
import { sh } from '../sh.js';

/** Arguments of the `directory` action. */
export const directorySchema = z
  .strictObject({
    path: absolutePath.describe('absolute path of the directory'),
    ensure: z.enum(['present', 'absent']).default('present').describe('present (default) or absent (removed with everything in it)'),
    owner: principal.optional().describe('user name or uid'),
    group: principal.optional().describe('group name or gid'),
    mode: fileMode.optional().describe('octal mode, e.g. "0755"'),
    parents: z.boolean().default(true).describe('create missing parent directories (default true)'),
  })
  .superRefine((args, ctx) => {
    if (args.path === '/') ctx.addIssue({ code: 'custom', path: ['path'], message: 'refusing to manage /' });
    if (args.ensure === 'absent' && (args.owner !== undefined || args.group !== undefined || args.mode !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'ensure "absent" takes no owner, group or mode' });
    }
  });

/** Parsed arguments of the `directory` action. */
export type DirectoryArgs = z.output<typeof directorySchema>;

/** `directory`: a directory exists (with owner, group, mode) or is removed. */
export const directoryAction = defineAction({
  name: 'directory',
  summary: 'a directory with owner, group and mode (parents created), or removed with its content',
  doc: 'Fails when something that is not a directory is in the way. `ensure: "absent"` removes the directory recursively.',
  schema: directorySchema,
  label: (args) => `directory ${args.path}${args.ensure === 'absent' ? ' (absent)' : ''}`,
  render(args) {
    const p = args.path;
    if (args.ensure === 'absent') {
      return (
        sh`if [ -e ${p} ] && { [ ! -d ${p} ] || [ -L ${p} ]; }; then fl_fail ${`${p} is not a directory`}; fi\n` +
        sh`if [ -d ${p} ]; then\n` +
        '  fl_changed\n' +
        sh`  fl_diff_value ${p} directory present absent\n` +
        sh`  if fl_apply; then rm -rf ${p}; fi\n` +
        'fi\n'
      );
    }
    return (
      sh`if [ -e ${p} ] && [ ! -d ${p} ]; then fl_fail ${`${p} exists and is not a directory`}; fi\n` +
      sh`if [ ! -d ${p} ]; then\n` +
      '  fl_changed\n' +
      sh`  fl_diff_value ${p} directory absent present\n` +
      (args.parents ? sh`  if fl_apply; then mkdir -p ${p}; fi\n` : sh`  if fl_apply; then mkdir ${p}; fi\n`) +
      'fi\n' +
      renderMetadata(p, { owner: args.owner, group: args.group, mode: args.mode })
    );
  },
});
